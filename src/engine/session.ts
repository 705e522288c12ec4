// What a probe or a training run needs before the first step: the network read and checked, the data
// loaded in the model's layout, the backend started, and the tensors that hold weights and data.

import type * as tfc from '@tensorflow/tfjs-core';
import type { BackendChoice, LossName } from '../protocol';
import { initBackend, type ActiveBackend } from './backend';
import { loadDataset, type Dataset, type DataSplit } from './data';
import { UserError } from './errors';
import { ForwardModel, type Tensor, type TF } from './network/forward';
import type { LayerNode } from './network/ir';
import { initialWeights, loadNetwork, paramKey, type LoadedNetwork } from './network/load';
import type { ShapeInfo } from './network/shapes';
import type { Batch } from './probes';

export function outputWidth(net: LoadedNetwork): number {
  const shape = net.info.shapes.get(net.spec.outputs[0])!;
  if (shape.length !== 1)
    throw new UserError(`the output layer "${net.spec.outputs[0]}" has shape [${shape.join(', ')}]; end the network with a Dense layer (add Flatten before it)`, net.spec.file);
  return shape[0];
}

export function inputShape(layers: LayerNode[]): number[] {
  const input = layers.find((l) => l.kind === 'input');
  return input && input.kind === 'input' ? input.shape : [];
}

export function loadData(net: LoadedNetwork, spec: string, loss: LossName | 'auto', seed: number): Dataset {
  return loadDataset(spec, { inputShape: inputShape(net.spec.layers), outputs: outputWidth(net), loss }, { seed });
}

/** Parameter tensors in model order, from a weights map keyed `layer/role`. */
export function paramTensors(tf: TF, info: ShapeInfo, values: Map<string, Float32Array>): Tensor[] {
  return info.params.map((p) => tf.tensor(values.get(paramKey(p.layer, p.role))!, p.shape, 'float32'));
}

export function batchTensors(tf: TF, ds: Dataset, split: DataSplit, rows?: { x: Float32Array; labels?: Int32Array; targets?: Float32Array; n: number }): Batch {
  const s = rows ?? split;
  const x = tf.tensor(s.x, [s.n, ...ds.inputShape], 'float32');
  const y = ds.loss === 'softmax-ce' ? tf.tensor1d(s.labels!, 'int32') : tf.tensor(s.targets!, [s.n, ds.outputs], 'float32');
  return { x, y };
}

export function mergeSplits(a: DataSplit, b: DataSplit): DataSplit {
  const cat = <T extends Float32Array | Int32Array>(u: T | undefined, v: T | undefined, C: { new (n: number): T }) => {
    if (!u || !v) return u ?? v;
    const out = new C(u.length + v.length);
    out.set(u);
    out.set(v, u.length);
    return out;
  };
  return {
    n: a.n + b.n,
    x: cat(a.x, b.x, Float32Array)!,
    labels: cat(a.labels, b.labels, Int32Array),
    targets: cat(a.targets, b.targets, Float32Array),
  };
}

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

export { initialWeights };
export type { tfc };
