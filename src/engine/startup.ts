// The one start-up path of everything that trains or probes a network (`bnlens analyze`, `bnlens probe`, the
// bench): the network read and checked (network/load.ts, by the caller, which needs it to resolve its
// settings), then the data loaded in the network's layout, then the backend started, in that order so that a
// bad data file fails before the slow backend start.

import type { BackendChoice, LossName } from '../protocol';
import { initBackend, type ActiveBackend } from './backend';
import type { Dataset } from './data';
import { loadData } from './data/forNetwork';
import { ForwardModel, type TF } from './network/forward';
import type { LayerNode } from './network/ir';
import type { LoadedNetwork } from './network/load';
import type { ShapeInfo } from './network/shapes';

export interface Started {
  ds: Dataset;
  backend: ActiveBackend;
  tf: TF;
  /** Milliseconds spent loading the data and starting the backend. */
  ms: { load: number; backend: number };
}

export async function startRun(net: LoadedNetwork, o: { dataset: string; loss: LossName | 'auto'; seed: number; backend: BackendChoice }): Promise<Started> {
  let t0 = performance.now();
  const ds = loadData(net, o.dataset, o.loss, o.seed);
  const load = performance.now() - t0;
  t0 = performance.now();
  const backend = await initBackend(o.backend);
  return { ds, backend, tf: backend.tf, ms: { load, backend: performance.now() - t0 } };
}

export function forwardModel(net: { spec: { layers: LayerNode[]; outputs: string[] }; info: ShapeInfo }, loss: LossName): ForwardModel {
  return new ForwardModel(net.spec.layers, net.spec.outputs[0], net.info, loss);
}
