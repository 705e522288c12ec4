// 'Conv2DBackpropFilter' for the wasm backend, which does not ship it (tfjs issue #8474): without it no
// convolutional network trains on wasm.
//
// dW[r,s,c,o] = Σ_{n,i,j} x[n, i·sh + r·dh − top, j·sw + s·dw − left, c] · dy[n,i,j,o]
// is one matrix product colsᵀ·dy once the input patches are laid out as colsᵀ[(r,s,c), (n,i,j)] (im2col,
// written directly in transposed form so the product is untransposed and goes to XNNPACK). The patch
// matrix is K = kh·kw·cin rows by P = n·oh·ow columns; it is built for a few images at a time so its size
// stays bounded (a 64-image batch of 32×32×64 inputs would otherwise need 150 MB), and the partial products
// are summed.
import type { KernelConfig, KernelFunc, TensorInfo, backend_util as BackendUtil } from '@tensorflow/tfjs-core';
import { f32, type KernelArgs, type WasmBackendLike } from './types';
import type { GetKernel } from './matMul';

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
    const info = backendUtil.computeConv2DInfo(
      x.shape as [number, number, number, number],
      attrs.filterShape,
      attrs.strides,
      attrs.dilations ?? 1,
      attrs.pad,
      attrs.dimRoundingMode,
    );
    return backpropFilter(args.backend, getKernel, x, dy, info);
  };
  return { kernelName: 'Conv2DBackpropFilter', backendName: 'wasm', kernelFunc: kernelFunc as unknown as KernelFunc };
}

function backpropFilter(
  backend: WasmBackendLike,
  getKernel: GetKernel,
  x: TensorInfo,
  dy: TensorInfo,
  info: BackendUtil.Conv2DInfo,
): TensorInfo {
  const { batchSize: n, inHeight: ih, inWidth: iw, inChannels: ci } = info;
  const { outHeight: oh, outWidth: ow, outChannels: co } = info;
  const { filterHeight: kh, filterWidth: kw, strideHeight: sh, strideWidth: sw } = info;
  const { dilationHeight: dh, dilationWidth: dw } = info;
  const top = info.padInfo.top;
  const left = info.padInfo.left;
  const k = kh * kw * ci;
  const perImage = oh * ow;
  const imagesPerChunk = Math.max(1, Math.min(n, Math.floor(MAX_PATCH_FLOATS / Math.max(1, k * perImage))));
  const matMul = getKernel('BatchMatMul', 'wasm')!.kernelFunc;

  const out = backend.makeOutput([kh, kw, ci, co], 'float32');
  for (let n0 = 0; n0 < n; n0 += imagesPerChunk) {
    const nc = Math.min(imagesPerChunk, n - n0);
    const p = nc * perImage;
    const cols = backend.makeOutput([k, p], 'float32');
    // dy rows for these images are contiguous: the whole tensor when there is one chunk, else a copy.
    const dyChunk = nc === n ? { dataId: dy.dataId, shape: [p, co], dtype: dy.dtype } : backend.makeOutput([p, co], 'float32');
    const xs = f32(backend, x);
    if (dyChunk.dataId !== dy.dataId) f32(backend, dyChunk).set(f32(backend, dy).subarray(n0 * perImage * co, (n0 + nc) * perImage * co));
    fillTransposedPatches(f32(backend, cols), xs, n0, nc, ih, iw, ci, oh, ow, kh, kw, sh, sw, dh, dw, top, left);

    const part = matMul({ inputs: { a: cols, b: dyChunk }, backend, attrs: { transposeA: false, transposeB: false } } as never) as TensorInfo;
    const acc = f32(backend, out);
    const add = f32(backend, part);
    if (n0 === 0) acc.set(add);
    else for (let i = 0; i < acc.length; i++) acc[i] += add[i];
    backend.disposeData(part.dataId);
    backend.disposeData(cols.dataId);
    if (dyChunk.dataId !== dy.dataId) backend.disposeData(dyChunk.dataId);
  }
  return out;
}

/** colsᵀ[(r·kw + s)·ci + c][(m·oh + i)·ow + j] = x[n0 + m, i·sh + r·dh − top, j·sw + s·dw − left, c], 0 in the padding. */
function fillTransposedPatches(
  cols: Float32Array, x: Float32Array, n0: number, nc: number,
  ih: number, iw: number, ci: number, oh: number, ow: number,
  kh: number, kw: number, sh: number, sw: number, dh: number, dw: number, top: number, left: number,
): void {
  const p = nc * oh * ow;
  for (let r = 0; r < kh; r++) {
    for (let s = 0; s < kw; s++) {
      for (let c = 0; c < ci; c++) {
        let o = ((r * kw + s) * ci + c) * p;
        for (let m = 0; m < nc; m++) {
          const imageBase = (n0 + m) * ih * iw * ci + c;
          for (let i = 0; i < oh; i++) {
            const y = i * sh + r * dh - top;
            if (y < 0 || y >= ih) {
              cols.fill(0, o, o + ow);
              o += ow;
              continue;
            }
            const rowBase = imageBase + y * iw * ci;
            let xcol = s * dw - left;
            for (let j = 0; j < ow; j++, xcol += sw) {
              cols[o++] = xcol >= 0 && xcol < iw ? x[rowBase + xcol * ci] : 0;
            }
          }
        }
      }
    }
  }
}
