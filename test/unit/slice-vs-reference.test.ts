// `bnlens slice`, run as a user runs it, against the independent float64 reference (test/reference/net64.ts):
// the directions it used are exported (--save-directions), the same grid is evaluated in float64 from the
// fixture's own weights, and every point must agree to 1e-4 relative. Also the invariants of the
// directions (filter norms equal the weights', zeros on ignored parameters, orthogonality), the center
// loss against `bnlens probe`, gradient-random against the reference gradient, and the scale test of
// Li et al.: a kernel followed by BatchNorm multiplied by 10 leaves the filter-normalized slice unchanged.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { assertBuilt, ROOT, runProbe } from '../reference/cli';
import { buildFixture, CNN_BN, DLN, MLP, MLP_BN, type Fixture, type NetSpec } from '../reference/fixtures';
import { getParams, lossAndGrad, lossOnly, paramRefs, withParams } from '../reference/net64';

const RTOL = 1e-4;

interface DirParam {
  layer: string;
  role: string;
  shape: number[];
  d1: number[];
  d2: number[] | null;
}
interface Dirs {
  variants: { variant: string; directionCosine: number | null; etaPerAlpha: number | null; params: DirParam[] }[];
}
interface SliceOut {
  dims: number;
  alphas: number[];
  betas?: number[];
  loss: (number | null)[] | (number | null)[][];
  centerLoss: number;
  directionCosine: number | null;
  norm: string;
  ignore: string;
  bn: string;
  batch: number;
  seed: number;
  processes: number;
  variants: { variant: string; loss: (number | null)[] | (number | null)[][]; etaPerAlpha: number | null }[];
}

function slice(args: string[]): Promise<SliceOut> {
  assertBuilt();
  return new Promise((res, rej) => {
    execFile(process.execPath, [join(ROOT, 'bin', 'bnlens.js'), 'slice', ...args, '--quiet'], { cwd: ROOT, timeout: 300_000, maxBuffer: 16 << 20 }, (err, _stdout, stderr) => {
      if (err) return rej(new Error(`bnlens slice ${args.join(' ')} failed: ${err.message.split('\n')[0]}\n${stderr}`));
      const out = args[args.indexOf('--out') + 1];
      res(JSON.parse(readFileSync(out, 'utf8')));
    });
  });
}

/** The fixture's float64 weights in paramRefs order, matched to the exported parameters by layer/role. */
function aligned(fx: Fixture, params: DirParam[]): { w: Float64Array[]; d1: Float64Array[]; d2: Float64Array[] | null } {
  const refs = paramRefs(fx.net);
  const w = getParams(fx.net);
  assert.equal(params.length, refs.length, 'one direction entry per trainable parameter');
  const byKey = new Map(params.map((p) => [`${p.layer}/${p.role}`, p]));
  const d1: Float64Array[] = [];
  const d2: Float64Array[] = [];
  refs.forEach((r, k) => {
    const p = byKey.get(`${r.layerName}/${r.role}`);
    assert.ok(p, `directions for ${r.layerName}/${r.role}`);
    assert.equal(p.d1.length, w[k].length, `${r.layerName}/${r.role} length`);
    d1.push(Float64Array.from(p.d1));
    if (p.d2) d2.push(Float64Array.from(p.d2));
  });
  return { w, d1, d2: d2.length ? d2 : null };
}

function relErr(a: number, r: number): number {
  return Math.abs(a - r) / Math.max(Math.abs(r), 1e-12);
}

const grid = (s: SliceOut, loss: SliceOut['loss']) =>
  s.dims === 2 ? (s.betas ?? []).flatMap((b, j) => s.alphas.map((a, i) => ({ a, b, v: (loss as (number | null)[][])[j][i] }))) : s.alphas.map((a, i) => ({ a, b: 0, v: (loss as (number | null)[])[i] }));

interface Case {
  spec: NetSpec;
  n: number;
  loss: 'softmax-ce' | 'mse';
  classes?: number;
  args: string[];
}

const CASES: Case[] = [
  { spec: MLP_BN, n: 32, loss: 'softmax-ce', classes: 5, args: ['--dims', '2', '--points', '5'] },
  { spec: MLP, n: 32, loss: 'softmax-ce', classes: 5, args: ['--dims', '2', '--points', '4', '--norm', 'layer', '--ignore', 'none', '--range', '-0.5,0.5'] },
  { spec: CNN_BN, n: 8, loss: 'softmax-ce', classes: 5, args: ['--dims', '2', '--points', '3', '--parallel', '2'] },
  { spec: DLN, n: 32, loss: 'mse', args: ['--dims', '1', '--points', '7', '--range', '-0.2,0.2', '--norm', 'none'] },
];

CASES.forEach((c, ci) => {
  test(`slice ${c.spec.name} ${c.args.join(' ')} matches the float64 reference at every point`, async (t) => {
    const fx = buildFixture(c.spec, { n: c.n, loss: c.loss, classes: c.classes, targetDim: c.loss === 'mse' ? 10 : undefined }, 2000 + ci);
    const out = join(fx.dir, 'slice.json');
    const dirsPath = join(fx.dir, 'dirs.json');
    const s = await slice([fx.modelPath, '--data', fx.dataPath, ...c.args, '--backend', 'wasm', '--out', out, '--save-directions', dirsPath]);
    const dirs = JSON.parse(readFileSync(dirsPath, 'utf8')) as Dirs;
    const { w, d1, d2 } = aligned(fx, dirs.variants[0].params);
    assert.equal(s.batch, c.n, 'with --data the whole file is the batch');
    let worst = 0;
    for (const { a, b, v } of grid(s, s.loss)) {
      const moved = w.map((wk, k) => wk.map((x, i) => x + a * d1[k][i] + (d2 ? b * d2[k][i] : 0)));
      const ref = lossOnly(withParams(fx.net, moved), fx.x, fx.y, fx.loss);
      assert.equal(typeof v, 'number', `loss at (${a}, ${b}) is a number`);
      const e = relErr(v as number, ref);
      worst = Math.max(worst, e);
      assert.ok(e <= RTOL, `(${a}, ${b}): bnlens ${v} vs float64 ${ref} (relative error ${e.toExponential(2)})`);
    }
    const center = lossOnly(fx.net, fx.x, fx.y, fx.loss);
    assert.ok(relErr(s.centerLoss, center) <= RTOL, `centerLoss ${s.centerLoss} vs float64 ${center}`);
    t.diagnostic(`worst relative error ${worst.toExponential(2)} over ${grid(s, s.loss).length} points; processes ${s.processes}`);
  });
});

test('directions: per-filter norms equal the weights’, ignored parameters are 0, d₂ ⟂ d₁ (filter norm, ignore biasbn)', async () => {
  const fx = buildFixture(CNN_BN, { n: 8, loss: 'softmax-ce', classes: 5 }, 2101);
  const out = join(fx.dir, 'slice.json');
  const dirsPath = join(fx.dir, 'dirs.json');
  const s = await slice([fx.modelPath, '--data', fx.dataPath, '--dims', '2', '--points', '2', '--backend', 'wasm', '--out', out, '--save-directions', dirsPath, '--parallel', '1']);
  const dirs = JSON.parse(readFileSync(dirsPath, 'utf8')) as Dirs;
  const refs = paramRefs(fx.net);
  const { w, d1, d2 } = aligned(fx, dirs.variants[0].params);
  assert.ok(d2);
  let dot = 0;
  let n1 = 0;
  let n2 = 0;
  refs.forEach((r, k) => {
    const shape = dirs.variants[0].params.find((p) => p.layer === r.layerName && p.role === r.role)!.shape;
    if (shape.length <= 1) {
      assert.ok(d1[k].every((x) => x === 0) && d2[k].every((x) => x === 0), `${r.layerName}/${r.role} is ignored: both directions are 0 there`);
      return;
    }
    const out = shape[shape.length - 1];
    for (let f = 0; f < out; f++) {
      let wf = 0,
        a = 0,
        b = 0;
      for (let i = f; i < w[k].length; i += out) {
        wf += w[k][i] ** 2;
        a += d1[k][i] ** 2;
        b += d2[k][i] ** 2;
      }
      assert.ok(relErr(Math.sqrt(a), Math.sqrt(wf)) < 1e-5, `${r.layerName} filter ${f}: ‖d₁_f‖ ${Math.sqrt(a)} vs ‖w_f‖ ${Math.sqrt(wf)}`);
      assert.ok(relErr(Math.sqrt(b), Math.sqrt(wf)) < 1e-5, `${r.layerName} filter ${f}: ‖d₂_f‖ ${Math.sqrt(b)} vs ‖w_f‖ ${Math.sqrt(wf)}`);
    }
    for (let i = 0; i < w[k].length; i++) {
      dot += d1[k][i] * d2[k][i];
      n1 += d1[k][i] ** 2;
      n2 += d2[k][i] ** 2;
    }
  });
  assert.ok(Math.abs(dot) / Math.sqrt(n1 * n2) < 1e-6, `cos(d₁, d₂) after Gram–Schmidt = ${dot / Math.sqrt(n1 * n2)}`);
  assert.equal(typeof s.directionCosine, 'number');
  assert.ok(Math.abs(s.directionCosine!) < 0.5, 'two random directions are far from parallel before Gram–Schmidt');
  assert.equal(s.norm, 'filter');
  assert.equal(s.ignore, 'biasbn');
  assert.equal(s.bn, 'train');
});

test('centerLoss equals bnlens probe’s loss on the same data', async () => {
  const fx = buildFixture(MLP_BN, { n: 32, loss: 'softmax-ce', classes: 5 }, 2201);
  const out = join(fx.dir, 'slice.json');
  const s = await slice([fx.modelPath, '--data', fx.dataPath, '--dims', '1', '--points', '3', '--backend', 'wasm', '--out', out, '--parallel', '1']);
  const p = await runProbe([fx.modelPath, '--data', fx.dataPath, '--eta', '0.1', '--backend', 'wasm']);
  assert.ok(relErr(s.centerLoss, p.loss) < 1e-6, `slice centerLoss ${s.centerLoss} vs probe loss ${p.loss}`);
});

test('gradient-random: d₁ is −g (float64 gradient), and the α axis is L(x − α·etaPerAlpha·g)', async () => {
  const fx = buildFixture(MLP_BN, { n: 32, loss: 'softmax-ce', classes: 5 }, 2301);
  const out = join(fx.dir, 'slice.json');
  const dirsPath = join(fx.dir, 'dirs.json');
  const s = await slice([
    fx.modelPath,
    '--data',
    fx.dataPath,
    '--dims',
    '2',
    '--points',
    '3',
    '--range',
    '-0.2,0.2',
    '--directions',
    'gradient-random',
    '--ignore',
    'none',
    '--backend',
    'wasm',
    '--out',
    out,
    '--save-directions',
    dirsPath,
    '--parallel',
    '1',
  ]);
  const dirs = JSON.parse(readFileSync(dirsPath, 'utf8')) as Dirs;
  const { w, d1, d2 } = aligned(fx, dirs.variants[0].params);
  const g = lossAndGrad(fx.net, fx.x, fx.y, fx.loss).grads;
  let dot = 0,
    nd = 0,
    ng = 0,
    nw = 0;
  g.forEach((gk, k) => gk.forEach((x, i) => ((dot += -x * d1[k][i]), (nd += d1[k][i] ** 2), (ng += x * x), (nw += w[k][i] ** 2))));
  assert.ok(1 - dot / Math.sqrt(nd * ng) < 1e-6, `cos(d₁, −g) = ${dot / Math.sqrt(nd * ng)}`);
  assert.ok(relErr(Math.sqrt(nd), Math.sqrt(nw)) < 1e-5, '‖d₁‖ = ‖w‖');
  const k = s.variants[0].etaPerAlpha!;
  assert.ok(relErr(k, Math.sqrt(nw / ng)) < 1e-4, `etaPerAlpha ${k} vs ‖w‖/‖g‖ ${Math.sqrt(nw / ng)}`);
  // The middle row (β = 0) is the paper's probe along the gradient: L(x − η g) with η = α·etaPerAlpha.
  const row = (s.loss as number[][])[1];
  s.alphas.forEach((a, i) => {
    const ref = lossOnly(
      withParams(
        fx.net,
        w.map((wk, j) => wk.map((x, q) => x - a * k * g[j][q])),
      ),
      fx.x,
      fx.y,
      fx.loss,
    );
    assert.ok(relErr(row[i], ref) <= RTOL, `α ${a}: ${row[i]} vs L(x − η g) ${ref}`);
  });
  let o = 0;
  d1.forEach((v, j) => v.forEach((x, q) => (o += x * d2![j][q])));
  assert.ok(Math.abs(o) / nd < 1e-6, 'd₂ ⟂ d₁');
});

test('scale test: ×10 on a kernel followed by BatchNorm leaves the filter-normalized slice unchanged, not an unnormalized one', async () => {
  // BatchNorm ε small so that its only scale dependence (ε next to the variance) is far below the tolerance.
  const spec: NetSpec = {
    name: 'mlp_bn_scale',
    inputShape: [12],
    layers: [
      { type: 'Dense', name: 'dense_1', units: 10, activation: 'linear', useBias: false },
      { type: 'BatchNormalization', name: 'bn_1', epsilon: 1e-7 },
      { type: 'ReLU', name: 'relu_1' },
      { type: 'Dense', name: 'dense_2', units: 4, activation: 'linear', useBias: true },
    ],
  };
  const a = buildFixture(spec, { n: 24, loss: 'softmax-ce', classes: 4 }, 2401);
  const b = buildFixture(spec, { n: 24, loss: 'softmax-ce', classes: 4 }, 2401);
  // dense_1/kernel is the first entry of the manifest: 12 × 10 float32 values.
  const bin = readFileSync(join(b.dir, 'weights.bin'));
  for (let i = 0; i < 120; i++) bin.writeFloatLE(bin.readFloatLE(i * 4) * 10, i * 4);
  writeFileSync(join(b.dir, 'weights.bin'), bin);
  const run = (fx: Fixture, norm: string) =>
    slice([fx.modelPath, '--data', fx.dataPath, '--dims', '2', '--points', '5', '--norm', norm, '--backend', 'wasm', '--parallel', '1', '--out', join(fx.dir, `slice-${norm}.json`)]);
  const [fa, fb, na, nb] = [await run(a, 'filter'), await run(b, 'filter'), await run(a, 'none'), await run(b, 'none')];
  assert.ok(relErr(fa.centerLoss, fb.centerLoss) < 1e-5, 'the network itself is scale invariant in that kernel');
  let worstFilter = 0;
  let worstNone = 0;
  const ga = grid(fa, fa.loss),
    gb = grid(fb, fb.loss),
    gna = grid(na, na.loss),
    gnb = grid(nb, nb.loss);
  ga.forEach((p, i) => (worstFilter = Math.max(worstFilter, relErr(gb[i].v as number, p.v as number))));
  gna.forEach((p, i) => (worstNone = Math.max(worstNone, relErr(gnb[i].v as number, p.v as number))));
  assert.ok(worstFilter < 1e-4, `filter-normalized slice changed by ${worstFilter.toExponential(2)} relative`);
  assert.ok(worstNone > 1e-2, `the unnormalized slice should change, changed by only ${worstNone.toExponential(2)}`);
});
