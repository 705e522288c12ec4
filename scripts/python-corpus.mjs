// Runs `bnlens inspect` on every .py file of a folder (the corpus of real model files listed in
// test/corpus-python/MANIFEST.tsv, fetched by whoever checks it) and prints one line per file: the
// parameter totals, or the one-line error. Usage: node scripts/python-corpus.mjs DIR (after npm run build).
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dir = process.argv[2];
if (!dir) {
  console.error('usage: node scripts/python-corpus.mjs DIR');
  process.exit(2);
}
const manifest = join(root, 'test', 'corpus-python', 'MANIFEST.tsv');
const models = new Map(
  existsSync(manifest)
    ? readFileSync(manifest, 'utf8')
        .split('\n')
        .filter((l) => l && !l.startsWith('#'))
        .map((l) => l.split('\t'))
        .map((c) => [c[0], c[5]])
    : [],
);
let reads = 0,
  errors = 0,
  crashes = 0;
for (const f of readdirSync(dir)
  .filter((n) => n.endsWith('.py'))
  .sort()) {
  const model = models.get(f);
  const args = [join(root, 'bin', 'bnlens.js'), 'inspect', join(dir, f), ...(model && model !== '-' ? ['--model', model] : [])];
  const r = spawnSync(process.execPath, args, { encoding: 'utf8' });
  const last = (r.status === 0 ? r.stdout : r.stderr).trim().split('\n').pop();
  if (r.status === 0) reads++;
  else if (r.status === 2 && r.stderr.trim().split('\n').length === 1) errors++;
  else crashes++;
  console.log(`${f}\t${r.status}\t${last}`);
}
console.log(`${reads} read, ${errors} one-line errors, ${crashes} other`);
process.exit(crashes ? 1 : 0);
