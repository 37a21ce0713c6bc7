// The conversation tree in the browser: edit a question (a new branch), move between the
// versions with ‹ n/m ›, keep the shown branch across a reload, regenerate with another model.
const { test, expect } = require('@playwright/test');
const fs = require('node:fs');
const path = require('node:path');

const password = 'correct horse battery staple';
const shots = path.resolve(__dirname, '../screenshots');
fs.mkdirSync(shots, { recursive: true });

async function signUp(page) {
  await page.goto('/register');
  await page.getByLabel('Email').fill(`tree-${Date.now()}-${Math.floor(Math.random() * 1e6)}@example.com`);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Create account' }).click();
  await expect(page).toHaveURL(/\/$/);
  await expect(page.locator('.connection-live')).toBeVisible();
}

const replies = (page) => page.locator('.message-assistant');
const questions = (page) => page.locator('.message-user');
const visible = (locator) => locator.locator('visible=true');

async function ask(page, text) {
  const before = await visible(replies(page)).count();
  await page.getByLabel('Message', { exact: true }).fill(text);
  await page.getByLabel('Message', { exact: true }).press('Enter');
  await expect(visible(replies(page))).toHaveCount(before + 1);
  await expect(visible(replies(page)).last()).toHaveClass(/status-complete/, { timeout: 30_000 });
}

/// The questions of the branch shown, in order.
const shownQuestions = (page) => visible(questions(page)).locator('.message-body').allInnerTexts();

test('editing a question starts a branch, ‹ › brings back the old one, and a reload keeps it', async ({ page }) => {
  await signUp(page);
  await ask(page, 'First question');
  await ask(page, 'Second question');
  await ask(page, 'Third question');
  expect(await shownQuestions(page)).toEqual(['First question', 'Second question', 'Third question']);

  // Edit the first question: Enter sends the new version.
  const first = visible(questions(page)).first();
  await first.hover();
  await first.getByRole('button', { name: 'Edit message' }).click();
  const editor = page.getByLabel('Edit your message');
  await expect(editor).toBeFocused();
  await expect(editor).toHaveValue('First question');
  await editor.fill('First question, asked better');
  await editor.press('Enter');
  await expect(visible(replies(page))).toHaveCount(1);
  await expect(visible(replies(page)).last()).toHaveClass(/status-complete/, { timeout: 30_000 });
  expect(await shownQuestions(page)).toEqual(['First question, asked better']);
  const versions = visible(questions(page)).first().locator('.branch-nav');
  await expect(versions.locator('.branch-count')).toHaveText('2/2');

  // ‹ shows the old branch, all three exchanges, without a page load.
  await page.evaluate(() => { window.__samePage = true; });
  await versions.getByRole('button', { name: 'Previous version' }).click();
  await expect(visible(questions(page))).toHaveCount(3);
  expect(await shownQuestions(page)).toEqual(['First question', 'Second question', 'Third question']);
  await expect(visible(questions(page)).first().locator('.branch-count')).toHaveText('1/2');
  expect(await page.evaluate(() => window.__samePage)).toBe(true);
  // The keyboard reaches the other control: focus stays on the version buttons.
  await expect(visible(questions(page)).first().getByRole('button', { name: 'Next version' })).toBeFocused();

  // A reload shows the branch chosen.
  await page.reload();
  await expect(page.locator('.connection-live')).toBeVisible();
  expect(await shownQuestions(page)).toEqual(['First question', 'Second question', 'Third question']);
  await expect(visible(questions(page)).first().locator('.branch-count')).toHaveText('1/2');

  // Esc cancels an edit and changes nothing.
  const second = visible(questions(page)).nth(1);
  await second.hover();
  await second.getByRole('button', { name: 'Edit message' }).click();
  await page.getByLabel('Edit your message').press('Escape');
  await expect(page.getByLabel('Edit your message')).toHaveCount(0);
  expect(await shownQuestions(page)).toEqual(['First question', 'Second question', 'Third question']);
});

test('regenerating with another model streams a second version beside the first', async ({ page }) => {
  await signUp(page);
  await ask(page, 'Explain branches');

  const reply = visible(replies(page)).last();
  await reply.hover();
  await reply.getByRole('button', { name: 'Regenerate with another model' }).click();
  const menu = page.getByRole('menu', { name: 'Regenerate with' });
  await expect(menu).toBeVisible();
  await expect(menu.getByRole('menuitem').first()).toBeFocused();
  await menu.getByRole('menuitem', { name: /brief/ }).click();
  await expect(menu).toHaveCount(0);

  const again = visible(replies(page)).last();
  await expect(again).toHaveClass(/status-streaming/);
  await expect(again).toHaveClass(/status-complete/, { timeout: 30_000 });
  await expect(again.locator('.message-body')).toContainText('brief offline demo');
  await expect(again.locator('.meta-model')).toContainText(/brief/i);
  await expect(again.locator('.branch-count')).toHaveText('2/2');
  await expect(visible(replies(page))).toHaveCount(1);

  // ‹ brings the first reply back; › the regenerated one.
  await again.getByRole('button', { name: 'Previous version' }).click();
  await expect(visible(replies(page)).last().locator('.message-body')).toContainText('offline demo answering');
  await expect(visible(replies(page)).last().locator('.branch-count')).toHaveText('1/2');

  await page.setViewportSize({ width: 1280, height: 800 });
  await page.screenshot({ path: path.join(shots, 'branches-desktop.png') });
  // At phone width, as a phone opens it: the branch chosen, its versions in view.
  await page.setViewportSize({ width: 390, height: 844 });
  await page.reload();
  await expect(page.locator('.connection-live')).toBeVisible();
  const shown = visible(replies(page)).last();
  await expect(shown.locator('.branch-count')).toHaveText('1/2');
  await shown.locator('.branch-nav').scrollIntoViewIfNeeded();
  await page.screenshot({ path: path.join(shots, 'branches-phone.png') });
});
