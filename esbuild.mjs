// One build for every place the code runs: the CLI and the engine worker (Node), the extension host
// (Node, `vscode` external), and the webview charts (browser IIFE, also inlined into --html reports).
import * as esbuild from 'esbuild';
import { existsSync, mkdirSync, copyFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildMnist } from './scripts/build-mnist.mjs';

const root = dirname(fileURLToPath(import.meta.url));
const watch = process.argv.includes('--watch');
const production = process.argv.includes('--production');

const nodeEntries = [
  ['src/cli.ts', 'dist/cli.js'],
  ['src/engine/worker.ts', 'dist/worker.js'],
  ['src/extension.ts', 'dist/extension.js'],
];
const browserEntries = [['webview/main.ts', 'dist/webview.js']];

const common = {
  bundle: true,
  // jsonc-parser's main entry is a UMD module whose run-time requires esbuild cannot follow; its ESM build bundles.
  alias: { 'jsonc-parser': 'jsonc-parser/lib/esm/main.js' },
  sourcemap: production ? false : 'linked',
  minify: production,
  logLevel: 'warning',
  absWorkingDir: root,
};

const builds = [];
for (const [entry, outfile] of nodeEntries) {
  if (!existsSync(join(root, entry))) continue;
  builds.push({
    ...common,
    entryPoints: [entry],
    outfile,
    platform: 'node',
    target: 'node18',
    format: 'cjs',
    // tfjs-node is optional and native: resolved at run time where it is installed.
    external: ['vscode', '@tensorflow/tfjs-node'],
    // tfjs-backend-cpu registers itself on import but its package.json marks that entry side-effect free.
    ignoreAnnotations: true,
  });
}
for (const [entry, outfile] of browserEntries) {
  if (!existsSync(join(root, entry))) continue;
  builds.push({ ...common, entryPoints: [entry], outfile, platform: 'browser', target: 'es2020', format: 'iife' });
}

// The wasm backend loads its binaries from beside the bundle (see src/engine/backend).
function copyWasm() {
  const src = join(root, 'node_modules/@tensorflow/tfjs-backend-wasm/dist');
  mkdirSync(join(root, 'dist'), { recursive: true });
  for (const f of readdirSync(src)) if (f.endsWith('.wasm')) copyFileSync(join(src, f), join(root, 'dist', f));
}

// The example networks, for the extension's "Open an Example" (the .vsix carries dist/, not examples/).
function copyExamples() {
  const src = join(root, 'examples');
  if (!existsSync(src)) return;
  mkdirSync(join(root, 'dist', 'examples'), { recursive: true });
  for (const f of readdirSync(src)) if (f.endsWith('.json') || f.endsWith('.py')) copyFileSync(join(src, f), join(root, 'dist', 'examples', f));
}

copyWasm();
copyExamples();
// The Python reader's parser (web-tree-sitter) and grammar, loaded from beside the bundle (src/engine/network/python/parser.ts).
function copyTreeSitter() {
  copyFileSync(join(root, 'node_modules/web-tree-sitter/tree-sitter.wasm'), join(root, 'dist', 'tree-sitter.wasm'));
  copyFileSync(join(root, 'node_modules/tree-sitter-python/tree-sitter-python.wasm'), join(root, 'dist', 'tree-sitter-python.wasm'));
}
copyTreeSitter();
// The report's JSON Schema, registered with VS Code for saved reports (package.json contributes.jsonValidation).
copyFileSync(join(root, 'src/report/report.schema.json'), join(root, 'dist/report.schema.json'));
// The 10,000 MNIST digits of the `mnist` package, converted once into the compact file the engine reads.
buildMnist(join(root, 'dist', 'mnist.bin.gz'));
if (watch) {
  for (const b of builds) (await esbuild.context(b)).watch();
} else {
  await Promise.all(builds.map((b) => esbuild.build(b)));
}
