// A data set read in the layout a loaded network expects, and the whole of it as one split (`bnlens probe`
// measures on every row of the file).

import type { LossName } from '../../protocol';
import { endsIn } from '../network/forward';
import type { LoadedNetwork } from '../network/load';
import { inputShape, outputWidth } from '../network/modelIO';
import { loadDataset, type Dataset, type DataSplit } from './index';

export function loadData(net: LoadedNetwork, spec: string, loss: LossName | 'auto', seed: number, limits?: { maxValues?: number }): Dataset {
  const chosen = loss === 'auto' ? modelLoss(net) : loss;
  return loadDataset(spec, { inputShape: inputShape(net.spec.layers), outputs: outputWidth(net), loss: chosen, layout: net.spec.layout, ...limits }, { seed });
}

const KERAS_LOSSES: Record<string, LossName> = {
  binary_crossentropy: 'binary-ce',
  BinaryCrossentropy: 'binary-ce',
  binaryCrossentropy: 'binary-ce',
  categorical_crossentropy: 'softmax-ce',
  sparse_categorical_crossentropy: 'softmax-ce',
  CategoricalCrossentropy: 'softmax-ce',
  SparseCategoricalCrossentropy: 'softmax-ce',
  categoricalCrossentropy: 'softmax-ce',
  sparseCategoricalCrossentropy: 'softmax-ce',
  mse: 'mse',
  mean_squared_error: 'mse',
  MeanSquaredError: 'mse',
  meanSquaredError: 'mse',
};

/**
 * The loss the network itself implies, when --loss is auto: the file's compile config if it names one
 * (binary_crossentropy, categorical_crossentropy, mse, …), else the output layer — one sigmoid unit is a
 * binary classifier (binary cross-entropy). 'auto' leaves it to the data (one linear unit: mse).
 */
export function modelLoss(net: LoadedNetwork): LossName | 'auto' {
  const compiled = net.compiledLoss ? KERAS_LOSSES[net.compiledLoss] : undefined;
  const width = outputWidth(net);
  if (compiled && !(compiled === 'binary-ce' && width !== 1)) return compiled;
  if (width !== 1) return 'auto';
  const out = net.spec.layers.find((l) => l.name === net.spec.outputs[0])!;
  return endsIn(out, 'sigmoid') ? 'binary-ce' : 'auto';
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
