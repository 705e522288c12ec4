// Pooling gradients in JavaScript, replacing two wrong tfjs kernels (found by the finite-difference tests):
//  - wasm 'MaxPoolGrad' routes the gradient to the wrong element when a window holds only negative values
//    (it seeds the running maximum badly); the cpu kernel is right.
//  - 'AvgPoolGrad' on both wasm and cpu divides by the full window size, while the forward AvgPool (like
//    TensorFlow) averages over the in-bounds elements only, so with 'same' padding the border gradients are
//    too small. tfjs-node runs TensorFlow's own kernel, which is right.
import type { KernelConfig, KernelFunc, TensorInfo, backend_util as BackendUtil } from '@tensorflow/tfjs-core';

interface PoolAttrs {
  filterSize: number | [number, number];
  strides: number | [number, number];
  pad: 'valid' | 'same' | number | BackendUtil.ExplicitPadding;
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
}

/** dx for max pooling: each window's dy goes to its (first) largest in-bounds input. */
export function maxPoolBackprop(x: Float32Array, dy: Float32Array, info: BackendUtil.Conv2DInfo): Float32Array {
  const dx = new Float32Array(x.length);
  forEachWindow(info, (xBase, oIdx, rows, cols, ch) => {
    const { inWidth, inChannels } = info;
    let best = -Infinity, at = -1;
    for (const y of rows) for (const xx of cols) {
      const i = xBase + (y * inWidth + xx) * inChannels + ch;
      if (x[i] > best || at < 0) { best = x[i]; at = i; }
    }
    if (at >= 0) dx[at] += dy[oIdx];
  });
  return dx;
}

/** dx for average pooling: each window's dy spread evenly over its in-bounds inputs, as the forward averages. */
export function avgPoolBackprop(dy: Float32Array, inSize: number, info: BackendUtil.Conv2DInfo): Float32Array {
  const dx = new Float32Array(inSize);
  forEachWindow(info, (xBase, oIdx, rows, cols, ch) => {
    const { inWidth, inChannels } = info;
    const share = dy[oIdx] / (rows.length * cols.length);
    for (const y of rows) for (const xx of cols) dx[xBase + (y * inWidth + xx) * inChannels + ch] += share;
  });
  return dx;
}

function forEachWindow(
  info: BackendUtil.Conv2DInfo,
  visit: (xBase: number, outIndex: number, rows: number[], cols: number[], channel: number) => void,
): void {
  const { batchSize, inHeight, inWidth, inChannels, outHeight, outWidth } = info;
  const { strideHeight, strideWidth, filterHeight, filterWidth, dilationHeight, dilationWidth } = info;
  const top = info.padInfo.top, left = info.padInfo.left;
  const inBounds = (start: number, k: number, d: number, n: number) => {
    const out: number[] = [];
    for (let t = 0; t < k; t++) { const v = start + t * d; if (v >= 0 && v < n) out.push(v); }
    return out;
  };
  let o = 0;
  for (let b = 0; b < batchSize; b++) {
    const xBase = b * inHeight * inWidth * inChannels;
    for (let i = 0; i < outHeight; i++) {
      const rows = inBounds(i * strideHeight - top, filterHeight, dilationHeight, inHeight);
      for (let j = 0; j < outWidth; j++) {
        const cols = inBounds(j * strideWidth - left, filterWidth, dilationWidth, inWidth);
        for (let ch = 0; ch < inChannels; ch++) visit(xBase, o++, rows, cols, ch);
      }
    }
  }
}

/** How a backend lets a kernel read a float32 input and make a float32 output. */
export interface HostAccess {
  read(backend: unknown, t: TensorInfo): Float32Array;
  write(backend: unknown, shape: number[], values: Float32Array): TensorInfo;
}

export function poolGradConfigs(backendName: string, backendUtil: typeof BackendUtil, io: HostAccess): { max: KernelConfig; avg: KernelConfig } {
  const infoOf = (inShape: number[], a: PoolAttrs) =>
    backendUtil.computePool2DInfo(inShape as [number, number, number, number], a.filterSize, a.strides, 1, a.pad, a.dimRoundingMode);
  const max = ({ inputs, backend, attrs }: { inputs: Record<string, TensorInfo>; backend: unknown; attrs: PoolAttrs }) => {
    const x = inputs.input;
    const dx = maxPoolBackprop(io.read(backend, x), io.read(backend, inputs.dy), infoOf(x.shape, attrs));
    return io.write(backend, x.shape, dx);
  };
  const avg = ({ inputs, backend, attrs }: { inputs: Record<string, TensorInfo>; backend: unknown; attrs: PoolAttrs }) => {
    const x = inputs.input;
    const dx = avgPoolBackprop(io.read(backend, inputs.dy), x.shape.reduce((p, q) => p * q, 1), infoOf(x.shape, attrs));
    return io.write(backend, x.shape, dx);
  };
  return {
    max: { kernelName: 'MaxPoolGrad', backendName, kernelFunc: max as unknown as KernelFunc },
    avg: { kernelName: 'AvgPoolGrad', backendName, kernelFunc: avg as unknown as KernelFunc },
  };
}
