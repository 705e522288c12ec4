// Ctrl-C at a real terminal (issue 11.5): `bnlens analyze` runs under `script`, which gives it a
// pseudo-terminal, and the test types Ctrl-C (byte 0x03) into that terminal. The terminal driver then sends
// SIGINT to the whole foreground process group — the CLI and the engine processes it forked for a parallel run
// — which signalling the CLI's pid alone never exercises. The run must stop at the end of a step and write the
// partial report, exit 130, not fail with "engine process … stopped unexpectedly (signal SIGINT)".
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Report } from '../../src/protocol';
import { validateReport } from '../../src/report/validate';
import { assertBuilt, ROOT, tempDir, writeTinyMlp } from './analyze-fixtures';

const hasScript = spawnSync('script', ['--version']).status === 0;

test('Ctrl-C typed at a terminal stops a parallel run at the end of a step and keeps the partial report', { timeout: 180_000 }, async () => {
  // `script` (util-linux) is part of every Debian/Ubuntu base system; its absence is a broken machine.
  assert.ok(hasScript, 'the `script` command (util-linux) is needed to give the CLI a pseudo-terminal');
  assertBuilt();
  const dir = tempDir('ctrlc');
  const { model, data: npz } = writeTinyMlp(dir);
  const out = join(dir, 'partial.json');
  const cli = [process.execPath, join(ROOT, 'bin', 'bnlens.js'), 'analyze', model, '--dataset', npz, '--variants', 'standard,batchnorm']
    .concat(['--steps', '100000', '--batch', '16', '--eta-count', '4', '--backend', 'cpu', '--out', out])
    .map((a) => `'${a.replace(/'/g, `'\\''`)}'`)
    .join(' ');
  // -q: no banner, -f: flush at once, -e: exit with the child's status, -c: run this command; /dev/null: no typescript file.
  const term = spawn('script', ['-qfec', cli, '/dev/null'], {
    cwd: ROOT,
    // Two engine processes, so the run forks children that share the terminal's process group.
    env: { ...process.env, BNLENS_PARALLEL: '2', TERM: 'dumb' },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let screen = '';
  let typed = false;
  const code = await new Promise<number | null>((resolve, reject) => {
    term.on('error', reject);
    const onData = (b: Buffer) => {
      screen += b.toString();
      // Type Ctrl-C once both engine processes are training.
      if (!typed && /step \d+ +standard/.test(screen) && /step \d+ +batchnorm/.test(screen)) {
        typed = true;
        term.stdin.write('\x03');
      }
    };
    term.stdout.on('data', onData);
    term.stderr.on('data', onData);
    term.on('close', (c) => resolve(c));
  });
  term.stdin.destroy();
  assert.ok(typed, `no progress of both variants before the end:\n${screen}`);
  assert.doesNotMatch(screen, /stopped unexpectedly|internal error/, screen);
  assert.equal(code, 130, `exit ${code}:\n${screen.slice(-2000)}`);
  assert.match(screen, /stopping after this step/);
  const report = JSON.parse(readFileSync(out, 'utf8')) as Report;
  const v = validateReport(report, { strict: true });
  assert.ok(v.ok, v.ok ? '' : v.error);
  assert.equal(report.complete, false);
  assert.equal(report.stopReason, 'cancelled');
  assert.equal(report.run.parallelProcesses, 2);
  for (const variant of report.variants) assert.ok(variant.steps.length > 0, `${variant.name} kept no steps`);
});
