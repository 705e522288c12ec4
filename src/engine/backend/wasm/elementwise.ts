// Elementwise and reduction kernels of a training step on our SIMD module (native/gemm.c), in place on the
// tfjs heap. Profiled on the MLP workload, after the matrix products these were the cost: tfjs-backend-wasm
// broadcasts a scalar or a bias row through a per-element index computation (Multiply [512,512]·scalar
// took ~1 ms; Minimum and LessEqual against 6, ReLU6 on MobileNet, 6 ms a call), reduces over the batch axis only after a Transpose (the bias and BatchNorm gradients), and
// copies data for Identity and for a Cast to the same dtype (every ReLU gradient).
//
// Each kernel handles float32 and the layouts a training step produces, and hands anything else to the
// original kernel: binary ops where each operand is the full output or repeats with its own size (a scalar,
// or a broadcast over leading axes such as [128,512] + [512]); sums and means over one block of neighbouring axes.
// Identity and same-dtype Cast share the input's data (reference counted) instead of copying, as the cpu
// backend does; tensors are immutable, so sharing is safe.
import type { KernelConfig, KernelFunc, TensorInfo, backend_util as BackendUtil, util as Util } from '@tensorflow/tfjs-core';
import { gemmFor, heapOffset } from './gemm';
import type { KernelArgs, WasmBackendLike } from './types';

type BinaryExport = (a: number, na: number, b: number, nb: number, out: number, n: number) => void;
interface ElementwiseExports {
  add: BinaryExport;
  sub: BinaryExport;
  mul: BinaryExport;
  div: BinaryExport;
  min: BinaryExport;
  max: BinaryExport;
  compare(a: number, na: number, b: number, nb: number, out: number, n: number, op: number): void;
  square(x: number, out: number, n: number): void;
  neg(x: number, out: number, n: number): void;
  relu(x: number, out: number, n: number): void;
  step(x: number, alpha: number, out: number, n: number): void;
  colsum(x: number, rows: number, cols: number, divisor: number, out: number): void;
  sumall(x: number, n: number): number;
  set_diff_stats(a: number, b: number, sets: number, n: number, out: number): void;
}

interface RefCounting extends WasmBackendLike {
  incRef(dataId: object): void;
}

const prod = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);
const ex = (b: WasmBackendLike) => gemmFor(b) as unknown as ElementwiseExports;

/** Whether an operand of shape `s` repeats with period size(s) in an output of shape `out`. */
function periodic(s: readonly number[], out: readonly number[]): boolean {
  let i = 0;
  while (i < s.length && s[i] === 1) i++;
  const core = s.slice(i);
  if (core.length > out.length) return false;
  const tail = out.slice(out.length - core.length);
  return core.every((d, k) => d === tail[k]);
}

/**
 * Whether `s` holds one value per index of the output's leading axis ([E, 1, …, 1]) and `other` is, per
 * index, a whole slice of the output (shape [1, …rest], […rest] or the output's own).
 */
function perSetScalar(s: readonly number[], other: readonly number[], out: readonly number[]): boolean {
  if (out.length < 2 || s.length !== out.length || s[0] !== out[0] || s[0] < 2 || prod(s) !== s[0]) return false;
  const rest = out.slice(1);
  const core = other.length === out.length ? other.slice(1) : other;
  if (other.length === out.length && other[0] !== 1 && other[0] !== out[0]) return false;
  return core.length === rest.length && core.every((d, i) => d === rest[i]);
}

const BINARY: Array<[string, keyof ElementwiseExports]> = [
  ['Add', 'add'],
  ['Sub', 'sub'],
  ['Multiply', 'mul'],
  ['RealDiv', 'div'],
  ['Minimum', 'min'],
  ['Maximum', 'max'],
];

/** Comparison kernels and their op codes in native/gemm.c's compare. */
const COMPARE: Array<[string, number]> = [
  ['Less', 0],
  ['LessEqual', 1],
  ['Greater', 2],
  ['GreaterEqual', 3],
  ['Equal', 4],
  ['NotEqual', 5],
];

export function elementwiseConfigs(original: (name: string) => KernelConfig | undefined, backendUtil: typeof BackendUtil, util: typeof Util): KernelConfig[] {
  const configs: KernelConfig[] = [];
  const wrap = (name: string, fast: (args: KernelArgs) => TensorInfo | null) => {
    const orig = original(name);
    if (!orig) return;
    const kernelFunc = (args: KernelArgs) => fast(args) ?? orig.kernelFunc(args as never);
    configs.push({ ...orig, kernelFunc: kernelFunc as unknown as KernelFunc });
  };

  // float32 operands, each the full output or repeating with its own size; null hands the op back.
  const binary = (name: string, dtype: 'float32' | 'bool', run: (e: ElementwiseExports, a: number, na: number, b: number, nb: number, out: number, n: number) => void) =>
    wrap(name, ({ inputs, backend }) => {
      const a = inputs.a as TensorInfo;
      const b = inputs.b as TensorInfo;
      if (a.dtype !== 'float32' || b.dtype !== 'float32') return null;
      const shape = backendUtil.assertAndGetBroadcastShape(a.shape, b.shape);
      const n = prod(shape);
      const na = prod(a.shape);
      const nb = prod(b.shape);
      const layout = periodic(a.shape, shape) && periodic(b.shape, shape) ? 'periodic' : perSetScalar(a.shape, b.shape, shape) ? 'a per set' : perSetScalar(b.shape, a.shape, shape) ? 'b per set' : null;
      if (!layout) return null;
      const out = backend.makeOutput(shape, dtype);
      if (n === 0 || na === 0 || nb === 0) return out;
      const e = ex(backend);
      const [pa, pb, po] = [heapOffset(backend, a), heapOffset(backend, b), heapOffset(backend, out)];
      if (layout === 'periodic') run(e, pa, na, pb, nb, po, n);
      else {
        // One scalar per set along the leading axis (the probe's η, [E, 1, …]) against a full weight: E runs of
        // the scalar case, the operands kept in their order.
        const sets = shape[0];
        const per = n / sets;
        const bytes = dtype === 'bool' ? 1 : 4;
        for (let k = 0; k < sets; k++) {
          if (layout === 'a per set') run(e, pa + 4 * k, 1, pb + (nb === n ? 4 * k * per : 0), per, po + bytes * k * per, per);
          else run(e, pa + (na === n ? 4 * k * per : 0), per, pb + 4 * k, 1, po + bytes * k * per, per);
        }
      }
      return out;
    });
  for (const [name, fn] of BINARY) binary(name, 'float32', (e, a, na, b, nb, out, n) => (e[fn] as BinaryExport)(a, na, b, nb, out, n));
  // ReLU6's forward (Minimum) and gradient (LessEqual) ran through the backend's per-element broadcast:
  // 6 ms a call on MobileNet's activations, 13 times a ReLU.
  for (const [name, op] of COMPARE) binary(name, 'bool', (e, a, na, b, nb, out, n) => e.compare(a, na, b, nb, out, n, op));

  const unary = (name: string, run: (e: ElementwiseExports, x: number, out: number, n: number, attrs: Record<string, unknown>) => void) =>
    wrap(name, ({ inputs, backend, attrs }) => {
      const x = inputs.x as TensorInfo;
      if (x.dtype !== 'float32') return null;
      const out = backend.makeOutput(x.shape, 'float32');
      const n = prod(x.shape);
      if (n > 0) run(ex(backend), heapOffset(backend, x), heapOffset(backend, out), n, attrs ?? {});
      return out;
    });
  unary('Square', (e, x, out, n) => e.square(x, out, n));
  unary('Neg', (e, x, out, n) => e.neg(x, out, n));
  unary('Relu', (e, x, out, n) => e.relu(x, out, n));
  unary('Step', (e, x, out, n, attrs) => e.step(x, Number(attrs.alpha ?? 0), out, n));

  const reduce = (name: string, mean: boolean) =>
    wrap(name, ({ inputs, backend, attrs }) => {
      const x = inputs.x as TensorInfo;
      if (x.dtype !== 'float32' || x.shape.length === 0) return null;
      const { axis, keepDims } = (attrs ?? {}) as { axis: number | number[] | null; keepDims: boolean };
      const axes = [...util.parseAxisParam((axis ?? null) as number[], x.shape)].sort((p, q) => p - q);
      // One block of neighbouring axes: [outer, reduced, inner], e.g. the batch axis of stacked weight sets
      // [E, B, C] (probes/gradientProbe.ts) reduced once per leading index.
      if (axes.length === 0 || !axes.every((ax, i) => ax === axes[0] + i)) return null;
      const first = axes[0];
      const last = axes[axes.length - 1];
      const outer = prod(x.shape.slice(0, first));
      const rows = prod(x.shape.slice(first, last + 1));
      const rest = x.shape.slice(last + 1);
      const cols = prod(rest);
      const shape = [...x.shape.slice(0, first), ...(keepDims ? axes.map(() => 1) : []), ...rest];
      if (rows === 0 || outer === 0) return null;
      const out = backend.makeOutput(shape, 'float32');
      if (cols === 0) return out;
      const e = ex(backend);
      const xAt = heapOffset(backend, x);
      const outAt = heapOffset(backend, out);
      const sums = cols === 1 ? (backend.typedArrayFromHeap(out) as Float32Array) : null;
      for (let o = 0; o < outer; o++) {
        const from = xAt + 4 * o * rows * cols;
        if (sums) {
          const s = e.sumall(from, rows);
          sums[o] = mean ? s / rows : s;
        } else e.colsum(from, rows, cols, mean ? rows : 1, outAt + 4 * o * cols);
      }
      return out;
    });
  reduce('Sum', false);
  reduce('Mean', true);

  const alias = (x: TensorInfo, backend: WasmBackendLike): TensorInfo => {
    (backend as RefCounting).incRef(x.dataId);
    return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
  };
  wrap('Identity', ({ inputs, backend }) => {
    const x = inputs.x as TensorInfo;
    return x.dtype === 'string' ? null : alias(x, backend);
  });
  wrap('Cast', ({ inputs, backend, attrs }) => {
    const x = inputs.x as TensorInfo;
    return x.dtype !== 'string' && (attrs as { dtype?: string })?.dtype === x.dtype ? alias(x, backend) : null;
  });
  return configs;
}

/**
 * The probe's per-set gradient change ../../probes/setDiffStats.ts, in one pass: inputs a [E, ...s] and b (s),
 * float32 (the caller checks), output [E, 2].
 */
export function setDiffStatsConfig(kernelName: string): KernelConfig {
  const kernelFunc = ({ inputs, backend }: KernelArgs): TensorInfo => {
    const a = inputs.a as TensorInfo;
    const b = inputs.b as TensorInfo;
    const sets = a.shape[0];
    const n = prod(b.shape);
    const out = backend.makeOutput([sets, 2], 'float32');
    if (sets > 0) ex(backend).set_diff_stats(heapOffset(backend, a), heapOffset(backend, b), sets, n, heapOffset(backend, out));
    return out;
  };
  return { kernelName, backendName: 'wasm', kernelFunc: kernelFunc as unknown as KernelFunc };
}
