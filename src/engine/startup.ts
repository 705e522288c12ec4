// What a probe or a training run needs before the first step: the network read and checked, the backend
// started, and the model that runs the network's forward pass.

import type { BackendChoice, LossName } from '../protocol';
import { initBackend, type ActiveBackend } from './backend';
import { ForwardModel, type TF } from './network/forward';
import type { LayerNode } from './network/ir';
import { loadNetwork, type LoadedNetwork } from './network/load';
import type { ShapeInfo } from './network/shapes';

export interface Session {
  backend: ActiveBackend;
  tf: TF;
  net: LoadedNetwork;
}

export async function startSession(modelFile: string, backend: BackendChoice): Promise<Session> {
  const net = loadNetwork(modelFile);
  const active = await initBackend(backend);
  return { backend: active, tf: active.tf as unknown as TF, net };
}

export function forwardModel(net: { spec: { layers: LayerNode[]; outputs: string[] }; info: ShapeInfo }, loss: LossName): ForwardModel {
  return new ForwardModel(net.spec.layers, net.spec.outputs[0], net.info, loss === 'softmax-ce');
}
