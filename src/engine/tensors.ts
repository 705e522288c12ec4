// Host arrays to tfjs tensors: the parameters in model order and a batch of inputs with its labels or targets.

import type { Dataset, DataSplit } from './data';
import type { Tensor, TF } from './network/forward';
import { paramKey } from './network/load';
import type { ShapeInfo } from './network/shapes';
import type { Batch } from './probes/lossAndGrads';

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
