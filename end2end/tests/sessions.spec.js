// Revocable sessions: the settings page lists where the account is signed in, and changing the
// password there signs out every other browser at once (their next page is the log-in page).
const path = require('node:path');
const { test, expect } = require('@playwright/test');

const password = 'correct horse battery staple';
const newPassword = 'a brand new passphrase';
const uniqueEmail = () => `e2e-${Date.now()}-${Math.floor(Math.random() * 1e6)}@example.com`;
const screenshots = path.resolve(__dirname, '..', 'screenshots');

test('changing the password on the settings page signs out the other browser', async ({ browser }) => {
  const email = uniqueEmail();
  const here = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const elsewhere = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await here.newPage();
  const other = await elsewhere.newPage();

  await page.goto('/register');
  await page.getByLabel('Name').fill('Ada Lovelace');
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Create account' }).click();
  await expect(page).toHaveURL(/\/$/);

  await other.goto('/login');
  await other.getByLabel('Email').fill(email);
  await other.getByLabel('Password').fill(password);
  await other.getByRole('button', { name: 'Log in' }).click();
  await expect(other).toHaveURL(/\/$/);

  await page.goto('/settings');
  const sessions = page.getByRole('region', { name: 'Sessions' }).getByRole('listitem');
  await expect(sessions).toHaveCount(2);
  await expect(page.getByText('This device')).toHaveCount(1);
  await page.screenshot({ path: path.join(screenshots, 'settings-sessions-desktop.png'), fullPage: true });

  await page.getByLabel('Current password', { exact: true }).fill(password);
  await page.getByLabel('New password', { exact: true }).fill(newPassword);
  await page.getByRole('button', { name: 'Change password' }).click();
  await expect(page).toHaveURL(/\/settings\?saved=password_changed$/);
  await expect(page.getByRole('status')).toHaveText(
    'Password changed. Your other sessions are signed out.',
  );
  await expect(sessions).toHaveCount(1);

  await other.goto('/settings');
  await expect(other).toHaveURL(/\/login\?error=session_expired$/);

  await page.setViewportSize({ width: 375, height: 740 });
  await page.goto('/settings');
  await expect(page.getByRole('button', { name: 'Log out everywhere' })).toBeVisible();
  const overflow = await page.evaluate(
    () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
  );
  expect(overflow).toBeLessThanOrEqual(0);
  await page.screenshot({ path: path.join(screenshots, 'settings-sessions-phone.png'), fullPage: true });

  await here.close();
  await elsewhere.close();
});
