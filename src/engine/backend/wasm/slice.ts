// 'Slice' on the wasm heap in JavaScript, for a box cut out of a tensor (the backward pass of a padding: the
// gradient of ZeroPadding2D or of an explicitly padded convolution is the interior of dy). The wasm kernel
// took 6–7 ms a call on MobileNet's 112×112 activations; here each run of neighbouring elements that stay
// neighbours in the output (the last partial axis and every full axis after it) is one TypedArray.set.
import type { KernelConfig, KernelFunc, TensorInfo, slice_util as SliceUtil } from '@tensorflow/tfjs-core';
import type { KernelArgs } from './types';

export function sliceConfig(original: KernelConfig, sliceUtil: typeof SliceUtil): KernelConfig {
  const kernelFunc = (args: KernelArgs): TensorInfo => {
    const x = args.inputs.x as TensorInfo;
    if (x.dtype === 'string' || x.shape.length === 0) return original.kernelFunc(args as never) as TensorInfo;
    const { begin, size } = args.attrs as { begin: number | number[]; size: number | number[] };
    const [b, s] = sliceUtil.parseSliceParams(x as never, begin, size);
    sliceUtil.assertParamsValid(x as never, b, s);
    const out = args.backend.makeOutput(s, x.dtype);
    // Views after the allocation: a growing heap detaches earlier ones.
    sliceInto(args.backend.typedArrayFromHeap(x), x.shape, b, s, args.backend.typedArrayFromHeap(out));
    return out;
  };
  return { ...original, kernelFunc: kernelFunc as unknown as KernelFunc };
}

/** dst = src[begin : begin + size] (a box), run by run. Exported for the test against a per-element reference. */
export function sliceInto(src: Float32Array | Int32Array | Uint8Array, shape: readonly number[], begin: readonly number[], size: readonly number[], dst: Float32Array | Int32Array | Uint8Array): void {
  const rank = shape.length;
  if (dst.length === 0) return;
  // The run: the axes from the last one cut (begin ≠ 0 or size ≠ shape) to the end are contiguous in both.
  let p = rank - 1;
  while (p > 0 && begin[p] === 0 && size[p] === shape[p]) p--;
  let run = 1;
  for (let i = p; i < rank; i++) run *= size[i];
  const strides = new Array<number>(rank).fill(1);
  for (let i = rank - 2; i >= 0; i--) strides[i] = strides[i + 1] * shape[i + 1];
  let base = 0;
  for (let i = 0; i < rank; i++) base += begin[i] * strides[i];
  // Odometer over the axes before p.
  const idx = new Array<number>(p).fill(0);
  const runs = dst.length / run;
  for (let r = 0, o = 0; r < runs; r++, o += run) {
    let from = base;
    for (let i = 0; i < p; i++) from += idx[i] * strides[i];
    dst.set(src.subarray(from, from + run), o);
    for (let i = p - 1; i >= 0; i--) {
      if (++idx[i] < size[i]) break;
      idx[i] = 0;
    }
  }
}
