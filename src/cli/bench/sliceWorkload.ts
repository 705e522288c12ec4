// The `slice` workload: points of a 2-D filter-normalized loss-surface slice (bnlens slice) of the MNIST MLP
// on a 1,024-example batch, evaluated as the slice command does — 16 points per read-back. One unit of
// the phase is one chunk of 16 points, so points per second = 16 × 2 variants / (twoVariantMs / 1000).

import type { Tensor } from '../../engine/network/forward';
import { evaluatePoints, gridPoints, linspace, makeDirections, type ParamMeta } from '../../engine/probes/slice';
import type { VariantBench, WorkloadDef } from './workloads';

export const SLICE_CHUNK = 16;

interface SliceState {
  w: Tensor[];
  d1: Tensor[];
  d2: Tensor[];
  batch: { x: Tensor; y: Tensor };
}

const states = new WeakMap<VariantBench, SliceState>();

async function stateFor(b: VariantBench): Promise<SliceState> {
  const known = states.get(b);
  if (known) return known;
  const { tf } = b;
  const params = b.run.current.params;
  const metas: ParamMeta[] = b.run.info.params.map((p) => ({ layer: p.layer, role: p.role, shape: p.shape }));
  const weights = await Promise.all(params.map(async (p) => Float32Array.from((await p.data()) as Float32Array)));
  const dirs = makeDirections(weights, metas, { dims: 2, kind: 'random', norm: 'filter', ignore: 'biasbn', seed: 0 });
  const next = b.nextBatch();
  const s: SliceState = {
    w: metas.map((m, k) => tf.tensor(weights[k], m.shape, 'float32')),
    d1: metas.map((m, k) => tf.tensor(dirs.d1[k], m.shape, 'float32')),
    d2: metas.map((m, k) => tf.tensor(dirs.d2![k], m.shape, 'float32')),
    batch: { x: next.owned ? next.x : tf.clone(next.x), y: next.owned ? next.y : tf.clone(next.y) },
  };
  states.set(b, s);
  return s;
}

const GRID = gridPoints(linspace(-1, 1, 21), linspace(-1, 1, 21));

export const SLICE_WORKLOAD: WorkloadDef = {
  name: 'slice',
  summary: 'examples/mlp-mnist.json, a 21×21 filter-normalized slice on 1,024 MNIST digits: chunks of 16 points per read-back (phase slicePoints)',
  model: 'examples/mlp-mnist.json',
  request: { batch: 1024, dataset: 'mnist' },
  extraPhases: [
    {
      name: 'slicePoints',
      unit: `${SLICE_CHUNK} slice points`,
      flops: () => 0,
      async run(b, i) {
        const s = await stateFor(b);
        const pts = Array.from({ length: SLICE_CHUNK }, (_, k) => GRID[(i * SLICE_CHUNK + k) % GRID.length]);
        await evaluatePoints({ tf: b.tf, model: b.run.model, loss: b.dataset.loss, forward: { training: true } }, s.w, s.d1, s.d2, s.batch, pts, { training: true }, SLICE_CHUNK);
      },
    },
  ],
};
