// Attachments in the chat: a PNG and a PDF picked with the paperclip upload with progress, show
// as chips, go with the message to the offline demo (which names them), and show on the sent
// message after a reload: the image as a thumbnail, the PDF as a download link.
const { test, expect } = require('@playwright/test');
const fs = require('node:fs');
const path = require('node:path');
const zlib = require('node:zlib');

const password = 'correct horse battery staple';
const shots = path.resolve(__dirname, '../screenshots');
fs.mkdirSync(shots, { recursive: true });

const crcTable = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32(bytes) {
  let c = 0xffffffff;
  for (const b of bytes) c = crcTable[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
function chunk(type, data) {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([length, body, crc]);
}

// A real PNG (the browser draws its thumbnail): a warm diagonal gradient.
function png(width, height) {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 8; // bit depth
  header[9] = 2; // truecolour
  const rows = [];
  for (let y = 0; y < height; y++) {
    const row = Buffer.alloc(1 + width * 3);
    for (let x = 0; x < width; x++) {
      row[1 + x * 3] = 240;
      row[2 + x * 3] = Math.round(90 + (120 * x) / width);
      row[3 + x * 3] = Math.round(40 + (160 * y) / height);
    }
    rows.push(row);
  }
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', zlib.deflateSync(Buffer.concat(rows))),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

// A one-page PDF with a line of text, its cross-reference table computed.
function pdf(text) {
  const content = `BT /F1 24 Tf 72 700 Td (${text}) Tj ET`;
  const objects = [
    '<< /Type /Catalog /Pages 2 0 R >>',
    '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
    '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>',
    `<< /Length ${content.length} >>\nstream\n${content}\nendstream`,
    '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>',
  ];
  let out = '%PDF-1.4\n';
  const offsets = [];
  objects.forEach((object, i) => {
    offsets.push(out.length);
    out += `${i + 1} 0 obj\n${object}\nendobj\n`;
  });
  const xref = out.length;
  out += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n`;
  for (const offset of offsets) out += `${String(offset).padStart(10, '0')} 00000 n \n`;
  out += `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  return Buffer.from(out, 'latin1');
}

async function signUp(page) {
  await page.goto('/register');
  await page.getByLabel('Email').fill(`files-${Date.now()}-${Math.floor(Math.random() * 1e6)}@example.com`);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Create account' }).click();
  await expect(page).toHaveURL(/\/$/);
  await expect(page.locator('.connection-live')).toBeVisible();
}

test('a PNG and a PDF upload with progress, go to the demo, and show on the message after a reload', async ({ page }) => {
  await signUp(page);
  // Hold the uploads a moment so their progress can be seen.
  await page.route('**/api/attachments', async (route) => {
    await new Promise((resolve) => setTimeout(resolve, 1200));
    await route.continue();
  });
  await page.getByTestId('attach-input').setInputFiles([
    { name: 'chart.png', mimeType: 'image/png', buffer: png(160, 100) },
    { name: 'report.pdf', mimeType: 'application/pdf', buffer: pdf('Quarterly revenue grew by a third') },
  ]);
  const chips = page.getByTestId('attachment-chip');
  await expect(chips).toHaveCount(2);
  await expect(chips.first().locator('.chip-progress')).toBeVisible();
  await expect(page.getByRole('button', { name: 'Send' })).toBeDisabled();
  await expect(chips.first()).toHaveClass(/done/);
  await expect(chips.last()).toHaveClass(/done/);
  await expect(chips.first().locator('.chip-name')).toHaveText('chart.png');
  await expect(chips.last().locator('.chip-name')).toHaveText('report.pdf');
  await expect(chips.first().locator('img.chip-thumb')).toBeVisible();
  await expect(page.getByTestId('send-estimate')).toContainText('with the files');

  await page.getByLabel('Message', { exact: true }).fill('What do these show?');
  await page.screenshot({ path: path.join(shots, 'attachments-composer.png') });
  await page.getByLabel('Message', { exact: true }).press('Enter');
  await expect(page).toHaveURL(/\/c\/[0-9a-f-]{36}$/);
  await expect(chips).toHaveCount(0);

  const reply = page.locator('.message-assistant').last();
  await expect(reply).toHaveClass(/status-complete/, { timeout: 30_000 });
  await expect(reply.locator('.message-body')).toContainText('chart.png (image,');
  await expect(reply.locator('.message-body')).toContainText('report.pdf (document,');

  await page.reload();
  const sent = page.locator('.message-user').last();
  const thumbnail = sent.getByTestId('attachment-thumbnail');
  await expect(thumbnail).toBeVisible();
  await expect
    .poll(() => thumbnail.evaluate((img) => img.complete && img.naturalWidth))
    .toBe(160);
  await expect(sent.getByTestId('attachment-link')).toContainText('report.pdf');
  await expect(sent.getByTestId('attachment-link')).toHaveAttribute('download', 'report.pdf');
  await page.screenshot({ path: path.join(shots, 'attachments-sent.png') });

  // The thumbnail opens the image itself.
  const href = await sent.locator('.attachment-image').getAttribute('href');
  const image = await page.request.get(href);
  expect(image.headers()['content-type']).toBe('image/png');
  expect(image.headers()['x-content-type-options']).toBe('nosniff');
});

test('a file that is not what its name says is refused on its chip', async ({ page }) => {
  await signUp(page);
  await page.getByTestId('attach-input').setInputFiles([
    { name: 'cat.png', mimeType: 'image/png', buffer: Buffer.from('<html><body>not an image</body></html>') },
  ]);
  const chip = page.getByTestId('attachment-chip');
  await expect(chip).toHaveClass(/failed/);
  await expect(chip.locator('.chip-error')).toContainText('not supported');
  await chip.getByRole('button', { name: 'Remove cat.png' }).click();
  await expect(chip).toHaveCount(0);
});

test('an image dropped on the chat or pasted into the message box is attached', async ({ page }) => {
  await signUp(page);
  const image = png(40, 30).toString('base64');
  // What a browser hands the page for a drop or a paste of a file: a DataTransfer holding it.
  const transfer = (name) =>
    page.evaluateHandle(
      ([data, name]) => {
        const bytes = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
        const transfer = new DataTransfer();
        transfer.items.add(new File([bytes], name, { type: 'image/png' }));
        return transfer;
      },
      [image, name],
    );
  await page.locator('.chat-window').dispatchEvent('drop', { dataTransfer: await transfer('dropped.png') });
  // Playwright makes a plain Event of a 'paste'; the page gets a real ClipboardEvent here.
  await page.getByLabel('Message', { exact: true }).evaluate(
    (box, transfer) => box.dispatchEvent(new ClipboardEvent('paste', { clipboardData: transfer, bubbles: true })),
    await transfer('pasted.png'),
  );
  const chips = page.getByTestId('attachment-chip');
  await expect(chips).toHaveCount(2);
  await expect(chips.locator('.chip-name')).toHaveText(['dropped.png', 'pasted.png']);
  await expect(chips.first()).toHaveClass(/done/);
  await expect(chips.last()).toHaveClass(/done/);
});
