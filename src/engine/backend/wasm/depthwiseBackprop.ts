// The two gradient kernels of a depthwise convolution for the wasm backend, which ships neither. Through the
// cpu fallback (copies to the pure-JS backend, element access through TensorBuffer) the filter gradient took
// 85% of a MobileNetV2 training step; these loops run on the wasm heap directly, innermost over the
// contiguous channels (depth multiplier 1, MobileNet's, in native/gemm.c with SIMD: the JS loops took 16
// times the forward convolution's time there; other multipliers in the JS loops below):
//   dK[r, s, c, m]  = Σ_{n,i,j} x[n, i·sh + r·dh − top, j·sw + s·dw − left, c] · dy[n, i, j, c·M + m]
//   dx[n, y, x, c] += Σ_m K[r, s, c, m] · dy[n, i, j, c·M + m]   for the (i, j, r, s) that reach (y, x)
import type { KernelConfig, KernelFunc, TensorInfo, backend_util as BackendUtil } from '@tensorflow/tfjs-core';
import { gemmFor, heapOffset } from './gemm';
import { f32, type KernelArgs, type WasmBackendLike } from './types';

/** native/gemm.c's loops for depth multiplier 1: (x or K, dy, out, n, H, W, C, OH, OW, kh, kw, sh, sw, dh, dw, top, left). */
type DepthwiseLoop = (src: number, dy: number, out: number, ...dims: number[]) => void;
interface DepthwiseExports {
  dw_filter: DepthwiseLoop;
  dw_input: DepthwiseLoop;
}

interface DepthwiseAttrs {
  strides: number | [number, number];
  dilations: number | [number, number];
  pad: 'valid' | 'same' | number | BackendUtil.ExplicitPadding;
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
  filterShape?: [number, number, number, number];
  inputShape?: [number, number, number, number];
}

export function depthwiseBackpropConfigs(backendUtil: typeof BackendUtil): KernelConfig[] {
  const info = (xShape: number[], filterShape: number[], a: DepthwiseAttrs) =>
    backendUtil.computeConv2DInfo(xShape as [number, number, number, number], filterShape as [number, number, number, number], a.strides, a.dilations ?? 1, a.pad, a.dimRoundingMode, true);
  const filter = (args: KernelArgs): TensorInfo => {
    const x = args.inputs.x as TensorInfo;
    const dy = args.inputs.dy as TensorInfo;
    const a = args.attrs as unknown as DepthwiseAttrs;
    return loops(args.backend, info(x.shape, a.filterShape!, a), 'filter', x, dy, null);
  };
  const input = (args: KernelArgs): TensorInfo => {
    const dy = args.inputs.dy as TensorInfo;
    const k = args.inputs.filter as TensorInfo;
    const a = args.attrs as unknown as DepthwiseAttrs;
    return loops(args.backend, info(a.inputShape!, k.shape, a), 'input', null, dy, k);
  };
  return [
    { kernelName: 'DepthwiseConv2dNativeBackpropFilter', backendName: 'wasm', kernelFunc: filter as unknown as KernelFunc },
    { kernelName: 'DepthwiseConv2dNativeBackpropInput', backendName: 'wasm', kernelFunc: input as unknown as KernelFunc },
  ];
}

function loops(backend: WasmBackendLike, info: BackendUtil.Conv2DInfo, want: 'filter' | 'input', x: TensorInfo | null, dy: TensorInfo, k: TensorInfo | null): TensorInfo {
  const { batchSize: n, inHeight: H, inWidth: W, inChannels: C, outHeight: OH, outWidth: OW, outChannels: CM } = info;
  const { filterHeight: kh, filterWidth: kw, strideHeight: sh, strideWidth: sw, dilationHeight: dh, dilationWidth: dw } = info;
  const top = info.padInfo.top;
  const left = info.padInfo.left;
  const M = CM / C;
  const out = backend.makeOutput(want === 'filter' ? [kh, kw, C, M] : [n, H, W, C], 'float32');
  // Views after the allocation: a growing heap detaches earlier ones.
  const O = f32(backend, out);
  O.fill(0);
  if (M === 1) {
    const g = gemmFor(backend) as unknown as DepthwiseExports;
    const run = want === 'filter' ? g.dw_filter : g.dw_input;
    run(heapOffset(backend, want === 'filter' ? x! : k!), heapOffset(backend, dy), heapOffset(backend, out), n, H, W, C, OH, OW, kh, kw, sh, sw, dh, dw, top, left);
    return out;
  }
  const DY = f32(backend, dy);
  const X = x ? f32(backend, x) : null;
  const K = k ? f32(backend, k) : null;
  for (let b = 0; b < n; b++)
    for (let i = 0; i < OH; i++)
      for (let j = 0; j < OW; j++) {
        const dyBase = ((b * OH + i) * OW + j) * CM;
        for (let r = 0; r < kh; r++) {
          const y = i * sh + r * dh - top;
          if (y < 0 || y >= H) continue;
          for (let s = 0; s < kw; s++) {
            const xx = j * sw + s * dw - left;
            if (xx < 0 || xx >= W) continue;
            const xBase = ((b * H + y) * W + xx) * C;
            const kBase = (r * kw + s) * CM;
            if (want === 'filter')
              for (let c = 0; c < C; c++) {
                const v = X![xBase + c];
                for (let m = 0; m < M; m++) O[kBase + c * M + m] += v * DY[dyBase + c * M + m];
              }
            else
              for (let c = 0; c < C; c++) {
                let acc = 0;
                for (let m = 0; m < M; m++) acc += K![kBase + c * M + m] * DY[dyBase + c * M + m];
                O[xBase + c] += acc;
              }
          }
        }
      }
  return out;
}
