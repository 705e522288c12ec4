// `bnlens probe --hessian`, run as a user runs it, against the full Hessian of the independent float64
// reference (test/reference/net64.ts: central differences of its exact hand-written gradients at two step
// sizes that must agree) and NumPy's eigvalsh of it, on an MLP without and with BatchNorm, a CNN with
// BatchNorm and max pooling, a deep linear network and a depthwise/separable binary classifier, on the wasm and cpu backends.
// Tolerances (the issue's): gᵀHg/‖g‖² to 1e-3 relative; λ_max, λ_min and the top eigenvalues to 1e-2 of
// max(|λ|, 1e-2·λ_max) (a λ_min next to zero is judged on the spectrum's scale); the Hutchinson trace within
// 4 of its own standard errors of tr(H); the density's weights sum to 1 and its nodes lie in [λ_min, λ_max].
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { BACKENDS, runProbe } from '../reference/cli';
import { buildFixture, type DataSpec, type LayerSpec, type NetSpec } from '../reference/fixtures';
import { fullHessian64, matVec } from '../reference/net64';
import { MLP } from '../reference/fixtures';

interface Case {
  spec: NetSpec;
  data: DataSpec;
}

const dense = (name: string, units: number, activation: 'relu' | 'linear' | 'softmax', useBias = true): LayerSpec => ({ type: 'Dense', name, units, activation, useBias });

// Small enough that the whole Hessian is built column by column and Lanczos may run to the full dimension.
const MLP_S: NetSpec = { name: 'mlp_small', inputShape: [8], layers: [dense('d1', 8, 'relu'), dense('d2', 6, 'relu'), dense('d3', 4, 'softmax')] };
const MLP_BN_S: NetSpec = {
  name: 'mlp_bn_small',
  inputShape: [8],
  layers: [
    dense('d1', 8, 'linear', false),
    { type: 'BatchNormalization', name: 'bn1' },
    { type: 'ReLU', name: 'r1' },
    dense('d2', 6, 'linear', false),
    { type: 'BatchNormalization', name: 'bn2', epsilon: 0.01 },
    { type: 'Activation', name: 'a2', activation: 'relu' },
    dense('d3', 4, 'linear'),
  ],
};
const CNN_BN_S: NetSpec = {
  name: 'cnn_bn_small',
  inputShape: [6, 6, 1],
  layers: [
    { type: 'Conv2D', name: 'c1', filters: 3, kernelSize: [3, 3], strides: [1, 1], padding: 'same', activation: 'linear', useBias: false },
    { type: 'BatchNormalization', name: 'bn1' },
    { type: 'Activation', name: 'a1', activation: 'relu' },
    { type: 'MaxPooling2D', name: 'p1', poolSize: [2, 2], strides: [2, 2], padding: 'valid' },
    { type: 'Conv2D', name: 'c2', filters: 4, kernelSize: [2, 2], strides: [1, 1], padding: 'valid', activation: 'relu', useBias: true },
    { type: 'Flatten', name: 'f' },
    dense('d', 3, 'linear'),
  ],
};
// The MobileNet layers (issue 11) and a binary output: second derivatives through the depthwise kernels'
// own gradients (DepthwiseConv2dNativeBackpropInput/Filter), padding, cropping and upsampling.
const MOBILE_BINARY_S: NetSpec = {
  name: 'mobile_binary_small',
  inputShape: [5, 5, 2],
  layers: [
    {
      type: 'ZeroPadding2D',
      name: 'pad',
      pads: [
        [1, 0],
        [0, 1],
      ],
    }, // 6×6×2
    { type: 'DepthwiseConv2D', name: 'dw', multiplier: 2, kernelSize: [3, 3], strides: [1, 1], padding: 'valid', activation: 'linear', useBias: false }, // 4×4×4
    { type: 'BatchNormalization', name: 'dw_bn' },
    { type: 'ReLU', name: 'dw_relu' },
    { type: 'SeparableConv2D', name: 'sep', filters: 3, multiplier: 1, kernelSize: [2, 2], strides: [2, 2], padding: 'valid', activation: 'relu', useBias: true }, // 2×2×3
    { type: 'UpSampling2D', name: 'up', size: [2, 2] }, // 4×4×3
    {
      type: 'Cropping2D',
      name: 'crop',
      pads: [
        [1, 0],
        [0, 1],
      ],
    }, // 3×3×3
    { type: 'Flatten', name: 'f' },
    dense('logit', 1, 'linear'),
    { type: 'Activation', name: 'out', activation: 'sigmoid' },
  ],
};
const DLN_S: NetSpec = { name: 'dln_small', inputShape: [5], layers: Array.from({ length: 4 }, (_, i) => dense(`d${i + 1}`, 5, 'linear', false)) };

const CASES: Case[] = [
  { spec: MLP_S, data: { n: 24, loss: 'softmax-ce', classes: 4 } },
  { spec: MLP_BN_S, data: { n: 24, loss: 'softmax-ce', classes: 4 } },
  { spec: CNN_BN_S, data: { n: 6, loss: 'softmax-ce', classes: 3, labelDtype: 'int32' } },
  { spec: DLN_S, data: { n: 24, loss: 'mse', targetDim: 5 } },
  { spec: MOBILE_BINARY_S, data: { n: 8, loss: 'binary-ce' } },
];

/** Eigenvalues (ascending) of a symmetric matrix by NumPy, an implementation independent of ours. */
function eigvalsh(n: number, h: Float64Array): number[] {
  const script = 'import json,sys\nimport numpy as np\nd=json.load(sys.stdin)\nn=d["n"]\nprint(json.dumps(np.linalg.eigvalsh(np.array(d["h"]).reshape(n,n)).tolist()))';
  return JSON.parse(execFileSync('python3', ['-c', script], { input: JSON.stringify({ n, h: Array.from(h) }), maxBuffer: 64 << 20 }).toString());
}

CASES.forEach((c, i) => {
  const fx = buildFixture(c.spec, c.data, 2000 + i);
  const H = fullHessian64(fx.net, fx.x, fx.y, fx.loss, 1e-5);
  const eig = eigvalsh(H.n, H.h);
  const lmax = eig[eig.length - 1],
    lmin = eig[0];
  const trace = eig.reduce((a, b) => a + b, 0);
  const g = H.grad;
  const g2 = g.reduce((a, b) => a + b * b, 0);
  const gHg = matVec(H, g).reduce((a, b, k) => a + b * g[k], 0) / g2;
  for (const backend of BACKENDS) {
    test(`probe --hessian ${c.spec.name} on ${backend} matches the float64 Hessian`, async (t) => {
      // The reference itself: both step sizes agree and the Hessian came out symmetric.
      assert.ok(H.disagreement < 1e-6, `reference Hessian: step sizes disagree by ${H.disagreement}`);
      assert.ok(H.asymmetry < 1e-6, `reference Hessian: asymmetry ${H.asymmetry}`);
      const out = await runProbe([
        fx.modelPath,
        '--data',
        fx.dataPath,
        '--loss',
        fx.loss,
        '--eta',
        '0.01',
        '--backend',
        backend,
        '--hessian',
        '--hessian-top',
        '3',
        '--hessian-steps',
        String(H.n),
        '--hessian-samples',
        '40',
        '--hessian-runs',
        '2',
        '--seed',
        '3',
      ]);
      const h = out.hessian!;
      assert.ok(h, 'no hessian in the output');
      const fails: string[] = [];
      const scale = Math.max(Math.abs(lmax), Math.abs(lmin));
      const near = (what: string, a: number, r: number, rel: number, floor: number) => {
        if (!(Math.abs(a - r) <= rel * Math.max(Math.abs(r), floor))) fails.push(`${what}: ${a} vs reference ${r}`);
      };
      near('lambdaMax', h.lambdaMax, lmax, 1e-2, 1e-2 * scale);
      near('lambdaMin', h.lambdaMin, lmin, 1e-2, 1e-2 * scale);
      h.top.forEach((v, k) => near(`top[${k}]`, v, eig[eig.length - 1 - k], 1e-2, 1e-2 * scale));
      near('gHg', h.gHg!, gHg, 1e-3, 0);
      if (!(Math.abs(h.trace - trace) <= 4 * h.traceStdErr)) fails.push(`trace ${h.trace} ± ${h.traceStdErr} is not within 4 standard errors of tr(H) = ${trace}`);
      if (h.traceSamples !== 40) fails.push(`traceSamples ${h.traceSamples}, asked for 40`);
      if (h.dimension !== H.n) fails.push(`dimension ${h.dimension}, the network has ${H.n} weights`);
      const wsum = h.density.weights.reduce((a, b) => a + b, 0);
      if (Math.abs(wsum - 1) > 1e-9) fails.push(`density weights sum to ${wsum}`);
      const slack = 1e-2 * scale;
      if (h.density.nodes.some((x) => x < lmin - slack || x > lmax + slack)) fails.push('a density node lies outside [λ_min, λ_max]');
      t.diagnostic(
        `${c.spec.name}/${backend}: n=${H.n} λ=[${h.lambdaMin.toFixed(4)}, ${h.lambdaMax.toFixed(4)}] vs [${lmin.toFixed(4)}, ${lmax.toFixed(4)}]; trace ${h.trace.toFixed(3)}±${h.traceStdErr.toFixed(3)} vs ${trace.toFixed(3)}; gHg ${h.gHg} vs ${gHg}; ${h.hvps} HVPs`,
      );
      assert.deepEqual(fails, [], t.name);
    });
  }
});

test('probe --hessian is reproducible: the same seed gives the same numbers', async () => {
  const fx = buildFixture(MLP, { n: 16, loss: 'softmax-ce', classes: 5 }, 77);
  const args = [fx.modelPath, '--data', fx.dataPath, '--eta', '0.01', '--backend', 'wasm', '--hessian', '--hessian-steps', '20', '--seed', '5'];
  const a = (await runProbe(args)).hessian!;
  const b = (await runProbe(args)).hessian!;
  for (const k of ['lambdaMax', 'lambdaMin', 'trace', 'traceStdErr', 'gHg'] as const) assert.equal(a[k], b[k], k);
  assert.deepEqual(a.density, b.density);
});
