// Accounts and access for a team, on a server of its own started with REGISTRATION=approval and a
// fresh data folder (the shared Playwright server runs with open registration for the other
// specs, and they register long before this one): the first account is the admin; a second
// person waits until the admin approves them, then chats; the admin disables them and their
// open chat tab is signed out. Then invites, the audit log, and personal API tokens.
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
const { spawn } = require('node:child_process');
const { test: base, expect, request } = require('@playwright/test');
const { default: AxeBuilder } = require('@axe-core/playwright');

const password = 'correct horse battery staple';
const shots = path.resolve(__dirname, '..', 'screenshots');
fs.mkdirSync(shots, { recursive: true });
const desktop = { width: 1280, height: 900 };
const phone = { width: 375, height: 740 };

const freePort = () =>
  new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.unref();
    probe.on('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });

/// Starts the server binary on a free port with its own data folder and `REGISTRATION=approval`,
/// and waits until it answers.
async function startServer() {
  const bin = process.env.E2E_SERVER_BIN || path.resolve(__dirname, '../../target/debug/server');
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'rustchat-accounts-e2e-'));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child = spawn(bin, [], {
    // Its own folder as the working directory: no `.env` of the repository is read.
    cwd: dataDir,
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      APP_ENV: 'development',
      DATA_DIR: dataDir,
      LEPTOS_SITE_ADDR: `127.0.0.1:${port}`,
      LEPTOS_SITE_ROOT: process.env.LEPTOS_SITE_ROOT || path.resolve(__dirname, '../../target/site'),
      LEPTOS_OUTPUT_NAME: 'rustchat',
      PUBLIC_URL: url,
      REGISTRATION: 'approval',
      RUST_LOG: 'warn',
      DEMO_WORD_DELAY: '5ms',
      MAX_ACTIVE_REPLIES_PER_USER: '1000',
      AUTH_ATTEMPTS_PER_MINUTE: '0',
      SENDS_PER_MINUTE: '0',
      AUTO_TITLES: 'off',
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk) => {
    stderr = (stderr + chunk).slice(-4000);
  });
  let exited = null;
  child.on('exit', (code) => {
    exited = code;
  });
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (exited !== null) throw new Error(`the server exited with ${exited}:\n${stderr}`);
    if (Date.now() > deadline) throw new Error(`the server did not answer within 60 s:\n${stderr}`);
    try {
      const response = await fetch(`${url}/login`);
      if (response.ok) break;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  const stop = async () => {
    if (exited === null) {
      const gone = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await gone;
      clearTimeout(timer);
    }
    fs.rmSync(dataDir, { recursive: true, force: true });
  };
  return { url, stop };
}

const test = base.extend({
  approvalServer: [
    async ({}, use) => {
      const server = await startServer();
      await use(server);
      await server.stop();
    },
    { scope: 'worker' },
  ],
});

async function register(page, { name, email }) {
  await page.getByLabel('Name').fill(name);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Create account' }).click();
}

const noSidewaysScroll = async (page) => {
  const overflow = await page.evaluate(
    () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
  );
  expect(overflow).toBeLessThanOrEqual(0);
};

/// No serious or critical finding of the accessibility engine (as a11y.spec.js, on the states
/// only this spec reaches: waiting accounts, the secrets shown once, every status).
const accessible = async (page) => {
  const { violations } = await new AxeBuilder({ page })
    .withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'])
    .analyze();
  const serious = violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id}: ${v.help} — ${v.nodes.map((n) => n.target.join(' ')).slice(0, 3).join(', ')}`);
  expect(serious, serious.join('\n')).toEqual([]);
};

/// A full-page screenshot at desktop size, then at phone size (checking nothing but the tables'
/// own wraps scroll sideways, and the page is accessible at both), back at desktop size.
async function desktopAndPhone(page, name) {
  // A full-page shot keeps the sticky top bar where the page was scrolled to: start at the top.
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path: path.join(shots, `${name}-desktop.png`), fullPage: true });
  await accessible(page);
  await page.setViewportSize(phone);
  await noSidewaysScroll(page);
  await accessible(page);
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path: path.join(shots, `${name}-phone.png`), fullPage: true });
  await page.setViewportSize(desktop);
}

test('approval, live sign-out on disable, invites, the audit log and API tokens', async ({
  browser,
  approvalServer,
}) => {
  test.setTimeout(180_000);
  const contextFor = () => browser.newContext({ baseURL: approvalServer.url, viewport: desktop });
  const adminContext = await contextFor();
  const bobContext = await contextFor();
  const carolContext = await contextFor();
  const danContext = await contextFor();
  const admin = await adminContext.newPage();
  const bob = await bobContext.newPage();
  const users = admin.getByTestId('admin-users');
  const row = (email) => users.locator(`tr[data-email="${email}"]`);
  const adminEmail = 'ada-admin@example.com';
  const bobEmail = 'bob@example.com';
  const carolEmail = 'carol@example.com';
  const danEmail = 'dan@example.com';

  await test.step('the first account is told it becomes the admin, and does', async () => {
    await admin.goto('/register');
    await expect(admin.getByTestId('register-notice')).toHaveText(
      'You are the first: this account will be the admin.',
    );
    await register(admin, { name: 'Ada Admin', email: adminEmail });
    await expect(admin).toHaveURL(/\/$/);
    await admin.getByLabel('Account menu').click();
    await expect(admin.getByRole('menuitem', { name: 'Admin' })).toBeVisible();
  });

  await test.step('a second person registers and waits for approval', async () => {
    await bob.goto('/register');
    await expect(bob.getByTestId('register-notice')).toHaveText(
      'An admin approves new accounts before they can chat.',
    );
    await register(bob, { name: 'Bob Builder', email: bobEmail });
    await expect(bob).toHaveURL(/\/waiting$/);
    await expect(bob.getByRole('heading', { name: 'Waiting for approval' })).toBeVisible();
    await expect(bob.getByTestId('waiting')).toContainText(bobEmail);
    await bob.screenshot({ path: path.join(shots, 'waiting-desktop.png'), fullPage: true });
    await accessible(bob);
    // Every page of the app sends them back here, and the chat API refuses them.
    await bob.goto('/settings');
    await expect(bob).toHaveURL(/\/waiting$/);
    const refused = await bob.request.get('/api/conversations');
    expect(refused.status()).toBe(403);
    expect((await refused.json()).error.code).toBe('pending_approval');
  });

  await test.step('the admin approves them on the admin page', async () => {
    await admin.goto('/admin');
    await expect(admin.getByRole('link', { name: /Users/ })).toHaveAttribute('aria-current', 'page');
    await expect(admin.getByTestId('registration-mode')).toContainText("wait for an admin's approval");
    await expect(admin.getByTestId('admin-waiting')).toHaveText('1 account waits for your approval.');
    await expect(row(bobEmail)).toContainText('Waiting for approval');
    await expect(row(adminEmail)).toContainText('Admin');
    await row(bobEmail).getByRole('button', { name: 'Approve' }).click();
    await expect(admin).toHaveURL(/\/admin\?tab=users&saved=access/);
    await expect(admin.getByRole('status')).toContainText('Access changed');
    await expect(row(bobEmail)).toHaveAttribute('data-status', 'active');
    await expect(row(bobEmail).getByRole('button', { name: 'Disable' })).toBeVisible();
  });

  await test.step('once approved, they chat with the demo model', async () => {
    await bob.getByRole('link', { name: 'Check again' }).click();
    await expect(bob).toHaveURL(/\/$/);
    await expect(bob.locator('.connection-live')).toBeVisible();
    await bob.getByLabel('Message', { exact: true }).fill('Hello from the new teammate');
    await bob.getByLabel('Message', { exact: true }).press('Enter');
    await expect(bob).toHaveURL(/\/c\/[0-9a-f-]{36}$/);
    const reply = bob.locator('.message-assistant').last();
    await expect(reply).toHaveClass(/status-complete/, { timeout: 30_000 });
    await expect(reply.locator('.message-body')).toContainText('offline demo');
    await expect(bob.locator('.connection-live')).toBeVisible();
  });

  await test.step('the admin disables them and their open tab is signed out at once', async () => {
    await row(bobEmail).getByRole('button', { name: 'Disable' }).click();
    await expect(admin).toHaveURL(/saved=access/);
    await expect(row(bobEmail)).toHaveAttribute('data-status', 'disabled');
    await expect(row(bobEmail)).toContainText('Disabled');
    // No reload: the chat island leaves for the log-in page when the server ends its socket.
    await expect(bob).toHaveURL(/\/login\?error=session_expired$/, { timeout: 15_000 });
    await expect(bob.getByRole('alert')).toHaveText('Your session has ended. Please log in again.');
    await bob.getByLabel('Email').fill(bobEmail);
    await bob.getByLabel('Password').fill(password);
    await bob.getByRole('button', { name: 'Log in' }).click();
    await expect(bob).toHaveURL(/\/login\?error=account_disabled/);
    await expect(bob.getByRole('alert')).toContainText('This account has been disabled');
  });

  await test.step('an invite link lets someone in without waiting, once', async () => {
    await admin.goto('/admin?tab=invites');
    await expect(admin.getByRole('link', { name: 'Invites' })).toHaveAttribute('aria-current', 'page');
    await admin.getByRole('button', { name: 'Create invite' }).click();
    await expect(admin).toHaveURL(/\/admin\?tab=invites&saved=invite_created/);
    const link = await admin.getByLabel('Invite link').inputValue();
    expect(link).toMatch(/\/register\?invite=[A-Za-z0-9_-]+$/);

    const carol = await carolContext.newPage();
    await carol.goto(link);
    await expect(carol.getByTestId('register-notice')).toContainText('You were invited');
    await register(carol, { name: 'Carol Chen', email: carolEmail });
    await expect(carol).toHaveURL(/\/$/);

    // Used once: the same link no longer works.
    const again = await browser.newContext({ baseURL: approvalServer.url });
    const late = await again.newPage();
    await late.goto(link);
    await register(late, { name: 'Late Larry', email: 'larry@example.com' });
    await expect(late).toHaveURL(/\/register\?error=invalid_invite/);
    await expect(late.getByRole('alert')).toContainText('That invite link has expired, was already used');
    await again.close();

    await admin.goto('/admin?tab=invites');
    const invites = admin.getByTestId('admin-invites');
    await expect(invites.locator('tr', { hasText: `Used by ${carolEmail}` })).toHaveCount(1);

    // One for a given address, as an admin, revoked before anyone uses it.
    await admin.getByLabel('Email').fill('erin@example.com');
    await admin.getByLabel('Role').selectOption('admin');
    await admin.getByLabel('Valid for (days)').fill('3');
    await admin.getByRole('button', { name: 'Create invite' }).click();
    await expect(admin.getByTestId('created-invite')).toContainText('Only erin@example.com can use it');
    const erin = invites.locator('tr', { hasText: 'erin@example.com' });
    await expect(erin).toContainText('Active');
    await erin.getByRole('button', { name: 'Revoke' }).click();
    await expect(admin).toHaveURL(/saved=invite_revoked/);
    await expect(erin).toContainText('Revoked');
    await expect(erin.getByRole('button', { name: 'Revoke' })).toHaveCount(0);

    // One more, whose link shows in the screenshots.
    await admin.getByLabel('Email').fill('frank@example.com');
    await admin.getByLabel('Valid for (days)').fill('14');
    await admin.getByRole('button', { name: 'Create invite' }).click();
    await expect(admin.getByTestId('created-invite')).toBeVisible();
    await desktopAndPhone(admin, 'admin-invites');
  });

  await test.step('the users tab shows every status', async () => {
    const dan = await danContext.newPage();
    await dan.goto('/register');
    await register(dan, { name: 'Dan Dare', email: danEmail });
    await expect(dan).toHaveURL(/\/waiting$/);

    await admin.goto('/admin');
    await expect(row(danEmail)).toHaveAttribute('data-status', 'pending');
    await expect(row(bobEmail)).toHaveAttribute('data-status', 'disabled');
    await expect(row(carolEmail)).toHaveAttribute('data-status', 'active');
    await expect(row(bobEmail).getByRole('button', { name: 'Enable' })).toBeVisible();
    await desktopAndPhone(admin, 'admin-users');
    // The last admin cannot be demoted.
    await row(adminEmail).getByRole('button', { name: 'Make user' }).click();
    await expect(admin).toHaveURL(/error=last_admin/);
    await expect(admin.getByRole('alert')).toContainText('no active admin');
  });

  await test.step('personal API tokens: made once, used as a Bearer token, revoked', async () => {
    await admin.goto('/settings');
    const tokens = admin.getByRole('region', { name: 'Personal API tokens' });
    await expect(tokens.getByText('No tokens yet.')).toBeVisible();
    await tokens.getByLabel('Token name').fill('old script');
    await tokens.getByRole('button', { name: 'Create token' }).click();
    await expect(admin).toHaveURL(/\/settings\?saved=token_created/);
    await expect(admin.getByRole('status')).toHaveText('Token created.');
    await expect(admin.getByTestId('created-token')).toContainText('it will not be shown again');
    const oldToken = await admin.getByLabel(/Your new token/).inputValue();
    expect(oldToken).toMatch(/^rc_/);
    await tokens.locator('li', { hasText: 'old script' }).getByRole('button', { name: 'Revoke' }).click();
    await expect(admin).toHaveURL(/saved=token_revoked/);
    await expect(admin.getByTestId('created-token')).toHaveCount(0);
    await expect(tokens.getByRole('listitem')).toHaveCount(0);

    await tokens.getByLabel('Token name').fill('backup script');
    await tokens.getByRole('button', { name: 'Create token' }).click();
    const token = await admin.getByLabel(/Your new token/).inputValue();
    await expect(tokens.getByRole('listitem')).toHaveCount(1);
    await expect(tokens.getByRole('listitem')).toContainText(token.slice(0, 6));

    // A script without the browser's cookie.
    const script = await request.newContext({ baseURL: approvalServer.url });
    const me = await script.get('/api/me', { headers: { Authorization: `Bearer ${token}` } });
    expect(me.status()).toBe(200);
    expect((await me.json()).email).toBe(adminEmail);
    const revoked = await script.get('/api/me', { headers: { Authorization: `Bearer ${oldToken}` } });
    expect(revoked.status()).toBe(401);
    await script.dispose();

    await expect(admin.getByRole('region', { name: 'Sessions' }).getByText('This device')).toBeVisible();
    await desktopAndPhone(admin, 'settings-sessions-tokens');
  });

  await test.step('the audit log lists what was done, by whom, to whom', async () => {
    await admin.goto('/admin?tab=audit');
    const audit = admin.getByTestId('admin-audit');
    for (const action of ['user.approved', 'user.disabled', 'invite.created', 'invite.revoked', 'token.created', 'token.revoked']) {
      await expect(audit.locator(`tr[data-action="${action}"]`).first()).toBeVisible();
    }
    const approved = audit.locator('tr[data-action="user.approved"]');
    await expect(approved).toContainText('Approved an account');
    await expect(approved).toContainText(adminEmail);
    await expect(approved).toContainText(bobEmail);
    await desktopAndPhone(admin, 'admin-audit');
  });

  await test.step('the models are on their own tab', async () => {
    await admin.getByRole('link', { name: 'Models' }).click();
    await expect(admin).toHaveURL(/tab=models/);
    await expect(admin.getByTestId('admin-models').locator('tr[data-model="demo-offline"]')).toBeVisible();
  });

  for (const context of [adminContext, bobContext, carolContext, danContext]) await context.close();
});
