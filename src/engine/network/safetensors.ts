// The safetensors format (what `safetensors.torch.save_file(model.state_dict(), path)` writes): an 8-byte
// little-endian header length N, N bytes of JSON {name: {dtype, shape, data_offsets: [begin, end]}, and an
// optional "__metadata__"}, then the raw little-endian tensor bytes, offsets relative to their start.

import { existsSync, readFileSync } from 'node:fs';
import { UserError } from '../errors';

export interface StoredTensor {
  dtype: string;
  shape: number[];
  /** The values as float64 (exact for every float dtype and for integers below 2^53). */
  values: Float64Array;
}

const SIZES: Record<string, number> = { F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, I16: 2, I8: 1, U8: 1, BOOL: 1 };

export function readSafetensors(file: string): Map<string, StoredTensor> {
  if (!existsSync(file)) throw new UserError('weights file not found; check the path given with --weights', file);
  return parseSafetensors(readFileSync(file), file);
}

export function parseSafetensors(buf: Buffer, file: string): Map<string, StoredTensor> {
  const bad = (why: string): never => {
    throw new UserError(`not a safetensors file (${why}); save the weights with safetensors.torch.save_file(model.state_dict(), path)`, file);
  };
  if (buf.length < 8) bad('shorter than its 8-byte header length');
  const n = Number(buf.readBigUInt64LE(0));
  if (n < 2 || 8 + n > buf.length) bad(`header length ${n} does not fit the ${buf.length}-byte file`);
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(buf.subarray(8, 8 + n).toString('utf8')) as Record<string, unknown>;
  } catch {
    return bad('its header is not JSON');
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) bad('its header is not a JSON object');
  const data = buf.subarray(8 + n);
  const out = new Map<string, StoredTensor>();
  for (const [name, raw] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    const t = raw as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (typeof t.dtype !== 'string' || !Array.isArray(t.shape) || !Array.isArray(t.data_offsets) || t.data_offsets.length !== 2) bad(`tensor "${name}" lacks dtype, shape or data_offsets`);
    const dtype = t.dtype as string;
    const size = SIZES[dtype];
    if (!size) throw new UserError(`tensor "${name}" has dtype ${dtype}, which BatchNorm Lens cannot read; save float32 or float64 weights`, file);
    const shape = (t.shape as unknown[]).map(Number);
    const [begin, end] = (t.data_offsets as unknown[]).map(Number);
    const count = shape.reduce((a, b) => a * b, 1);
    if (!(begin >= 0 && end >= begin && end <= data.length) || end - begin !== count * size)
      bad(`tensor "${name}" has data_offsets [${begin}, ${end}] that do not match its shape [${shape.join(', ')}] of ${dtype} or the file's size`);
    out.set(name, { dtype, shape, values: decode(data.subarray(begin, end), dtype, count) });
  }
  return out;
}

function decode(b: Buffer, dtype: string, count: number): Float64Array {
  const v = new Float64Array(count);
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  for (let i = 0; i < count; i++) {
    switch (dtype) {
      case 'F64':
        v[i] = dv.getFloat64(8 * i, true);
        break;
      case 'F32':
        v[i] = dv.getFloat32(4 * i, true);
        break;
      case 'F16':
        v[i] = half(dv.getUint16(2 * i, true));
        break;
      case 'BF16':
        v[i] = new Float32Array(new Uint32Array([dv.getUint16(2 * i, true) << 16]).buffer)[0];
        break;
      case 'I64':
        v[i] = Number(dv.getBigInt64(8 * i, true));
        break;
      case 'I32':
        v[i] = dv.getInt32(4 * i, true);
        break;
      case 'I16':
        v[i] = dv.getInt16(2 * i, true);
        break;
      case 'I8':
        v[i] = dv.getInt8(i);
        break;
      default:
        v[i] = dv.getUint8(i);
    }
  }
  return v;
}

function half(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0) return s * 2 ** -14 * (m / 1024);
  if (e === 31) return m ? NaN : s * Infinity;
  return s * 2 ** (e - 15) * (1 + m / 1024);
}
