// 'Conv2DBackpropFilter' for the wasm backend, which does not ship it (tfjs issue #8474): without it no
// convolutional network trains on wasm.
//
// dW[r,s,c,o] = Σ_{n,i,j} x[n, i·sh + r·dh − top, j·sw + s·dw − left, c] · dy[n,i,j,o]
// is one matrix product colsᵀ·dy once the input patches are laid out as cols[(n,i,j), (r,s,c)] (im2col,
// native/gemm.c, copying runs of cin floats; the transpose is a stride of our gemm). The patch matrix is
// P = n·oh·ow rows by K = kh·kw·cin columns; it is built for a few images at a time so its size stays
// bounded (a 64-image batch of 32×32×64 inputs would otherwise need 150 MB), and the partial products are
// summed.
import type { KernelConfig, KernelFunc, TensorInfo, backend_util as BackendUtil } from '@tensorflow/tfjs-core';
import { f32, type KernelArgs, type WasmBackendLike } from './types';
import type { GetKernel } from './matMul';
import { gemmFor, gemmOnce, gemmWorkFloats, heapOffset, isPointwise, type GemmExports } from './gemm';

/** Upper bound on the patch matrix, in floats (16 MB). */
const MAX_PATCH_FLOATS = 4 * 1024 * 1024;

export interface Conv2DBackpropFilterAttrs {
  strides: number | [number, number];
  pad: 'valid' | 'same' | number | BackendUtil.ExplicitPadding;
  dataFormat: 'NHWC' | 'NCHW';
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
  filterShape: [number, number, number, number];
  /** Not an attribute of the tfjs kernel; used by our dilated-conv2d gradient. */
  dilations?: number | [number, number];
}

export function conv2dBackpropFilterConfig(backendUtil: typeof BackendUtil, getKernel: GetKernel): KernelConfig {
  const kernelFunc = (args: KernelArgs): TensorInfo => {
    const x = args.inputs.x as TensorInfo;
    const dy = args.inputs.dy as TensorInfo;
    const attrs = args.attrs as unknown as Conv2DBackpropFilterAttrs;
    if (attrs.dataFormat === 'NCHW') {
      throw new Error("Conv2DBackpropFilter on wasm supports dataFormat 'NHWC' only (the wasm Conv2D does too)");
    }
    const info = backendUtil.computeConv2DInfo(x.shape as [number, number, number, number], attrs.filterShape, attrs.strides, attrs.dilations ?? 1, attrs.pad, attrs.dimRoundingMode);
    void getKernel;
    return backpropFilter(args.backend, x, dy, info);
  };
  return { kernelName: 'Conv2DBackpropFilter', backendName: 'wasm', kernelFunc: kernelFunc as unknown as KernelFunc };
}

function backpropFilter(backend: WasmBackendLike, x: TensorInfo, dy: TensorInfo, info: BackendUtil.Conv2DInfo): TensorInfo {
  const { batchSize: n, inHeight: ih, inWidth: iw, inChannels: ci } = info;
  const { outHeight: oh, outWidth: ow, outChannels: co } = info;
  const { filterHeight: kh, filterWidth: kw, strideHeight: sh, strideWidth: sw } = info;
  const { dilationHeight: dh, dilationWidth: dw } = info;
  const k = kh * kw * ci;
  const perImage = oh * ow;
  const out = backend.makeOutput([kh, kw, ci, co], 'float32');
  if (n === 0 || perImage === 0 || k === 0 || co === 0) {
    f32(backend, out).fill(0);
    return out;
  }
  // Pointwise: dW = xᵀ·dy over all n·oh·ow pixels, x read in place instead of copied into a patch matrix.
  if (isPointwise(info)) {
    gemmOnce(backend, ci, co, n * perImage, heapOffset(backend, x), 1, ci, heapOffset(backend, dy), co, 1, heapOffset(backend, out), co);
    return out;
  }
  const imagesPerChunk = Math.max(1, Math.min(n, Math.floor(MAX_PATCH_FLOATS / Math.max(1, k * perImage))));
  const chunks = Math.ceil(n / imagesPerChunk);
  const g = gemmFor(backend) as GemmExports & { im2col: Im2col; add: (a: number, na: number, b: number, nb: number, out: number, len: number) => void };
  const cols = backend.makeOutput([imagesPerChunk * perImage * k], 'float32');
  const work = backend.makeOutput([gemmWorkFloats(k, co, imagesPerChunk * perImage)], 'float32');
  const part = chunks > 1 ? backend.makeOutput([k * co], 'float32') : null;
  try {
    const xOff = heapOffset(backend, x);
    const dyOff = heapOffset(backend, dy);
    const colsOff = heapOffset(backend, cols);
    const workOff = heapOffset(backend, work);
    const outOff = heapOffset(backend, out);
    const partOff = part ? heapOffset(backend, part) : 0;
    for (let n0 = 0; n0 < n; n0 += imagesPerChunk) {
      const nc = Math.min(imagesPerChunk, n - n0);
      const p = nc * perImage;
      g.im2col(xOff + 4 * n0 * ih * iw * ci, nc, ih, iw, ci, oh, ow, kh, kw, sh, sw, dh, dw, info.padInfo.top, info.padInfo.left, colsOff);
      // dW[(r,s,c), o] = Σ_p cols[p, (r,s,c)]·dy[p, o]: A = colsᵀ through strides (1, k).
      const dst = n0 === 0 ? outOff : partOff;
      g.gemm(k, co, p, colsOff, 1, k, dyOff + 4 * n0 * perImage * co, co, 1, dst, co, workOff);
      if (n0 > 0) g.add(outOff, k * co, partOff, k * co, outOff, k * co);
    }
  } finally {
    backend.disposeData(cols.dataId);
    backend.disposeData(work.dataId);
    if (part) backend.disposeData(part.dataId);
  }
  return out;
}

type Im2col = (x: number, nc: number, ih: number, iw: number, ci: number, oh: number, ow: number, kh: number, kw: number, sh: number, sw: number, dh: number, dw: number, top: number, left: number, cols: number) => void;
