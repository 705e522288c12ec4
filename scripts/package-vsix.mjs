#!/usr/bin/env node
// `npm run package`: a production build (node esbuild.mjs --production: minified, no source maps), then
// `vsce package --no-dependencies` (the bundles are self-contained; .vscodeignore is an allowlist), then a
// check of what went into the .vsix: dist/extension.js must be there, and no source, test or
// node_modules file may be. Prints the path of the .vsix on its last line.
//   node scripts/package-vsix.mjs [--no-build] [--out FILE]
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = process.env.BNLENS_PACKAGE_ROOT ? resolve(process.env.BNLENS_PACKAGE_ROOT) : resolve(dirname(fileURLToPath(import.meta.url)), '..');
const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const argv = process.argv.slice(2);
const opt = (n) => (argv.includes(n) ? argv[argv.indexOf(n) + 1] : undefined);
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const out = resolve(opt('--out') ?? join(root, `${pkg.name}-${pkg.version}.vsix`));

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', ...opts });
  if (r.status !== 0) {
    console.error(`package: ${cmd} ${args.join(' ')} failed (exit ${r.status})`);
    process.exit(1);
  }
  return r;
}

if (!argv.includes('--no-build')) run(process.execPath, ['esbuild.mjs', '--production']);
if (!existsSync(join(root, pkg.main ?? 'dist/extension.js'))) {
  console.error(`package: ${pkg.main ?? 'dist/extension.js'} is missing (is src/extension.ts there?)`);
  process.exit(1);
}
for (const f of ['publisher', 'engines']) if (!pkg[f]) console.error(`package: package.json has no "${f}" (vsce needs it)`);

const vsce = join(repo, 'node_modules', '@vscode', 'vsce', 'vsce');
// Relative links in README.md stay as written (there is no public repository URL to rewrite them to).
const args = [vsce, 'package', '--no-dependencies', '--no-rewrite-relative-links', '--out', out];
// The Extensions view shows the users' README (media/README.md), not the developers' one at the root.
if (existsSync(join(root, 'media', 'README.md'))) args.push('--readme-path', 'media/README.md');
if (!pkg.repository) args.push('--allow-missing-repository');
if (!['LICENSE', 'LICENSE.md', 'LICENSE.txt'].some((f) => existsSync(join(root, f)))) {
  console.error('package: warning: no LICENSE file at the root; packaging without one');
  args.push('--skip-license');
}
mkdirSync(dirname(out), { recursive: true });
run(process.execPath, args, { stdio: ['ignore', 'inherit', 'inherit'] });

// What went in: unzip -l, and a check against what must never be there.
const list = spawnSync('unzip', ['-Z1', out], { encoding: 'utf8' });
if (list.status !== 0) {
  console.error(`package: cannot list ${out}: ${list.stderr}`);
  process.exit(1);
}
const files = list.stdout.split('\n').filter(Boolean);
const inExt = files.filter((f) => f.startsWith('extension/')).map((f) => f.slice('extension/'.length));
const bad = inExt.filter((f) => /(^|\/)node_modules\//.test(f) || /^(src|test|webview|scripts|bench|examples|out|\.ci-cache)\//.test(f) || (/\.(ts|map)$/.test(f) && !f.endsWith('.d.ts')));
const need = [
  (pkg.main ?? './dist/extension.js').replace(/^\.\//, ''),
  'package.json',
  'dist/worker.js',
  'dist/webview.js',
  'dist/webview.css',
  'dist/mnist.bin.gz',
  'dist/tfjs-backend-wasm.wasm',
  'dist/tfjs-backend-wasm-simd.wasm',
];
const missing = need.filter((f) => !inExt.includes(f));
spawnSync('unzip', ['-l', out], { stdio: 'inherit' });
if (bad.length || missing.length) {
  if (bad.length) console.error(`package: files that must not be in the .vsix:\n  ${bad.join('\n  ')}`);
  if (missing.length) console.error(`package: missing from the .vsix: ${missing.join(', ')}`);
  process.exit(1);
}
console.log(out);
