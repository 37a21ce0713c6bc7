// A long conversation opens on its newest messages; "Load earlier" (or scrolling to the top)
// brings the ones above without moving what the reader looks at, down to the first message;
// an edit far up the conversation works on a message loaded that way.
const { test, expect } = require('@playwright/test');
const fs = require('node:fs');
const path = require('node:path');

const password = 'correct horse battery staple';
const shots = path.resolve(__dirname, '../screenshots');
fs.mkdirSync(shots, { recursive: true });
const desktop = { width: 1280, height: 800 };

async function signUp(page) {
  await page.goto('/register');
  await page.getByLabel('Email').fill(`long-${Date.now()}-${Math.floor(Math.random() * 1e6)}@example.com`);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Create account' }).click();
  await expect(page).toHaveURL(/\/$/);
  await expect(page.locator('.connection-live')).toBeVisible();
}

/// Imports a conversation of `n` messages on one branch (a ChatGPT export), each saying
/// `m{i}x` with three digits; its id.
async function longConversation(page, n) {
  const mapping = {};
  for (let i = 0; i < n; i++) {
    const text = i % 2 === 0
      ? `Question m${String(i).padStart(3, '0')}x: what about the tides on day ${i}?`
      : `Answer m${String(i).padStart(3, '0')}x.\n\nThe tide turns twice a day; on day ${i} it turned at dawn and at dusk.`;
    mapping[`n${i}`] = {
      id: `n${i}`,
      parent: i === 0 ? null : `n${i - 1}`,
      children: i + 1 < n ? [`n${i + 1}`] : [],
      message: {
        id: `msg${i}`,
        author: { role: i % 2 === 0 ? 'user' : 'assistant' },
        create_time: 1_700_000_000 + i * 60,
        content: { content_type: 'text', parts: [text] },
        metadata: {},
      },
    };
  }
  const exported = [{
    title: 'A year of tides',
    create_time: 1_700_000_000,
    update_time: 1_700_000_000 + n * 60,
    id: `long-${Date.now()}`,
    current_node: `n${n - 1}`,
    mapping,
  }];
  const response = await page.request.post('/api/import', { data: exported });
  expect(response.status()).toBe(200);
  return (await response.json()).conversation_ids[0];
}

const message = (page, i) => page.locator('.message', { hasText: `m${String(i).padStart(3, '0')}x` });

test('the page opens on its newest message before any of its WASM has run', async ({ page }) => {
  test.setTimeout(60_000);
  await page.setViewportSize(desktop);
  await signUp(page);
  const id = await longConversation(page, 60);
  // Without the WASM nothing hydrates: only the page's own inline script can have scrolled.
  await page.route('**/pkg/*.wasm', (route) => route.abort());
  await page.goto(`/c/${id}`);
  await expect(message(page, 59)).toBeInViewport();
  await expect(message(page, 10)).not.toBeInViewport();
  expect(await page.locator('.messages').evaluate((el) => el.scrollTop)).toBeGreaterThan(0);
  await expect(page.locator('.connection-live')).toHaveCount(0);
});

test('a long conversation opens on its newest messages and loads the earlier ones above them', async ({ page }) => {
  test.setTimeout(90_000);
  await page.setViewportSize(desktop);
  await signUp(page);
  const id = await longConversation(page, 130);
  await page.goto(`/c/${id}`);
  await expect(page.locator('.connection-live')).toBeVisible();

  // The newest 50 are there, the view at the bottom; nothing above them yet.
  await expect(message(page, 129)).toBeInViewport();
  await expect(page.locator('.message')).toHaveCount(50);
  await expect(message(page, 79)).toHaveCount(0);
  const more = page.getByRole('button', { name: 'Load earlier messages' });
  await expect(more).toHaveCount(1);
  await page.screenshot({ path: path.join(shots, 'chat-long-conversation.png') });

  // The button (pressed where it is, without scrolling to it) brings the 50 above; what the
  // reader was looking at stays where it was.
  const last = message(page, 129);
  const before = (await last.boundingBox()).y;
  await more.evaluate((button) => button.click());
  await expect(page.locator('.message')).toHaveCount(100);
  await expect(message(page, 30)).toHaveCount(1);
  await expect(last).toBeInViewport();
  expect(Math.abs((await last.boundingBox()).y - before)).toBeLessThan(40);

  // Scrolling to the top loads the rest, down to the first message; then there is no button.
  await page.locator('.messages').evaluate((el) => { el.scrollTop = 0; });
  await expect(page.locator('.message')).toHaveCount(130);
  await expect(message(page, 0)).toHaveCount(1);
  await expect(more).toHaveCount(0);
  const order = await page.locator('.message').evaluateAll((all) =>
    all.map((el) => (el.textContent.match(/m(\d{3})x/) || [])[1]));
  expect(order).toEqual(Array.from({ length: 130 }, (_, i) => String(i).padStart(3, '0')));
  await page.locator('.messages').evaluate((el) => { el.scrollTop = 0; });
  await page.screenshot({ path: path.join(shots, 'chat-long-conversation-top.png') });

  // An edit of a question loaded that way starts a branch there: the messages below it go.
  const question = message(page, 10);
  await question.hover();
  await question.getByRole('button', { name: 'Edit message' }).click();
  const box = page.getByLabel('Edit your message');
  await box.fill('Question m010x, asked again: and the moon?');
  await box.press('Enter');
  await expect(page.locator('.message-user', { hasText: 'asked again' })).toBeVisible();
  await expect(page.locator('.message-assistant').last()).toHaveClass(/status-complete/, { timeout: 30_000 });
  // (The server-rendered newest page stays in the document, hidden, as after any edit.)
  const shown = (locator) => locator.locator('visible=true');
  await expect(shown(message(page, 11))).toHaveCount(0);
  await expect(shown(message(page, 129))).toHaveCount(0);
  await expect(shown(page.locator('.message'))).toHaveCount(12);
  await page.reload();
  await expect(page.locator('.connection-live')).toBeVisible();
  await expect(page.locator('.message')).toHaveCount(12);
  await expect(message(page, 9)).toHaveCount(1);
  await expect(more).toHaveCount(0);
});
