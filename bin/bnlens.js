#!/usr/bin/env node
// Thin launcher so `npx bnlens` works in a checkout: the CLI itself is bundled into dist/ by esbuild.mjs.
require('../dist/cli.js').runCli();
