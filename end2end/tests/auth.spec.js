// The first thing a newcomer does: create an account, see the app, log out, log back in.
const { test, expect } = require('@playwright/test');

const password = 'correct horse battery staple';
const uniqueEmail = () => `e2e-${Date.now()}-${Math.floor(Math.random() * 1e6)}@example.com`;

test('register, see the app shell, log out, and log in again', async ({ page }) => {
  const email = uniqueEmail();

  await page.goto('/');
  await expect(page).toHaveURL(/\/login$/);

  await page.getByRole('link', { name: 'Create an account' }).click();
  await page.getByLabel('Name').fill('Ada Lovelace');
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Create account' }).click();

  await expect(page).toHaveURL(/\/$/);
  await expect(page.getByRole('heading', { name: 'How can I help today?' })).toBeVisible();

  await page.getByLabel('Account menu').click();
  await expect(page.getByText(email)).toBeVisible();
  await page.getByRole('menuitem', { name: 'Log out' }).click();
  await expect(page).toHaveURL(/\/login$/);

  await page.goto('/');
  await expect(page).toHaveURL(/\/login$/);

  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill('not the password');
  await page.getByRole('button', { name: 'Log in' }).click();
  await expect(page.getByRole('alert')).toHaveText('Email or password is incorrect.');

  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Log in' }).click();
  await expect(page).toHaveURL(/\/$/);
  await expect(page.getByLabel('Account menu')).toHaveText('AL');
});

test('on a phone the sidebar hides behind a button that the island opens', async ({ page }) => {
  await page.setViewportSize({ width: 375, height: 740 });
  await page.goto('/register');
  await page.getByLabel('Email').fill(uniqueEmail());
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Create account' }).click();
  await expect(page).toHaveURL(/\/$/);
  // The toggle is an island: it opens the sidebar once the page has hydrated.
  await expect(page.locator('.connection-live')).toBeVisible();

  const sidebar = page.getByRole('complementary', { name: 'Conversations' });
  await expect(sidebar).not.toBeInViewport();
  const toggle = page.getByRole('button', { name: 'Open sidebar' });
  await toggle.click();
  await expect(sidebar).toBeInViewport();
  await expect(page.getByRole('button', { name: 'Close sidebar' })).toHaveAttribute('aria-expanded', 'true');
});
