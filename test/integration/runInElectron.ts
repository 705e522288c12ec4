// Runs the integration suite in a local desktop VS Code through @vscode/test-electron, for machines that
// have one: VSCODE_EXECUTABLE_PATH=/path/to/code tsx test/integration/runInElectron.ts
//
// It never downloads VS Code (the download cannot work on the project's machines). Without
// VSCODE_EXECUTABLE_PATH it says so and runs the same scenarios in code-server's extension host instead
// (runInCodeServer.ts), so nothing is skipped. Both paths use the same extensionTestsPath
// (out/test-host/testRunner.js), which records mocha's counts in a JSON file read back here.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { runTests } from '@vscode/test-electron';
import { buildTestBundles } from '../harness/buildTests';
import { makeWorkspace, mkTemp, repoRoot } from '../harness/codeServer';
import type { HarnessResults } from '../harness/testRunner';
import { exitWithResults, integrationSettings, printResults, runInCodeServer } from './runInCodeServer';

async function runInElectron(vscodeExecutablePath: string): Promise<HarnessResults> {
  if (!process.argv.includes('--no-build')) {
    const r = spawnSync(process.execPath, ['esbuild.mjs'], { cwd: repoRoot, stdio: 'inherit' });
    if (r.status !== 0) throw new Error('node esbuild.mjs failed');
  }
  const { runner, suite } = await buildTestBundles();
  const tmp = mkTemp('electron');
  const resultsFile = path.join(tmp, 'results.json');
  const workspace = makeWorkspace(integrationSettings);
  let exitCode = 0;
  try {
    exitCode = await runTests({
      vscodeExecutablePath,
      extensionDevelopmentPath: repoRoot,
      extensionTestsPath: runner,
      extensionTestsEnv: {
        BNLENS_TEST_RESULTS: resultsFile,
        BNLENS_TEST_SUITE: suite,
        BNLENS_TEST_WORKSPACE: workspace,
        BNLENS_REPO_ROOT: repoRoot,
      },
      launchArgs: [workspace, '--disable-extensions', '--disable-workspace-trust', '--user-data-dir', path.join(tmp, 'user-data'), '--extensions-dir', path.join(tmp, 'extensions')],
    });
  } catch (e) {
    exitCode = typeof e === 'number' ? e : 1;
    console.error(e);
  }
  let results: HarnessResults;
  try {
    results = JSON.parse(fs.readFileSync(resultsFile, 'utf8'));
  } catch {
    results = { passes: 0, failures: 1, pending: 0, tests: [], finished: false, error: 'no results file', host: { node: '?', vscode: '?', appName: '?' } };
  }
  if (exitCode !== 0 && results.failures === 0) results.failures = 1;
  if (!process.env.BNLENS_KEEP_TMP) {
    fs.rmSync(tmp, { recursive: true, force: true });
    fs.rmSync(workspace, { recursive: true, force: true });
  }
  printResults(results, `integration suite in ${results.host.appName} ${results.host.vscode}`);
  return results;
}

async function main(): Promise<HarnessResults> {
  const exe = process.env.VSCODE_EXECUTABLE_PATH;
  if (!exe) {
    console.log('VSCODE_EXECUTABLE_PATH is not set: no local VS Code to run (none is downloaded);');
    console.log('running the same integration scenarios in code-server instead.');
    return runInCodeServer();
  }
  if (!fs.existsSync(exe)) throw new Error(`VSCODE_EXECUTABLE_PATH=${exe} does not exist`);
  return runInElectron(exe);
}

if (require.main === module) exitWithResults(main());
