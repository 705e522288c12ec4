// 'MaxPoolGrad' on our module (native/gemm.c), in place on the heap: the same rule as poolGrad.ts's
// maxPoolBackprop (which still serves the cpu backend), without copying x and dy out of the heap and
// without a closure per window.
import type { KernelConfig, KernelFunc, TensorInfo, backend_util as BackendUtil } from '@tensorflow/tfjs-core';
import { gemmFor, heapOffset } from './gemm';
import { f32, type KernelArgs } from './types';

interface PoolAttrs {
  filterSize: number | [number, number];
  strides: number | [number, number];
  pad: 'valid' | 'same' | number | BackendUtil.ExplicitPadding;
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
}

type MaxPoolGradExport = (
  x: number,
  dy: number,
  nb: number,
  ih: number,
  iw: number,
  c: number,
  oh: number,
  ow: number,
  kh: number,
  kw: number,
  sh: number,
  sw: number,
  dh: number,
  dw: number,
  top: number,
  left: number,
  dx: number,
) => void;

export function maxPoolGradConfig(backendUtil: typeof BackendUtil, fallback: KernelConfig): KernelConfig {
  const kernelFunc = (args: KernelArgs): TensorInfo => {
    const x = args.inputs.input as TensorInfo;
    const dy = args.inputs.dy as TensorInfo;
    if (x.dtype !== 'float32' || dy.dtype !== 'float32') return fallback.kernelFunc(args as never) as TensorInfo;
    const a = args.attrs as unknown as PoolAttrs;
    const info = backendUtil.computePool2DInfo(x.shape as [number, number, number, number], a.filterSize, a.strides, 1, a.pad, a.dimRoundingMode);
    const backend = args.backend;
    const out = backend.makeOutput(x.shape, 'float32');
    f32(backend, out).fill(0);
    if (x.shape.some((d) => d === 0)) return out;
    const run = (gemmFor(backend) as unknown as { maxpoolgrad: MaxPoolGradExport }).maxpoolgrad;
    run(
      heapOffset(backend, x),
      heapOffset(backend, dy),
      info.batchSize,
      info.inHeight,
      info.inWidth,
      info.inChannels,
      info.outHeight,
      info.outWidth,
      info.filterHeight,
      info.filterWidth,
      info.strideHeight,
      info.strideWidth,
      info.dilationHeight,
      info.dilationWidth,
      info.padInfo.top,
      info.padInfo.left,
      heapOffset(backend, out),
    );
    return out;
  };
  return { kernelName: 'MaxPoolGrad', backendName: 'wasm', kernelFunc: kernelFunc as unknown as KernelFunc };
}
