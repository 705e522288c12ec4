// Host arrays to tfjs tensors: the parameters in model order and a batch of inputs with its labels or targets.

import type { Dataset, DataSplit } from './data';
import { targetTensor, type Tensor, type TF } from './network/forward';
import { paramKey } from './network/load';
import type { ShapeInfo } from './network/shapes';
import type { Batch } from './probes/lossAndGrads';

/** Parameter tensors in model order, from a weights map keyed `layer/role`. */
export function paramTensors(tf: TF, info: ShapeInfo, values: Map<string, Float32Array>): Tensor[] {
  return info.params.map((p) => tf.tensor(values.get(paramKey(p.layer, p.role))!, p.shape, 'float32'));
}

/** A batch as tensors: inputs [n, ...inputShape], and class ids (softmax-ce), labels 0/1 [n, 1] (binary-ce) or targets [n, outputs] (mse). */
export function batchTensors(tf: TF, ds: Dataset, rows: DataSplit): Batch {
  return tf.tidy(() => ({
    x: tf.tensor(rows.x, [rows.n, ...ds.inputShape], 'float32'),
    y: targetTensor(tf, ds.loss, rows, ds.outputs),
  }));
}
