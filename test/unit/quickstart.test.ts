// The README's quick start, exactly as written there (its first command after `npm install &&`), so that
// CI proves it: it runs on the default backend (the embedded one where tfjs-node is absent) and the built-in
// digits, writes the report and the page, and shows what the README says it shows.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import { loadTfjsNode } from '../../src/engine/backend/tfjsNode';
import { validateReport } from '../../src/report/validate';

const ROOT = resolve(__dirname, '..', '..');

test('the README quick start runs as written and shows BatchNorm smoothing the landscape', { timeout: 300_000 }, async () => {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const line = readme.split('\n').find((l) => /^\s+npm install && npx bnlens analyze /.test(l));
  assert.ok(line, 'the README has a quick-start line `npm install && npx bnlens analyze …`');
  const args = line
    .trim()
    .replace(/^npm install && npx bnlens /, '')
    .split(/\s+/);
  // A scratch folder that sees the repository's examples, so the outputs land outside the checkout.
  const cwd = mkdtempSync(join(tmpdir(), 'bnlens-quickstart-'));
  symlinkSync(join(ROOT, 'examples'), join(cwd, 'examples'));
  const { code, stdout, stderr } = await new Promise<{ code: number; stdout: string; stderr: string }>((res) =>
    execFile(process.execPath, [join(ROOT, 'bin', 'bnlens.js'), ...args], { cwd, maxBuffer: 1 << 24 }, (err, out, errOut) =>
      res({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout: out, stderr: errOut }),
    ),
  );
  assert.equal(code, 0, stderr);
  const html = args[args.indexOf('--html') + 1];
  assert.ok(existsSync(join(cwd, html)), `${html} written`);
  const checked = validateReport(JSON.parse(readFileSync(join(cwd, 'bnlens-report.json'), 'utf8')), { strict: true });
  assert.ok(checked.ok, checked.ok ? '' : checked.error);
  const report = checked.report;
  // The backend `auto` chose, as the run reports it: tfjs-node where it loads on this machine, else the embedded
  // WebAssembly one; the stderr line names the same.
  assert.equal(report.run.backend, loadTfjsNode().ok ? 'node' : 'wasm');
  assert.match(stderr, new RegExp(`backend ${report.run.backend} — auto: `));
  assert.equal(report.dataset.name.split(' ')[0], 'mnist');
  assert.deepEqual(
    report.variants.map((v) => v.name),
    ['standard', 'batchnorm'],
  );
  assert.equal(report.complete, true);
  // The summary table and the sentence the README shows.
  assert.match(stdout, /^standard\s+\d/m);
  assert.match(stdout, /^batchnorm\s+\d/m);
  const [std, bn] = report.summary;
  assert.ok(bn.meanBeta! < std.meanBeta!, `mean β: batchnorm ${bn.meanBeta} vs standard ${std.meanBeta}`);
  assert.ok(bn.meanBandWidth! < std.meanBandWidth!, `loss band: batchnorm ${bn.meanBandWidth} vs standard ${std.meanBandWidth}`);
  assert.match(stdout, /the BatchNorm landscape is [\d.]+× smoother along the gradient/);
});
