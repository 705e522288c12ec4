// The slice of the wasm backend our kernels touch. Typed here rather than imported from
// @tensorflow/tfjs-backend-wasm, whose BackendWasm type drags in the emscripten module typings.
import type { DataType, TensorInfo } from '@tensorflow/tfjs-core';

export interface WasmBackendLike {
  makeOutput(shape: number[], dtype: DataType, memoryOffset?: number, values?: ArrayLike<number>): TensorInfo;
  typedArrayFromHeap(info: TensorInfo): Float32Array | Int32Array | Uint8Array;
  readSync(dataId: object): ArrayLike<number> | Uint8Array[];
  disposeData(dataId: object, force?: boolean): boolean;
}

export interface KernelArgs {
  inputs: Record<string, TensorInfo | undefined>;
  backend: WasmBackendLike;
  attrs?: Record<string, unknown>;
}

/** A heap view of a float32 tensor. Take it *after* every allocation: a growing wasm heap detaches old views. */
export function f32(backend: WasmBackendLike, t: TensorInfo): Float32Array {
  return backend.typedArrayFromHeap(t) as Float32Array;
}
