// Playwright drives the OS's Chromium (/usr/bin/chromium): a browser download at install
// time does not work on our machines. scripts/test builds the site and sets E2E_SERVER_BIN.
const { defineConfig } = require('@playwright/test');
const path = require('node:path');

const port = Number(process.env.E2E_PORT || 3457);
// Shared with the specs that run the server's operator commands on the same data (server.js).
const { dataDir } = require('./tests/server');
const baseURL = `http://127.0.0.1:${port}`;

module.exports = defineConfig({
  testDir: './tests',
  timeout: 60_000,
  expect: { timeout: 10_000 },
  fullyParallel: false,
  workers: 1,
  reporter: [['list']],
  outputDir: './test-results',
  use: {
    baseURL,
    trace: 'retain-on-failure',
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    },
  },
  webServer: {
    command: process.env.E2E_SERVER_BIN || path.resolve(__dirname, '../target/debug/server'),
    url: `${baseURL}/login`,
    timeout: 120_000,
    reuseExistingServer: false,
    stdout: 'ignore',
    stderr: 'pipe',
    env: {
      APP_ENV: 'development',
      DATA_DIR: dataDir,
      LEPTOS_SITE_ADDR: `127.0.0.1:${port}`,
      LEPTOS_SITE_ROOT: process.env.LEPTOS_SITE_ROOT || path.resolve(__dirname, '../target/site'),
      LEPTOS_OUTPUT_NAME: 'rustchat',
      RUST_LOG: 'warn',
      // Slow enough to watch a reply stream, stop it, or reload in the middle of it.
      DEMO_WORD_DELAY: '40ms',
      // A key that is never used: it only makes Anthropic's models selectable.
      ANTHROPIC_API_KEY: 'e2e-not-a-real-key',
      // The specs register many people; the approval flow has its own server (accounts.spec.js).
      REGISTRATION: 'open',
      // Every test registers and sends from one address, faster than a person would.
      AUTH_ATTEMPTS_PER_MINUTE: '0',
      SENDS_PER_MINUTE: '0',
      MAX_ACTIVE_REPLIES_PER_USER: '1000',
      // A title is a second provider call; titles.spec.js (if any) starts its own server.
      AUTO_TITLES: 'off',
    },
  },
});
