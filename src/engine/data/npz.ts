// Reader for NumPy's .npz archives (np.savez, np.savez_compressed): a zip file of .npy members.
// The central directory is the authority on sizes and offsets: numpy writes its members through
// zipfile with force_zip64, so local headers carry 0xFFFFFFFF placeholders and zip64 extra fields,
// and the central directory is the one place that is always complete.

import { inflateRawSync } from 'node:zlib';
import { UserError } from '../errors';
import { readUserFile } from './files';
import { NpyArray, parseNpy } from './npy';

const SIG_EOCD = 0x06054b50;
const SIG_ZIP64_LOCATOR = 0x07064b50;
const SIG_ZIP64_EOCD = 0x06064b50;
const SIG_CENTRAL = 0x02014b50;
const SIG_LOCAL = 0x04034b50;
const METHOD_STORED = 0;
const METHOD_DEFLATE = 8;
const U32_MAX = 0xffffffff;
const U16_MAX = 0xffff;

interface Entry {
  name: string;
  method: number;
  compressedSize: number;
  size: number;
  localOffset: number;
}

/** Reads every array of an .npz file, keyed by member name without `.npy` (`x.npy` → `x`). */
export function readNpz(path: string): Map<string, NpyArray> {
  return parseNpz(readUserFile(path), path);
}

export function parseNpz(bytes: Uint8Array, file: string): Map<string, NpyArray> {
  const out = new Map<string, NpyArray>();
  for (const e of listEntries(bytes, file)) {
    if (e.name.endsWith('/')) continue; // a folder entry, never written by numpy
    const key = e.name.endsWith('.npy') ? e.name.slice(0, -4) : e.name;
    out.set(key, parseNpy(memberBytes(bytes, e, file), file, key));
  }
  return out;
}

function listEntries(bytes: Uint8Array, file: string): Entry[] {
  const notZip = () => new UserError('not a zip archive (no end-of-central-directory record), so not an .npz; save with numpy.savez, or check the file was copied completely', file);
  if (bytes.length === 0) throw new UserError('the .npz file is empty (0 bytes); save the arrays with numpy.savez', file);
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  // The EOCD record is 22 bytes plus a comment of up to 65535 bytes, at the very end.
  let eocd = -1;
  for (let i = bytes.length - 22; i >= 0 && i >= bytes.length - 22 - U16_MAX; i--) {
    if (v.getUint32(i, true) === SIG_EOCD) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw notZip();
  let count = v.getUint16(eocd + 10, true);
  let cdSize = v.getUint32(eocd + 12, true);
  let cdOffset = v.getUint32(eocd + 16, true);
  if (count === U16_MAX || cdSize === U32_MAX || cdOffset === U32_MAX) {
    const loc = eocd - 20;
    if (loc < 0 || v.getUint32(loc, true) !== SIG_ZIP64_LOCATOR) throw notZip();
    const z = num64(v, loc + 8);
    if (z + 56 > bytes.length || v.getUint32(z, true) !== SIG_ZIP64_EOCD) throw truncated(file, 'the zip64 end record is missing');
    count = num64(v, z + 32);
    cdSize = num64(v, z + 40);
    cdOffset = num64(v, z + 48);
  }
  if (cdOffset + cdSize > bytes.length) throw truncated(file, 'the central directory lies beyond the end of the file');

  const entries: Entry[] = [];
  let p = cdOffset;
  for (let k = 0; k < count; k++) {
    if (p + 46 > bytes.length || v.getUint32(p, true) !== SIG_CENTRAL) throw truncated(file, `central directory entry ${k} is damaged`);
    const method = v.getUint16(p + 10, true);
    let compressedSize = v.getUint32(p + 20, true);
    let size = v.getUint32(p + 24, true);
    const nameLen = v.getUint16(p + 28, true);
    const extraLen = v.getUint16(p + 30, true);
    const commentLen = v.getUint16(p + 32, true);
    let localOffset = v.getUint32(p + 42, true);
    const name = new TextDecoder('utf-8').decode(bytes.subarray(p + 46, p + 46 + nameLen));
    // Zip64 extended information (header id 1): 8-byte values, present only for the fields whose
    // 32-bit slot holds 0xFFFFFFFF, in the order size, compressed size, local header offset.
    let x = p + 46 + nameLen;
    const xEnd = x + extraLen;
    while (x + 4 <= xEnd) {
      const id = v.getUint16(x, true);
      const len = v.getUint16(x + 2, true);
      if (id === 1) {
        let q = x + 4;
        if (size === U32_MAX) {
          size = num64(v, q);
          q += 8;
        }
        if (compressedSize === U32_MAX) {
          compressedSize = num64(v, q);
          q += 8;
        }
        if (localOffset === U32_MAX) localOffset = num64(v, q);
      }
      x += 4 + len;
    }
    entries.push({ name, method, compressedSize, size, localOffset });
    p = xEnd + commentLen;
  }
  return entries;
}

function memberBytes(bytes: Uint8Array, e: Entry, file: string): Uint8Array {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const h = e.localOffset;
  if (h + 30 > bytes.length || v.getUint32(h, true) !== SIG_LOCAL) throw truncated(file, `the local header of '${e.name}' is damaged`);
  const start = h + 30 + v.getUint16(h + 26, true) + v.getUint16(h + 28, true);
  const end = start + e.compressedSize;
  if (end > bytes.length) throw truncated(file, `member '${e.name}' ends beyond the end of the file`);
  const raw = bytes.subarray(start, end);
  if (e.method === METHOD_STORED) return raw;
  if (e.method === METHOD_DEFLATE) {
    let out: Uint8Array;
    try {
      out = inflateRawSync(raw);
    } catch {
      throw truncated(file, `member '${e.name}' does not decompress`);
    }
    if (out.length !== e.size) throw truncated(file, `member '${e.name}' decompressed to ${out.length} bytes, expected ${e.size}`);
    return out;
  }
  throw new UserError(`member '${e.name}' uses zip compression method ${e.method}; only stored and deflate (numpy.savez / savez_compressed) are supported`, file);
}

function num64(v: DataView, off: number): number {
  // Files above 2^53 bytes do not exist in practice; Number keeps the arithmetic simple.
  return Number(v.getBigUint64(off, true));
}

function truncated(file: string, detail: string): UserError {
  return new UserError(`the .npz archive is truncated or damaged (${detail}); re-save it with numpy.savez or copy it again`, file);
}
