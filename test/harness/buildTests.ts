// Bundles what the extension host runs for the integration suite (into out/, which git ignores):
//   test/harness/testRunner.ts        -> out/test-host/testRunner.js  (extensionTestsPath)
//   test/integration/suite/index.ts   -> out/test-host/suite.js       (the mocha scenarios)
// `vscode` is provided by the host; `mocha` stays external so both bundles share one Mocha class
// (resolved at run time from the repo's node_modules).
import * as esbuild from 'esbuild';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { repoRoot } from './codeServer';

export const distTest = path.join(repoRoot, 'out', 'test-host');

export function suiteEntry(): string {
  return path.resolve(repoRoot, process.env.BNLENS_SUITE_ENTRY || 'test/integration/suite/index.ts');
}

export async function buildTestBundles(): Promise<{ runner: string; suite: string }> {
  const entry = suiteEntry();
  if (!fs.existsSync(entry)) throw new Error(`integration suite entry not found: ${entry}`);
  fs.mkdirSync(distTest, { recursive: true });
  const common: esbuild.BuildOptions = {
    bundle: true,
    platform: 'node',
    target: 'node18',
    format: 'cjs',
    sourcemap: 'inline',
    external: ['vscode', 'mocha', '@tensorflow/tfjs-node'],
    absWorkingDir: repoRoot,
    logLevel: 'warning',
    nodePaths: [path.join(repoRoot, 'node_modules')],
  };
  const runner = path.join(distTest, 'testRunner.js');
  const suite = path.join(distTest, 'suite.js');
  await esbuild.build({ ...common, entryPoints: [path.join(repoRoot, 'test/harness/testRunner.ts')], outfile: runner });
  await esbuild.build({ ...common, entryPoints: [entry], outfile: suite });
  return { runner, suite };
}
