// A correct, slow safety net for the few kernels the wasm backend lacks and that have no native
// implementation of ours: the inputs are copied to the pure-JS cpu backend, its kernel runs there, and the
// outputs are copied back into the wasm heap. Used only for rare ops (depthwise convolution gradients,
// UnsortedSegmentSum for the gradient of gather, Einsum, ragged ops); the list is FALLBACK_KERNELS after
// installation. Complex, string and drawing kernels are left out: their data cannot be copied as plain
// typed arrays.
import type { DataType, KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import type { TfNamespace } from '../tfjsNode';
import type { KernelArgs } from './types';

const NOT_COPYABLE = new Set(['Complex', 'ComplexAbs', 'FFT', 'IFFT', 'RFFT', 'IRFFT', 'Real', 'Imag', 'Draw', 'StaticRegexReplace']);

interface CpuBackendLike {
  write(values: ArrayLike<number>, shape: number[], dtype: DataType): object;
  readSync(dataId: object): ArrayLike<number>;
  disposeData(dataId: object, force?: boolean): boolean;
}

/** Kernels registered on cpu and not on wasm, which the fallback can carry. */
export function kernelsNeedingFallback(tf: TfNamespace): string[] {
  const onWasm = new Set(tf.getKernelsForBackend('wasm').map((k) => k.kernelName));
  return tf
    .getKernelsForBackend('cpu')
    .map((k) => k.kernelName)
    .filter((name) => !onWasm.has(name) && !NOT_COPYABLE.has(name));
}

export function cpuFallbackConfig(tf: TfNamespace, kernelName: string): KernelConfig {
  const kernelFunc = (args: KernelArgs): TensorInfo | TensorInfo[] => {
    const cpu = tf.findBackend('cpu') as unknown as CpuBackendLike | null;
    const cpuKernel = tf.getKernel(kernelName, 'cpu');
    if (!cpu || !cpuKernel) throw new Error(`wasm fallback for '${kernelName}': the cpu backend is not available`);
    const onCpu: object[] = [];
    const toCpu = (t: TensorInfo | undefined): TensorInfo | undefined => {
      if (t == null) return t;
      if (t.dtype === 'string' || t.dtype === 'complex64') throw new Error(`wasm fallback for '${kernelName}' cannot copy ${t.dtype} tensors`);
      const dataId = cpu.write(args.backend.readSync(t.dataId) as ArrayLike<number>, t.shape, t.dtype);
      onCpu.push(dataId);
      return { dataId, shape: t.shape, dtype: t.dtype };
    };
    // Concat, AddN and Pack pass their inputs as an array: keep that shape.
    const inputs = Array.isArray(args.inputs) ? (args.inputs as (TensorInfo | undefined)[]).map(toCpu) : Object.fromEntries(Object.entries(args.inputs).map(([k, t]) => [k, toCpu(t)]));
    try {
      const result = cpuKernel.kernelFunc({ inputs, backend: cpu, attrs: args.attrs } as never) as TensorInfo | TensorInfo[];
      const outs = Array.isArray(result) ? result : [result];
      const copied = outs.map((o) => {
        onCpu.push(o.dataId);
        return args.backend.makeOutput(o.shape, o.dtype, undefined, cpu.readSync(o.dataId));
      });
      return Array.isArray(result) ? copied : copied[0];
    } finally {
      for (const id of new Set(onCpu)) cpu.disposeData(id, true);
    }
  };
  return { kernelName, backendName: 'wasm', kernelFunc: kernelFunc as unknown as KernelFunc };
}
