#!/usr/bin/env node
// `npm test`: every suite, in order, counted, with one closing line `N passed, N failed`.
//   build        node esbuild.mjs (a failed build counts as one failure)
//   lint         tsc --noEmit (the type check), eslint (typescript-eslint, eslint.config.mjs) and prettier --check
//                (.prettierrc, .prettierignore); each file eslint reports, and each file prettier would
//                reformat, counts as one failure
//   unit         node --import tsx --test test/unit/*.test.ts
//   html-report  node --import tsx --test test/e2e/html-report*.test.ts  (Chromium opens --html reports)
//   code-server  scripts/install-code-server.sh (instant when cached in .ci-cache/code-server)
//   integration  test/integration/runInElectron.ts: the mocha suite in a real extension host — a local
//                VS Code when VSCODE_EXECUTABLE_PATH is set, else code-server's (same scenarios)
//   e2e          node --import tsx --test test/e2e/vscode-*.test.ts  (packaged .vsix in code-server)
// Nothing is skipped silently: a suite whose runner crashes, or that runs no test, counts as failed.
// Developer filters: --unit-only, --only unit,integration, --skip e2e (suites left out are named).
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const argv = process.argv.slice(2);
const listArg = (name) => {
  const i = argv.findIndex((a) => a === name || a.startsWith(`${name}=`));
  if (i < 0) return null;
  const v = argv[i].includes('=') ? argv[i].split('=')[1] : argv[i + 1];
  return new Set(
    (v ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
  );
};
const SUITES = ['build', 'lint', 'unit', 'html-report', 'code-server', 'integration', 'e2e'];
let only = listArg('--only');
if (argv.includes('--unit-only')) only = new Set(['build', 'lint', 'unit']);
const skip = listArg('--skip') ?? new Set();
for (const s of [...(only ?? []), ...skip]) {
  if (!SUITES.includes(s)) {
    console.error(`run-tests: unknown suite "${s}" (suites: ${SUITES.join(', ')})`);
    process.exit(2);
  }
}
const wanted = (s) => (!only || only.has(s)) && !skip.has(s);

const tmp = mkdtempSync(join(tmpdir(), 'bnlens-run-tests-'));
const results = [];

function run(cmd, args, { env } = {}) {
  return new Promise((resolve) => {
    let out = '';
    const child = spawn(cmd, args, { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.on('data', (b) => {
      out += b;
      process.stdout.write(b);
    });
    child.stderr.on('data', (b) => {
      out += b;
      process.stderr.write(b);
    });
    child.on('error', (e) => {
      out += String(e);
      resolve({ code: 1, out });
    });
    child.on('close', (code, signal) => resolve({ code: code ?? (signal ? 1 : 0), out }));
  });
}

function banner(name) {
  console.log(`\n${'='.repeat(20)} ${name} ${'='.repeat(Math.max(0, 56 - name.length))}`);
}

function record(name, passed, failed, ms, note = '') {
  results.push({ name, passed, failed, ms, note });
  console.log(`--- ${name}: ${passed} passed, ${failed} failed (${(ms / 1000).toFixed(1)} s)${note ? ` — ${note}` : ''}`);
}

/** A node:test run: spec on the console, TAP to a file whose `# pass` / `# fail` lines are counted. */
async function nodeTests(name, files) {
  banner(name);
  const t0 = Date.now();
  if (!files.length) {
    record(name, 0, 1, 0, 'no test files found');
    return;
  }
  const tap = join(tmp, `${name}.tap`);
  const r = await run(process.execPath, ['--import', 'tsx', '--test', '--test-reporter=spec', '--test-reporter-destination=stdout', '--test-reporter=tap', `--test-reporter-destination=${tap}`, ...files]);
  const text = existsSync(tap) ? readFileSync(tap, 'utf8') : '';
  const num = (k) => Number(text.match(new RegExp(`^# ${k} (\\d+)$`, 'm'))?.[1] ?? 0);
  const passed = num('pass');
  let failed = num('fail') + num('cancelled');
  let note = '';
  if (r.code !== 0 && failed === 0) {
    failed = 1;
    note = `runner exited ${r.code} without a failing test`;
  }
  if (r.code === 0 && passed === 0) {
    failed += 1;
    note = 'ran no test';
  }
  if (num('todo') || num('skipped')) note = `${note ? `${note}; ` : ''}${num('skipped')} skipped, ${num('todo')} todo`;
  record(name, passed, failed, Date.now() - t0, note);
}

const testFiles = (dir, re) =>
  existsSync(join(root, dir))
    ? readdirSync(join(root, dir))
        .filter((f) => re.test(f))
        .sort()
        .map((f) => join(dir, f))
    : [];

const t0 = Date.now();
if (wanted('build')) {
  banner('build');
  const t = Date.now();
  const r = await run(process.execPath, ['esbuild.mjs']);
  record('build', 0, r.code === 0 ? 0 : 1, Date.now() - t, r.code === 0 ? 'ok' : 'FAILED');
}
if (wanted('lint')) {
  banner('lint');
  const t = Date.now();
  const tsc = await run(process.execPath, ['node_modules/typescript/bin/tsc', '--noEmit', '-p', '.']);
  const report = join(tmp, 'eslint.json');
  const es = await run(process.execPath, ['node_modules/eslint/bin/eslint.js', '.', '--format', 'json', '--output-file', report]);
  let files = [];
  try {
    files = JSON.parse(readFileSync(report, 'utf8'));
  } catch {
    // no report: eslint itself failed (counted below)
  }
  const bad = files.filter((f) => f.errorCount > 0);
  for (const f of bad) for (const m of f.messages) console.log(`${f.filePath.replace(`${root}/`, '')}:${m.line}:${m.column}: ${m.message} (${m.ruleId})`);
  let failed = bad.length + (tsc.code === 0 ? 0 : 1);
  const note = [tsc.code === 0 ? 'types ok' : 'type errors', `${bad.length} of ${files.length} files with lint errors`];
  if (es.code !== 0 && bad.length === 0) {
    failed += 1;
    note.push(`eslint exited ${es.code}`);
  }
  // The format check: prettier lists the files it would change (exit 1) or fails to read one (exit 2).
  const fmt = await run(process.execPath, ['node_modules/prettier/bin/prettier.cjs', '--list-different', '.']);
  const unformatted = fmt.code === 1 ? fmt.out.split('\n').filter((l) => l.trim() !== '' && !l.startsWith('[')) : [];
  for (const f of unformatted) console.log(`${f}: not formatted as .prettierrc says (npx prettier --write ${f})`);
  failed += unformatted.length;
  note.push(`${unformatted.length} files not formatted`);
  if (fmt.code > 1) {
    failed += 1;
    note.push(`prettier exited ${fmt.code}`);
  }
  record('lint', files.length - bad.length + (tsc.code === 0 ? 1 : 0) + (fmt.code === 0 ? 1 : 0), failed, Date.now() - t, note.join('; '));
}
if (wanted('unit')) await nodeTests('unit', testFiles('test/unit', /\.test\.ts$/));
if (wanted('html-report')) {
  const files = testFiles('test/e2e', /^html-report.*\.test\.ts$/);
  if (files.length) await nodeTests('html-report', files);
  else {
    banner('html-report');
    console.log('html-report: no test/e2e/html-report*.test.ts in this tree yet');
  }
}
if (wanted('code-server') || wanted('integration') || wanted('e2e')) {
  banner('code-server');
  const t = Date.now();
  const r = await run('bash', ['scripts/install-code-server.sh']);
  record('code-server install', 0, r.code === 0 ? 0 : 1, Date.now() - t, r.code === 0 ? 'ok' : 'FAILED');
}
if (wanted('integration')) {
  banner('integration');
  const t = Date.now();
  const r = await run(process.execPath, ['--import', 'tsx', 'test/integration/runInElectron.ts', '--no-build']);
  const m = [...r.out.matchAll(/^integration: (\d+) passed, (\d+) failed$/gm)].pop();
  let passed = m ? Number(m[1]) : 0;
  let failed = m ? Number(m[2]) : 0;
  let note = '';
  if (!m) {
    failed = 1;
    note = `no result line (exit ${r.code})`;
  } else if (r.code !== 0 && failed === 0) {
    failed = 1;
    note = `exit ${r.code}`;
  }
  record('integration', passed, failed, Date.now() - t, note);
}
if (wanted('e2e')) await nodeTests('e2e', testFiles('test/e2e', /^vscode-.*\.test\.ts$/));

rmSync(tmp, { recursive: true, force: true });
const ranInstall = wanted('code-server') || wanted('integration') || wanted('e2e');
const left = SUITES.filter((s) => !wanted(s) && !(s === 'code-server' && ranInstall));
console.log(`\n${'='.repeat(78)}`);
for (const r of results) {
  console.log(`${r.name.padEnd(20)} ${String(r.passed).padStart(5)} passed ${String(r.failed).padStart(4)} failed ${(r.ms / 1000).toFixed(1).padStart(7)} s${r.note ? `  (${r.note})` : ''}`);
}
if (left.length) console.log(`left out on request: ${left.join(', ')}`);
console.log(`total ${((Date.now() - t0) / 1000).toFixed(1)} s`);
const passed = results.reduce((a, r) => a + r.passed, 0);
const failed = results.reduce((a, r) => a + r.failed, 0);
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed > 0 ? 1 : 0);
