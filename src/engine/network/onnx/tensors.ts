// TensorProto → numbers: weights as float32 (float16, bfloat16 and float64 converted), integer tensors (the
// shapes exporters compute with) as plain numbers. Data may sit in the message (raw_data or the typed
// fields) or in an external file beside the model (models over 2 GB, or saved with save_as_external_data).

import { existsSync, openSync, readSync, closeSync, statSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import type { onnx } from 'onnx-proto';
import { UserError } from '../../errors';

export const DT = { FLOAT: 1, UINT8: 2, INT8: 3, INT32: 6, INT64: 7, BOOL: 9, FLOAT16: 10, DOUBLE: 11, BFLOAT16: 16 } as const;

const FLOAT_TYPES = new Set<number>([DT.FLOAT, DT.FLOAT16, DT.DOUBLE, DT.BFLOAT16]);
const INT_TYPES = new Set<number>([DT.INT64, DT.INT32, DT.INT8, DT.UINT8, DT.BOOL]);
const BYTES: Record<number, number> = { [DT.FLOAT]: 4, [DT.FLOAT16]: 2, [DT.DOUBLE]: 8, [DT.BFLOAT16]: 2, [DT.INT64]: 8, [DT.INT32]: 4, [DT.INT8]: 1, [DT.UINT8]: 1, [DT.BOOL]: 1 };
const TYPE_NAMES: Record<number, string> = {
  0: 'undefined',
  1: 'float32',
  2: 'uint8',
  3: 'int8',
  4: 'uint16',
  5: 'int16',
  6: 'int32',
  7: 'int64',
  8: 'string',
  9: 'bool',
  10: 'float16',
  11: 'float64',
  12: 'uint32',
  13: 'uint64',
  14: 'complex64',
  15: 'complex128',
  16: 'bfloat16',
};

export const typeName = (t: number) => TYPE_NAMES[t] ?? `type ${t}`;

export interface FloatTensor {
  dims: number[];
  values: Float32Array;
}

export interface IntTensor {
  dims: number[];
  values: number[];
}

const prod = (s: number[]) => s.reduce((a, b) => a * b, 1);

export function isFloatTensor(t: onnx.ITensorProto): boolean {
  return FLOAT_TYPES.has(t.dataType ?? 0);
}

export function isIntTensor(t: onnx.ITensorProto): boolean {
  return INT_TYPES.has(t.dataType ?? 0);
}

export function dimsOf(t: onnx.ITensorProto): number[] {
  return (t.dims ?? []).map(Number);
}

/** Where messages point: the model file, and what the tensor is. */
export interface TensorPlace {
  file: string;
  what: string;
}

/** The bytes of a tensor stored as raw_data or in an external file; null when it uses the typed fields. */
function rawBytes(t: onnx.ITensorProto, place: TensorPlace): Uint8Array | null {
  const external = t.dataLocation === 1;
  if (!external) return t.rawData && t.rawData.length > 0 ? t.rawData : null;
  const entry = (k: string) => (t.externalData ?? []).find((e) => e.key === k)?.value ?? undefined;
  const location = entry('location');
  if (!location) throw new UserError(`${place.what} is stored externally but names no file ("location"); export the model again`, place.file);
  const path = isAbsolute(location) ? location : resolve(dirname(place.file), location);
  if (!existsSync(path)) throw new UserError(`${place.what} is stored in the external data file "${location}", which is missing; copy it next to the model`, place.file);
  const offset = Number(entry('offset') ?? 0);
  const need = prod(dimsOf(t)) * (BYTES[t.dataType ?? 0] ?? 1);
  const length = Number(entry('length') ?? need);
  const size = statSync(path).size;
  if (offset + length > size) throw new UserError(`${place.what} needs bytes ${offset}–${offset + length} of the external data file "${location}", which has ${size}; the file is truncated — copy it again`, place.file);
  const buf = Buffer.alloc(length);
  const fd = openSync(path, 'r');
  try {
    readSync(fd, buf, 0, length, offset);
  } finally {
    closeSync(fd);
  }
  return buf;
}

function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const m = h & 0x3ff;
  return e === 0 ? s * 2 ** -14 * (m / 1024) : e === 31 ? (m ? NaN : s * Infinity) : s * 2 ** (e - 15) * (1 + m / 1024);
}

/** A float tensor's values as float32 (float16, bfloat16 and float64 converted). */
export function floatValues(t: onnx.ITensorProto, place: TensorPlace): FloatTensor {
  const dims = dimsOf(t);
  const n = prod(dims);
  const type = t.dataType ?? 0;
  if (!FLOAT_TYPES.has(type)) throw new UserError(`${place.what} has data type ${typeName(type)}; weights must be float32, float16, bfloat16 or float64`, place.file);
  const raw = rawBytes(t, place);
  const out = new Float32Array(n);
  if (raw) {
    const need = n * BYTES[type];
    if (raw.length < need) throw new UserError(`${place.what} holds ${raw.length} bytes but its shape [${dims.join(', ')}] needs ${need}; the file is truncated or damaged — export it again`, place.file);
    const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    for (let i = 0; i < n; i++) {
      if (type === DT.FLOAT) out[i] = view.getFloat32(4 * i, true);
      else if (type === DT.DOUBLE) out[i] = view.getFloat64(8 * i, true);
      else if (type === DT.FLOAT16) out[i] = halfToFloat(view.getUint16(2 * i, true));
      else out[i] = new Float32Array(new Uint32Array([view.getUint16(2 * i, true) << 16]).buffer)[0];
    }
    return { dims, values: out };
  }
  // Typed fields: float32 in float_data; float64 in double_data; float16/bfloat16 as bit patterns in int32_data.
  const src: ArrayLike<number> = type === DT.FLOAT ? (t.floatData ?? []) : type === DT.DOUBLE ? (t.doubleData ?? []) : (t.int32Data ?? []);
  if (src.length !== n) throw new UserError(`${place.what} holds ${src.length} values but its shape [${dims.join(', ')}] needs ${n}; the file is truncated or damaged — export it again`, place.file);
  for (let i = 0; i < n; i++) {
    const v = Number(src[i]);
    out[i] = type === DT.FLOAT16 ? halfToFloat(v) : type === DT.BFLOAT16 ? new Float32Array(new Uint32Array([v << 16]).buffer)[0] : v;
  }
  return { dims, values: out };
}

/** An integer tensor's values (shapes, axes, indices) as plain numbers. */
export function intValues(t: onnx.ITensorProto, place: TensorPlace): IntTensor {
  const dims = dimsOf(t);
  const n = prod(dims);
  const type = t.dataType ?? 0;
  if (!INT_TYPES.has(type)) throw new UserError(`${place.what} has data type ${typeName(type)} where integers are expected`, place.file);
  const raw = rawBytes(t, place);
  if (raw) {
    const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    const size = BYTES[type];
    if (raw.length < n * size) throw new UserError(`${place.what} is shorter than its shape [${dims.join(', ')}]; the file is damaged — export it again`, place.file);
    return {
      dims,
      values: Array.from({ length: n }, (_, i) => (type === DT.INT64 ? Number(view.getBigInt64(8 * i, true)) : type === DT.INT32 ? view.getInt32(4 * i, true) : type === DT.INT8 ? view.getInt8(i) : view.getUint8(i))),
    };
  }
  const src = type === DT.INT64 ? (t.int64Data ?? []) : (t.int32Data ?? []);
  if (src.length !== n) throw new UserError(`${place.what} holds ${src.length} values but its shape [${dims.join(', ')}] needs ${n}; the file is damaged — export it again`, place.file);
  return { dims, values: Array.from(src, Number) };
}
