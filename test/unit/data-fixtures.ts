// Shared by the data-*.test.ts files: a temp folder per test file, fixtures written by NumPy itself
// (an independent writer of the formats we read), and an assertion for one-line user errors.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import { isUserError } from '../../src/engine/errors';

export function tempDir(tag: string): string {
  const dir = mkdtempSync(join(tmpdir(), `bnlens-${tag}-`));
  after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Runs a Python snippet with numpy imported as np and `D` set to `dir`. */
export function py(dir: string, code: string): string {
  const r = spawnSync('python3', ['-c', `import numpy as np, sys\nD = ${JSON.stringify(dir)}\n${code}`], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`python fixture failed:\n${r.stderr}`);
  return r.stdout;
}

/**
 * Expects a UserError whose formatted line names `file` and whose message matches every pattern,
 * and checks it is one line (the standard for what users are shown).
 */
export function throwsUserError(fn: () => unknown, file: string | undefined, ...patterns: RegExp[]): string {
  try {
    fn();
  } catch (e) {
    assert.ok(isUserError(e), `expected a UserError, got ${e instanceof Error ? e.stack : String(e)}`);
    const line = e.format();
    assert.ok(!line.includes('\n'), `message is not one line: ${line}`);
    if (file !== undefined) assert.ok(line.includes(file), `message does not name ${file}: ${line}`);
    for (const p of patterns) assert.match(e.message, p);
    return line;
  }
  assert.fail('expected a UserError, nothing was thrown');
}
