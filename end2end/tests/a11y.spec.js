// An accessibility engine (axe-core) on every page, in light and dark, at desktop and phone
// width: no serious or critical violation anywhere.
const { test, expect } = require('@playwright/test');
const { default: AxeBuilder } = require('@axe-core/playwright');
const { grantAdmin } = require('./server');

const password = 'correct horse battery staple';

async function audit(page, label) {
  const results = await new AxeBuilder({ page })
    .withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'])
    .analyze();
  return results.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${label}: ${v.id} (${v.impact}) ${v.help} — ${v.nodes.map((n) => n.target.join(' ')).slice(0, 3).join(', ')}`);
}

async function signUp(page, email) {
  await page.goto('/register');
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Create account' }).click();
  await expect(page).toHaveURL(/\/$/);
  await expect(page.locator('.connection-live')).toBeVisible();
}

test('no page has a serious or critical accessibility violation, in either theme or at phone width', async ({ page }) => {
  test.setTimeout(180_000);
  const found = [];
  const sizes = [
    ['desktop', { width: 1280, height: 800 }],
    ['phone', { width: 390, height: 844 }],
  ];
  const schemes = ['light', 'dark'];
  const everyWay = async (label) => {
    for (const [size, viewport] of sizes) {
      await page.setViewportSize(viewport);
      for (const scheme of schemes) {
        // Reduced motion: colours are measured as they end, not mid-transition.
        await page.emulateMedia({ colorScheme: scheme, reducedMotion: 'reduce' });
        found.push(...(await audit(page, `${label} ${size} ${scheme}`)));
      }
    }
    await page.setViewportSize(sizes[0][1]);
  };

  for (const path of ['/login', '/register']) {
    await page.goto(path);
    await everyWay(path);
  }
  const email = `a11y-${Date.now()}-${Math.floor(Math.random() * 1e6)}@example.com`;
  await signUp(page, email);
  await everyWay('chat (empty)');
  await page.getByLabel('Message', { exact: true }).fill('Think, then show me a list and some code');
  await page.getByLabel('Message', { exact: true }).press('Enter');
  await expect(page.locator('.message-assistant').last()).toHaveClass(/status-complete/, { timeout: 20_000 });
  await everyWay('chat (with messages)');
  for (const path of ['/settings', '/usage']) {
    await page.goto(path);
    await everyWay(path);
  }
  grantAdmin(email);
  for (const tab of ['users', 'invites', 'audit', 'models']) {
    await page.goto(`/admin?tab=${tab}`);
    await everyWay(`/admin ${tab}`);
  }
  expect(found, found.join('\n')).toEqual([]);
});
