// Corrections to the pure-JS cpu backend (used as a backend and by the wasm fallback): its AvgPoolGrad
// divides by the whole window where the forward pass averages the in-bounds elements (see poolGrad.ts).
import type { DataType, TensorInfo } from '@tensorflow/tfjs-core';
import { poolGradConfigs } from './poolGrad';
import type { TfNamespace } from './tfjsNode';

interface CpuBackendLike {
  readSync(dataId: object): ArrayLike<number>;
  makeTensorInfo(shape: number[], dtype: DataType, values: Float32Array): TensorInfo;
}

let done = false;

export function installCpuKernels(tf: TfNamespace): void {
  if (done) return;
  const { avg } = poolGradConfigs('cpu', tf.backend_util, {
    read: (b, t) => Float32Array.from((b as CpuBackendLike).readSync(t.dataId)),
    write: (b, shape, values) => (b as CpuBackendLike).makeTensorInfo(shape, 'float32', values),
  });
  if (tf.getKernel('AvgPoolGrad', 'cpu')) tf.unregisterKernel('AvgPoolGrad', 'cpu');
  tf.registerKernel(avg);
  done = true;
}
