// Synthetic but realistic reports for the chart tests: a small conv net trained with and without BatchNorm,
// losses that fall faster with BatchNorm, a wider loss band and larger gradient change without it, layer
// statistics every few steps, held-out evaluations, optionally a diverging variant.
// Deterministic (seeded), independent of the webview code it tests.
import type { LayerStatRecord, Report, StepRecord, SummaryRow, VariantLayerInfo, VariantName, VariantReport } from '../../src/protocol';

export interface FixtureOptions {
  steps?: number;
  variants?: VariantName[];
  etaCount?: number;
  lr?: number;
  icsEvery?: number;
  evalEvery?: number;
  seed?: number;
  /** A variant that diverges at a step: its last record has a non-finite loss and it stops there. */
  diverge?: { variant: VariantName; step: number };
  /** mse loss: accuracy null everywhere. */
  mse?: boolean;
  complete?: boolean;
}

function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * A 20-bin histogram of a batch's activations (the engine's format): about N(mean, std²) for a normalised
 * output; for a raw one a right-skewed shape (skew 0…1, growing during training) over a wider range.
 */
function histogram(mean: number, std: number, skew: number, rand: () => number): { min: number; max: number; counts: number[] } {
  const lo = mean - (3 - 1.5 * skew) * std;
  const hi = mean + (3 + 2 * skew) * std;
  const w = (hi - lo) / 20;
  const counts = Array.from({ length: 20 }, (_, j) => {
    const z = (lo + (j + 0.5) * w - mean) / std;
    const pdf = z < 0 ? Math.exp(-0.5 * (z * (1 + skew)) ** 2) : Math.exp(-0.5 * (z / (1 + skew)) ** 2);
    return Math.round(4096 * pdf * (0.9 + 0.2 * rand()) * (w / std) * 0.4);
  });
  return { min: lo, max: hi, counts };
}

const SOURCE_LAYERS = [
  { name: 'conv2d_1', className: 'Conv2D', outputShape: [null, 26, 26, 8], params: 80 },
  { name: 'max_pooling2d_1', className: 'MaxPooling2D', outputShape: [null, 13, 13, 8], params: 0 },
  { name: 'flatten_1', className: 'Flatten', outputShape: [null, 1352], params: 0 },
  { name: 'dense_1', className: 'Dense', outputShape: [null, 64], params: 86592 },
  { name: 'dense_2', className: 'Dense', outputShape: [null, 10], params: 650 },
];

const NORMALISED = new Set<VariantName>(['batchnorm', 'noisy-batchnorm', 'l1', 'l2', 'linf']);

function variantLayers(name: VariantName): VariantLayerInfo[] {
  const out: VariantLayerInfo[] = [];
  let k = 0;
  for (const l of SOURCE_LAYERS) {
    out.push({ ...l, sourceLayer: l.name, inserted: false });
    if (NORMALISED.has(name) && (l.name === 'conv2d_1' || l.name === 'dense_1')) {
      k++;
      out.push({
        name: `${name === 'batchnorm' ? 'batch_normalization' : name.replace('-', '_')}_${k}`,
        className: name.startsWith('l') ? 'LpNormalization' : 'BatchNormalization',
        sourceLayer: l.name,
        inserted: true,
        outputShape: l.outputShape,
        params: 2 * (l.outputShape[l.outputShape.length - 1] as number),
      });
    }
  }
  return out;
}

export function makeReport(opts: FixtureOptions = {}): Report {
  const steps = opts.steps ?? 120;
  const names = opts.variants ?? ['standard', 'batchnorm'];
  const lr = opts.lr ?? 0.1;
  const etaCount = opts.etaCount ?? 8;
  const icsEvery = opts.icsEvery ?? 10;
  const evalEvery = opts.evalEvery ?? 25;
  const rand = rng(opts.seed ?? 7);
  const etaMult = Array.from({ length: etaCount }, (_, i) => 0.5 + ((4 - 0.5) * i) / Math.max(1, etaCount - 1));
  const eta = etaMult.map((m) => m * lr);

  const variants: VariantReport[] = names.map((name, vi) => {
    const bn = NORMALISED.has(name);
    const noisy = name === 'noisy-batchnorm';
    const tau = bn ? 35 : 80;
    const curvature = bn ? 1.2 : 6; // band width driver
    const smooth = bn ? 3 : 14; // β level
    const layers = variantLayers(name);
    const recs: StepRecord[] = [];
    const layerStats: LayerStatRecord[] = [];
    const evals = [];
    const stopAt = opts.diverge?.variant === name ? opts.diverge.step : Infinity;
    let diverged = null;
    for (let t = 0; t < steps && t <= stopAt; t++) {
      const noise = 1 + 0.08 * (rand() - 0.5);
      const loss = (0.12 + 2.18 * Math.exp(-t / tau)) * noise;
      const gradNorm = (0.3 + 3 * Math.exp(-t / (tau * 1.5))) * (1 + 0.1 * (rand() - 0.5));
      const c = 1.6 + 0.3 * rand();
      const lossAtEta = eta.map((e) => loss * Math.max(0.05, 1 - c * e * gradNorm * 0.6 + curvature * e * e * gradNorm));
      const betaK = eta.map(() => smooth * (0.6 + 0.8 * rand()) * (1 + Math.exp(-t / tau)));
      const gradChange = eta.map((e, k) => betaK[k] * e * gradNorm);
      const beta = Math.max(...gradChange.map((g, k) => g / (eta[k] * gradNorm)));
      const accuracy = opts.mse ? null : Math.min(1, Math.max(0, 0.1 + 0.85 * (1 - Math.exp(-t / tau)) + 0.06 * (rand() - 0.5)));
      const rec: StepRecord = { step: t, loss, accuracy, gradNorm, lossAtEta, gradChange, beta };
      if (t === stopAt) {
        rec.loss = Infinity;
        rec.lossAtEta = lossAtEta.map((v, k) => (k > etaCount / 2 ? NaN : v * 40));
        rec.gradChange = gradChange.map((v) => v * 50);
        rec.beta = (rec.gradChange[etaCount - 1] as number) / (eta[etaCount - 1] * gradNorm);
        diverged = { step: t, reason: 'loss is not finite' };
      }
      recs.push(rec);
      if (t % icsEvery === 0) {
        for (const l of layers) {
          const kernel = !l.inserted && (l.className === 'Conv2D' || l.className === 'Dense');
          const afterNorm = l.inserted;
          const drift = Math.exp(-t / 60);
          const mean = afterNorm ? (noisy ? 0.5 * (rand() - 0.5) : 0.02 * (rand() - 0.5)) : 0.2 + 0.6 * (1 - drift) + 0.05 * rand();
          const std = afterNorm ? (noisy ? 1 + 0.25 * rand() : 1 + 0.02 * rand()) : 0.5 + 0.8 * (1 - drift) + 0.05 * rand();
          layerStats.push({
            step: t,
            layer: l.name,
            sourceLayer: l.sourceLayer,
            icsL2: kernel ? (bn ? 0.09 : 0.05) * (0.5 + rand()) * (1 + 2 * drift) : null,
            icsCos: kernel ? Math.min(1, (bn ? 0.55 : 0.75) + 0.2 * rand()) : null,
            actMean: mean,
            actStd: std,
            hist: t === stopAt ? { min: null, max: null, counts: new Array(20).fill(0) } : histogram(mean, std, afterNorm ? 0 : 1 - drift, rand),
            weightNorm: kernel ? 3 + vi + t / 100 : null,
            gradNorm: kernel ? gradNorm / 3 : null,
            ...(l.inserted ? { gamma: { mean: 1, std: 0.02, min: 0.95, max: 1.05 }, beta: { mean: 0, std: 0.01, min: -0.02, max: 0.02 } } : {}),
          });
        }
      }
      if (t > 0 && t % evalEvery === 0 && t < stopAt) {
        evals.push({ step: t, loss: loss * 1.1, accuracy: accuracy === null ? null : Math.max(0, accuracy - 0.03) });
      }
    }
    return {
      name,
      description: bn ? `${name}: a normalisation layer after every conv/dense layer` : 'the network without normalisation',
      layers,
      steps: recs,
      layerStats,
      evals,
      diverged,
    };
  });

  const complete = opts.complete ?? true;
  const report: Report = {
    schema: 'bnlens-report',
    version: 1,
    createdAt: '2026-11-27T10:00:00.000Z',
    complete,
    stopReason: complete ? null : 'cancelled',
    config: {
      model: 'examples/mnist-cnn/model.json',
      dataset: 'mnist',
      loss: opts.mse ? 'mse' : 'softmax-ce',
      variants: names,
      steps,
      batch: 64,
      lr,
      momentum: 0,
      probeEvery: 1,
      etaRange: [0.5, 4],
      etaCount,
      icsEvery,
      evalEvery,
      seed: opts.seed ?? 7,
      backend: 'auto',
    },
    model: { path: 'examples/mnist-cnn/model.json', format: 'tfjs-layers', name: 'mnist-cnn', layers: SOURCE_LAYERS },
    dataset: { name: 'mnist', trainSize: 60000, testSize: 10000, inputShape: [28, 28, 1], outputs: 10, loss: opts.mse ? 'mse' : 'softmax-ce' },
    run: {
      backend: 'node',
      backendReason: 'tfjs-node is installed',
      tfjsVersion: '4.22.0',
      bnlensVersion: '0.1.0',
      node: 'v20.19.0',
      platform: 'linux-x64',
      wallMs: { train: 41234, probes: 80211 },
    },
    eta,
    variants,
    summary: [],
  };
  if (complete) report.summary = variants.map(independentSummary);
  return report;
}

export function independentSummary(v: VariantReport): SummaryRow {
  const fin = (x: number | null): x is number => typeof x === 'number' && Number.isFinite(x);
  const steps = v.steps;
  const lastLoss = [...steps].reverse().find((s) => fin(s.loss))?.loss ?? null;
  const lastAcc = [...steps].reverse().find((s) => fin(s.accuracy))?.accuracy ?? null;
  // A step whose probes are not all finite has no band width or mean gradient change: it is left out.
  const allFin = (a: (number | null)[]): a is number[] => a.length > 0 && a.every(fin);
  const widths = steps
    .map((s) => s.lossAtEta)
    .filter(allFin)
    .map((a) => Math.max(...a) - Math.min(...a));
  const gc = steps
    .map((s) => s.gradChange)
    .filter(allFin)
    .map((a) => a.reduce((x, y) => x + y, 0) / a.length);
  const betas = steps.map((s) => s.beta).filter(fin);
  const avg = (a: number[]) => (a.length ? a.reduce((x, y) => x + y, 0) / a.length : null);
  const e = v.evals[v.evals.length - 1];
  return {
    variant: v.name,
    finalLoss: lastLoss,
    finalAccuracy: lastAcc,
    testLoss: e?.loss ?? null,
    testAccuracy: e?.accuracy ?? null,
    meanBandWidth: avg(widths),
    meanGradChange: avg(gc),
    meanBeta: avg(betas),
    maxBeta: betas.length ? Math.max(...betas) : null,
    diverged: v.diverged,
  };
}

/** The report a run starts with: no steps yet (what the engine sends in 'started'). */
export function emptyReport(opts: FixtureOptions = {}): Report {
  const r = makeReport({ ...opts, complete: false });
  r.stopReason = null;
  for (const v of r.variants) {
    v.steps = [];
    v.layerStats = [];
    v.evals = [];
    v.diverged = null;
  }
  r.summary = [];
  return r;
}

/** Round-trip through JSON, as a report file or a postMessage would (NaN/Infinity become null). */
export function viaJson<T>(x: T): T {
  return JSON.parse(JSON.stringify(x)) as T;
}
