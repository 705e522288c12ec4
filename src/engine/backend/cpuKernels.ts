// Corrections to the pure-JS cpu backend (used as a backend and by the wasm fallback): its AvgPoolGrad
// divides by the whole window where the forward pass averages the in-bounds elements (see poolGrad.ts); and
// MaxPoolGrad's own gradient, which second-order derivatives need (see secondOrder.ts).
import type { DataType, TensorInfo } from '@tensorflow/tfjs-core';
import { maxPoolGatherConfig, poolGradConfigs } from './poolGrad';
import type { TfNamespace } from './tfjsNode';

interface CpuBackendLike {
  readSync(dataId: object): ArrayLike<number>;
  makeTensorInfo(shape: number[], dtype: DataType, values: Float32Array): TensorInfo;
}

let done = false;

export function installCpuKernels(tf: TfNamespace): void {
  if (done) return;
  const io = {
    read: (b: unknown, t: TensorInfo) => Float32Array.from((b as CpuBackendLike).readSync(t.dataId)),
    write: (b: unknown, shape: number[], values: Float32Array) => (b as CpuBackendLike).makeTensorInfo(shape, 'float32', values),
  };
  const { avg } = poolGradConfigs('cpu', tf.backend_util, io);
  tf.registerKernel(maxPoolGatherConfig('cpu', tf.backend_util, io));
  if (tf.getKernel('AvgPoolGrad', 'cpu')) tf.unregisterKernel('AvgPoolGrad', 'cpu');
  tf.registerKernel(avg);
  done = true;
}
