// Reader for NumPy's .npy format (format versions 1, 2 and 3), written against the format spec in
// numpy/lib/format.py. Only plain numeric dtypes are accepted: a data set is numbers, and anything else
// (structured records, objects, strings) would need a guess we do not want to make silently.

import { UserError } from '../errors';
import { readUserFile } from './files';

export type NpyDtype = 'f4' | 'f8' | 'i1' | 'i2' | 'i4' | 'i8' | 'u1' | 'u2' | 'u4' | 'u8' | 'b1';

export type NpyData = Float32Array | Float64Array | Int8Array | Int16Array | Int32Array | Uint8Array | Uint16Array | Uint32Array;

export interface NpyArray {
  shape: number[];
  /** Element type without the byte-order character, e.g. 'f4'. */
  dtype: NpyDtype;
  /** True for integer and boolean dtypes: the values are exact whole numbers. */
  integer: boolean;
  /**
   * The values in C (row-major) order, whatever the order on disk. 64-bit integers are widened to
   * Float64Array (exact up to 2^53; larger magnitudes are refused rather than rounded).
   */
  data: NpyData;
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

interface DtypeInfo {
  size: number;
  integer: boolean;
  make: (n: number) => NpyData;
  read: (v: DataView, off: number, little: boolean) => number;
}

const DTYPES: Record<NpyDtype, DtypeInfo> = {
  f4: { size: 4, integer: false, make: (n) => new Float32Array(n), read: (v, o, le) => v.getFloat32(o, le) },
  f8: { size: 8, integer: false, make: (n) => new Float64Array(n), read: (v, o, le) => v.getFloat64(o, le) },
  i1: { size: 1, integer: true, make: (n) => new Int8Array(n), read: (v, o) => v.getInt8(o) },
  i2: { size: 2, integer: true, make: (n) => new Int16Array(n), read: (v, o, le) => v.getInt16(o, le) },
  i4: { size: 4, integer: true, make: (n) => new Int32Array(n), read: (v, o, le) => v.getInt32(o, le) },
  i8: { size: 8, integer: true, make: (n) => new Float64Array(n), read: (v, o, le) => Number(v.getBigInt64(o, le)) },
  u1: { size: 1, integer: true, make: (n) => new Uint8Array(n), read: (v, o) => v.getUint8(o) },
  u2: { size: 2, integer: true, make: (n) => new Uint16Array(n), read: (v, o, le) => v.getUint16(o, le) },
  u4: { size: 4, integer: true, make: (n) => new Uint32Array(n), read: (v, o, le) => v.getUint32(o, le) },
  u8: { size: 8, integer: true, make: (n) => new Float64Array(n), read: (v, o, le) => Number(v.getBigUint64(o, le)) },
  b1: { size: 1, integer: true, make: (n) => new Uint8Array(n), read: (v, o) => (v.getUint8(o) ? 1 : 0) },
};

/**
 * Parses the bytes of one .npy file. `file` is the path reported with errors; `member` names the array
 * inside an .npz archive, so that a message can say which of its arrays is at fault.
 */
export function parseNpy(bytes: Uint8Array, file: string, member?: string): NpyArray {
  const what = member ? `array '${member}'` : 'the file';
  const err = (msg: string) => new UserError(msg, file);
  if (bytes.length === 0) throw err(`${what} is empty (0 bytes); save the array with numpy.save`);
  for (let i = 0; i < MAGIC.length; i++) {
    if (bytes[i] !== MAGIC[i]) {
      throw err(`${what} is not in .npy format (no \\x93NUMPY magic); save the array with numpy.save`);
    }
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const major = bytes[6];
  let headerLen: number;
  let headerStart: number;
  if (major === 1) {
    if (bytes.length < 10) throw truncated(err, what, 'it ends inside the header');
    headerLen = view.getUint16(8, true);
    headerStart = 10;
  } else if (major === 2 || major === 3) {
    if (bytes.length < 12) throw truncated(err, what, 'it ends inside the header');
    headerLen = view.getUint32(8, true);
    headerStart = 12;
  } else {
    throw err(`${what} uses .npy format version ${major}, which is not supported (1, 2 and 3 are); re-save it with numpy.save`);
  }
  const dataStart = headerStart + headerLen;
  if (bytes.length < dataStart) throw truncated(err, what, 'it ends inside the header');
  // Version 3 only differs in allowing UTF-8 in the header; latin1 and utf8 agree on what we parse.
  const header = new TextDecoder(major === 3 ? 'utf-8' : 'latin1').decode(bytes.subarray(headerStart, dataStart));
  const { descr, fortran, shape } = parseHeader(header, what, err);

  const m = /^([<>|=])([a-z])(\d+)$/.exec(descr);
  const key = m ? (`${m[2]}${m[3]}` as NpyDtype) : undefined;
  const info = key && Object.prototype.hasOwnProperty.call(DTYPES, key) ? DTYPES[key] : undefined;
  if (!m || !key || !info) {
    throw err(`${what} has dtype '${descr}', which is not supported; convert it with .astype(numpy.float32) (or an integer type for labels)`);
  }
  // '=' is native order; numpy writes '<' or '>' explicitly in files, so treat '=' like little-endian.
  const little = m[1] !== '>';

  const count = shape.reduce((a, b) => a * b, 1);
  const needBytes = count * info.size;
  if (bytes.length - dataStart < needBytes) {
    throw truncated(err, what, `shape (${shape.join(', ')}) needs ${needBytes} data bytes, found ${bytes.length - dataStart}`);
  }

  // Fast path for the common case (little-endian, C order, a native JS type): one copy of the bytes.
  // Uint8Array's slice() gives a fresh, aligned buffer whatever the header length was (called through
  // the prototype because Buffer overrides slice() to return a view into a shared pool).
  if (little && (!fortran || shape.length < 2) && key !== 'i8' && key !== 'u8' && key !== 'b1') {
    const copy = Uint8Array.prototype.slice.call(bytes, dataStart, dataStart + needBytes).buffer;
    const Ctor = info.make(0).constructor as new (b: ArrayBuffer) => NpyData;
    return { shape, dtype: key, integer: info.integer, data: new Ctor(copy) };
  }
  const out = info.make(count);
  if (!fortran || shape.length < 2) {
    for (let i = 0, off = dataStart; i < count; i++, off += info.size) out[i] = info.read(view, off, little);
  } else {
    // Fortran order: the first axis varies fastest on disk. Walk the disk order with a multi-index and
    // place each value at its C-order position.
    const nd = shape.length;
    const cStride = new Array<number>(nd);
    cStride[nd - 1] = 1;
    for (let d = nd - 2; d >= 0; d--) cStride[d] = cStride[d + 1] * shape[d + 1];
    const idx = new Array<number>(nd).fill(0);
    let c = 0;
    for (let k = 0, off = dataStart; k < count; k++, off += info.size) {
      out[c] = info.read(view, off, little);
      for (let d = 0; d < nd; d++) {
        idx[d]++;
        c += cStride[d];
        if (idx[d] < shape[d]) break;
        c -= cStride[d] * shape[d];
        idx[d] = 0;
      }
    }
  }
  if (key === 'i8' || key === 'u8') {
    for (let i = 0; i < count; i++) {
      if (!Number.isSafeInteger(out[i])) {
        throw err(`${what} holds a 64-bit integer too large to represent exactly at flat index ${i}; convert it with .astype(numpy.int32)`);
      }
    }
  }
  return { shape, dtype: key, integer: info.integer, data: out };
}

function truncated(err: (m: string) => UserError, what: string, detail: string): UserError {
  return err(`${what} is truncated (${detail}); re-save or re-copy the file`);
}

/** The header is a Python dict literal, e.g. `{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }`. */
function parseHeader(header: string, what: string, err: (m: string) => UserError): { descr: string; fortran: boolean; shape: number[] } {
  const bad = (detail: string) => err(`${what} has a malformed .npy header (${detail}); re-save the array with numpy.save`);
  const descrM = /'descr'\s*:\s*(?:'([^']*)'|(\[))/.exec(header);
  if (!descrM) throw bad("no 'descr'");
  if (descrM[2]) {
    throw err(`${what} holds a structured array (record dtype), which is not supported; save plain numeric arrays, e.g. x and y separately`);
  }
  const fortM = /'fortran_order'\s*:\s*(True|False)/.exec(header);
  if (!fortM) throw bad("no 'fortran_order'");
  const shapeM = /'shape'\s*:\s*\(([^)]*)\)/.exec(header);
  if (!shapeM) throw bad("no 'shape'");
  const shape = shapeM[1]
    .split(',')
    .map((s) => s.trim().replace(/L$/, ''))
    .filter((s) => s.length > 0)
    .map((s) => {
      const v = Number(s);
      if (!Number.isInteger(v) || v < 0) throw bad(`shape entry '${s}'`);
      return v;
    });
  return { descr: descrM[1], fortran: fortM[1] === 'True', shape };
}

/** Reads and parses one .npy file from disk. */
export function readNpy(path: string): NpyArray {
  return parseNpy(readUserFile(path), path);
}
