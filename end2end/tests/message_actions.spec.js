// Message actions: copy a reply's Markdown, copy a code block, and each message's time and
// model shown on hover and on keyboard focus.
const { test, expect } = require('@playwright/test');

const password = 'correct horse battery staple';

async function signUp(page) {
  await page.goto('/register');
  await page.getByLabel('Email').fill(`actions-${Date.now()}-${Math.floor(Math.random() * 1e6)}@example.com`);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Create account' }).click();
  await expect(page).toHaveURL(/\/$/);
  await expect(page.locator('.connection-live')).toBeVisible();
}

const reply = (page) => page.locator('.message-assistant').last();
const clipboard = (page) => page.evaluate(() => navigator.clipboard.readText());

/// The stored reply's Markdown, as the API gives it.
async function storedReply(page) {
  const id = page.url().split('/c/')[1];
  return page.evaluate(async (id) => {
    const response = await fetch(`/api/conversations/${id}/messages`);
    const { items } = await response.json();
    return items.filter((m) => m.role === 'assistant').pop().content;
  }, id);
}

test('the copy buttons put the reply\'s Markdown and a code block\'s code on the clipboard', async ({ page, context, baseURL }) => {
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: baseURL });
  await signUp(page);
  await page.getByLabel('Message', { exact: true }).fill('Show me some code');
  await page.getByLabel('Message', { exact: true }).press('Enter');
  await expect(reply(page)).toHaveClass(/status-complete/, { timeout: 20_000 });
  const markdown = await storedReply(page);
  expect(markdown).toContain('```rust');

  await reply(page).getByRole('button', { name: 'Copy reply' }).click();
  await expect.poll(() => clipboard(page)).toBe(markdown);
  await expect(reply(page).getByRole('button', { name: 'Copy reply' })).toHaveText('Copied');

  await reply(page).getByRole('button', { name: 'Copy code' }).click();
  const code = await clipboard(page);
  expect(code.startsWith('fn count_words(text: &str) -> usize {')).toBe(true);
  expect(markdown).toContain(code);
  expect(code).not.toContain('```');

  // A reply of the history (rendered by the server, not by the island) copies the same.
  await page.reload();
  await page.evaluate(() => navigator.clipboard.writeText(''));
  await reply(page).getByRole('button', { name: 'Copy reply' }).click();
  await expect.poll(() => clipboard(page)).toBe(markdown);
});

test('a message shows its time and model on hover and on keyboard focus', async ({ page }) => {
  await signUp(page);
  await page.getByLabel('Message', { exact: true }).fill('Hello');
  await page.getByLabel('Message', { exact: true }).press('Enter');
  await expect(reply(page)).toHaveClass(/status-complete/, { timeout: 20_000 });
  const when = reply(page).locator('.message-when');
  await expect(when.locator('time')).toHaveAttribute('datetime', /^\d{4}-\d{2}-\d{2}T/);
  await expect(when).toContainText('demo-offline');
  await page.mouse.move(0, 0);
  await expect(when).toHaveCSS('opacity', '0');
  await reply(page).hover();
  await expect(when).toHaveCSS('opacity', '1');
  await page.mouse.move(0, 0);
  await expect(when).toHaveCSS('opacity', '0');
  await reply(page).focus();
  await expect(when).toHaveCSS('opacity', '1');
});

test('scrolling up stops the auto-scroll, and Jump to latest brings the view back', async ({ page }) => {
  await page.setViewportSize({ width: 1280, height: 560 });
  await signUp(page);
  await page.getByLabel('Message', { exact: true }).fill('Write a long answer');
  await page.getByLabel('Message', { exact: true }).press('Enter');
  const messages = page.locator('.messages');
  const fromBottom = () => messages.evaluate((el) => el.scrollHeight - el.scrollTop - el.clientHeight);
  await expect(reply(page)).toHaveClass(/status-streaming/);
  await expect.poll(() => messages.evaluate((el) => el.scrollHeight - el.clientHeight)).toBeGreaterThan(150);
  // At the bottom, the view follows the stream.
  await expect.poll(fromBottom).toBeLessThan(160);
  await expect(page.getByRole('button', { name: 'Jump to latest' })).toBeHidden();

  // Scrolled up, it stays where the reader put it while the reply grows.
  await messages.evaluate((el) => { el.scrollTop = 0; });
  await expect(page.getByRole('button', { name: 'Jump to latest' })).toBeVisible();
  const height = await messages.evaluate((el) => el.scrollHeight);
  await expect.poll(() => messages.evaluate((el) => el.scrollHeight)).toBeGreaterThan(height + 40);
  expect(await messages.evaluate((el) => el.scrollTop)).toBe(0);

  await page.getByRole('button', { name: 'Jump to latest' }).click();
  await expect.poll(fromBottom).toBeLessThan(160);
  await expect(page.getByRole('button', { name: 'Jump to latest' })).toBeHidden();
});
