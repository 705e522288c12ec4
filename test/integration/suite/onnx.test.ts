// .onnx files in a real extension host: the file opens in BatchNorm Lens' read-only ONNX editor (a binary
// file has no text to hover), "Analyze BatchNorm" from the palette analyzes the file of that editor, and the
// run's report is the ONNX network's (its state_dict layer names).
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { BnLensApi } from '../../../src/extension';
import { until } from './wait';

const EXTENSION_ID = 'bnlens.bnlens';

/** The fixtures written by test/fixtures/onnx/generate.py, copied into the workspace. */
function fixture(dir: string, name: string): string {
  const roots = [process.env.BNLENS_REPO_ROOT, path.resolve(__dirname, '..', '..')].filter((p): p is string => !!p);
  for (const root of roots) {
    const src = path.join(root, 'test', 'fixtures', 'onnx', name);
    if (fs.existsSync(src)) {
      const copy = path.join(dir, name);
      fs.copyFileSync(src, copy);
      return copy;
    }
  }
  throw new Error(`test/fixtures/onnx/${name} not found (BNLENS_REPO_ROOT=${process.env.BNLENS_REPO_ROOT})`);
}

function activeCustomEditor(): vscode.TabInputCustom | null {
  const input = vscode.window.tabGroups.activeTabGroup.activeTab?.input;
  return input instanceof vscode.TabInputCustom ? input : null;
}

async function setRunSettings(values: Record<string, unknown>): Promise<void> {
  const cfg = vscode.workspace.getConfiguration('bnlens');
  const target = vscode.workspace.workspaceFolders?.length ? vscode.ConfigurationTarget.Workspace : vscode.ConfigurationTarget.Global;
  for (const [k, v] of Object.entries(values)) await cfg.update(k, v, target);
}

describe('ONNX files', function () {
  let api: BnLensApi;
  let dir: string;
  let model: string;

  before(async function () {
    const ws = process.env.BNLENS_TEST_WORKSPACE || vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
    dir = ws && fs.existsSync(ws) ? path.join(ws, 'bnlens-onnx') : fs.mkdtempSync(path.join(os.tmpdir(), 'bnlens-onnx-'));
    fs.mkdirSync(dir, { recursive: true });
    model = fixture(dir, 'residual.onnx');
    const ext = vscode.extensions.getExtension<BnLensApi>(EXTENSION_ID);
    assert.ok(ext, `extension ${EXTENSION_ID} is installed`);
    api = await ext.activate();
    await setRunSettings({ steps: 4, icsEvery: 2, evalEvery: 2, probeEvery: 1, etaCount: 3, batch: 8, dataset: 'gaussian', variants: ['standard', 'batchnorm'], backend: 'cpu', seed: 1 });
  });

  after(async function () {
    await setRunSettings({
      steps: undefined,
      icsEvery: undefined,
      evalEvery: undefined,
      probeEvery: undefined,
      etaCount: undefined,
      batch: undefined,
      dataset: undefined,
      variants: undefined,
      backend: undefined,
      seed: undefined,
    });
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  it('opens an .onnx file in the read-only ONNX editor', async function () {
    await vscode.commands.executeCommand('vscode.open', vscode.Uri.file(model));
    const input = await until('the ONNX editor', () => activeCustomEditor());
    assert.equal(input.viewType, 'bnlens.onnx');
    assert.equal(input.uri.fsPath, model);
  });

  it('"Analyze BatchNorm" from the palette analyzes the open .onnx file', async function () {
    this.timeout(180_000);
    assert.ok(activeCustomEditor(), 'needs the ONNX editor open');
    await vscode.commands.executeCommand('bnlens.analyze');
    const report = await until(
      'the report of the .onnx file',
      () => {
        const r = api.lastReport(model);
        return r && !api.isRunning() ? r : null;
      },
      150_000,
    );
    assert.equal(report.model.format, 'onnx');
    assert.deepEqual(
      report.model.layers.filter((l) => l.params > 0).map((l) => l.name),
      ['stem', 'block.conv1', 'block.bn1', 'block.conv2', 'block.bn2', 'fc'],
    );
    assert.deepEqual(
      report.variants.map((v) => v.name),
      ['standard', 'batchnorm'],
    );
    for (const v of report.variants) assert.equal(v.steps.length, 4, `${v.name}: one record per step`);
  });

  it('a damaged .onnx is refused without a report', async function () {
    const bad = path.join(dir, 'damaged.onnx');
    fs.writeFileSync(bad, fs.readFileSync(model).subarray(0, 100));
    await vscode.commands.executeCommand('bnlens.analyze', vscode.Uri.file(bad));
    await until('the run to end', () => !api.isRunning());
    assert.equal(api.lastReport(bad), null);
  });
});
