// The engine side of `bnlens probe`: the paper's measurements at the weights in the file, on the whole data
// file as one batch. The math is in probes/, the command line in src/cli/probe.ts.

import type { BackendChoice, HessianBn, LossName, ProbeResult } from '../protocol';
import type { Tensor, TF } from './network/forward';
import { initialWeights, openNetwork, paramKey } from './network/load';
import type { ShapeInfo } from './network/shapes';
import { DEFAULT_HESSIAN_OPTIONS, measureHessianAt, type HessianOptions } from './probes/hessian';
import { readOptionsFor } from './analyze';
import { UserError } from './errors';
import { descentFreeCurvature } from '../report/curvature';
import { initBackend } from './backend';
import { loadData, mergeSplits } from './data/forNetwork';
import { networkSize, planMemory } from './memory';
import { probeAlongGradient } from './probes/gradientProbe';
import { internalCovariateShift } from './probes/ics';
import { disposeFirst, lossAndGrads, lossAndGradsForProbe, type ProbeSetup } from './probes/lossAndGrads';
import { forwardModel } from './startup';
import { batchTensors, paramTensors } from './tensors';

export interface ProbeOptions {
  model: string;
  data: string;
  loss: LossName | 'auto';
  eta: number[];
  icsLr: number;
  backend: BackendChoice;
  seed: number;
  /** Remarks about the file the user should see (one line each). */
  onNote?: (note: string) => void;
  /** Hessian measures too (`hessian` in the result); the fields not given take DEFAULT_HESSIAN_OPTIONS. */
  hessian?: Partial<Omit<HessianOptions, 'seed'>>;
  /** Python network files: the model, its input shape, its weights (see readOptionsFor). */
  pythonModel?: string;
  inputShape?: number[];
  weights?: string;
}

/** BatchNorm moving statistics from the file's weights (for --hessian-bn eval), keyed by layer. */
export function movingStatistics(tf: TF, info: ShapeInfo, values: Map<string, Float32Array>): Map<string, { mean: Tensor; variance: Tensor }> {
  const moving = new Map<string, { mean: Tensor; variance: Tensor }>();
  for (const st of info.state) {
    const entry = moving.get(st.layer) ?? ({} as { mean: Tensor; variance: Tensor });
    entry[st.role === 'moving_mean' ? 'mean' : 'variance'] = tf.tensor(values.get(paramKey(st.layer, st.role))!, st.shape, 'float32');
    moving.set(st.layer, entry);
  }
  return moving;
}

export async function runProbe(o: ProbeOptions): Promise<ProbeResult> {
  if (o.eta.length === 0) throw new UserError('bnlens probe: --eta needs at least one step length, e.g. --eta 0.05,0.1,0.2');
  const bad = o.eta.find((e) => !(e > 0));
  if (bad !== undefined) throw new UserError(`bnlens probe: every --eta must be greater than 0, got ${bad}`);
  const net = await openNetwork(o.model, readOptionsFor({ model: o.model, dataset: o.data, pythonModel: o.pythonModel, inputShape: o.inputShape, weights: o.weights }));
  for (const note of net.notes ?? []) o.onNote?.(note);
  const ds = loadData(net, o.data, o.loss, o.seed);
  // The whole file is one batch: the held-out part the loader sets aside belongs to it too.
  const all = mergeSplits(ds.train, ds.test);
  // Checked before the backend allocates anything: the whole file is one batch here, so the fix is less data.
  planMemory(networkSize([net.spec.layers], net.spec.file, net.text), {
    batch: all.n,
    backend: o.backend,
    file: o.data,
    batchAdvice: (fits) => `give --data a file of at most ${fits} examples (probe uses the whole file as one batch)`,
  });
  const backend = await initBackend(o.backend);
  const tf = backend.tf as unknown as TF;
  const setup: ProbeSetup = { tf, model: forwardModel(net, ds.loss), loss: ds.loss, forward: { training: true } };
  const weights = initialWeights(net, o.seed);
  const params = paramTensors(tf, net.info, weights);
  const batch = batchTensors(tf, ds, all);
  const moving = o.hessian?.bn === 'eval' ? movingStatistics(tf, net.info, weights) : null;
  try {
    const { value, grads, first } = lossAndGradsForProbe(setup, params, batch);
    const probe = await probeAlongGradient(setup, params, grads, value, batch, o.eta, first);
    disposeFirst(tf, first);
    const ics = await internalCovariateShift(setup, params, grads, batch, o.icsLr);
    let hessian: ProbeResult['hessian'];
    if (o.hessian) {
      const bn: HessianBn = o.hessian.bn ?? 'train';
      const forward = bn === 'eval' ? { training: false, moving: moving! } : setup.forward;
      // With moving statistics the loss is another function, so its own gradient is the one to use for gᵀHg.
      const g = bn === 'eval' ? lossAndGrads(setup, params, batch, forward) : null;
      hessian = await measureHessianAt({ tf, model: setup.model, loss: setup.loss, forward, params, x: batch.x, y: batch.y }, g ? g.grads : grads, { ...DEFAULT_HESSIAN_OPTIONS, ...o.hessian, bn, seed: o.seed });
      if (g) tf.dispose([g.value, ...g.grads]);
    }
    value.dispose();
    grads.forEach((g) => g.dispose());
    return {
      loss: probe.loss,
      gradNorm: probe.gradNorm,
      eta: o.eta,
      lossAtEta: probe.lossAtEta,
      gradChange: probe.gradChange,
      betaAtEta: probe.betaAtEta,
      beta: probe.beta,
      curvatureAtEta: probe.curvatureAtEta,
      descentFreeCurvatureAtEta: descentFreeCurvature(probe.loss, probe.gradNorm, o.eta, probe.lossAtEta).value,
      ics,
      ...(hessian ? { hessian } : {}),
      backend: backend.name,
      backendReason: backend.reason,
      tfjsVersion: backend.tfjsVersion,
    };
  } finally {
    if (moving) for (const m of moving.values()) tf.dispose([m.mean, m.variance]);
    params.forEach((p) => p.dispose());
    batch.x.dispose();
    batch.y.dispose();
  }
}
