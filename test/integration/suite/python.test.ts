// Python network files in the real extension host: a PyTorch .py opens as a network (after the grammar
// loads), hover on `self.fc1 = ...` shows the layer's module path, output shape (C, H, W order) and
// parameter count, "Analyze BatchNorm" runs it (the command the palette runs) and the report names layers
// by module path, and a construct outside the subset is a Problems entry on its exact range.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { BnLensApi } from '../../../src/extension';
import { until } from './wait';

const NET = `import torch
import torch.nn as nn
import torch.nn.functional as F


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 4, 3)
        self.fc1 = nn.Linear(4 * 13 * 13, 16)
        self.fc2 = nn.Linear(16, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = torch.flatten(x, 1)
        x = F.relu(self.fc1(x))
        return self.fc2(x)
`;

const BROKEN = `import torch.nn as nn


class Recurrent(nn.Module):
    def __init__(self):
        super().__init__()
        self.rnn = nn.LSTM(8, 16)

    def forward(self, x):
        return self.rnn(x)
`;

function hoverText(hovers: vscode.Hover[] | undefined): string {
  return (hovers ?? [])
    .flatMap((h) => h.contents)
    .map((c) => (typeof c === 'string' ? c : 'value' in c ? c.value : ''))
    .join('\n');
}

describe('Python network files', function () {
  let dir: string;
  let api: BnLensApi;

  before(async function () {
    const ws = process.env.BNLENS_TEST_WORKSPACE || vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
    dir = ws && fs.existsSync(ws) ? path.join(ws, 'bnlens-py') : fs.mkdtempSync(path.join(os.tmpdir(), 'bnlens-py-'));
    fs.mkdirSync(dir, { recursive: true });
    const ext = vscode.extensions.getExtension<BnLensApi>('bnlens.bnlens');
    assert.ok(ext);
    api = await ext.activate();
  });

  it('hovers `self.fc1 = ...` with its module path, C,H,W shape and parameter count', async function () {
    const file = path.join(dir, 'net.py');
    fs.writeFileSync(file, NET);
    const doc = await vscode.workspace.openTextDocument(vscode.Uri.file(file));
    await vscode.window.showTextDocument(doc);
    const at = doc.positionAt(doc.getText().indexOf('self.fc1 = ') + 2);
    const text = await until(
      'a hover on self.fc1 (the Python grammar loaded)',
      async () => {
        const t = hoverText(await vscode.commands.executeCommand<vscode.Hover[]>('vscode.executeHoverProvider', doc.uri, at));
        return /fc1/.test(t) ? t : null;
      },
      60_000,
      150,
    );
    // PyTorch: weight 16×676 + bias 16 = 10,832 parameters; output [N, 16].
    assert.ok(text.includes('**fc1** · `Linear` · output `[null, 16]` · 10,832 params'), text);
  });

  it('runs Analyze BatchNorm on the .py file; the report names layers by module path in forward order', async function () {
    this.timeout(300_000);
    const file = path.join(dir, 'net.py');
    await vscode.commands.executeCommand('bnlens.analyze', vscode.Uri.file(file));
    const report = await until(
      'a complete report for net.py',
      () => {
        const r = api.lastReport(file);
        return r && r.complete ? r : null;
      },
      240_000,
      150,
    );
    assert.equal(report.model.format, 'pytorch');
    assert.equal(report.model.layout, 'NCHW');
    const names = report.model.layers.map((l) => l.name);
    assert.ok(names.indexOf('conv1') < names.indexOf('fc1') && names.indexOf('fc1') < names.indexOf('fc2'), names.join(' '));
    assert.deepEqual(report.model.layers.find((l) => l.name === 'conv1')!.outputShape, [null, 4, 26, 26]);
  });

  it('puts a construct outside the subset in the Problems panel on its exact range', async function () {
    const file = path.join(dir, 'recurrent.py');
    fs.writeFileSync(file, BROKEN);
    const doc = await vscode.workspace.openTextDocument(vscode.Uri.file(file));
    await vscode.window.showTextDocument(doc);
    const d = await until('a BatchNorm Lens diagnostic on recurrent.py', () => vscode.languages.getDiagnostics(doc.uri).find((x) => x.source === 'BatchNorm Lens'), 60_000, 150);
    assert.match(d.message, /nn\.LSTM is outside the Python subset/);
    const call = doc.getText().indexOf('nn.LSTM(8, 16)');
    assert.equal(doc.offsetAt(d.range.start), call);
    assert.equal(doc.offsetAt(d.range.end), call + 'nn.LSTM(8, 16)'.length);
  });
});
