// 'Conv2DBackpropInput' on our SIMD module. tfjs-backend-wasm's own kernel is a direct loop at ~3 GFLOP/s
// and was the largest cost of a convnet's training step. Here
//   cols[(n,i,j), (r,s,c)] = Σ_o dy[n,i,j,o] · W[r,s,c,o]      one product dy·Wᵀ (gemm, Wᵀ through strides)
//   dx[n, i·sh + r·dh − top, j·sw + s·dw − left, c] += cols[(n,i,j), (r,s,c)]      (col2im)
// for a few images at a time, so the patch matrix stays bounded (as in conv2dBackpropFilter.ts).
import type { KernelConfig, KernelFunc, TensorInfo, backend_util as BackendUtil } from '@tensorflow/tfjs-core';
import { gemmFor, gemmOnce, gemmWorkFloats, heapOffset, isPointwise } from './gemm';
import { f32, type KernelArgs } from './types';

const MAX_PATCH_FLOATS = 4 * 1024 * 1024;

interface Attrs {
  strides: number | [number, number];
  pad: 'valid' | 'same' | number | BackendUtil.ExplicitPadding;
  dataFormat: 'NHWC' | 'NCHW';
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
  inputShape: [number, number, number, number];
}

export function conv2dBackpropInputConfig(backendUtil: typeof BackendUtil, original: KernelConfig | undefined): KernelConfig {
  const kernelFunc = (args: KernelArgs): TensorInfo => {
    const dy = args.inputs.dy as TensorInfo;
    const filter = args.inputs.filter as TensorInfo;
    const attrs = args.attrs as unknown as Attrs;
    if ((attrs.dataFormat ?? 'NHWC') !== 'NHWC' || dy.dtype !== 'float32' || filter.dtype !== 'float32') {
      if (original) return original.kernelFunc(args as never) as TensorInfo;
      throw new Error('Conv2DBackpropInput on wasm: only float32 NHWC is supported');
    }
    const backend = args.backend;
    const info = backendUtil.computeConv2DInfo(attrs.inputShape, filter.shape as [number, number, number, number], attrs.strides, 1, attrs.pad, attrs.dimRoundingMode);
    const { batchSize: n, inHeight: ih, inWidth: iw, inChannels: ci, outHeight: oh, outWidth: ow, outChannels: co } = info;
    const { filterHeight: kh, filterWidth: kw, strideHeight: sh, strideWidth: sw, dilationHeight: dh, dilationWidth: dw } = info;
    const out = backend.makeOutput(attrs.inputShape, 'float32');
    const k = kh * kw * ci;
    const perImage = oh * ow;
    // Pointwise: dx = dy·Wᵀ written in place (no patch matrix, no col2im, no zeroing).
    if (isPointwise(info) && n * perImage > 0 && ci > 0) {
      if (co === 0) {
        f32(backend, out).fill(0);
        return out;
      }
      gemmOnce(backend, n * perImage, ci, co, heapOffset(backend, dy), co, 1, heapOffset(backend, filter), 1, co, heapOffset(backend, out), ci);
      return out;
    }
    f32(backend, out).fill(0);
    if (n === 0 || k === 0 || perImage === 0) return out;
    const chunk = Math.max(1, Math.min(n, Math.floor(MAX_PATCH_FLOATS / Math.max(1, k * perImage))));
    const g = gemmFor(backend);
    const cols = backend.makeOutput([chunk * perImage * k], 'float32');
    const work = backend.makeOutput([gemmWorkFloats(chunk * perImage, k, co)], 'float32');
    try {
      const dyOff = heapOffset(backend, dy);
      const wOff = heapOffset(backend, filter);
      const colsOff = heapOffset(backend, cols);
      const workOff = heapOffset(backend, work);
      const dxOff = heapOffset(backend, out);
      for (let n0 = 0; n0 < n; n0 += chunk) {
        const nc = Math.min(chunk, n - n0);
        const p = nc * perImage;
        // A = dy rows of these images [p, co]; B(o, (r,s,c)) = W[(r,s,c)·co + o]: strides 1 and co.
        g.gemm(p, k, co, dyOff + 4 * n0 * perImage * co, co, 1, wOff, 1, co, colsOff, k, workOff);
        g.col2im(colsOff, nc, ih, iw, ci, oh, ow, kh, kw, sh, sw, dh, dw, info.padInfo.top, info.padInfo.left, dxOff + 4 * n0 * ih * iw * ci);
      }
    } finally {
      backend.disposeData(cols.dataId);
      backend.disposeData(work.dataId);
    }
    return out;
  };
  return { ...(original ?? {}), kernelName: 'Conv2DBackpropInput', backendName: 'wasm', kernelFunc: kernelFunc as unknown as KernelFunc };
}
