// The chat page with the offline demo: streaming, counters, reload, stop, models, the list.
const { test, expect } = require('@playwright/test');
const fs = require('node:fs');
const path = require('node:path');

const password = 'correct horse battery staple';
const shots = path.resolve(__dirname, '../screenshots');
fs.mkdirSync(shots, { recursive: true });

async function signUp(page) {
  await page.goto('/register');
  await page.getByLabel('Email').fill(`chat-${Date.now()}-${Math.floor(Math.random() * 1e6)}@example.com`);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Create account' }).click();
  await expect(page).toHaveURL(/\/$/);
  await expect(page.locator('.connection-live')).toBeVisible();
}

async function send(page, text) {
  await page.getByLabel('Message', { exact: true }).fill(text);
  await page.getByLabel('Message', { exact: true }).press('Enter');
  await expect(page).toHaveURL(/\/c\/[0-9a-f-]{36}$/);
}

const reply = (page) => page.locator('.message-assistant').last();
// The rendered markup without comments (Leptos marks server-rendered spots with empty ones).
const bodyHtml = async (page) =>
  (await reply(page).locator('.message-body').innerHTML()).replace(/<!--[\s\S]*?-->/g, '');

test('a demo reply streams in, the counters update, and a reload shows the same message', async ({ page }) => {
  await signUp(page);
  await expect(page.getByTestId('total-tokens')).toHaveText('0');
  await send(page, 'How do I count words in Rust?');

  // Several visible intermediate states while it streams.
  await expect(reply(page)).toHaveClass(/status-streaming/);
  const lengths = new Set();
  for (let i = 0; i < 40 && lengths.size < 4; i++) {
    const text = await reply(page).locator('.message-body').innerText();
    if (text.trim().length > 0) lengths.add(text.length);
    await page.waitForTimeout(150);
  }
  expect(lengths.size).toBeGreaterThanOrEqual(3);

  await expect(reply(page)).toHaveClass(/status-complete/, { timeout: 20_000 });
  await expect(reply(page).locator('.code-block .code-lang')).toHaveText('rust');
  await expect(reply(page).locator('.hl-keyword, [class*="hl-"]').first()).toBeVisible();
  await expect(page.getByTestId('total-tokens')).not.toHaveText('0');
  await expect(page.getByTestId('total-cost')).toHaveText('$0.00');
  await expect(reply(page).locator('.message-meta')).toContainText('tokens');
  await expect(page.getByTestId('chat-title')).toHaveText('How do I count words in Rust?');
  const streamedHtml = await bodyHtml(page);
  const tokens = await page.getByTestId('total-tokens').textContent();

  await page.reload();
  await expect(reply(page)).toHaveClass(/status-complete/);
  expect(await bodyHtml(page)).toBe(streamedHtml);
  await expect(page.getByTestId('total-tokens')).toHaveText(tokens);
  await page.screenshot({ path: path.join(shots, 'chat-desktop-light.png') });
  // Reduced motion: the theme switches at once, instead of mid-transition in the picture.
  await page.emulateMedia({ colorScheme: 'dark', reducedMotion: 'reduce' });
  await page.screenshot({ path: path.join(shots, 'chat-desktop-dark.png') });
});

test('a reply is formatted as it streams: its list and code block take shape before it ends', async ({ page }) => {
  await signUp(page);
  await send(page, 'Show me the formatting');
  const body = reply(page).locator('.message-body');
  // The list while the reply is still streaming.
  await expect(body.locator('ul > li').first()).toBeVisible();
  await expect(reply(page)).toHaveClass(/status-streaming/);
  // The code block, in its final frame (language label and copy button), still streaming.
  await expect(body.locator('.code-block pre code')).toBeVisible();
  await expect(body.locator('.code-block .code-lang')).toHaveText('rust');
  await expect(reply(page)).toHaveClass(/status-streaming/);
  // Escaped as the server escapes: no raw HTML from the text, no script.
  expect(await body.locator('script, img, iframe').count()).toBe(0);
  // Where the code block sits in the reply (the view itself scrolls as the reply grows).
  // (Read in one step: while streaming, each delta draws the reply's body anew.)
  const offset = () => page.evaluate(() => {
    const bodies = document.querySelectorAll('.message-assistant .message-body');
    const last = bodies[bodies.length - 1];
    return last.querySelector('.code-block').getBoundingClientRect().top - last.getBoundingClientRect().top;
  });
  const streamedTop = await offset();
  await expect(reply(page)).toHaveClass(/status-complete/, { timeout: 20_000 });
  await expect(body.locator('[class*="hl-"]').first()).toBeVisible();
  // The stored rendering (highlighted) puts the code block where it was while streaming.
  expect(Math.abs((await offset()) - streamedTop)).toBeLessThan(2);
});

test('a reload in the middle of a reply picks it up and it completes with the full text', async ({ page }) => {
  await signUp(page);
  await send(page, 'Tell me about streaming');
  await expect(reply(page)).toHaveClass(/status-streaming/);
  await expect(reply(page).locator('.message-body')).toContainText('offline demo');
  await page.reload();
  await expect(reply(page)).toHaveClass(/status-complete/, { timeout: 20_000 });
  const afterStream = await reply(page).locator('.message-body').innerText();
  expect(afterStream).toContain('To talk to a real model');
  await page.reload();
  expect(await reply(page).locator('.message-body').innerText()).toBe(afterStream);
});

test('Stop keeps the partial reply, marked as stopped', async ({ page }) => {
  await signUp(page);
  await send(page, 'Write something long');
  await expect(reply(page).locator('.message-body')).toContainText('offline demo');
  await page.getByRole('button', { name: 'Stop' }).click();
  await expect(reply(page)).toHaveClass(/status-stopped/);
  await expect(reply(page).getByText('Stopped')).toBeVisible();
  const partial = await reply(page).locator('.message-body').innerText();
  expect(partial).not.toContain('To talk to a real model');
  await page.reload();
  await expect(reply(page)).toHaveClass(/status-stopped/);
  expect(await reply(page).locator('.message-body').innerText()).toBe(partial);
});

test('switching the model changes the conversation', async ({ page }) => {
  await signUp(page);
  await send(page, 'hello');
  await expect(reply(page)).toHaveClass(/status-complete/, { timeout: 20_000 });
  await page.getByLabel('Provider').selectOption('anthropic');
  await expect(page.getByLabel('Model', { exact: true })).toHaveValue(/claude/);
  await page.getByLabel('Model', { exact: true }).selectOption('claude-haiku-4-5');
  await page.waitForTimeout(500);
  await page.reload();
  await expect(page.getByLabel('Provider')).toHaveValue('anthropic');
  await expect(page.getByLabel('Model', { exact: true })).toHaveValue('claude-haiku-4-5');
});

test('conversations can be renamed in place, searched and deleted', async ({ page }) => {
  await signUp(page);
  await send(page, 'first conversation');
  await expect(reply(page)).toHaveClass(/status-complete/, { timeout: 20_000 });
  const item = page.locator('.conversation-item.active');
  await expect(item).toContainText('first conversation');

  await item.hover();
  await item.getByRole('button', { name: 'Rename' }).click();
  await page.getByLabel('New title').fill('Renamed chat');
  await page.getByLabel('New title').press('Enter');
  await expect(item).toContainText('Renamed chat');
  await page.reload();
  await expect(page.locator('.conversation-item.active')).toContainText('Renamed chat');
  await expect(page.getByTestId('chat-title')).toHaveText('Renamed chat');
  // The search box filters from an island: type once the page has hydrated.
  await expect(page.locator('.connection-live')).toBeVisible();

  await page.getByLabel('Search conversations').fill('nothing like it');
  await expect(page.getByText('No chat matches your search.')).toBeVisible();
  await page.getByLabel('Search conversations').fill('renamed');
  await expect(page.locator('.conversation-item')).toHaveCount(1);

  page.once('dialog', (dialog) => dialog.accept());
  const active = page.locator('.conversation-item.active');
  await active.hover();
  await active.getByRole('button', { name: 'Delete' }).click();
  await expect(page).toHaveURL(/\/$/);
  await expect(page.getByText('No conversations yet.')).toBeVisible();
});

test('at phone width the chat fits and the sidebar slides in', async ({ page }) => {
  await page.setViewportSize({ width: 375, height: 740 });
  await signUp(page);
  await send(page, 'Hello from a phone');
  await expect(reply(page)).toHaveClass(/status-complete/, { timeout: 20_000 });
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  expect(overflow).toBeLessThanOrEqual(0);
  await page.screenshot({ path: path.join(shots, 'chat-phone-light.png') });
  // Reduced motion: the theme switches at once, instead of mid-transition in the picture.
  await page.emulateMedia({ colorScheme: 'dark', reducedMotion: 'reduce' });
  await page.screenshot({ path: path.join(shots, 'chat-phone-dark.png') });
  await page.getByRole('button', { name: 'Open sidebar' }).click();
  await expect(page.getByRole('complementary', { name: 'Conversations' })).toBeInViewport();
  await expect(page.locator('.conversation-item.active')).toContainText('Hello from a phone');
});
