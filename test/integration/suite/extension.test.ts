// End-to-end scenarios in a real extension host: the extension activates on a network file, shows located
// diagnostics while the file is broken and clears them when fixed, hovers before and after a run, runs a
// short analysis through `bnlens.analyze` (the real engine process), shows code lenses and the report
// panel, stops a long run and keeps its partial report.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { Report, SliceResult } from '../../../src/protocol';
import type { BnLensApi } from '../../../src/extension';
import { until } from './wait';

const EXTENSION_ID = 'bnlens.bnlens';

/** A tiny MLP on 8 Gaussian features: used when examples/ has no network yet, and for the broken copy. */
const TINY_MLP = {
  format: 'layers-model',
  generatedBy: 'bnlens integration test',
  modelTopology: {
    class_name: 'Sequential',
    config: {
      name: 'tiny',
      layers: [
        { class_name: 'Dense', config: { name: 'dense_1', units: 12, activation: 'relu', use_bias: true, batch_input_shape: [null, 8] } },
        { class_name: 'Dense', config: { name: 'dense_2', units: 3, activation: 'softmax', use_bias: true } },
      ],
    },
  },
};

function workDir(): string {
  const ws = process.env.BNLENS_TEST_WORKSPACE || vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
  const dir = ws && fs.existsSync(ws) ? path.join(ws, 'bnlens-it') : fs.mkdtempSync(path.join(os.tmpdir(), 'bnlens-it-'));
  fs.mkdirSync(dir, { recursive: true });
  return dir;
}

/** examples/mlp-mnist.json (copied into the workspace by the harness, or from the repo), else a tiny MLP. */
function networkFile(dir: string): string {
  const candidates = [
    process.env.BNLENS_TEST_WORKSPACE && path.join(process.env.BNLENS_TEST_WORKSPACE, 'mlp-mnist.json'),
    ...(vscode.workspace.workspaceFolders ?? []).map((f) => path.join(f.uri.fsPath, 'mlp-mnist.json')),
    process.env.BNLENS_REPO_ROOT && path.join(process.env.BNLENS_REPO_ROOT, 'examples', 'mlp-mnist.json'),
  ].filter((p): p is string => !!p);
  for (const c of candidates) {
    if (fs.existsSync(c)) {
      const copy = path.join(dir, 'mlp-mnist.json');
      fs.copyFileSync(c, copy);
      return copy;
    }
  }
  const f = path.join(dir, 'tiny-mlp.json');
  fs.writeFileSync(f, JSON.stringify(TINY_MLP, null, 2));
  return f;
}

/** Run settings small enough for seconds, at the level that wins (workspace settings when a folder is open). */
async function setRunSettings(values: Record<string, unknown>): Promise<void> {
  const cfg = vscode.workspace.getConfiguration('bnlens');
  const target = vscode.workspace.workspaceFolders?.length ? vscode.ConfigurationTarget.Workspace : vscode.ConfigurationTarget.Global;
  for (const [k, v] of Object.entries(values)) await cfg.update(k, v, target);
}

function hoverText(hovers: vscode.Hover[] | undefined): string {
  return (hovers ?? [])
    .flatMap((h) => h.contents)
    .map((c) => (typeof c === 'string' ? c : 'value' in c ? c.value : ''))
    .join('\n');
}

async function hoverAt(uri: vscode.Uri, doc: vscode.TextDocument, needle: string): Promise<string> {
  const off = doc.getText().indexOf(needle);
  assert.ok(off >= 0, `${needle} in ${uri.fsPath}`);
  const hovers = await vscode.commands.executeCommand<vscode.Hover[]>('vscode.executeHoverProvider', uri, doc.positionAt(off + 2));
  return hoverText(hovers);
}

function firstLayerName(text: string): string {
  const m = /"class_name"\s*:\s*"(?:Dense|Conv2D)"[\s\S]*?"name"\s*:\s*"([^"]+)"/.exec(text);
  assert.ok(m, 'a Dense or Conv2D layer in the network file');
  return m[1];
}

let restoreErrors: () => void = () => undefined;
/** Records vscode.window.showErrorMessage calls (restored by restoreErrors). */
function stubErrors(): unknown[][] {
  const win = vscode.window as unknown as Record<string, unknown>;
  const original = win.showErrorMessage;
  const calls: unknown[][] = [];
  win.showErrorMessage = (...args: unknown[]) => {
    calls.push(args);
    return Promise.resolve(undefined);
  };
  restoreErrors = () => (win.showErrorMessage = original);
  return calls;
}

describe('BatchNorm Lens extension', function () {
  let api: BnLensApi;
  let dir: string;
  let file: string;
  let uri: vscode.Uri;
  let doc: vscode.TextDocument;
  let layer: string;

  before(async function () {
    dir = workDir();
    file = networkFile(dir);
    uri = vscode.Uri.file(file);
    doc = await vscode.workspace.openTextDocument(uri);
    await vscode.window.showTextDocument(doc);
    const ext = vscode.extensions.getExtension<BnLensApi>(EXTENSION_ID);
    assert.ok(ext, `extension ${EXTENSION_ID} is installed`);
    api = await ext.activate();
    layer = firstLayerName(doc.getText());
    await setRunSettings({ steps: 6, icsEvery: 2, evalEvery: 3, probeEvery: 1, etaCount: 3, batch: 16, variants: ['standard', 'batchnorm'], backend: 'cpu', seed: 1 });
  });

  after(async function () {
    await setRunSettings({ steps: undefined, icsEvery: undefined, evalEvery: undefined, probeEvery: undefined, etaCount: undefined, batch: undefined, variants: undefined, backend: undefined, seed: undefined });
  });

  it('contributes its commands', async function () {
    const all = await vscode.commands.getCommands(true);
    for (const c of ['bnlens.analyze', 'bnlens.stop', 'bnlens.openReportPanel', 'bnlens.openReport', 'bnlens.saveReport']) {
      assert.ok(all.includes(c), c);
    }
  });

  it('reports a broken network file in the Problems panel at the exact place, and clears it when fixed', async function () {
    const broken = path.join(dir, 'broken-net.json');
    const good = JSON.stringify(TINY_MLP, null, 2);
    fs.writeFileSync(broken, good.replace('"softmax"', '"sofmax"'));
    const bdoc = await vscode.workspace.openTextDocument(vscode.Uri.file(broken));
    await vscode.window.showTextDocument(bdoc);
    const diags = await until('a BatchNorm Lens diagnostic', () => {
      const d = vscode.languages.getDiagnostics(bdoc.uri).filter((x) => x.source === 'BatchNorm Lens');
      return d.length ? d : null;
    });
    assert.equal(diags[0].severity, vscode.DiagnosticSeverity.Error);
    assert.match(diags[0].message, /sofmax|activation/i);
    const badLine = bdoc
      .getText()
      .split('\n')
      .findIndex((l) => l.includes('sofmax'));
    const dense2Line = bdoc
      .getText()
      .split('\n')
      .findIndex((l) => l.includes('"dense_2"'));
    assert.ok([badLine, dense2Line].includes(diags[0].range.start.line), `diagnostic on line ${diags[0].range.start.line + 1}`);

    // An unknown layer type is underlined at its class name, not at the layer's name below it.
    const cls = new vscode.WorkspaceEdit();
    const clsAt = bdoc.getText().indexOf('"Dense"');
    cls.replace(bdoc.uri, new vscode.Range(bdoc.positionAt(clsAt), bdoc.positionAt(clsAt + '"Dense"'.length)), '"Densse"');
    await vscode.workspace.applyEdit(cls);
    const unknown = await until('the unknown-layer diagnostic', () => vscode.languages.getDiagnostics(bdoc.uri).find((x) => x.source === 'BatchNorm Lens' && /Densse/.test(x.message)));
    assert.equal(bdoc.getText(unknown.range), '"Densse"', 'the squiggle covers the class name');
    // One line in the Problems panel, not the list of every supported type; the list is a quick fix away.
    assert.doesNotMatch(unknown.message, /supported: /, unknown.message);
    assert.match(unknown.message, /README/);
    const actions = await vscode.commands.executeCommand<vscode.CodeAction[]>('vscode.executeCodeActionProvider', bdoc.uri, unknown.range, vscode.CodeActionKind.QuickFix.value);
    const show = actions.find((a) => a.title === 'Show the layers BatchNorm Lens supports');
    assert.ok(show, `quick fixes: ${actions.map((a) => a.title).join(', ')}`);
    assert.equal(show.command?.command, 'bnlens.showSupportedLayers');

    // A syntax error is VS Code's own JSON diagnostic ("Expected comma"): BatchNorm Lens does not repeat it.
    const edit = new vscode.WorkspaceEdit();
    const at = bdoc.getText().indexOf('"units": 3,');
    edit.replace(bdoc.uri, new vscode.Range(bdoc.positionAt(at), bdoc.positionAt(at + '"units": 3,'.length)), '"units": 3');
    await vscode.workspace.applyEdit(edit);
    await until('no BatchNorm Lens diagnostic for a syntax error', () => vscode.languages.getDiagnostics(bdoc.uri).filter((x) => x.source === 'BatchNorm Lens').length === 0);

    // Fixing everything clears the diagnostics.
    const fix = new vscode.WorkspaceEdit();
    fix.replace(bdoc.uri, new vscode.Range(bdoc.positionAt(0), bdoc.positionAt(bdoc.getText().length)), good);
    await vscode.workspace.applyEdit(fix);
    await until('diagnostics cleared', () => vscode.languages.getDiagnostics(bdoc.uri).filter((x) => x.source === 'BatchNorm Lens').length === 0);
    await bdoc.save();
    await vscode.commands.executeCommand('workbench.action.closeActiveEditor');
  });

  it('hovers a layer before any run with its shape, parameters and how to start a run', async function () {
    await vscode.window.showTextDocument(doc);
    const text = await hoverAt(uri, doc, `"${layer}"`);
    assert.match(text, new RegExp(`${layer.replace(/_/g, '\\\\?_')}`));
    assert.match(text, /output `\[null, \d+\]`/);
    assert.match(text, /params/);
    assert.match(text, /command:bnlens\.analyze/);
  });

  let report: Report | null = null;

  it('analyzes the network with bnlens.analyze and keeps the report', async function () {
    this.timeout(240_000);
    report = (await vscode.commands.executeCommand<Report | null>('bnlens.analyze', uri)) ?? null;
    assert.ok(report, 'bnlens.analyze returned a report (see the BatchNorm Lens log if not)');
    assert.equal(report.complete, true, `complete (stopReason: ${report.stopReason})`);
    assert.equal(report.config.steps, 6);
    assert.equal(report.config.model, file);
    assert.deepEqual(
      report.variants.map((v) => v.name),
      ['standard', 'batchnorm'],
    );
    assert.equal(report.eta.length, 3);
    for (const v of report.variants) {
      assert.equal(v.steps.length, 6, `${v.name}: one record per step`);
      for (const s of v.steps) {
        assert.ok(Number.isFinite(s.loss) && Number.isFinite(s.gradNorm) && s.lossAtEta.length === 3, `${v.name} step ${s.step}`);
      }
      assert.ok(v.layerStats.length > 0, `${v.name}: layer statistics`);
    }
    const bn = report.variants.find((v) => v.name === 'batchnorm')!;
    assert.ok(
      bn.layers.some((l) => l.inserted && l.className.includes('BatchNorm')),
      'the batchnorm variant inserts BatchNorm layers',
    );
    assert.equal(report.summary.length, 2);
    assert.equal(api.lastReport(file)?.createdAt, report.createdAt);
    assert.equal(api.isRunning(), false);
  });

  it('hovers a layer after the run with per-variant statistics', async function () {
    assert.ok(report, 'needs the previous scenario');
    const text = await hoverAt(uri, doc, `"${layer}"`);
    assert.match(text, /\| variant \| ‖∇W‖ \| ‖W‖ \| ICS ℓ2 \| ICS cos \| act mean \| act std \|/);
    assert.match(text, /\| standard \|/);
    assert.match(text, /\| batchnorm \|/);
    assert.match(text, /batchnorm\* inserts/);
    assert.doesNotMatch(text, /command:bnlens\.analyze/);
  });

  it('shows a code lens summary above each layer', async function () {
    assert.ok(report, 'needs the previous scenario');
    const lenses = await until('code lenses', async () => {
      const l = await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', uri, 50);
      const ours = (l ?? []).filter((x) => x.command?.command === 'bnlens.openReportPanel');
      return ours.length ? ours : null;
    });
    // One model-level lens at the top with the landscape result, then the layers' own facts.
    assert.equal(lenses[0].range.start.line, 0);
    assert.match(lenses[0].command!.title, /^BatchNorm Lens: batchnorm β̄ \S+ vs standard \S+/);
    assert.equal(lenses.filter((l) => /β̄/.test(l.command!.title)).length, 1, 'β̄ only on the model-level lens');
    assert.ok(
      lenses.slice(1).some((l) => /act std/.test(l.command!.title)),
      lenses.map((l) => l.command!.title).join(' | '),
    );
  });

  it("opens the report in a new editor panel whose webview loads the run's report", async function () {
    assert.ok(report, 'needs the previous scenario');
    // Start from no panel, so a panel already open cannot make this pass.
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    await until('no report panel', () => api.panelCount() === 0);
    const webviewTabs = () => vscode.window.tabGroups.all.flatMap((g) => g.tabs).filter((t) => t.input instanceof vscode.TabInputWebview && t.input.viewType.endsWith('bnlens.report'));
    assert.equal(webviewTabs().length, 0);
    await vscode.commands.executeCommand('bnlens.openReportPanel');
    assert.equal(api.panelCount(), 1);
    const tab = await until('the report panel tab', () => (webviewTabs().length === 1 ? webviewTabs()[0] : null));
    assert.equal(tab.label, `BatchNorm Lens: ${path.basename(file)}`);
    // The webview ran its script, asked for the report ('ready') and got this run's.
    await until("the panel shows the run's report", () => api.panelReports()[0] === report!.createdAt);
    await vscode.commands.executeCommand('workbench.action.closeActiveEditor');
    await vscode.window.showTextDocument(doc);
  });

  it('takes the loss surface at a step of the run (bnlens.lossSurface) and keeps it in the report', async function () {
    this.timeout(300_000);
    assert.ok(report, 'needs the previous scenario');
    const slice = await vscode.commands.executeCommand<SliceResult | null>('bnlens.lossSurface', 3);
    assert.ok(slice, 'a slice (see the BatchNorm Lens log if not)');
    assert.deepEqual(
      slice.variants.map((v) => [v.variant, v.step]),
      [
        ['standard', 3],
        ['batchnorm', 3],
      ],
    );
    assert.equal(slice.dims, 2);
    assert.equal(slice.alphas.length, 21);
    for (const v of slice.variants) {
      const grid = v.loss as (number | null)[][];
      assert.equal(grid.length, 21);
      assert.ok(
        grid.every((row) => row.length === 21 && row.every((x) => typeof x === 'number' && Number.isFinite(x))),
        `${v.variant}: every point finite`,
      );
      assert.ok(Number.isFinite(v.centerLoss));
    }
    const kept = api.lastReport(file);
    assert.equal(kept?.createdAt, report.createdAt, 'the same run');
    assert.equal(kept?.slices?.length, 1, 'the slice is kept with the run');
  });

  it('stops a long run on bnlens.stop and keeps the partial report', async function () {
    this.timeout(240_000);
    await setRunSettings({ steps: 2000 });
    try {
      const previous = api.lastReport(file)?.createdAt;
      let settled = false;
      const done = Promise.resolve(vscode.commands.executeCommand<Report | null>('bnlens.analyze', uri)).finally(() => (settled = true));
      await until(
        'the run to make progress',
        () => {
          if (settled) throw new Error('the run ended before it could be stopped (see the BatchNorm Lens log)');
          const r = api.lastReport(file);
          return !!r && r.createdAt !== previous && !r.complete && r.variants.every((v) => v.steps.length >= 2);
        },
        120_000,
      );
      assert.equal(api.isRunning(), true);
      await vscode.commands.executeCommand('bnlens.stop');
      const partial = await done;
      assert.ok(partial, 'a partial report');
      assert.equal(partial.complete, false);
      assert.match(partial.stopReason ?? '', /cancel/);
      assert.notEqual(partial.createdAt, previous, "the new run's report");
      for (const v of partial.variants) assert.ok(v.steps.length >= 2 && v.steps.length < 2000, `${v.name}: ${v.steps.length} steps kept`);
      assert.equal(api.lastReport(file)?.createdAt, partial.createdAt, "the partial report is the file's last report");
      assert.equal(api.shownReport(file)?.createdAt, previous, 'the earlier complete report is still the one the file shows');
      assert.deepEqual(
        api
          .runs(file)
          .slice(0, 2)
          .map((e) => [e.createdAt, e.complete]),
        [
          [partial.createdAt, false],
          [previous, true],
        ],
      );
      assert.equal(api.viewContext().phase, 'idle');
      assert.equal(api.isRunning(), false);
    } finally {
      await setRunSettings({ steps: 6 });
    }
  });

  it('refuses to analyze a broken buffer without writing it to disk', async function () {
    const f = path.join(dir, 'edited-net.json');
    const good = JSON.stringify(TINY_MLP, null, 2);
    fs.writeFileSync(f, good);
    const d = await vscode.workspace.openTextDocument(vscode.Uri.file(f));
    await vscode.window.showTextDocument(d);
    const errors = stubErrors();
    try {
      for (const broken of [good.replace('}', ''), good.replace('"Dense"', '"Densse"')]) {
        const edit = new vscode.WorkspaceEdit();
        edit.replace(d.uri, new vscode.Range(d.positionAt(0), d.positionAt(d.getText().length)), broken);
        await vscode.workspace.applyEdit(edit);
        assert.equal(d.isDirty, true);
        const r = await vscode.commands.executeCommand('bnlens.analyze', d.uri);
        assert.equal(r, null, 'refused');
        assert.equal(fs.readFileSync(f, 'utf8'), good, 'the file on disk is unchanged');
        assert.equal(d.isDirty, true, 'the edit is still only in the editor');
      }
      assert.equal(errors.length, 2);
      for (const e of errors) assert.match(String(e[0]), /edited-net\.json: .*Nothing was saved\./);
    } finally {
      restoreErrors();
      await vscode.commands.executeCommand('workbench.action.revertAndCloseActiveEditor');
    }
  });

  it('refuses a JSON file that is not a network', async function () {
    const other = path.join(dir, 'not-a-net.json');
    fs.writeFileSync(other, JSON.stringify({ name: 'pkg', version: '1.0.0' }));
    const r = await vscode.commands.executeCommand('bnlens.analyze', vscode.Uri.file(other));
    assert.equal(r, null);
    assert.equal(api.isRunning(), false);
  });
});
