// The settings page: a plain form that saves per user, and a theme and font size the server
// applies to <html> on the next page load (no flash of the wrong colours).
const path = require('node:path');
const { test, expect } = require('@playwright/test');

const password = 'correct horse battery staple';
const uniqueEmail = () => `e2e-${Date.now()}-${Math.floor(Math.random() * 1e6)}@example.com`;
const screenshots = path.resolve(__dirname, '..', 'screenshots');

async function register(page) {
  await page.goto('/register');
  await page.getByLabel('Name').fill('Ada Lovelace');
  await page.getByLabel('Email').fill(uniqueEmail());
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Create account' }).click();
  await expect(page).toHaveURL(/\/$/);
}

async function save(page) {
  await page.getByRole('button', { name: 'Save settings' }).click();
  await expect(page).toHaveURL(/\/settings\?saved=1$/);
  await expect(page.getByRole('status')).toHaveText('Settings saved.');
}

test('theme and font size are saved and applied by the server after a reload', async ({ page }) => {
  await page.setViewportSize({ width: 1280, height: 900 });
  await register(page);

  await page.goto('/settings');
  await expect(page.getByRole('heading', { name: 'Settings', level: 1 })).toBeVisible();
  await expect(page.getByRole('link', { name: 'Back to chats' })).toHaveAttribute('href', '/');
  await expect(page.getByLabel('Default model')).toHaveValue('demo/demo-offline');
  await expect(page.getByLabel('System', { exact: true })).toBeChecked();
  await expect(page.getByLabel('Font size')).toHaveValue('16');
  await expect(page.getByRole('switch', { name: 'Stream replies' })).toBeChecked();

  await page.getByLabel('Dark', { exact: true }).check();
  await page.getByLabel('Font size').selectOption('18');
  await page.getByRole('switch', { name: 'Stream replies' }).uncheck();
  await save(page);

  await page.reload();
  const html = page.locator('html');
  await expect(html).toHaveAttribute('data-theme', 'dark');
  await expect(html).toHaveCSS('font-size', '18px');
  await expect(page.getByLabel('Dark', { exact: true })).toBeChecked();
  await expect(page.getByLabel('Font size')).toHaveValue('18');
  await expect(page.getByRole('switch', { name: 'Stream replies' })).not.toBeChecked();
  await expect(page.getByRole('switch', { name: 'Format replies' })).toBeChecked();
  await page.screenshot({ path: path.join(screenshots, 'settings-desktop.png'), fullPage: true });

  await page.getByLabel('Light', { exact: true }).check();
  await save(page);
  await page.reload();
  await expect(html).toHaveAttribute('data-theme', 'light');
  await expect(html).toHaveCSS('font-size', '18px');
  await expect(page.getByLabel('Light', { exact: true })).toBeChecked();

  // The chat pages get the same document settings.
  await page.getByRole('link', { name: 'Back to chats' }).click();
  await expect(page).toHaveURL(/\/$/);
  await expect(html).toHaveAttribute('data-theme', 'light');
  await expect(html).toHaveCSS('font-size', '18px');
});

test('on a phone the settings page fits the screen', async ({ page }) => {
  await page.setViewportSize({ width: 375, height: 740 });
  await register(page);
  await page.goto('/settings');
  await expect(page.getByRole('button', { name: 'Save settings' })).toBeVisible();
  const overflow = await page.evaluate(
    () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
  );
  expect(overflow).toBeLessThanOrEqual(0);
  await page.screenshot({ path: path.join(screenshots, 'settings-phone.png'), fullPage: true });
});
