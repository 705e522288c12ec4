// Puts our wasm kernels into the global kernel registry. Must run before tf.setBackend('wasm'): the engine
// calls every registered kernel's setupFunc on setBackend, and the matMul wrappers rely on the original
// setupFunc binding its C entry point.
import type { TfNamespace } from '../tfjsNode';
import { withPretransposedOperands } from './matMul';
import { nativeBatchMatMulConfig } from './gemm';
import { elementwiseConfigs, setDiffStatsConfig } from './elementwise';
import { SET_DIFF_STATS } from '../../probes/setDiffStats';
import { conv2dBackpropInputConfig } from './conv2dBackpropInput';
import { maxPoolGradConfig } from './maxPoolGrad';
import { conv2dBackpropFilterConfig } from './conv2dBackpropFilter';
import { tileConfig } from './tile';
import { sliceConfig } from './slice';
import { maxPoolGatherConfig, poolGradConfigs } from '../poolGrad';
import { f32, type WasmBackendLike } from './types';
import { cpuFallbackConfig, kernelsNeedingFallback } from './cpuFallback';
import { depthwiseBackpropConfigs } from './depthwiseBackprop';

export interface WasmKernelReport {
  /** Kernels replaced by a wrapper around the original. */
  wrapped: string[];
  /** Kernels replaced by a faster implementation of ours. */
  replaced: string[];
  /** Kernels the wasm backend lacked, now implemented natively (on the wasm heap). */
  added: string[];
  /** Kernels the wasm backend lacked, now run on the cpu backend with copies (see cpuFallback.ts). */
  viaCpu: string[];
}

let installed: WasmKernelReport | null = null;

export function installWasmKernels(tf: TfNamespace): WasmKernelReport {
  if (installed) return installed;
  const getKernel = tf.getKernel;
  const report: WasmKernelReport = { wrapped: [], replaced: [], added: [], viaCpu: [] };
  for (const name of ['BatchMatMul', '_FusedMatMul']) {
    const original = getKernel(name, 'wasm');
    if (!original) continue;
    tf.unregisterKernel(name, 'wasm');
    const wrapped = withPretransposedOperands(original, getKernel);
    if (name === 'BatchMatMul') {
      // Float32 products on our SIMD kernel (./gemm.ts); the wrapped original for anything else.
      tf.registerKernel(nativeBatchMatMulConfig(wrapped));
      report.replaced.push(name);
    } else {
      tf.registerKernel(wrapped);
      report.wrapped.push(name);
    }
  }
  // Elementwise ops and reductions on our SIMD module, the original kernel for other layouts and dtypes.
  for (const k of elementwiseConfigs((name) => getKernel(name, 'wasm'), tf.backend_util, tf.util)) {
    tf.unregisterKernel(k.kernelName, 'wasm');
    tf.registerKernel(k);
    report.replaced.push(k.kernelName);
  }
  // Replaced outright (no setup needed): a faster kernel with the same contract.
  if (getKernel('Tile', 'wasm')) tf.unregisterKernel('Tile', 'wasm');
  tf.registerKernel(tileConfig());
  report.replaced.push('Tile');
  {
    const original = getKernel('Slice', 'wasm');
    if (original) {
      tf.unregisterKernel('Slice', 'wasm');
      tf.registerKernel(sliceConfig(original, tf.slice_util));
      report.replaced.push('Slice');
    }
  }
  const heapIo = {
    read: (b: unknown, t: import('@tensorflow/tfjs-core').TensorInfo) => f32(b as WasmBackendLike, t).slice(),
    write: (b: unknown, shape: number[], values: Float32Array) => (b as WasmBackendLike).makeOutput(shape, 'float32', undefined, values),
  };
  const pools = poolGradConfigs('wasm', tf.backend_util, heapIo);
  tf.registerKernel(setDiffStatsConfig(SET_DIFF_STATS));
  report.added.push(SET_DIFF_STATS);
  // MaxPoolGrad's own gradient (second-order derivatives through max pooling, see ../secondOrder.ts).
  tf.registerKernel(maxPoolGatherConfig('wasm', tf.backend_util, heapIo));
  report.added.push('BnlensMaxPoolGatherAtArgmax');
  // MaxPoolGrad natively on the heap; the JS version (same rule) only for non-float32 inputs.
  for (const k of [maxPoolGradConfig(tf.backend_util, pools.max), pools.avg]) {
    if (getKernel(k.kernelName, 'wasm')) tf.unregisterKernel(k.kernelName, 'wasm');
    tf.registerKernel(k);
    report.replaced.push(k.kernelName);
  }
  {
    const original = getKernel('Conv2DBackpropInput', 'wasm');
    if (original) tf.unregisterKernel('Conv2DBackpropInput', 'wasm');
    tf.registerKernel(conv2dBackpropInputConfig(tf.backend_util, original));
    report.replaced.push('Conv2DBackpropInput');
  }
  if (!getKernel('Conv2DBackpropFilter', 'wasm')) {
    tf.registerKernel(conv2dBackpropFilterConfig(tf.backend_util, getKernel));
    report.added.push('Conv2DBackpropFilter');
  }
  for (const k of depthwiseBackpropConfigs(tf.backend_util)) {
    if (getKernel(k.kernelName, 'wasm')) continue;
    tf.registerKernel(k);
    report.added.push(k.kernelName);
  }
  for (const name of kernelsNeedingFallback(tf)) {
    tf.registerKernel(cpuFallbackConfig(tf, name));
    report.viaCpu.push(name);
  }
  installed = report;
  return report;
}
