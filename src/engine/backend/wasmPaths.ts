// Where the tfjs-backend-wasm binaries are on disk. Two layouts must work:
//  - the esbuild bundle (dist/cli.js, dist/worker.js): esbuild.mjs copies the .wasm files beside the bundle,
//    and node_modules may not ship at all (a packaged extension);
//  - the sources run by tsx (tests, `npm run` scripts): the files stay in the package's own dist/.
// In Node, tfjs-backend-wasm reads the binary with fs from `prefix + fileName` (its locateFile override), so
// a directory prefix with a trailing separator is all setWasmPaths needs.
import { existsSync } from 'node:fs';
import { dirname, join, sep } from 'node:path';

/** The binary tfjs-backend-wasm picks in Node: SIMD on, threads off (WASM_HAS_MULTITHREAD_SUPPORT is false). */
export const WASM_SIMD_BINARY = 'tfjs-backend-wasm-simd.wasm';

export function findWasmDir(): string {
  const candidates: string[] = [];
  // In the bundle __dirname is dist/; from sources it is src/engine/backend, where no binary lives.
  candidates.push(__dirname);
  try {
    candidates.push(join(dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist'));
  } catch {
    // Not resolvable from the bundle's location: fine when the binaries sit beside it.
  }
  for (const dir of candidates) {
    if (existsSync(join(dir, WASM_SIMD_BINARY))) return dir.endsWith(sep) ? dir : dir + sep;
  }
  throw new Error(`cannot find ${WASM_SIMD_BINARY} (looked in ${candidates.join(', ')}); rebuild with \`npm run build\``);
}
