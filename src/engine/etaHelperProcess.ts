// A probe helper's side (src/engine/etaHelpers.ts has the trainer's): it builds the variant's network once,
// like the trainer's VariantRun, then for every probe message recomputes the loss and gradient at the weights
// and batch sent and evaluates its share of the η. Same inputs, same backend, same operations: the same
// float32 numbers as the trainer would get.

import type { TensorData, TrainerToHelper } from '../protocol';
import { initBackend } from './backend';
import { ForwardModel, type NoiseTensors, type Tensor, type TF } from './network/forward';
import { openNetwork } from './network/load';
import { inferShapes } from './network/shapes';
import { planForGrid, probeRows } from './probes/gradientProbe';
import { disposeFirst, lossAndGradsForProbe, type ProbeSetup } from './probes/lossAndGrads';
import { readOptionsFor } from './analyze';
import { deriveVariants } from './variants';

type Init = Extract<TrainerToHelper, { type: 'helperInit' }>;
type Probe = Extract<TrainerToHelper, { type: 'probe' }>;

/** The helper of one variant, ready to evaluate shares: rows [ℓ, d, gᵀ(g − g_η)] per η, in η order. */
export async function startEtaHelper(m: Init): Promise<(p: Probe) => Promise<Float32Array>> {
  const net = await openNetwork(m.config.model, readOptionsFor(m.config));
  const { tf } = await initBackend(m.backend);
  const [variant] = deriveVariants(net.spec, [m.variant]);
  const info = inferShapes(variant.layers, net.spec.file, net.text);
  const model = new ForwardModel(variant.layers, variant.outputs[0], info, m.loss);
  return async (p) => {
    const made: Tensor[] = [];
    const tensor = (d: TensorData) => {
      const t = tf.tensor(d.values, d.shape, d.dtype);
      made.push(t);
      return t;
    };
    const params = p.params.map((v, i) => tensor({ values: v, shape: info.params[i].shape, dtype: 'float32' }));
    const batch = { x: tensor(p.x), y: tensor(p.y) };
    const noise = p.noise ? new Map<string, NoiseTensors>(p.noise.map((n) => [n.layer, { scale: tensor(n.scale), shift: tensor(n.shift) }])) : undefined;
    const setup: ProbeSetup = { tf: tf as TF, model, loss: m.loss, forward: { training: true, noise } };
    const { value, grads, first } = lossAndGradsForProbe(setup, params, batch);
    try {
      const r = await probeRows(planForGrid(setup, params, batch, p.gridSize), params, grads, value, batch, p.etas, first);
      // A copy: a view would carry the whole read-back buffer across the channel.
      return r.rows.slice();
    } finally {
      tf.dispose([value, ...grads, ...made]);
      disposeFirst(tf, first);
    }
  };
}
