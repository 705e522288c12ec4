// One variant's training run: plain SGD (optionally with momentum) on the shared batches, with the paper's
// probes at probed steps, ICS and layer statistics at ICS steps, held-out evaluation, and divergence
// detection. A diverged variant keeps its last finite records and stops; the others go on.

import type * as tfc from '@tensorflow/tfjs-core';
import type { AnalyzeConfig, EvalRecord, LayerStatRecord, Moments, StepRecord, VariantLayerInfo, VariantReport } from '../protocol';
import type { Dataset, DataSplit } from './data';
import { correctCount, ForwardModel, lossOf, targetTensor, type ForwardOptions, type NoiseTensors, type Tensor, type TF } from './network/forward';
import type { LayerNode, NetworkSpec } from './network/ir';
import { layerShapeInSource } from './network/layout';
import { initialWeights, paramKey } from './network/load';
import { inferShapes, paramCount, type ShapeInfo } from './network/shapes';
import { drawNoise } from './noise';
import { planForGrid, probeAlongGradient, probeFromRows, probeRows, type GradientProbe } from './probes/gradientProbe';
import { etaShares, probeRequest, type EtaHelpers } from './etaHelpers';
import { internalCovariateShift } from './probes/ics';
import { disposeFirst, lossAndGrads, lossAndGradsForProbe, lossAndGradsWithoutFirst, sumSquares, type Batch, type FirstLayerState, type ProbeSetup } from './probes/lossAndGrads';
import { precisionWarning } from './probes/precision';
import { Rng } from './rng';
import { DEFAULT_HESSIAN_OPTIONS, measureHessianAt } from './probes/hessian';
import { statsOf } from './stats';
import type { Variant } from './variants';

const NOISE_STREAM = 2001;
/** Layers whose output repeats their input's values: no statistics of their own. */
const PASS_THROUGH = new Set(['flatten', 'reshape', 'dropout', 'input']);

export interface StepOutcome {
  record: StepRecord | null;
  layerStats: LayerStatRecord[];
  diverged: { step: number; reason: string } | null;
  /** Said once, at the first probed step, when the η grid is too fine for float32. */
  warning?: string | null;
  /** Said once, when the probe helpers failed and this process took all η back. */
  helperWarning?: string | null;
}

export class VariantRun {
  readonly report: VariantReport;
  readonly model: ForwardModel;
  readonly info: ShapeInfo;
  private params: Tensor[];
  private velocity: Tensor[] | null = null;
  private moving = new Map<string, { mean: Tensor; variance: Tensor }>();
  /** Updates the moving statistics have had (one per training step). */
  private movingUpdates = 0;
  private readonly noiseRng: Rng;
  private readonly layers: LayerNode[];
  private readonly source: Pick<NetworkSpec, 'layout' | 'sourceShapes'>;
  /** Processes that share the probe's η with this one (src/engine/etaHelpers.ts); null: none. */
  private helpers: EtaHelpers | null = null;
  /** Time spent per phase, ms. */
  readonly wallMs = { gradient: 0, probe: 0, ics: 0, update: 0, eval: 0, hessian: 0, probeWait: 0 };
  /** Probed steps whose η the helpers shared (their wait is in wallMs.probeWait). */
  sharedProbes = 0;

  constructor(
    private readonly tf: TF,
    readonly variant: Variant,
    source: { spec: NetworkSpec; text: string },
    private readonly ds: Dataset,
    private readonly config: AnalyzeConfig,
    private readonly etas: number[],
  ) {
    this.layers = variant.layers;
    this.source = source.spec;
    this.info = inferShapes(variant.layers, source.spec.file, source.text);
    this.model = new ForwardModel(variant.layers, variant.outputs[0], this.info, ds.loss);
    const values = initialWeights({ spec: { ...source.spec, layers: variant.layers }, info: this.info, text: source.text }, config.seed, variant.name === 'as-written');
    this.params = this.info.params.map((p) => tf.tensor(values.get(paramKey(p.layer, p.role))!, p.shape, 'float32'));
    for (const s of this.info.state) {
      const entry = this.moving.get(s.layer) ?? ({} as { mean: Tensor; variance: Tensor });
      entry[s.role === 'moving_mean' ? 'mean' : 'variance'] = tf.tensor(values.get(paramKey(s.layer, s.role))!, s.shape, 'float32');
      this.moving.set(s.layer, entry);
    }
    this.noiseRng = new Rng(config.seed, NOISE_STREAM);
    this.report = {
      name: variant.name,
      description: variant.description,
      layers: variant.layers.map((l) => this.layerInfo(l)),
      steps: [],
      layerStats: [],
      evals: [],
      diverged: null,
    };
  }

  /** The current weights (owned by the run: valid until the next step). */
  parameters(): Tensor[] {
    return this.params;
  }

  /** The weights now (owned by the run: read, do not dispose) and the BatchNorm moving statistics. */
  get current(): { params: Tensor[]; moving: Map<string, { mean: Tensor; variance: Tensor }> } {
    return { params: this.params, moving: this.moving };
  }

  /** Split every probed step's η with these helpers from now on; the run ends them at dispose. */
  useEtaHelpers(helpers: EtaHelpers): void {
    this.helpers = helpers;
  }

  get diverged(): boolean {
    return this.report.diverged !== null;
  }

  private layerInfo(l: LayerNode): VariantLayerInfo {
    return {
      name: l.name,
      className: l.className,
      sourceLayer: l.derivedFrom ?? (l.kind === 'input' ? null : l.name),
      inserted: l.derivedFrom !== undefined && l.derivedFrom !== null,
      outputShape: [null, ...layerShapeInSource(this.source, l.name, this.info.shapes.get(l.name)!)],
      params: paramCount(this.info, l.name),
    };
  }

  /** Noise of Algorithm 1 for this step's batch, one draw per noisy BatchNorm layer. */
  private noiseFor(batchSize: number): Map<string, NoiseTensors> | undefined {
    const noisy = this.layers.filter((l) => l.kind === 'batchnorm' && l.noisy);
    if (noisy.length === 0) return undefined;
    const m = new Map<string, NoiseTensors>();
    for (const l of noisy) {
      const shape = [batchSize, ...this.info.shapes.get(l.name)!];
      const units = shape[shape.length - 1];
      const count = shape.reduce((a, b) => a * b, 1) / units;
      const d = drawNoise(this.noiseRng, count, units);
      m.set(l.name, { scale: this.tf.tensor(d.scale, shape), shift: this.tf.tensor(d.shift, shape) });
    }
    return m;
  }

  /** Whether step t measures the Hessian (probed steps at multiples of hessianEvery), so callers can say so first. */
  hessianDue(t: number): boolean {
    const every = this.config.hessianEvery ?? 0;
    return every > 0 && t % every === 0 && t % this.config.probeEvery === 0;
  }

  async step(t: number, batch: Batch, batchSize: number): Promise<StepOutcome> {
    const { tf, config } = this;
    const probe = t % config.probeEvery === 0;
    const ics = config.icsEvery > 0 && t % config.icsEvery === 0;
    const noise = this.noiseFor(batchSize);
    const forward: ForwardOptions = { training: true, noise };
    const setup: ProbeSetup = { tf, model: this.model, loss: this.ds.loss, forward };
    let t0 = performance.now();
    // The gradient's own forward pass also yields the batch accuracy, the BatchNorm batch statistics (for
    // the moving averages) and, at ICS steps, every layer's output for the activation statistics.
    const batchStats = new Map<string, { mean: Tensor; variance: Tensor }>();
    const activations = new Map<string, Tensor>();
    let output: Tensor | null = null;
    // At probed steps the gradient also keeps the first Dense layer's X, Z and δ for the probe.
    const { value, grads, first } = (probe ? lossAndGradsForProbe : lossAndGradsWithoutFirst)(
      setup,
      this.params,
      batch,
      {
        ...forward,
        onBatchStats: (name, mean, variance) => batchStats.set(name, { mean: tf.keep(mean), variance: tf.keep(variance) }),
        onActivation: ics ? (name, y) => void activations.set(name, tf.keep(y)) : undefined,
      },
      (out) => {
        output = tf.keep(out);
      },
    );
    const out = output as unknown as Tensor;
    const accuracy = tf.tidy(() => (this.ds.loss !== 'mse' ? tf.div(correctCount(tf, this.ds.loss, out, batch.y), batchSize) : tf.scalar(NaN)));
    // At ICS steps the output is also the last layer's kept activation, disposed with the others below.
    if (![...activations.values()].includes(out)) out.dispose();
    this.wallMs.gradient += performance.now() - (t0 as number);
    const outcome: StepOutcome = { record: null, layerStats: [], diverged: null };
    try {
      t0 = performance.now();
      let loss: number;
      let gradNorm: number;
      let record: StepRecord | null = null;
      const acc = (await accuracy.data())[0];
      if (probe) {
        const p = this.helpers?.size ? await this.probeShared(t, setup, batch, grads, value, first, noise) : await probeAlongGradient(setup, this.params, grads, value, batch, this.etas, first);
        outcome.helperWarning = this.helpers?.takeWarning();
        loss = p.loss;
        gradNorm = p.gradNorm;
        record = { step: t, loss, accuracy: Number.isNaN(acc) ? null : acc, gradNorm, lossAtEta: p.lossAtEta, gradChange: p.gradChange, beta: p.beta, curvatureAtEta: p.curvatureAtEta };
        if (this.report.steps.length === 0) outcome.warning = precisionWarning(this.etas, p.gradChange, gradNorm);
        if (this.hessianDue(t) && Number.isFinite(loss) && Number.isFinite(gradNorm)) {
          const th = performance.now();
          record.hessian = await this.hessianAt(t, setup, batch, grads);
          this.wallMs.hessian += performance.now() - th;
        }
      } else {
        const both = tf.tidy(() => tf.stack([value, tf.sqrt(sumSquares(tf, grads))]));
        const v = await both.data();
        both.dispose();
        loss = v[0];
        gradNorm = v[1];
      }
      this.wallMs.probe += performance.now() - t0;
      if (!Number.isFinite(loss) || !Number.isFinite(gradNorm)) {
        outcome.diverged = { step: t, reason: !Number.isFinite(loss) ? `loss became ${loss}` : `gradient norm became ${gradNorm}` };
        this.report.diverged = outcome.diverged;
        return outcome;
      }
      if (record) {
        this.report.steps.push(record);
        outcome.record = record;
      }
      if (ics) {
        t0 = performance.now();
        outcome.layerStats = await this.layerStatistics(t, setup, batch, grads, activations);
        this.report.layerStats.push(...outcome.layerStats);
        this.wallMs.ics += performance.now() - t0;
      }
      t0 = performance.now();
      const finite = await this.update(grads, batchStats, batchSize);
      this.wallMs.update += performance.now() - t0;
      if (!finite) {
        outcome.diverged = { step: t, reason: 'a weight became NaN or infinite after the update' };
        this.report.diverged = outcome.diverged;
      }
      return outcome;
    } finally {
      value.dispose();
      grads.forEach((g) => g.dispose());
      disposeFirst(tf, first);
      accuracy.dispose();
      for (const s of batchStats.values()) tf.dispose([s.mean, s.variance]);
      for (const a of activations.values()) a.dispose();
      if (noise) for (const n of noise.values()) tf.dispose([n.scale, n.shift]);
    }
  }

  /**
   * The probe with the η split between this process (the first share) and the helpers (the others), rows
   * merged in η order. A share whose helper failed is evaluated here; the pool then has no helpers left.
   */
  private async probeShared(t: number, setup: ProbeSetup, batch: Batch, grads: Tensor[], value: tfc.Scalar, first: FirstLayerState | null, noise: Map<string, NoiseTensors> | undefined): Promise<GradientProbe> {
    const etas = this.etas;
    const shares = etaShares(etas.length, 1 + this.helpers!.size);
    const request = await probeRequest(t, this.params, batch, noise, etas.length);
    const remote = await this.helpers!.send(
      request,
      shares.slice(1).map(([a, b]) => etas.slice(a, b)),
    );
    const plan = planForGrid(setup, this.params, batch, etas.length);
    const [a0, b0] = shares[0];
    const own = await probeRows(plan, this.params, grads, value, batch, etas.slice(a0, b0), first);
    const rows = new Float32Array(3 * etas.length);
    rows.set(own.rows, 3 * a0);
    const tw = performance.now();
    const theirs = await remote.rows;
    this.wallMs.probeWait += performance.now() - tw;
    this.sharedProbes++;
    for (let i = 0; i < theirs.length; i++) {
      const [a, b] = shares[i + 1];
      const got = theirs[i] ?? (await probeRows(plan, this.params, grads, value, batch, etas.slice(a, b), first)).rows;
      rows.set(got, 3 * a);
    }
    return probeFromRows(etas, own.loss, own.gradNorm, rows);
  }

  /**
   * The Hessian measures at this step's weights and batch: BatchNorm with the batch's statistics (and this
   * step's noise) like every probe, or with the moving ones when config.hessianBn is 'eval'. Seeded by the
   * run's seed and the step, so a rerun draws the same vectors.
   */
  private async hessianAt(t: number, setup: ProbeSetup, batch: Batch, grads: Tensor[]) {
    const { tf, config } = this;
    const bn = config.hessianBn ?? 'train';
    const forward: ForwardOptions = bn === 'eval' ? { training: false, moving: this.moving } : setup.forward;
    const own = bn === 'eval' ? lossAndGrads(setup, this.params, batch, forward) : null;
    try {
      return await measureHessianAt({ tf, model: this.model, loss: this.ds.loss, forward, params: this.params, x: batch.x, y: batch.y }, own ? own.grads : grads, {
        ...DEFAULT_HESSIAN_OPTIONS,
        top: config.hessianTop ?? DEFAULT_HESSIAN_OPTIONS.top,
        bn,
        seed: config.seed * 100_003 + t,
      });
    } finally {
      if (own) tf.dispose([own.value, ...own.grads]);
    }
  }

  /** w ← w − lr·v, v ← μ·v + g (v = g for plain SGD); moving statistics follow the batch ones. */
  private async update(grads: Tensor[], batchStats: Map<string, { mean: Tensor; variance: Tensor }>, batchSize: number): Promise<boolean> {
    const { tf, config } = this;
    let step = grads;
    if (config.momentum > 0) {
      const v = this.velocity ? this.velocity.map((vi, i) => tf.add(tf.mul(vi, config.momentum), grads[i])) : grads.map((g) => tf.clone(g));
      this.velocity?.forEach((x) => x.dispose());
      this.velocity = v;
      step = v;
    }
    const next = this.params.map((p, i) => tf.tidy(() => tf.sub(p, tf.mul(step[i], config.lr))));
    this.params.forEach((p) => p.dispose());
    this.params = next;
    if (batchStats.size > 0) this.movingUpdates++;
    for (const [name, s] of batchStats) {
      const layer = this.layers.find((l) => l.name === name);
      const m = layer && layer.kind === 'batchnorm' ? layer.momentum : 0.99;
      const old = this.moving.get(name);
      if (!old) continue;
      // PyTorch keeps the unbiased variance of the n values per channel: n/(n−1) times the batch's.
      const shape = this.info.shapes.get(name)!;
      const n = (batchSize * shape.reduce((a, b) => a * b, 1)) / shape[shape.length - 1];
      const unbias = layer && layer.kind === 'batchnorm' && layer.unbiasedMovingVariance && n > 1 ? n / (n - 1) : 1;
      const mean = tf.tidy(() => tf.add(tf.mul(old.mean, m), tf.mul(s.mean, 1 - m)));
      const variance = tf.tidy(() => tf.add(tf.mul(old.variance, m), tf.mul(s.variance, (1 - m) * unbias)));
      tf.dispose([old.mean, old.variance]);
      this.moving.set(name, { mean, variance });
    }
    const ss = sumSquares(tf, this.params);
    const v = (await ss.data())[0];
    ss.dispose();
    return Number.isFinite(v);
  }

  private async layerStatistics(t: number, setup: ProbeSetup, batch: Batch, grads: Tensor[], activations: Map<string, Tensor>): Promise<LayerStatRecord[]> {
    const icsEntries = await internalCovariateShift(setup, this.params, grads, batch, this.config.lr);
    const ics = new Map(icsEntries.map((e) => [e.layer, e]));
    const records: LayerStatRecord[] = [];
    for (const l of this.layers) {
      if (PASS_THROUGH.has(l.kind)) continue;
      const act = activations.get(l.name);
      if (!act) continue;
      const values = (await act.data()) as Float32Array;
      const s = statsOf(values);
      const k = this.model.paramIndex.get(paramKey(l.name, 'kernel'));
      const g = this.model.paramIndex.get(paramKey(l.name, 'gamma'));
      const b = this.model.paramIndex.get(paramKey(l.name, 'beta'));
      const norms = k !== undefined ? await this.norms([this.params[k], grads[k]]) : null;
      const rec: LayerStatRecord = {
        step: t,
        layer: l.name,
        sourceLayer: l.derivedFrom ?? l.name,
        icsL2: ics.get(l.name)?.l2 ?? null,
        icsCos: ics.get(l.name)?.cos ?? null,
        actMean: s.mean,
        actStd: s.std,
        hist: s.hist,
        weightNorm: norms ? norms[0] : null,
        gradNorm: norms ? norms[1] : null,
      };
      if (g !== undefined) rec.gamma = moments((await this.params[g].data()) as Float32Array);
      if (b !== undefined) rec.beta = moments((await this.params[b].data()) as Float32Array);
      records.push(rec);
    }
    return records;
  }

  private async norms(ts: Tensor[]): Promise<number[]> {
    const { tf } = this;
    const n = tf.tidy(() => tf.stack(ts.map((t) => tf.norm(t))));
    const v = Array.from(await n.data());
    n.dispose();
    return v;
  }

  /**
   * Held-out loss and accuracy with the moving statistics (inference mode), in chunks sized by the memory
   * plan. For a variant with BatchNorm also with each held-out batch's own statistics (training mode,
   * batches of the training batch size, no noise), and how far the moving averages have come from their
   * initial values — early in a run they lag the weights, and the two accuracies show by how much.
   */
  async evaluate(step: number, split: DataSplit): Promise<EvalRecord | null> {
    if (split.n === 0 || this.diverged) return null;
    const t0 = performance.now();
    const moving = await this.heldOut(split, this.config.evalBatch ?? 1000, { training: false, moving: this.moving });
    const rec: EvalRecord = { step, loss: moving.loss, accuracy: moving.accuracy };
    const bn = this.layers.filter((l): l is Extract<LayerNode, { kind: 'batchnorm' }> => l.kind === 'batchnorm');
    if (bn.length > 0) {
      const chunk = Math.min(this.config.batch, split.n);
      const own = await this.heldOut(split, chunk, { training: true });
      rec.batchStatsLoss = own.loss;
      rec.batchStatsAccuracy = own.accuracy;
      rec.batchStatsBatch = chunk;
      rec.movingStatsSteps = this.movingUpdates;
      rec.movingStatsInitWeight = Math.max(...bn.map((l) => l.momentum ** this.movingUpdates));
    }
    this.wallMs.eval += performance.now() - t0;
    this.report.evals.push(rec);
    return rec;
  }

  private async heldOut(split: DataSplit, chunk: number, forward: ForwardOptions): Promise<{ loss: number; accuracy: number | null }> {
    const { tf, ds } = this;
    const width = split.x.length / split.n;
    let lossSum = 0;
    let correct = 0;
    let counted = 0;
    for (let start = 0; start < split.n; start += chunk) {
      const end = Math.min(split.n, start + chunk);
      const n = end - start;
      // Batch statistics of a lone leftover example would be degenerate (variance 0): fold it out.
      if (forward.training && n < 2 && counted > 0) break;
      const r = tf.tidy(() => {
        const x = tf.tensor(split.x.subarray(start * width, end * width), [n, ...ds.inputShape]);
        const rows = { n, labels: split.labels?.subarray(start, end), targets: split.targets?.subarray(start * ds.outputs, end * ds.outputs) };
        const y = targetTensor(tf, ds.loss, rows, ds.outputs);
        const out = this.model.forward(tf, this.params, x, forward);
        const loss = lossOf(tf, out, y, ds.loss);
        const acc = ds.loss !== 'mse' ? correctCount(tf, ds.loss, out, y) : tf.scalar(0);
        return tf.stack([loss, acc]);
      });
      const v = await r.data();
      r.dispose();
      lossSum += v[0] * n;
      correct += v[1];
      counted += n;
    }
    return { loss: lossSum / counted, accuracy: ds.loss !== 'mse' ? correct / counted : null };
  }

  dispose(): void {
    this.helpers?.dispose();
    this.tf.dispose(this.params);
    this.velocity?.forEach((v) => v.dispose());
    for (const m of this.moving.values()) this.tf.dispose([m.mean, m.variance]);
  }
}

function moments(v: Float32Array): Moments {
  const s = statsOf(v);
  return { mean: s.mean, std: s.std, min: s.hist.min, max: s.hist.max };
}

export type { tfc };
