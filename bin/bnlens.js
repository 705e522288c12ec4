#!/usr/bin/env node
// Thin launcher so `npx bnlens` works in a checkout: the CLI itself is bundled into dist/ by esbuild.mjs.
const { existsSync } = require('node:fs');
const { join } = require('node:path');

const cli = join(__dirname, '..', 'dist', 'cli.js');
if (!existsSync(cli)) {
  process.stderr.write('bnlens: the CLI is not built yet (dist/cli.js is missing); run `npm run build` in the project folder\n');
  process.exit(2);
}
require(cli).runCli();
