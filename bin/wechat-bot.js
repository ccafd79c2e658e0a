#!/usr/bin/env node
// Runs the operator CLI: from the compiled build when present, else from TypeScript through tsx.
const fs = require('node:fs');
const path = require('node:path');
const compiled = path.join(__dirname, '..', 'dist', 'src', 'cli', 'main.js');
if (fs.existsSync(compiled)) {
  require(compiled).runCli(process.argv);
} else {
  const { spawnSync } = require('node:child_process');
  const tsx = require.resolve('tsx/cli');
  const main = path.join(__dirname, '..', 'src', 'cli', 'main.ts');
  const r = spawnSync(process.execPath, [tsx, main, ...process.argv.slice(2)], { stdio: 'inherit' });
  process.exit(r.status ?? 1);
}
