// A reply's reasoning: the demo thinks when asked to; its "Thinking…" block is open while the
// reasoning streams, closes when the answer starts, and stays apart from the answer.
const { test, expect } = require('@playwright/test');
const fs = require('node:fs');
const path = require('node:path');

const password = 'correct horse battery staple';
const shots = path.resolve(__dirname, '../screenshots');
fs.mkdirSync(shots, { recursive: true });

async function signUp(page) {
  await page.goto('/register');
  await page.getByLabel('Email').fill(`think-${Date.now()}-${Math.floor(Math.random() * 1e6)}@example.com`);
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

async function pictures(page, size) {
  await page.emulateMedia({ colorScheme: 'light', reducedMotion: 'reduce' });
  await page.screenshot({ path: path.join(shots, `reasoning-${size}-light.png`) });
  await page.emulateMedia({ colorScheme: 'dark', reducedMotion: 'reduce' });
  await page.screenshot({ path: path.join(shots, `reasoning-${size}-dark.png`) });
}

test('the thinking block is open while the demo thinks and closes when the answer starts', async ({ page }) => {
  await signUp(page);
  await send(page, 'Think about how to sort a list');
  const thinking = reply(page).locator('details.reasoning');
  await expect(thinking).toHaveAttribute('open', '');
  await expect(thinking.locator('summary')).toContainText('Thinking…');
  await expect(thinking.locator('.reasoning-body')).toContainText('The message asks me to think');
  await expect(reply(page).locator('.message-body')).not.toContainText('The message asks me to think');

  // The answer starts: the block closes by itself, and says how much was thought.
  await expect(reply(page).locator('.message-body')).toContainText('offline demo', { timeout: 20_000 });
  await expect(thinking).not.toHaveAttribute('open');
  await expect(thinking.locator('summary')).toContainText(/Thought\s*[\d,]+ tokens/);
  // A reader opens it again at will, while the answer goes on streaming.
  await thinking.locator('summary').click();
  await expect(thinking).toHaveAttribute('open', '');
  await expect(reply(page)).toHaveClass(/status-complete/, { timeout: 20_000 });
  await expect(thinking).toHaveAttribute('open', '');
  await expect(thinking.locator('.reasoning-body')).toContainText('never sent back');

  // After a reload the stored reasoning is there, closed, with the provider's token count.
  await page.reload();
  const stored = reply(page).locator('details.reasoning');
  await expect(stored).not.toHaveAttribute('open');
  await expect(stored.locator('summary')).toContainText(/Thought\s*[\d,]+ tokens/);
  await stored.locator('summary').click();
  await expect(stored.locator('.reasoning-body')).toContainText('The message asks me to think');
  await pictures(page, 'desktop');

  await page.setViewportSize({ width: 390, height: 844 });
  await page.emulateMedia({ colorScheme: 'light', reducedMotion: 'reduce' });
  await reply(page).scrollIntoViewIfNeeded();
  await stored.scrollIntoViewIfNeeded();
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  expect(overflow).toBeLessThanOrEqual(0);
  await pictures(page, 'phone');
});

test('a reply without reasoning shows no thinking block', async ({ page }) => {
  await signUp(page);
  await send(page, 'Hello there');
  await expect(reply(page)).toHaveClass(/status-complete/, { timeout: 20_000 });
  await expect(reply(page).locator('details.reasoning')).toHaveCount(0);
});
