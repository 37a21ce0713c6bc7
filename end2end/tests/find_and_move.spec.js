// Find and move (#15) in the browser: Ctrl+K searches message text and opens a message on a
// branch that is not shown; a conversation exported as JSON imports into another account
// through the settings page; pins come first and archived chats move to their own view; a
// preset made in the settings starts a chat with its model.
const { test, expect } = require('@playwright/test');
const { default: AxeBuilder } = require('@axe-core/playwright');
const fs = require('node:fs');
const path = require('node:path');

const password = 'correct horse battery staple';
const shots = path.resolve(__dirname, '../screenshots');
fs.mkdirSync(shots, { recursive: true });
const desktop = { width: 1280, height: 800 };
const phone = { width: 390, height: 844 };

async function signUp(page, who = 'find') {
  await page.goto('/register');
  await page.getByLabel('Email').fill(`${who}-${Date.now()}-${Math.floor(Math.random() * 1e6)}@example.com`);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Create account' }).click();
  await expect(page).toHaveURL(/\/$/);
  await expect(page.locator('.connection-live')).toBeVisible();
}

const replies = (page) => page.locator('.message-assistant');
const questions = (page) => page.locator('.message-user');
const visible = (locator) => locator.locator('visible=true');
const shownQuestions = (page) => visible(questions(page)).locator('.message-body').allInnerTexts();

async function ask(page, text) {
  const before = await visible(replies(page)).count();
  await page.getByLabel('Message', { exact: true }).fill(text);
  await page.getByLabel('Message', { exact: true }).press('Enter');
  await expect(page).toHaveURL(/\/c\/[0-9a-f-]{36}$/);
  await expect(visible(replies(page))).toHaveCount(before + 1);
  await expect(visible(replies(page)).last()).toHaveClass(/status-complete/, { timeout: 30_000 });
}

/// Serious and critical accessibility violations of the page as it is now (open search results,
/// menus), which the page-by-page audit of a11y.spec.js does not see.
async function violations(page) {
  const results = await new AxeBuilder({ page })
    .withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'])
    .analyze();
  return results.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id}: ${v.help} — ${v.nodes.map((n) => n.target.join(' ')).slice(0, 3).join(', ')}`);
}

/// A new chat, once the page listens (the island has hydrated and the feed is live).
async function newChat(page) {
  await page.goto('/');
  await expect(page.locator('.connection-live')).toBeVisible();
}

/// Opens the ⋯ menu of the sidebar row holding `title`.
async function openMenu(page, title) {
  const row = page.locator('.conversation-item', { hasText: title });
  await row.hover();
  await row.getByRole('button', { name: 'More actions' }).click();
  return row;
}

test('Ctrl+K finds a message on a branch that is not shown, and Enter opens it there', async ({ page }) => {
  await page.setViewportSize(desktop);
  await signUp(page);
  await ask(page, 'Tell me about <b>zanzibar</b> lighthouses');
  await ask(page, 'And their keepers?');

  // Edit the first question: the branch with the lighthouses is no longer shown.
  const first = visible(questions(page)).first();
  await first.hover();
  await first.getByRole('button', { name: 'Edit message' }).click();
  await page.getByLabel('Edit your message').fill('Tell me about ferries instead');
  await page.getByLabel('Edit your message').press('Enter');
  await expect(visible(replies(page))).toHaveCount(1);
  await expect(visible(replies(page)).last()).toHaveClass(/status-complete/, { timeout: 30_000 });
  expect(await shownQuestions(page)).toEqual(['Tell me about ferries instead']);
  const conversationUrl = page.url();

  // Ctrl+K from the message box: the search box takes the focus.
  await page.getByLabel('Message', { exact: true }).focus();
  await page.keyboard.press('Control+k');
  const box = page.getByRole('combobox', { name: 'Search conversations and messages' });
  await expect(box).toBeFocused();
  // Every word must match; the last one also as a prefix.
  await box.pressSequentially('zanzibar lightho');
  const hits = page.getByRole('listbox', { name: 'Messages found' }).getByRole('option');
  // The question and the demo's reply, which quotes it; newest first.
  await expect(hits).toHaveCount(2);
  const question = hits.filter({ has: page.locator('.hit-role', { hasText: 'You' }) });
  await expect(question).toHaveCount(1);
  await expect(question.locator('mark').first()).toHaveText(/zanzibar/i);
  // The snippet is text: the question's markup shows as written, never as HTML.
  await expect(question.locator('.hit-snippet')).toContainText('<b>');
  await expect(hits.locator('.hit-snippet b')).toHaveCount(0);
  await page.screenshot({ path: path.join(shots, 'search-results-desktop.png') });
  expect(await violations(page)).toEqual([]);

  // Words that are not all there find nothing.
  await box.fill('zanzibar submarine');
  await expect(page.getByText('No message matches every word.')).toBeVisible();
  await box.fill('zanzibar');
  await expect(hits).toHaveCount(2);

  // The arrows reach the question; Enter opens it on its branch, in view and focused.
  const at = await hits.evaluateAll((all) => all.findIndex((h) => h.querySelector('.hit-role').textContent === 'You'));
  for (let i = 0; i <= at; i++) await box.press('ArrowDown');
  await expect(question).toHaveAttribute('aria-selected', 'true');
  await expect(box).toHaveAttribute('aria-activedescendant', await question.getAttribute('id'));
  await box.press('Enter');
  await expect(page.locator('.message-found')).toBeVisible();
  expect(page.url()).toBe(conversationUrl);
  expect(await shownQuestions(page)).toEqual(['Tell me about <b>zanzibar</b> lighthouses', 'And their keepers?']);
  const found = page.locator('.message-found');
  await expect(found).toHaveClass(/message-user/);
  await expect(found).toContainText('zanzibar');
  await expect(found).toBeInViewport();
  await expect(found).toBeFocused();

  // Escape closes a search and leaves the list as it was.
  await page.keyboard.press('Control+k');
  await box.pressSequentially('keepers');
  await expect(hits.first()).toBeVisible();
  await box.press('Escape');
  await expect(box).toHaveValue('');
  await expect(page.getByRole('listbox', { name: 'Messages found' })).toHaveCount(0);
  await expect(page.locator('.conversation-item')).toHaveCount(1);

  // On a phone, Ctrl+K slides the sidebar in with the box focused.
  await page.setViewportSize(phone);
  await page.getByLabel('Message', { exact: true }).focus();
  await page.keyboard.press('Control+k');
  await expect(page.getByRole('complementary', { name: 'Conversations' })).toBeInViewport();
  await expect(box).toBeFocused();
  await box.pressSequentially('lighthouses');
  await expect(hits.first()).toBeVisible();
  await page.screenshot({ path: path.join(shots, 'search-results-phone.png') });
});

test('a conversation exported as JSON imports into another account from the settings page', async ({ page, browser }) => {
  test.setTimeout(120_000);
  await page.setViewportSize(desktop);
  await signUp(page, 'export');
  await ask(page, 'Remember the tide tables for export');
  await ask(page, 'And the moon phases');

  await openMenu(page, 'Remember the tide tables');
  const downloading = page.waitForEvent('download');
  await page.getByRole('link', { name: 'Export JSON' }).click();
  const download = await downloading;
  expect(download.suggestedFilename()).toMatch(/\.json$/);
  const file = await download.path();
  const exported = JSON.parse(fs.readFileSync(file, 'utf8'));
  expect(exported.format).toBe('rustchat.conversation.v1');
  expect(exported.messages).toHaveLength(4);

  // Markdown is a download too.
  await openMenu(page, 'Remember the tide tables');
  const markdown = page.waitForEvent('download');
  await page.getByRole('link', { name: 'Export Markdown' }).click();
  expect((await markdown).suggestedFilename()).toMatch(/\.md$/);

  // Another account imports the file through the settings page.
  const other = await browser.newContext({ viewport: desktop });
  const them = await other.newPage();
  await signUp(them, 'import');
  await them.goto('/settings');
  await them.getByLabel('File to import').setInputFiles(file);
  await them.getByRole('button', { name: 'Import', exact: true }).click();
  const summary = them.locator('.import-summary');
  await expect(summary).toContainText('1 imported, 0 skipped, 4 messages');
  const link = summary.getByRole('link', { name: 'Remember the tide tables for export' });
  await expect(link).toBeVisible();
  const imported = await link.getAttribute('href');
  await them.locator('#data').scrollIntoViewIfNeeded();
  await them.screenshot({ path: path.join(shots, 'settings-import-summary.png'), fullPage: true });

  // The same file again: nothing new.
  await them.getByRole('button', { name: 'Import', exact: true }).click();
  await expect(summary).toContainText('0 imported, 1 skipped');

  // A file that is not an export says what is wrong.
  const bad = path.join(path.dirname(file), 'not-an-export.json');
  fs.writeFileSync(bad, '{"hello": "world"}');
  await them.getByLabel('File to import').setInputFiles(bad);
  await them.getByRole('button', { name: 'Import', exact: true }).click();
  await expect(them.locator('#data').getByRole('alert')).toBeVisible();

  // The imported conversation, from the summary's link: its messages, marked as imported.
  await them.goto(imported);
  expect(await shownQuestions(them)).toEqual(['Remember the tide tables for export', 'And the moon phases']);
  await expect(visible(replies(them))).toHaveCount(2);
  await expect(them.locator('.badge-imported')).toBeVisible();
  await other.close();
});

test('pinned chats come first; archived ones leave the list for the Archived view', async ({ page }) => {
  await page.setViewportSize(desktop);
  await signUp(page, 'organise');
  await ask(page, 'Alpha chat about gardens');
  await newChat(page);
  await ask(page, 'Beta chat about engines');
  await newChat(page);
  await ask(page, 'Gamma chat about music');
  const titles = () => page.locator('.conversation-list .conversation-title').allInnerTexts();
  expect(await titles()).toEqual(['Gamma chat about music', 'Beta chat about engines', 'Alpha chat about gardens']);

  // Pin the oldest: it moves first, with its mark, and stays first after a reload.
  await openMenu(page, 'Alpha chat');
  await page.getByRole('button', { name: 'Pin', exact: true }).click();
  await expect(page.locator('.conversation-item').first()).toContainText('Alpha chat');
  await expect(page.locator('.conversation-item').first().locator('.pin-mark')).toBeVisible();
  await page.reload();
  expect(await titles()).toEqual(['Alpha chat about gardens', 'Gamma chat about music', 'Beta chat about engines']);

  // Archive one: it leaves the list, also after a reload.
  await openMenu(page, 'Beta chat');
  await page.getByRole('button', { name: 'Archive', exact: true }).click();
  await expect(page.locator('.conversation-item', { hasText: 'Beta chat' })).toHaveCount(0);
  await page.reload();
  expect(await titles()).toEqual(['Alpha chat about gardens', 'Gamma chat about music']);
  await page.screenshot({ path: path.join(shots, 'sidebar-pinned-desktop.png') });

  // The Archived view lists it; Unarchive brings it back.
  await page.getByRole('button', { name: 'Archived chats' }).click();
  const archived = page.getByRole('navigation', { name: 'Archived conversations' });
  await expect(archived.locator('.conversation-item')).toHaveCount(1);
  await expect(archived).toContainText('Beta chat about engines');
  await page.screenshot({ path: path.join(shots, 'sidebar-archived-desktop.png') });
  expect(await violations(page)).toEqual([]);
  await page.setViewportSize(phone);
  await page.getByRole('button', { name: 'Open sidebar' }).click();
  await expect(page.getByRole('complementary', { name: 'Conversations' })).toBeInViewport();
  await page.screenshot({ path: path.join(shots, 'sidebar-archived-phone.png') });
  await archived.getByRole('button', { name: 'Unarchive Beta chat about engines' }).click();
  await expect(archived.locator('.conversation-item')).toHaveCount(0);
  await page.getByRole('button', { name: '← Back to chats' }).click();
  await expect(page.locator('.conversation-item')).toHaveCount(3);
  expect((await titles())[0]).toBe('Alpha chat about gardens');
  expect((await titles()).slice(1).sort()).toEqual(['Beta chat about engines', 'Gamma chat about music']);
  await page.screenshot({ path: path.join(shots, 'sidebar-pinned-phone.png') });
});

test('a preset made in the settings starts a chat with its model', async ({ page }) => {
  await page.setViewportSize(desktop);
  await signUp(page, 'preset');
  await page.goto('/settings');
  const card = page.locator('#presets');
  await expect(card.getByText('No presets yet.')).toBeVisible();

  // The server's refusal is said in its words.
  await card.getByLabel('Temperature').fill('7');
  await card.getByRole('button', { name: 'Create preset' }).click();
  await expect(card.getByRole('alert')).toBeVisible();

  await card.getByLabel('Name').fill('Haiku reviewer');
  await card.getByLabel('Model').selectOption('anthropic/claude-haiku-4-5');
  await card.getByLabel('Temperature').fill('0.3');
  await card.getByLabel('Max tokens').fill('800');
  await card.getByLabel('System prompt').fill('Review briefly and kindly.');
  await card.getByRole('button', { name: 'Create preset' }).click();
  await expect(card.getByRole('status')).toContainText('Preset “Haiku reviewer” created.');
  const row = card.locator('.preset-row', { hasText: 'Haiku reviewer' });
  await expect(row).toContainText('temperature 0.3');
  await expect(row).toContainText('800 max tokens');

  // Edit it: the form fills with its values.
  await row.getByRole('button', { name: 'Edit Haiku reviewer' }).click();
  await expect(card.getByLabel('Name')).toHaveValue('Haiku reviewer');
  await expect(card.getByLabel('System prompt')).toHaveValue('Review briefly and kindly.');
  await card.getByLabel('Temperature').fill('0.4');
  await card.getByRole('button', { name: 'Save preset' }).click();
  await expect(row).toContainText('temperature 0.4');
  await page.reload();
  await expect(card.locator('.preset-row', { hasText: 'Haiku reviewer' })).toContainText('temperature 0.4');
  await card.scrollIntoViewIfNeeded();
  await page.screenshot({ path: path.join(shots, 'settings-presets-desktop.png'), fullPage: true });
  await page.setViewportSize(phone);
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  expect(overflow).toBeLessThanOrEqual(0);
  await page.screenshot({ path: path.join(shots, 'settings-presets-phone.png'), fullPage: true });
  await page.setViewportSize(desktop);

  // New chat from preset: the conversation has the preset's model.
  await newChat(page);
  await page.getByRole('button', { name: 'New chat from preset' }).click();
  await expect(page.locator('#preset-menu')).toBeVisible();
  await page.screenshot({ path: path.join(shots, 'sidebar-preset-menu.png') });
  expect(await violations(page)).toEqual([]);
  await page.locator('#preset-menu').getByRole('button', { name: /Haiku reviewer/ }).click();
  await expect(page).toHaveURL(/\/c\/[0-9a-f-]{36}$/);
  await expect(page.getByLabel('Provider')).toHaveValue('anthropic');
  await expect(page.getByLabel('Model', { exact: true })).toHaveValue('claude-haiku-4-5');
});
