// The server binary and data folder the Playwright web server runs with, and the operator
// commands the specs run against that same data (`server admin grant EMAIL`).
const { execFileSync } = require('node:child_process');
const path = require('node:path');

const serverBin = process.env.E2E_SERVER_BIN || path.resolve(__dirname, '../../target/debug/server');
const dataDir = process.env.E2E_DATA_DIR || path.resolve(__dirname, '../test-results/data');

/// Makes an existing account an admin, as an operator would on the host.
function grantAdmin(email, extraEnv = {}) {
  return execFileSync(serverBin, ['admin', 'grant', email], {
    env: { ...process.env, APP_ENV: 'development', DATA_DIR: dataDir, RUST_LOG: 'error', ...extraEnv },
    encoding: 'utf8',
  });
}

module.exports = { serverBin, dataDir, grantAdmin };
