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
  forEachArgmax(x, info, (o, at) => (dx[at] += dy[o]));
  return dx;
}

/**
 * The adjoint of maxPoolBackprop in dy: each window reads dd at its (first) largest in-bounds input — the
 * same element maxPoolBackprop routes to. This is MaxPoolGrad's own gradient with respect to dy.
 */
export function maxPoolGatherAtArgmax(x: Float32Array, dd: Float32Array, outSize: number, info: BackendUtil.Conv2DInfo): Float32Array {
  const out = new Float32Array(outSize);
  forEachArgmax(x, info, (o, at) => (out[o] = dd[at]));
  return out;
}

/** For each output o of max pooling, the index of its window's (first) largest in-bounds input, if any. */
function forEachArgmax(x: Float32Array, info: BackendUtil.Conv2DInfo, visit: (o: number, at: number) => void): void {
  const { inWidth, inChannels: c, dilationHeight: dh, dilationWidth: dw } = info;
  forEachWindow(info, (xBase, o, y0, y1, x0, x1) => {
    for (let ch = 0; ch < c; ch++, o++) {
      let best = -Infinity,
        at = -1;
      for (let y = y0; y < y1; y += dh)
        for (let xx = x0; xx < x1; xx += dw) {
          const i = xBase + (y * inWidth + xx) * c + ch;
          if (at < 0 || x[i] > best) {
            best = x[i];
            at = i;
          }
        }
      if (at >= 0) visit(o, at);
    }
  });
}

/** dx for average pooling: each window's dy spread evenly over its in-bounds inputs, as the forward averages. */
export function avgPoolBackprop(dy: Float32Array, inSize: number, info: BackendUtil.Conv2DInfo): Float32Array {
  const dx = new Float32Array(inSize);
  const { inWidth, inChannels: c, dilationHeight: dh, dilationWidth: dw } = info;
  forEachWindow(info, (xBase, o, y0, y1, x0, x1) => {
    const count = Math.ceil((y1 - y0) / dh) * Math.ceil((x1 - x0) / dw);
    if (count <= 0) return;
    for (let y = y0; y < y1; y += dh)
      for (let xx = x0; xx < x1; xx += dw) {
        const i = xBase + (y * inWidth + xx) * c;
        for (let ch = 0; ch < c; ch++) dx[i + ch] += dy[o + ch] / count;
      }
  });
  return dx;
}

/**
 * Calls visit once per output position with the first output index of its channels and the in-bounds
 * window, rows [y0, y1) and columns [x0, x1) stepped by the dilation (1 for tfjs pooling).
 */
function forEachWindow(info: BackendUtil.Conv2DInfo, visit: (xBase: number, outIndex: number, y0: number, y1: number, x0: number, x1: number) => void): void {
  const { batchSize, inHeight, inWidth, inChannels, outHeight, outWidth } = info;
  const { strideHeight, strideWidth, filterHeight, filterWidth, dilationHeight, dilationWidth } = info;
  const top = info.padInfo.top,
    left = info.padInfo.left;
  // First in-bounds tap at or after `start`, and the end of the taps, for one axis.
  const range = (start: number, k: number, d: number, n: number): [number, number] => {
    let lo = start;
    while (lo < 0) lo += d;
    const hi = Math.min(start + (k - 1) * d + 1, n);
    return [lo, Math.max(lo, hi)];
  };
  let o = 0;
  for (let b = 0; b < batchSize; b++) {
    const xBase = b * inHeight * inWidth * inChannels;
    for (let i = 0; i < outHeight; i++) {
      const [y0, y1] = range(i * strideHeight - top, filterHeight, dilationHeight, inHeight);
      for (let j = 0; j < outWidth; j++, o += inChannels) {
        const [x0, x1] = range(j * strideWidth - left, filterWidth, dilationWidth, inWidth);
        visit(xBase, o, y0, y1, x0, x1);
      }
    }
  }
}

/** How a backend lets a kernel read a float32 input and make a float32 output. */
export interface HostAccess {
  read(backend: unknown, t: TensorInfo): Float32Array;
  write(backend: unknown, shape: number[], values: Float32Array): TensorInfo;
}

/** Kernel name of maxPoolGatherAtArgmax (inputs x, dd; MaxPool's attributes). */
export const MAX_POOL_GATHER = 'BnlensMaxPoolGatherAtArgmax';

export function maxPoolGatherConfig(backendName: string, backendUtil: typeof BackendUtil, io: HostAccess): KernelConfig {
  const kernelFunc = ({ inputs, backend, attrs }: { inputs: Record<string, TensorInfo>; backend: unknown; attrs: PoolAttrs }) => {
    const x = inputs.x;
    const info = backendUtil.computePool2DInfo(x.shape as [number, number, number, number], attrs.filterSize, attrs.strides, 1, attrs.pad, attrs.dimRoundingMode);
    const shape = [info.batchSize, info.outHeight, info.outWidth, info.outChannels];
    const out = maxPoolGatherAtArgmax(
      io.read(backend, x),
      io.read(backend, inputs.dd),
      shape.reduce((p, q) => p * q, 1),
      info,
    );
    return io.write(backend, shape, out);
  };
  return { kernelName: MAX_POOL_GATHER, backendName, kernelFunc: kernelFunc as unknown as KernelFunc };
}

export function poolGradConfigs(backendName: string, backendUtil: typeof BackendUtil, io: HostAccess): { max: KernelConfig; avg: KernelConfig } {
  const infoOf = (inShape: number[], a: PoolAttrs) => backendUtil.computePool2DInfo(inShape as [number, number, number, number], a.filterSize, a.strides, 1, a.pad, a.dimRoundingMode);
  const max = ({ inputs, backend, attrs }: { inputs: Record<string, TensorInfo>; backend: unknown; attrs: PoolAttrs }) => {
    const x = inputs.input;
    const dx = maxPoolBackprop(io.read(backend, x), io.read(backend, inputs.dy), infoOf(x.shape, attrs));
    return io.write(backend, x.shape, dx);
  };
  const avg = ({ inputs, backend, attrs }: { inputs: Record<string, TensorInfo>; backend: unknown; attrs: PoolAttrs }) => {
    const x = inputs.input;
    const dx = avgPoolBackprop(
      io.read(backend, inputs.dy),
      x.shape.reduce((p, q) => p * q, 1),
      infoOf(x.shape, attrs),
    );
    return io.write(backend, x.shape, dx);
  };
  return {
    max: { kernelName: 'MaxPoolGrad', backendName, kernelFunc: max as unknown as KernelFunc },
    avg: { kernelName: 'AvgPoolGrad', backendName, kernelFunc: avg as unknown as KernelFunc },
  };
}
