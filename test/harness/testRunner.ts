// Entry point given to the extension host as `extensionTestsPath` (bundled to out/test-host/testRunner.js).
//
// It runs the integration suite (out/test-host/suite.js, bundled from test/integration/suite/index.ts, which
// exports `run(): Promise<void>` in the @vscode/test-electron style) and records what mocha did: every
// Mocha instance the suite runs is observed through Mocha.prototype.run, so counts and failures are
// written to a JSON file that the launcher (runInCodeServer.ts / runInElectron.ts) reads back.
// `mocha` is external in both bundles, so the suite and this file share one Mocha class.
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as mochaModule from 'mocha';

// mocha 12 is an ES module: require() gives its namespace (Mocha as `.Mocha` and `.default`).
const Mocha: typeof import('mocha') = (mochaModule as any).Mocha ?? (mochaModule as any).default ?? (mochaModule as any);

export interface TestRecord {
  title: string;
  state: 'passed' | 'failed' | 'pending';
  durationMs?: number;
  error?: string;
}
export interface HarnessResults {
  passes: number;
  failures: number;
  pending: number;
  tests: TestRecord[];
  /** An error thrown by the suite outside any test (load error, rejected run()). */
  error?: string;
  finished: boolean;
  host: { node: string; vscode: string; appName: string };
}

function resultsPath(): string {
  return process.env.BNLENS_TEST_RESULTS || path.join(__dirname, 'results.json');
}

export async function run(): Promise<void> {
  const vscode = require('vscode') as typeof import('vscode');
  const results: HarnessResults = {
    passes: 0,
    failures: 0,
    pending: 0,
    tests: [],
    finished: false,
    host: { node: process.version, vscode: vscode.version, appName: vscode.env.appName },
  };
  const file = resultsPath();
  const flush = () => {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, JSON.stringify(results, null, 2));
  };
  flush();

  const origRun = Mocha.prototype.run;
  Mocha.prototype.run = function (this: Mocha, fn?: (failures: number) => void) {
    const runner = origRun.call(this, fn);
    runner.on('pass', (t: Mocha.Test) => {
      results.passes++;
      results.tests.push({ title: t.fullTitle(), state: 'passed', durationMs: t.duration });
      flush();
    });
    runner.on('fail', (t: Mocha.Runnable, err: Error) => {
      results.failures++;
      results.tests.push({ title: t.fullTitle(), state: 'failed', error: String(err?.stack || err) });
      flush();
    });
    runner.on('pending', (t: Mocha.Test) => {
      results.pending++;
      results.tests.push({ title: t.fullTitle(), state: 'pending' });
      flush();
    });
    return runner;
  };

  const suitePath = process.env.BNLENS_TEST_SUITE || path.join(__dirname, 'suite.js');
  try {
    const suite = require(suitePath) as { run?: () => Promise<void> };
    if (typeof suite.run !== 'function') throw new Error(`${suitePath} exports no run()`);
    await suite.run();
  } catch (e) {
    results.error = String((e as Error)?.stack || e);
    throw e;
  } finally {
    Mocha.prototype.run = origRun;
    results.finished = true;
    flush();
  }
  if (results.failures > 0) throw new Error(`${results.failures} integration test(s) failed`);
  if (results.passes === 0) throw new Error('the integration suite ran no test');
}
