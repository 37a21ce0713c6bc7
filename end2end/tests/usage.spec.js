// The usage page after a few demo replies, the month's spending beside the chat's cost, and
// the admin page for the first account.
const { test, expect } = require('@playwright/test');
const fs = require('node:fs');
const path = require('node:path');
const { grantAdmin } = require('./server');

const password = 'correct horse battery staple';
const shots = path.resolve(__dirname, '../screenshots');
fs.mkdirSync(shots, { recursive: true });

async function signUp(page) {
  await page.goto('/register');
  await page.getByLabel('Email').fill(`usage-${Date.now()}-${Math.floor(Math.random() * 1e6)}@example.com`);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Create account' }).click();
  await expect(page).toHaveURL(/\/$/);
  await expect(page.locator('.connection-live')).toBeVisible();
}

async function askAndWait(page, text) {
  const replies = page.locator('.message-assistant');
  const before = await replies.count();
  await page.getByLabel('Message', { exact: true }).fill(text);
  await page.getByLabel('Message', { exact: true }).press('Enter');
  await expect(replies).toHaveCount(before + 1);
  await expect(replies.last()).toHaveClass(/status-complete/, { timeout: 30_000 });
}

test('the usage page shows charts and tables after a few demo replies', async ({ page }) => {
  await signUp(page);
  await expect(page.getByTestId('month-spend')).toHaveText('$0.00');
  await askAndWait(page, 'Tell me about tables');
  await askAndWait(page, 'And about charts');
  await askAndWait(page, 'One more, about lists');

  await page.getByLabel('Account menu').click();
  await page.getByRole('menuitem', { name: 'Usage' }).click();
  await expect(page).toHaveURL(/\/usage$/);
  await expect(page.getByRole('heading', { name: 'Usage' })).toBeVisible();

  // The daily charts are SVG with bars; today's bar of tokens is not empty.
  const tokens = page.getByTestId('chart-daily-tokens');
  await expect(tokens).toBeVisible();
  await expect(page.getByTestId('chart-daily-cost').locator('rect')).toHaveCount(30);
  const heights = await tokens.locator('rect').evaluateAll((rects) => rects.map((r) => Number(r.getAttribute('height'))));
  expect(heights).toHaveLength(30);
  expect(heights[29]).toBeGreaterThan(0);

  // The tables beside them: today with three replies, the demo model, the conversation.
  const daily = page.getByTestId('table-daily');
  await expect(daily.locator('tbody tr')).toHaveCount(1);
  await expect(daily.locator('tbody tr td').nth(1)).toHaveText('3');
  await expect(page.getByTestId('table-models').locator('tbody tr')).toHaveCount(1);
  await expect(page.getByTestId('table-models')).toContainText('demo');
  await expect(page.getByTestId('table-conversations')).toContainText('Tell me about tables');
  await expect(page.getByTestId('usage-month-cost')).toHaveText('$0.00');
  await expect(page.getByTestId('usage-csv')).toHaveAttribute('href', '/api/usage.csv');
  await page.screenshot({ path: path.join(shots, 'usage-desktop.png'), fullPage: true });
  await page.setViewportSize({ width: 390, height: 844 });
  await page.screenshot({ path: path.join(shots, 'usage-phone.png'), fullPage: true });
});

test('an admin sets a budget on the admin page and the chat shows what is left', async ({ page }) => {
  // The operator makes this account an admin on the host (`server admin grant`); the data
  // folder is fresh each run, but a rerun on a kept folder logs in instead.
  const email = 'admin-e2e@example.com';
  await page.goto('/register');
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Create account' }).click();
  if (!/\/$/.test(new URL(page.url()).pathname)) {
    await page.goto('/login');
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password').fill(password);
    await page.getByRole('button', { name: 'Log in' }).click();
  }
  await expect(page).toHaveURL(/\/$/);
  expect(grantAdmin(email)).toContain(`${email} is an admin`);
  await page.reload();

  await page.getByLabel('Account menu').click();
  await page.getByRole('menuitem', { name: 'Admin' }).click();
  await expect(page).toHaveURL(/\/admin$/);
  const row = page.getByTestId('admin-users').locator(`tr[data-email="${email}"]`);
  await row.getByLabel(`Monthly budget of ${email}`).fill('1.50');
  await row.getByRole('button', { name: 'Save' }).click();
  await expect(page.getByRole('status')).toContainText('Budget saved');
  await page.screenshot({ path: path.join(shots, 'admin-desktop.png'), fullPage: true });
  await page.getByRole('link', { name: 'Models' }).click();
  await expect(page.getByTestId('admin-models').locator('tr[data-model="demo-offline"]')).toBeVisible();

  await page.goto('/');
  await expect(page.getByTestId('budget-left')).toHaveText('$1.50 left of $1.50');
});

test('someone who is not an admin gets the 404 page at /admin', async ({ page }) => {
  await signUp(page);
  const response = await page.goto('/admin');
  expect(response.status()).toBe(404);
  await expect(page.getByText('Page not found')).toBeVisible();
});
