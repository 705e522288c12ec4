// The committed wasm module (src/engine/backend/wasm/native/gemmWasm.ts, base64) must be the compiled gemm.c:
// the kernels run that module, while people read and edit gemm.c. Two checks, the strongest this machine can do:
//   - with Debian's clang-14 and lld-14 (as .ci/run installs them), build.sh compiles gemm.c again and the
//     bytes must equal the committed module's;
//   - always: gemm.sources.sha256 (written by build.sh) must hold the SHA-256 of today's gemm.c, of today's
//     compiler flags in build.sh, and of the committed module — so an edit of gemm.c or of the flags without a
//     rebuild fails here even where there is no clang.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ROOT } from './analyze-fixtures';

const dir = join(ROOT, 'src/engine/backend/wasm/native');
const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');
const committed = Buffer.from(/GEMM_WASM_BASE64 = '([A-Za-z0-9+/=]+)'/.exec(readFileSync(join(dir, 'gemmWasm.ts'), 'utf8'))![1], 'base64');
const recorded = Object.fromEntries(
  readFileSync(join(dir, 'gemm.sources.sha256'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => [l.slice(0, l.indexOf(' ')), l.slice(l.indexOf(' ') + 1)]),
);

test('the recorded hashes match gemm.c, the flags in build.sh and the committed module', () => {
  assert.equal(sha(readFileSync(join(dir, 'gemm.c'))), recorded['gemm.c'], 'gemm.c changed since the module was built: run src/engine/backend/wasm/native/build.sh');
  const script = readFileSync(join(dir, 'build.sh'), 'utf8');
  const flags = /^FLAGS="([^"]*)"$/m.exec(script)![1];
  const link = /^LINK="([^"]*)"$/m.exec(script)![1];
  assert.equal(sha(`${flags} ${link}`), recorded.flags, 'the compiler flags in build.sh changed since the module was built: run build.sh');
  assert.equal(sha(committed), recorded['gemm.wasm'], 'gemmWasm.ts is not the module build.sh recorded: run build.sh');
});

const clang = spawnSync('sh', ['-c', 'command -v clang-14 && command -v wasm-ld-14'], { encoding: 'utf8' }).status === 0;

test('gemm.c compiled again with clang-14 gives the committed module, byte for byte (where clang-14 is installed)', (t) => {
  if (!clang) {
    // Said in the test output, so a run without clang does not pass for the stronger check.
    t.diagnostic('clang-14/lld-14 are not installed here: only the recorded hashes were compared (apt-get install clang-14 lld-14)');
    return;
  }
  t.diagnostic('rebuilt gemm.c with clang-14 and compared the bytes');
  const out = join(mkdtempSync(join(tmpdir(), 'bnlens-gemm-')), 'gemm.wasm');
  execFileSync('sh', [join(dir, 'build.sh'), out], { stdio: 'pipe' });
  const rebuilt = readFileSync(out);
  assert.ok(rebuilt.equals(committed), `the rebuilt module (${rebuilt.length} bytes, sha256 ${sha(rebuilt)}) differs from the committed one (${committed.length} bytes): run build.sh and commit`);
});
