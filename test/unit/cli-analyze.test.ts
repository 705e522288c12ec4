// `bnlens analyze` run as a user runs it: `node bin/bnlens.js analyze …` with stdout/stderr as pipes. The
// summary table, --out (checked by the schema validator), --html (one self-contained page with the report
// embedded), --config with flags winning, every kind of user error as exit 2 with one line on stderr, CIFAR-10
// binary / .csv / .npz data written here, divergence, Ctrl-C with the partial report, plain progress lines.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { Report } from '../../src/protocol';
import { validateReport } from '../../src/report/validate';
import { bnlens, EXAMPLES, py, tempDir, tfjsModel, writeNpzData, type CliResult, writeTinyMlp } from './analyze-fixtures';

const dir = tempDir('cli');

const { model: mlpPath, data: npz } = writeTinyMlp(dir);
const QUICK = ['--steps', '3', '--batch', '16', '--ics-every', '0', '--eval-every', '0', '--eta-count', '4'];

function readReport(path: string): Report {
  const r = JSON.parse(readFileSync(path, 'utf8'));
  const v = validateReport(r, { strict: true });
  assert.ok(v.ok, v.ok ? '' : `${path}: ${v.error}`);
  return r;
}

/** A user error: exit 2, exactly one line on stderr that matches, nothing that looks like a stack trace. */
function userError(r: CliResult, ...patterns: RegExp[]): void {
  assert.equal(r.code, 2, `exit ${r.code}, stderr: ${r.stderr}`);
  const lines = r.stderr.split('\n').filter((l) => l.trim() !== '');
  assert.equal(lines.length, 1, `stderr is not one line:\n${r.stderr}`);
  assert.ok(!/\n\s+at |Error:|node:internal/.test(r.stderr), `stack trace on stderr:\n${r.stderr}`);
  for (const p of patterns) assert.match(lines[0], p);
}

describe('bnlens analyze', { concurrency: 2 }, () => {
  it('prints the summary table with one row per variant; --out report validates; --html is one self-contained page', async () => {
    const out = join(dir, 'r1.json');
    const html = join(dir, 'r1.html');
    const r = await bnlens(['analyze', mlpPath, '--dataset', npz, '--variants', 'standard,batchnorm,l2', ...QUICK, '--out', out, '--html', html]);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.split('\n');
    const head = lines.findIndex((l) => /^variant\s+final loss/.test(l));
    assert.ok(head >= 0, `no summary header in:\n${r.stdout}`);
    const rows = lines.slice(head + 2).filter((l) => /^\S/.test(l) && !l.startsWith('Report') && !l.startsWith('Effective'));
    assert.deepEqual(
      rows.slice(0, 3).map((l) => l.split(/\s+/)[0]),
      ['standard', 'batchnorm', 'l2'],
    );
    const rep = readReport(out);
    assert.deepEqual(
      rep.variants.map((v) => v.name),
      ['standard', 'batchnorm', 'l2'],
    );
    assert.equal(rep.complete, true);
    // The table shows the report's own summary numbers (mean β to 3 decimals, column 8).
    for (const [i, row] of rep.summary.entries()) assert.ok(rows[i].includes(row.meanBeta!.toFixed(3)), `row ${rows[i]} lacks mean β ${row.meanBeta}`);
    const page = readFileSync(html, 'utf8');
    assert.ok(page.startsWith('<!DOCTYPE html>'));
    assert.ok(!/(src|href)\s*=\s*["']?(https?:)?\/\//i.test(page), 'the page references a resource by URL');
    assert.ok(!/@import|url\(\s*["']?https?:/i.test(page), 'the stylesheet loads something from the network');
    assert.ok(!/<script[^>]+src=/i.test(page) && !/<link[^>]+rel=["']?stylesheet/i.test(page), 'external script or stylesheet');
    const m = page.match(/<script type="application\/json" id="bnlens-report">([\s\S]*?)<\/script>/);
    assert.ok(m, 'the report JSON is not embedded');
    assert.deepEqual(JSON.parse(m[1]), rep, 'the embedded report is the --out report');
  });

  it('--config keys apply and flags win over them', async () => {
    const cfg = join(dir, 'run.json');
    writeFileSync(cfg, JSON.stringify({ dataset: npz, steps: 2, batch: 8, lr: 0.05, 'eta-count': 3, 'eta-range': [1, 2], variants: ['batchnorm'], 'ics-every': 0, 'eval-every': 0, seed: 4 }));
    const out = join(dir, 'r2.json');
    const r = await bnlens(['analyze', mlpPath, '--config', cfg, '--steps', '4', '--seed', '9', '--out', out]);
    assert.equal(r.code, 0, r.stderr);
    const c = readReport(out).config;
    assert.deepEqual(
      { steps: c.steps, seed: c.seed, batch: c.batch, lr: c.lr, etaCount: c.etaCount, etaRange: c.etaRange, variants: c.variants },
      { steps: 4, seed: 9, batch: 8, lr: 0.05, etaCount: 3, etaRange: [1, 2], variants: ['batchnorm'] },
    );
    assert.deepEqual(
      readReport(out).eta.map((e) => +e.toFixed(12)),
      [0.05, 0.075, 0.1],
    );
  });

  it('user errors: exit 2 and one line naming the problem', async () => {
    const bad = (name: string, body: string) => {
      const p = join(dir, name);
      writeFileSync(p, body);
      return p;
    };
    const cases: [string[], RegExp[]][] = [
      [
        ['analyze', mlpPath, '--stepz', '3'],
        [/--stepz/, /did you mean --steps/],
      ],
      [
        ['analyze', mlpPath, '--steps', 'abc'],
        [/steps/, /abc/],
      ],
      [
        ['analyze', mlpPath, '--lr', '-1'],
        [/lr/, /greater than 0/],
      ],
      [['analyze', mlpPath, '--variants', 'standard,groupnorm'], [/groupnorm/]],
      [
        ['analyze', mlpPath, '--config', bad('c1.json', '{"stepz": 3}')],
        [/stepz/, /not a setting/],
      ],
      [['analyze', mlpPath, '--config', bad('c2.json', '{"steps": ')], [/c2\.json/]],
      [
        ['analyze', join(dir, 'missing.json')],
        [/missing\.json/, /not found/],
      ],
      // Data: wrong input shape, label out of range, NaN, empty file.
      [
        ['analyze', mlpPath, '--dataset', writeNpzData(dir, 'shape', 20, [7], 3)],
        [/shape\.npz/, /7/, /6/],
      ],
      [
        ['analyze', mlpPath, '--dataset', writeNpzData(dir, 'labels', 20, [6], 5)],
        [/labels\.npz/, /label/i],
      ],
      [['analyze', mlpPath, '--dataset', bad('nan.csv', '1,2,3,4,5,6,0\n1,2,nan,4,5,6,1\n0,0,0,0,0,0,2\n')], [/nan\.csv/]],
      [['analyze', mlpPath, '--dataset', bad('empty.npz', '')], [/empty\.npz/]],
      [['analyze', mlpPath, '--dataset', bad('empty.csv', '')], [/empty\.csv/]],
    ];
    const results = await Promise.all(cases.map(([args]) => bnlens([...args, '--out', join(dir, 'never.json')])));
    results.forEach((r, i) => userError(r, ...cases[i][1]));
    assert.equal(existsSync(join(dir, 'never.json')), false, 'a failed run wrote a report');
  });

  it('CIFAR-10 binary folder, .csv and .npz data with small nets (2 steps each)', async () => {
    const cifar = join(dir, 'cifar');
    mkdirSync(cifar);
    // 12 training and 6 test records: label byte, then R, G, B planes of 32×32 bytes.
    py(
      cifar,
      `rng = np.random.default_rng(1)
for name, n in (('data_batch_1.bin', 12), ('test_batch.bin', 6)):
    recs = [np.concatenate([[i % 10], rng.integers(0, 256, 3072)]).astype(np.uint8) for i in range(n)]
    open(D + '/' + name, 'wb').write(b''.join(r.tobytes() for r in recs))`,
    );
    const conv = join(dir, 'conv.json');
    writeFileSync(
      conv,
      JSON.stringify(
        tfjsModel({
          name: 'conv',
          inputShape: [32, 32, 3],
          layers: [
            { type: 'Conv2D', name: 'c1', filters: 4, kernel: [3, 3], activation: 'relu', useBias: true },
            { type: 'MaxPooling2D', name: 'p1' },
            { type: 'Flatten', name: 'f' },
            { type: 'Dense', name: 'out', units: 10, activation: 'softmax', useBias: true },
          ],
        }),
      ),
    );
    const csv = join(dir, 'train.csv');
    py(
      dir,
      `rng = np.random.default_rng(2)
x = rng.standard_normal((40, 6)); y = np.arange(40) % 3
np.savetxt(${JSON.stringify(csv)}, np.column_stack([x, y]), delimiter=',', fmt='%.6f', header='a,b,c,d,e,f,label', comments='')`,
    );
    const runs = [
      { model: conv, data: cifar, train: 12, test: 6, shape: [32, 32, 3] },
      { model: mlpPath, data: csv, train: 32, test: 8, shape: [6] },
      { model: mlpPath, data: npz, train: 48, test: 12, shape: [6] },
    ];
    const results = await Promise.all(
      runs.map((x, i) =>
        bnlens(['analyze', x.model, '--dataset', x.data, '--steps', '2', '--batch', '4', '--eta-count', '3', '--ics-every', '1', '--eval-every', '0', '--out', join(dir, `d${i}.json`)], { timeoutMs: 180_000 }),
      ),
    );
    results.forEach((r, i) => {
      assert.equal(r.code, 0, `${runs[i].data}: ${r.stderr}`);
      const rep = readReport(join(dir, `d${i}.json`));
      assert.deepEqual([rep.dataset.trainSize, rep.dataset.testSize], [runs[i].train, runs[i].test], runs[i].data);
      assert.deepEqual(rep.dataset.inputShape, runs[i].shape);
      assert.equal(rep.dataset.loss, 'softmax-ce');
      for (const v of rep.variants) assert.equal(v.steps.length, 2);
    });
  });

  it('divergence: standard diverges at a huge lr, the run goes on, the summary says so, exit 0', async () => {
    const out = join(dir, 'div.json');
    // The deep linear example at lr 1 (100× its own): standard overflows within a few steps; BatchNorm does not.
    const r = await bnlens(['analyze', EXAMPLES[2], '--lr', '1', '--steps', '8', '--batch', '100', '--ics-every', '0', '--eval-every', '0', '--out', out]);
    assert.equal(r.code, 0, r.stderr);
    const rep = readReport(out);
    const [std, bn] = rep.variants;
    assert.ok(std.diverged, 'standard did not diverge');
    const t = std.diverged.step;
    assert.ok(std.steps.length >= 1 && std.steps.every((s) => s.step <= t && Number.isFinite(s.loss) && Number.isFinite(s.gradNorm)), 'the last finite records are kept');
    assert.deepEqual(
      std.steps.map((s) => s.step),
      std.steps.map((_, i) => i),
    );
    assert.equal(bn.diverged, null);
    assert.equal(bn.steps.length, 8, 'the other variant went on');
    assert.equal(rep.complete, true);
    assert.deepEqual(rep.summary[0].diverged, std.diverged);
    assert.match(r.stdout, new RegExp(`^standard .*at step ${t}\\s*$`, 'm'));
    assert.match(r.stdout, /^batchnorm .*\bno\s*$/m);
    assert.match(r.stderr, new RegExp(`standard diverged at step ${t}`));
  });

  it('Ctrl-C: stops within seconds, writes the partial report, exit 130; progress is plain lines without \\r', async () => {
    const out = join(dir, 'int.json');
    let sent = 0;
    let seen = '';
    const r = await bnlens(['analyze', mlpPath, '--dataset', npz, '--steps', '100000', '--batch', '16', '--eta-count', '4', '--out', out], {
      timeoutMs: 60_000,
      onStderr: (chunk, child) => {
        seen += chunk;
        if (!sent && /^step \d+ /m.test(seen)) {
          sent = Date.now();
          child.kill('SIGINT');
        }
      },
    });
    assert.ok(sent > 0, `no progress line before the end:\n${r.stderr}`);
    const stopMs = Date.now() - sent;
    assert.equal(r.code, 130, `exit ${r.code} ${r.signal}\n${r.stderr}`);
    assert.ok(stopMs < 10_000, `took ${stopMs} ms to stop after SIGINT`);
    const rep = readReport(out);
    assert.equal(rep.complete, false);
    assert.equal(rep.stopReason, 'cancelled');
    for (const v of rep.variants) {
      assert.ok(v.steps.length >= 1 && v.steps.length < 100000, `${v.name}: ${v.steps.length}`);
      assert.deepEqual(
        v.steps.map((s) => s.step),
        v.steps.map((_, i) => i),
      );
    }
    assert.match(r.stdout, /stopped early \(cancelled\)/);
    assert.ok(!r.stderr.includes('\r'), 'carriage returns in progress written to a pipe');
    assert.ok(!r.stderr.includes('\x1b['), 'terminal escapes in progress written to a pipe');
  });
});
