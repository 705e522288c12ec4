// Transposed matrix products on the fast path.
//
// tfjs-backend-wasm hands a product to XNNPACK only when neither operand is transposed and the batch is 1
// (src/cc/batch_mat_mul_impl.cc); every other product runs a naive blocked triple loop. The backward pass of
// a Dense layer is made of exactly those products: dX = dY·Wᵀ and dW = Xᵀ·dY. Measured here (2-core Zen 4,
// 128×784·784×512): about 2.5 GFLOP/s through the loop against about 30 through XNNPACK. Materialising the
// transpose costs one pass over the operand (O(mk) against O(mkn) for the product), so we transpose first
// with the backend's own Transpose kernel and hand the product to the original kernel untransposed.
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import type { KernelArgs } from './types';

export type GetKernel = (kernelName: string, backendName: string) => KernelConfig | undefined;

function batchSize(shape: number[]): number {
  let n = 1;
  for (let i = 0; i < shape.length - 2; i++) n *= shape[i];
  return n;
}

/** Swap the last two axes. */
function lastTwoSwapped(rank: number): number[] {
  const perm = Array.from({ length: rank }, (_, i) => i);
  [perm[rank - 2], perm[rank - 1]] = [perm[rank - 1], perm[rank - 2]];
  return perm;
}

/**
 * Wraps a wasm matMul kernel ('BatchMatMul' or '_FusedMatMul', which share the inputs a, b and the attrs
 * transposeA, transposeB) so transposed batch-1 products reach XNNPACK. The original config is kept whole,
 * setupFunc included: it binds the C entry point the original kernelFunc calls.
 */
export function withPretransposedOperands(original: KernelConfig, getKernel: GetKernel): KernelConfig {
  const run = original.kernelFunc;
  const kernelFunc = (args: KernelArgs) => {
    const attrs = (args.attrs ?? {}) as { transposeA?: boolean; transposeB?: boolean };
    const a = args.inputs.a as TensorInfo;
    const b = args.inputs.b as TensorInfo;
    const fastAfterTranspose = batchSize(a.shape) === 1 && batchSize(b.shape) === 1;
    if ((!attrs.transposeA && !attrs.transposeB) || !fastAfterTranspose) return run(args as never);

    const transpose = getKernel('Transpose', 'wasm')!.kernelFunc;
    const temporaries: TensorInfo[] = [];
    const materialise = (x: TensorInfo): TensorInfo => {
      const t = transpose({ inputs: { x }, backend: args.backend, attrs: { perm: lastTwoSwapped(x.shape.length) } } as never) as TensorInfo;
      temporaries.push(t);
      return t;
    };
    try {
      return run({
        ...args,
        inputs: { ...args.inputs, a: attrs.transposeA ? materialise(a) : a, b: attrs.transposeB ? materialise(b) : b },
        attrs: { ...attrs, transposeA: false, transposeB: false },
      } as never);
    } finally {
      for (const t of temporaries) args.backend.disposeData(t.dataId);
    }
  };
  return { ...original, kernelFunc: kernelFunc as unknown as KernelFunc };
}
