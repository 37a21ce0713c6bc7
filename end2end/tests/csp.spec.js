// Every page runs under its Content-Security-Policy: the islands hydrate, the live feed
// connects and a reply streams in, and the browser reports no violation anywhere.
const { test, expect } = require('@playwright/test');

const password = 'correct horse battery staple';

/// Collects what the browser says about the policy: console errors and violation events.
function watchPolicy(page) {
  const violations = [];
  page.on('console', (message) => {
    if (/Content Security Policy|Content-Security-Policy/i.test(message.text())) {
      violations.push(message.text());
    }
  });
  page.on('pageerror', (error) => violations.push(`page error: ${error.message}`));
  return violations;
}

test('the pages work under their Content-Security-Policy with no violation', async ({ page }) => {
  const violations = watchPolicy(page);
  await page.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (event) => {
      console.error(`Content Security Policy violation: ${event.violatedDirective} ${event.blockedURI}`);
    });
  });

  const login = await page.goto('/login');
  expect(login.headers()['content-security-policy']).toMatch(/script-src 'self' 'nonce-[^']+' 'wasm-unsafe-eval'/);
  await page.goto('/register');
  await page.getByLabel('Email').fill(`csp-${Date.now()}-${Math.floor(Math.random() * 1e6)}@example.com`);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Create account' }).click();
  await expect(page).toHaveURL(/\/$/);
  // The chat island hydrated (WebAssembly allowed) and the socket connected (connect-src).
  await expect(page.locator('.connection-live')).toBeVisible();
  await page.getByLabel('Message', { exact: true }).fill('Show me a table and some code');
  await page.getByLabel('Message', { exact: true }).press('Enter');
  await expect(page.locator('.message-assistant').last()).toHaveClass(/status-complete/, { timeout: 20_000 });
  // A finished reply's HTML (highlighted code, aligned tables) is shown as it came.
  await page.reload();
  await expect(page.locator('.message-assistant').last()).toHaveClass(/status-complete/);
  await expect(page.locator('.connection-live')).toBeVisible();

  for (const path of ['/settings', '/usage', '/no-such-page']) {
    await page.goto(path);
    await page.waitForLoadState('networkidle');
  }
  expect(violations).toEqual([]);
});
