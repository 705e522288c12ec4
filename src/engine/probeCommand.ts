// The engine side of `bnlens probe`: the paper's measurements at the weights in the file, on the whole data
// file as one batch. The math is in probes/, the command line in src/cli/probe.ts.

import type { BackendChoice, LossName, ProbeResult } from '../protocol';
import { UserError } from './errors';
import { descentFreeCurvature } from '../report/curvature';
import { mergeSplits } from './data/forNetwork';
import { initialWeights, loadNetwork } from './network/load';
import { probeAlongGradient } from './probes/gradientProbe';
import { internalCovariateShift } from './probes/ics';
import { lossAndGrads, type ProbeSetup } from './probes/lossAndGrads';
import { forwardModel, startRun } from './startup';
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
}

export async function runProbe(o: ProbeOptions): Promise<ProbeResult> {
  if (o.eta.length === 0) throw new UserError('bnlens probe: --eta needs at least one step length, e.g. --eta 0.05,0.1,0.2');
  const bad = o.eta.find((e) => !(e > 0));
  if (bad !== undefined) throw new UserError(`bnlens probe: every --eta must be greater than 0, got ${bad}`);
  const net = loadNetwork(o.model);
  for (const note of net.notes ?? []) o.onNote?.(note);
  const { ds, backend, tf } = await startRun(net, { dataset: o.data, loss: o.loss, seed: o.seed, backend: o.backend });
  // The whole file is one batch: the held-out part the loader sets aside belongs to it too.
  const all = mergeSplits(ds.train, ds.test);
  const setup: ProbeSetup = { tf, model: forwardModel(net, ds.loss), loss: ds.loss, forward: { training: true } };
  const params = paramTensors(tf, net.info, initialWeights(net, o.seed));
  const batch = batchTensors(tf, ds, all);
  try {
    const { value, grads } = lossAndGrads(setup, params, batch);
    const probe = await probeAlongGradient(setup, params, grads, value, batch, o.eta);
    const ics = await internalCovariateShift(setup, params, grads, batch, o.icsLr);
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
      backend: backend.name,
      backendReason: backend.reason,
      tfjsVersion: backend.tfjsVersion,
    };
  } finally {
    params.forEach((p) => p.dispose());
    batch.x.dispose();
    batch.y.dispose();
  }
}
