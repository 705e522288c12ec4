// 'BatchMatMul' on our own SIMD kernel (native/gemm.c), which works in place on the tfjs heap.
//
// Measured here (2-core Zen 4, Node 20): tfjs-backend-wasm's XNNPACK path reaches 10–17 GFLOP/s on the
// shapes of a Dense layer's forward pass and 4–8 with a transposed operand (a separate Transpose kernel,
// 5.6 ms for 784×512, then XNNPACK, which also repacks the weights on every call because the weights are new
// tensors at every step).
// Both operands are read through strides (a transpose costs nothing) and packed into panels in a scratch
// buffer first (O(mk + kn) against O(mkn)): ~40 GFLOP/s of CPU time here in every transpose combination.
//
// The module imports the wasm backend's Memory object, so pointers are the tensors' heap offsets and a
// growing heap (same Memory, new buffer) needs nothing from us.
import type { KernelConfig, KernelFunc, TensorInfo, backend_util as BackendUtil } from '@tensorflow/tfjs-core';
import { GEMM_WASM_BASE64 } from './native/gemmWasm';
import type { KernelArgs, WasmBackendLike } from './types';

export interface GemmExports {
  gemm(m: number, n: number, k: number, a: number, sai: number, sap: number, b: number, sbp: number, sbj: number, c: number, ldc: number, work: number): void;
  transpose(src: number, rows: number, cols: number, dst: number): void;
  col2im(cols: number, nc: number, ih: number, iw: number, ci: number, oh: number, ow: number, kh: number, kw: number, sh: number, sw: number, dh: number, dw: number, top: number, left: number, dx: number): void;
}

/** Floats of packing space gemm needs for an m×k by k×n product. */
export function gemmWorkFloats(m: number, n: number, k: number): number {
  return (Math.ceil(m / 4) * 4 + Math.ceil(n / 8) * 8) * Math.min(k, GEMM_KC) + 32;
}

/** The slice of the inner dimension gemm packs at a time (KC in gemm.c). */
const GEMM_KC = 256;

/** The slice of BackendWasm this module needs beyond WasmBackendLike. */
interface WasmBackendInternals extends WasmBackendLike {
  wasm: { asm?: { memory?: WebAssembly.Memory }; wasmMemory?: WebAssembly.Memory; HEAPU8: Uint8Array };
  dataIdMap: { get(dataId: object): { memoryOffset: number } | undefined };
}

let native: GemmExports | null = null;
let nativeFor: object | null = null;

/** The kernels, instantiated against this backend's heap (once per backend instance). */
export function gemmFor(backend: WasmBackendLike): GemmExports {
  if (native && nativeFor === backend) return native;
  const b = backend as WasmBackendInternals;
  const memory = b.wasm.asm?.memory ?? b.wasm.wasmMemory;
  if (!(memory instanceof WebAssembly.Memory)) throw new Error('tfjs-backend-wasm does not expose its WebAssembly.Memory');
  const bytes = Buffer.from(GEMM_WASM_BASE64, 'base64');
  const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory } });
  native = instance.exports as unknown as GemmExports;
  nativeFor = backend;
  return native;
}

/** One product C = op(A)·op(B) (pointers and strides as GemmExports.gemm) with packing space of its own. */
export function gemmOnce(backend: WasmBackendLike, m: number, n: number, k: number, a: number, sai: number, sap: number, b: number, sbp: number, sbj: number, c: number, ldc: number): void {
  const work = backend.makeOutput([gemmWorkFloats(m, n, k)], 'float32');
  try {
    gemmFor(backend).gemm(m, n, k, a, sai, sap, b, sbp, sbj, c, ldc, heapOffset(backend, work));
  } finally {
    backend.disposeData(work.dataId);
  }
}

/**
 * A 1×1 convolution with stride 1 and no padding (MobileNet's pointwise layers): its patch matrix is its
 * input itself, so its gradients are single products on the tensors in place.
 */
export function isPointwise(info: BackendUtil.Conv2DInfo): boolean {
  return (
    info.filterHeight === 1 &&
    info.filterWidth === 1 &&
    info.strideHeight === 1 &&
    info.strideWidth === 1 &&
    info.outHeight === info.inHeight &&
    info.outWidth === info.inWidth &&
    info.padInfo.top === 0 &&
    info.padInfo.left === 0
  );
}

/** Byte offset of a tensor's data on the heap. */
export function heapOffset(backend: WasmBackendLike, t: TensorInfo): number {
  const d = (backend as WasmBackendInternals).dataIdMap.get(t.dataId);
  if (!d) throw new Error('tensor not on the wasm heap');
  return d.memoryOffset;
}

const prod = (s: number[]) => s.reduce((a, b) => a * b, 1);

/**
 * out[m, n] (per batch) = op(A)·op(B) for float32 operands; batch dims equal or one side 1 (broadcast).
 * Returns null when the product is not one it handles (the caller runs the original kernel).
 */
export function nativeMatMul(backend: WasmBackendLike, a: TensorInfo, b: TensorInfo, transposeA: boolean, transposeB: boolean): TensorInfo | null {
  if (a.dtype !== 'float32' || b.dtype !== 'float32') return null;
  const ra = a.shape.length;
  const rb = b.shape.length;
  if (ra < 2 || rb < 2) return null;
  const m = transposeA ? a.shape[ra - 1] : a.shape[ra - 2];
  const k = transposeA ? a.shape[ra - 2] : a.shape[ra - 1];
  const kb = transposeB ? b.shape[rb - 1] : b.shape[rb - 2];
  const n = transposeB ? b.shape[rb - 2] : b.shape[rb - 1];
  if (k !== kb) return null;
  const outerA = a.shape.slice(0, -2);
  const outerB = b.shape.slice(0, -2);
  const batchA = prod(outerA);
  const batchB = prod(outerB);
  let outer: number[];
  if (outerA.length === outerB.length && outerA.every((d, i) => d === outerB[i])) outer = outerA;
  else if (batchB === 1 && outerB.length <= outerA.length) outer = outerA;
  else if (batchA === 1 && outerA.length <= outerB.length) outer = outerB;
  else return null;
  const batch = prod(outer);
  const out = backend.makeOutput([...outer, m, n], 'float32');
  if (batch === 0 || m === 0 || n === 0) return out;
  const g = gemmFor(backend);
  const work = backend.makeOutput([gemmWorkFloats(m, n, k)], 'float32');
  try {
    const aOff = heapOffset(backend, a);
    const bOff = heapOffset(backend, b);
    const cOff = heapOffset(backend, out);
    const wOff = heapOffset(backend, work);
    const [sai, sap] = transposeA ? [1, m] : [k, 1];
    const [sbp, sbj] = transposeB ? [1, k] : [n, 1];
    for (let s = 0; s < batch; s++) {
      const aPtr = aOff + 4 * (batchA === 1 ? 0 : s) * m * k;
      const bPtr = bOff + 4 * (batchB === 1 ? 0 : s) * k * n;
      g.gemm(m, n, k, aPtr, sai, sap, bPtr, sbp, sbj, cOff + 4 * s * m * n, n, wOff);
    }
  } finally {
    backend.disposeData(work.dataId);
  }
  return out;
}

/** 'BatchMatMul' through nativeMatMul, the original kernel for anything else (int32, odd broadcasts). */
export function nativeBatchMatMulConfig(original: KernelConfig): KernelConfig {
  const run = original.kernelFunc;
  const kernelFunc = (args: KernelArgs) => {
    const attrs = (args.attrs ?? {}) as { transposeA?: boolean; transposeB?: boolean };
    const r = nativeMatMul(args.backend, args.inputs.a as TensorInfo, args.inputs.b as TensorInfo, !!attrs.transposeA, !!attrs.transposeB);
    return r ?? run(args as never);
  };
  return { ...original, kernelFunc: kernelFunc as unknown as KernelFunc };
}
