// Runs the integration suite (test/integration/suite, mocha, @vscode/test-electron style) inside the real
// extension host of code-server, with no VS Code download.
//
// Mechanism: code-server's CLI rejects --extensionDevelopmentPath/--extensionTestsPath, but its web
// workbench reads the same two settings from the `payload` query parameter of the page URL
// (lib/vscode/out/vs/code/browser/workbench/workbench.js: `case "extensionDevelopmentPath"`,
// `case "extensionTestsPath"`). So we start code-server, open
//   /?folder=WS&payload=[["extensionDevelopmentPath","vscode-remote://HOST/repo"],
//                         ["extensionTestsPath","vscode-remote://HOST/repo/out/test-host/testRunner.js"]]
// in Debian's Chromium (Playwright): the remote (Node) extension host loads the repo as the extension
// under development and calls run() of testRunner.js, exactly as VS Code does for --extensionTestsPath.
// When run() settles, the workbench calls window.codeAutomationExit(exitCode) (exposed by Playwright).
// testRunner.js records mocha's passes and failures in a JSON file that we read back here.
//
// Usage: tsx test/integration/runInCodeServer.ts [--no-build] [--extension-path DIR]
// Exit code: 0 only if the suite ran at least one test and none failed.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { launchChromium } from '../harness/browser';
import { buildTestBundles } from '../harness/buildTests';
import { ensureCodeServer, makeWorkspace, mkTemp, repoRoot, startCodeServer } from '../harness/codeServer';
import type { HarnessResults } from '../harness/testRunner';

export const integrationSettings = {
  'bnlens.steps': 8,
  'bnlens.icsEvery': 2,
  'bnlens.evalEvery': 4,
};

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

export async function runInCodeServer(): Promise<HarnessResults> {
  const t0 = Date.now();
  ensureCodeServer();
  if (!process.argv.includes('--no-build')) {
    const r = spawnSync(process.execPath, ['esbuild.mjs'], { cwd: repoRoot, stdio: 'inherit' });
    if (r.status !== 0) throw new Error('node esbuild.mjs failed');
  }
  const { runner, suite } = await buildTestBundles();
  const extensionPath = path.resolve(arg('--extension-path') ?? repoRoot);

  const artifacts = path.join(repoRoot, 'test-artifacts', 'integration');
  fs.mkdirSync(artifacts, { recursive: true });
  const tmp = mkTemp('integration');
  const resultsFile = path.join(tmp, 'results.json');
  const workspace = makeWorkspace(integrationSettings);

  const server = await startCodeServer({
    userDataDir: path.join(tmp, 'user-data'),
    extensionsDir: path.join(tmp, 'extensions'),
    logFile: path.join(artifacts, 'code-server.log'),
    env: {
      BNLENS_TEST_RESULTS: resultsFile,
      BNLENS_TEST_SUITE: suite,
      BNLENS_TEST_WORKSPACE: workspace,
      BNLENS_REPO_ROOT: repoRoot,
    },
  });
  const browser = await launchChromium();
  const consoleLog = fs.createWriteStream(path.join(artifacts, 'browser-console.log'));
  let exitCode: number | undefined;
  try {
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    page.on('console', (m) => {
      const text = m.text();
      consoleLog.write(`[${m.type()}] ${text}\n`);
      if (process.env.BNLENS_VERBOSE && text.includes('Extension Host')) console.log(text);
    });
    const exited = new Promise<number>((resolve) => {
      void page.exposeFunction('codeAutomationExit', (code: number) => resolve(code));
    });
    const authority = `127.0.0.1:${server.port}`;
    const remote = (p: string) => `vscode-remote://${authority}${p}`;
    const payload = [
      ['extensionDevelopmentPath', remote(extensionPath)],
      ['extensionTestsPath', remote(runner)],
    ];
    const url = `${server.url}?folder=${encodeURIComponent(workspace)}&payload=${encodeURIComponent(JSON.stringify(payload))}`;
    await page.goto(url);
    await page.waitForSelector('.monaco-workbench', { timeout: 60_000 });

    const timeoutMs = Number(process.env.BNLENS_INTEGRATION_TIMEOUT_MS ?? 15 * 60_000);
    const timedOut = new Promise<undefined>((r) => setTimeout(() => r(undefined), timeoutMs).unref());
    exitCode = await Promise.race([exited, timedOut]);
    await page.screenshot({ path: path.join(artifacts, 'end.png') }).catch(() => undefined);
    if (exitCode === undefined) console.error(`integration: no result from the extension host in ${timeoutMs / 1000} s`);
  } finally {
    await browser.close();
    await server.stop();
    consoleLog.end();
    // Keep the host's logs (the extension's own LogOutputChannel among them) next to the screenshot.
    const logs = path.join(tmp, 'user-data', 'logs');
    fs.rmSync(path.join(artifacts, 'logs'), { recursive: true, force: true });
    if (fs.existsSync(logs)) fs.cpSync(logs, path.join(artifacts, 'logs'), { recursive: true });
  }

  let results: HarnessResults;
  try {
    results = JSON.parse(fs.readFileSync(resultsFile, 'utf8'));
  } catch {
    results = {
      passes: 0,
      failures: 1,
      pending: 0,
      tests: [],
      finished: false,
      error: `no results file from the extension host (see ${path.relative(repoRoot, artifacts)}/)`,
      host: { node: '?', vscode: '?', appName: '?' },
    };
  }
  if (!process.env.BNLENS_KEEP_TMP) {
    fs.rmSync(tmp, { recursive: true, force: true });
    fs.rmSync(workspace, { recursive: true, force: true });
  }

  if (!results.finished && !results.error) {
    results.error = `the suite did not finish (exit code ${exitCode ?? 'none'})`;
  }
  if (exitCode !== 0 && results.failures === 0) {
    // The host said the run failed but mocha recorded no failing test: count the run itself as a failure.
    results.failures = 1;
    results.error ??= `extension host test run exited with code ${exitCode ?? 'none (timeout)'}`;
  }
  printResults(results, `integration suite in code-server (${results.host.appName}, VS Code ${results.host.vscode}, Node ${results.host.node}), ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  return results;
}

/** Prints the closing `integration: N passed, N failed` line (a run of no test counts as failed) and exits. */
export function exitWithResults(run: Promise<HarnessResults>): void {
  run.then(
    (r) => {
      const failed = r.failures + (r.passes === 0 && r.failures === 0 ? 1 : 0);
      console.log(`integration: ${r.passes} passed, ${failed} failed`);
      process.exit(failed > 0 ? 1 : 0);
    },
    (e) => {
      console.error(e);
      console.log('integration: 0 passed, 1 failed');
      process.exit(1);
    },
  );
}

if (require.main === module) exitWithResults(runInCodeServer());

/** One line per test (✔ ✖ -), its error indented below, then the run's own error: both hosts print this way. */
export function printResults(results: HarnessResults, header: string): void {
  console.log(header);
  for (const t of results.tests) {
    const mark = t.state === 'passed' ? '✔' : t.state === 'failed' ? '✖' : '-';
    console.log(`  ${mark} ${t.title}${t.durationMs !== undefined ? ` (${t.durationMs} ms)` : ''}`);
    if (t.error)
      console.log(
        t.error
          .split('\n')
          .map((l) => `      ${l}`)
          .join('\n'),
      );
  }
  if (results.error) console.log(`  error: ${results.error}`);
}
