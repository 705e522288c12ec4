// What the user sees when things collide or go wrong, in a real extension host: starting a second analysis
// while one runs (the modal prompt, answered both ways through a stub of vscode.window.showWarningMessage),
// opening saved reports by path (valid, corrupted, not a report), and the engine process dying mid-run.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { Report } from '../../../src/protocol';
import type { BnLensApi } from '../../../src/extension';
import { until } from './wait';

const EXTENSION_ID = 'bnlens.bnlens';
const SHORT = { steps: 6, icsEvery: 2, evalEvery: 3, probeEvery: 1, etaCount: 3, batch: 16, variants: ['standard', 'batchnorm'], backend: 'cpu', seed: 1 };

async function setRunSettings(values: Record<string, unknown>): Promise<void> {
  const cfg = vscode.workspace.getConfiguration('bnlens');
  const target = vscode.workspace.workspaceFolders?.length ? vscode.ConfigurationTarget.Workspace : vscode.ConfigurationTarget.Global;
  for (const [k, v] of Object.entries(values)) await cfg.update(k, v, target);
}

/** Two copies of examples/mlp-mnist.json in a folder of their own (the workspace copy, else the repo's). */
function networkFiles(): [string, string] {
  const ws = process.env.BNLENS_TEST_WORKSPACE || vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
  const dir = ws && fs.existsSync(ws) ? path.join(ws, 'bnlens-prompts') : fs.mkdtempSync(path.join(os.tmpdir(), 'bnlens-prompts-'));
  fs.mkdirSync(dir, { recursive: true });
  const src = [ws && path.join(ws, 'mlp-mnist.json'), process.env.BNLENS_REPO_ROOT && path.join(process.env.BNLENS_REPO_ROOT, 'examples', 'mlp-mnist.json')].find((p): p is string => !!p && fs.existsSync(p));
  assert.ok(src, 'examples/mlp-mnist.json in the workspace or the repo');
  const a = path.join(dir, 'first-net.json');
  const b = path.join(dir, 'second-net.json');
  fs.copyFileSync(src, a);
  fs.copyFileSync(src, b);
  return [a, b];
}

type WindowFn = 'showWarningMessage' | 'showErrorMessage' | 'showQuickPick' | 'showInformationMessage';
const stubs: (() => void)[] = [];

/** Replaces vscode.window[name] (restored by restoreStubs); records each call's arguments, answers with `answer`. */
function stubWindow(name: WindowFn, answer: (...args: unknown[]) => unknown): unknown[][] {
  const win = vscode.window as unknown as Record<string, unknown>;
  const original = win[name];
  const calls: unknown[][] = [];
  win[name] = (...args: unknown[]) => {
    calls.push(args);
    return Promise.resolve(answer(...args));
  };
  stubs.push(() => (win[name] = original));
  return calls;
}

function restoreStubs(): void {
  while (stubs.length) stubs.pop()!();
}

describe('BatchNorm Lens prompts and failures', function () {
  let api: BnLensApi;
  let fileA: string;
  let fileB: string;

  /** Starts an analysis of `file` without waiting; resolves when it has a new report with ≥ `steps` steps per variant. */
  async function startRun(file: string, steps = 2) {
    const previous = api.lastReport(file)?.createdAt;
    let settled = false;
    const done = Promise.resolve(vscode.commands.executeCommand<Report | null>('bnlens.analyze', vscode.Uri.file(file))).finally(() => (settled = true));
    await until(
      `${path.basename(file)} to make progress`,
      () => {
        if (settled) throw new Error('the run ended before the test could act on it (see the BatchNorm Lens log)');
        const r = api.lastReport(file);
        return !!r && r.createdAt !== previous && !r.complete && r.variants.every((v) => v.steps.length >= steps);
      },
      60_000,
    );
    return { done, previous };
  }

  before(async function () {
    [fileA, fileB] = networkFiles();
    const ext = vscode.extensions.getExtension<BnLensApi>(EXTENSION_ID);
    assert.ok(ext, `extension ${EXTENSION_ID} is installed`);
    api = await ext.activate();
    await setRunSettings(SHORT);
  });

  afterEach(async function () {
    restoreStubs();
    if (api.isRunning()) await vscode.commands.executeCommand('bnlens.stop');
    await setRunSettings({ steps: SHORT.steps });
  });

  after(async function () {
    await setRunSettings(Object.fromEntries(Object.keys(SHORT).map((k) => [k, undefined])));
  });

  it('keeps the running analysis when the user declines to stop it for a second one', async function () {
    this.timeout(240_000);
    await setRunSettings({ steps: 12 });
    const bBefore = api.lastReport(fileB)?.createdAt;
    const { done } = await startRun(fileA);
    const prompts = stubWindow('showQuickPick', (items) => (items as vscode.QuickPickItem[])[1]); // "Keep first-net.json running"
    const second = await vscode.commands.executeCommand<Report | null>('bnlens.analyze', vscode.Uri.file(fileB));
    assert.equal(second, null, 'no second run');
    assert.equal(prompts.length, 1, 'one prompt');
    const [items, options] = prompts[0] as [vscode.QuickPickItem[], vscode.QuickPickOptions];
    assert.match(options.title ?? '', /an analysis of first-net\.json is running/);
    assert.deepEqual(
      items.map((i) => i.label),
      ['$(debug-stop) Stop first-net.json and analyze second-net.json', '$(close) Keep first-net.json running'],
    );
    assert.equal(api.isRunning(), true, 'the first analysis still runs');
    const first = await done;
    assert.equal(first?.complete, true, `the first analysis finished (stopReason: ${first?.stopReason})`);
    for (const v of first!.variants) assert.equal(v.steps.length, 12, `${v.name}: all steps`);
    assert.equal(api.lastReport(fileB)?.createdAt, bBefore, 'second-net.json was not analyzed');
  });

  it('stops the running analysis, keeping its partial report, when the user chooses "Stop and Analyze"', async function () {
    this.timeout(240_000);
    await setRunSettings({ steps: 2000 });
    const { done } = await startRun(fileA);
    await setRunSettings({ steps: SHORT.steps }); // the second run reads the settings when it is asked for
    const prompts = stubWindow('showQuickPick', (items) => (items as vscode.QuickPickItem[])[0]);
    const second = await vscode.commands.executeCommand<Report | null>('bnlens.analyze', vscode.Uri.file(fileB));
    assert.equal(prompts.length, 1, 'one prompt');
    const first = await done;
    assert.ok(first, "the first run's partial report");
    assert.equal(first.complete, false);
    assert.match(first.stopReason ?? '', /cancel/);
    for (const v of first.variants) assert.ok(v.steps.length >= 2 && v.steps.length < 2000, `${v.name}: ${v.steps.length} steps kept`);
    assert.equal(api.lastReport(fileA)?.createdAt, first.createdAt, 'first-net.json keeps its partial report');
    assert.ok(
      api.runs(fileA).some((e) => e.createdAt === first.createdAt && !e.complete),
      'in its run history',
    );
    assert.ok(second, "the second run's report");
    assert.equal(second.complete, true, `the second analysis finished (stopReason: ${second.stopReason})`);
    assert.equal(second.config.model, fileB);
    for (const v of second.variants) assert.equal(v.steps.length, SHORT.steps, `${v.name}: all steps`);
    assert.equal(api.isRunning(), false);
  });

  it('closes the prompt by itself when the running analysis ends before the user answers, and then analyzes', async function () {
    this.timeout(240_000);
    await setRunSettings({ steps: 10 });
    const { done } = await startRun(fileA);
    await setRunSettings({ steps: SHORT.steps });
    let closedByRunEnd = false;
    const prompts = stubWindow(
      'showQuickPick',
      (_items, _options, token) =>
        new Promise((resolve) => {
          // The user never answers: only the end of the running analysis may close the prompt.
          (token as vscode.CancellationToken).onCancellationRequested(() => {
            closedByRunEnd = !api.isRunning();
            resolve(undefined);
          });
        }),
    );
    const second = await vscode.commands.executeCommand<Report | null>('bnlens.analyze', vscode.Uri.file(fileB));
    assert.equal(prompts.length, 1, 'one prompt');
    assert.equal(closedByRunEnd, true, 'the prompt was closed because the first analysis had ended');
    const first = await done;
    assert.equal(first?.complete, true);
    assert.ok(second, 'second-net.json was analyzed after the first one ended');
    assert.equal(second.config.model, fileB);
  });

  describe('bnlens.openReport with a path', function () {
    let saved: Report;
    let dir: string;

    before(async function () {
      this.timeout(240_000);
      dir = path.dirname(fileB);
      let r = api.lastReport(fileB);
      if (!r?.complete) r = (await vscode.commands.executeCommand<Report | null>('bnlens.analyze', vscode.Uri.file(fileB))) ?? null;
      assert.ok(r?.complete, 'a complete report to save');
      saved = JSON.parse(JSON.stringify(r));
    });

    async function open(name: string, content: string): Promise<{ errors: string[]; opened: number }> {
      const f = path.join(dir, name);
      fs.writeFileSync(f, content);
      const errors = stubWindow('showErrorMessage', () => undefined);
      const before = api.panelCount();
      await vscode.commands.executeCommand('bnlens.openReport', f);
      restoreStubs();
      return { errors: errors.map((c) => String(c[0])), opened: api.panelCount() - before };
    }

    it('opens a saved report in a panel of its own', async function () {
      const { errors, opened } = await open('saved.bnlens.json', JSON.stringify(saved, null, 2));
      assert.deepEqual(errors, []);
      assert.equal(opened, 1, 'one more report panel');
      await vscode.commands.executeCommand('workbench.action.closeActiveEditor');
    });

    it('refuses a corrupted report, naming the JSON path of the problem, and opens no panel', async function () {
      const bad = JSON.parse(JSON.stringify(saved)) as Report;
      bad.variants[1].steps[1].lossAtEta.pop();
      const { errors, opened } = await open('corrupted.bnlens.json', JSON.stringify(bad));
      assert.equal(opened, 0);
      assert.equal(errors.length, 1, `one error message: ${errors.join(' | ')}`);
      assert.match(errors[0], /corrupted\.bnlens\.json is not a valid BatchNorm Lens report/);
      assert.ok(errors[0].includes('variants[1].steps[1].lossAtEta: expected 3 numbers, got 2'), errors[0]);
    });

    it('refuses a JSON file that is not a report, and one that is not JSON, and opens no panel', async function () {
      const other = await open('package.json', JSON.stringify({ name: 'pkg', version: '1.0.0' }));
      assert.equal(other.opened, 0);
      assert.equal(other.errors.length, 1);
      assert.match(other.errors[0], /package\.json is not a valid BatchNorm Lens report \(schema: missing\)/);
      const cut = await open('truncated.bnlens.json', JSON.stringify(saved).slice(0, 200));
      assert.equal(cut.opened, 0);
      assert.equal(cut.errors.length, 1);
      assert.match(cut.errors[0], /cannot read truncated\.bnlens\.json: .*JSON/);
    });
  });

  it('tells the user when the engine process dies mid-run, keeps the partial report, and analyzes again afterwards', async function () {
    this.timeout(240_000);
    await setRunSettings({ steps: 2000 });
    const { done } = await startRun(fileA);
    const pid = api.enginePid();
    assert.ok(pid, "the running engine's pid");
    const errors = stubWindow('showErrorMessage', () => undefined);
    process.kill(pid, 'SIGKILL');
    const partial = await done;
    assert.ok(partial, 'the partial report');
    assert.equal(partial.complete, false);
    assert.match(partial.stopReason ?? '', /^failed: The analysis engine was killed by SIGKILL/);
    for (const v of partial.variants) assert.ok(v.steps.length >= 2 && v.steps.length < 2000, `${v.name}: ${v.steps.length} steps kept`);
    assert.equal(api.lastReport(fileA)?.createdAt, partial.createdAt, "the partial report is the file's last report");
    assert.equal(api.isRunning(), false);
    assert.equal(errors.length, 1, 'one error notification');
    const [message, ...buttons] = errors[0] as string[];
    assert.match(message, /The analysis engine was killed by SIGKILL/);
    assert.deepEqual(buttons, ['Show Log']);
    restoreStubs();

    await setRunSettings({ steps: SHORT.steps });
    const again = await vscode.commands.executeCommand<Report | null>('bnlens.analyze', vscode.Uri.file(fileA));
    assert.equal(again?.complete, true, `the next analysis finished (stopReason: ${again?.stopReason})`);
  });
});
