// BatchNorm Lens in VS Code: commands, the charts view, report panels, hover, code lens and diagnostics
// for network files. The training itself runs in a separate engine process (src/host/engineClient.ts).
import * as vscode from 'vscode';
import * as path from 'node:path';
import type { Report } from './protocol';
import { ChartsViewProvider } from './host/chartsView';
import { LayerCodeLensProvider, LayerHoverProvider, NETWORK_SELECTOR, NetworkDiagnostics, NetworkDocs } from './host/editorFeatures';
import { ReportPanels } from './host/reportPanel';
import { ReportStore } from './host/reportStore';
import { validateReport } from './report/validate';
import { RunManager } from './host/runManager';

/** What activate() returns; the integration tests use it. */
export interface BnLensApi {
  /** The last report of `file` (fsPath), or the current one. */
  lastReport(file?: string): Report | null;
  isRunning(): boolean;
  /** Report panels currently open. */
  panelCount(): number;
  /** Test-only: the process id of the running analysis engine, if one runs. */
  enginePid(): number | undefined;
}

function toUri(arg: unknown): vscode.Uri | undefined {
  if (arg instanceof vscode.Uri) return arg;
  if (typeof arg === 'string' && arg) return /^[a-z][\w+.-]*:/i.test(arg) && !/^[a-z]:[\\/]/i.test(arg) ? vscode.Uri.parse(arg) : vscode.Uri.file(arg);
  if (arg && typeof arg === 'object' && 'scheme' in arg && 'path' in arg) return vscode.Uri.from(arg as vscode.Uri);
  return undefined;
}

export function activate(context: vscode.ExtensionContext): BnLensApi {
  const log = vscode.window.createOutputChannel('BatchNorm Lens', { log: true });
  const storage = context.storageUri ?? context.globalStorageUri;
  const store = new ReportStore(storage?.scheme === 'file' ? storage.fsPath : null, (m) => log.warn(m));
  const runs = new RunManager(context, store, log);
  const docs = new NetworkDocs();
  const charts = new ChartsViewProvider(context.extensionUri, runs, log);
  const panels = new ReportPanels(context.extensionUri, runs, log);
  const codeLens = new LayerCodeLensProvider(docs, store, runs);

  const syncActiveEditor = () => {
    const doc = vscode.window.activeTextEditor?.document;
    const isNet = !!doc && doc.uri.scheme === 'file' && (doc.languageId === 'json' || doc.languageId === 'jsonc') && docs.get(doc).isNetwork;
    void vscode.commands.executeCommand('setContext', 'bnlens.isNetworkFile', isNet);
    if (isNet && doc) {
      const r = store.get(doc.uri.fsPath);
      if (r) runs.showReport(doc.uri.fsPath, r);
    }
  };

  const reportOf = (arg: unknown): { file: string; report: Report | null } | null => {
    const uri = toUri(arg);
    if (uri?.scheme === 'file') return { file: uri.fsPath, report: store.get(uri.fsPath) };
    return null;
  };

  context.subscriptions.push(
    log,
    runs,
    charts,
    panels,
    codeLens,
    new NetworkDiagnostics(docs),
    vscode.window.registerWebviewViewProvider(ChartsViewProvider.viewType, charts),
    vscode.languages.registerHoverProvider(NETWORK_SELECTOR, new LayerHoverProvider(docs, store, runs)),
    vscode.languages.registerCodeLensProvider(NETWORK_SELECTOR, codeLens),
    vscode.window.onDidChangeActiveTextEditor(syncActiveEditor),
    vscode.workspace.onDidChangeTextDocument((e) => {
      if (e.document === vscode.window.activeTextEditor?.document) syncActiveEditor();
    }),

    vscode.commands.registerCommand('bnlens.analyze', (arg?: unknown) => runs.analyze(toUri(arg))),
    vscode.commands.registerCommand('bnlens.stop', () => runs.stop()),
    vscode.commands.registerCommand('bnlens.openReportPanel', (arg?: unknown) => {
      const of = reportOf(arg);
      if (of?.report) runs.showReport(of.file, of.report);
      if (!runs.current().report) {
        void vscode.window.showInformationMessage('BatchNorm Lens: no report yet. Run "Analyze BatchNorm" on a network file, or open a saved report.', 'Open Saved Report…').then((c) => {
          if (c) void vscode.commands.executeCommand('bnlens.openReport');
        });
        return;
      }
      panels.showCurrent();
    }),
    vscode.commands.registerCommand('bnlens.openReport', async (arg?: unknown) => {
      let uri = toUri(arg);
      if (!uri) {
        const picked = await vscode.window.showOpenDialog({
          canSelectMany: false,
          filters: { 'BatchNorm Lens report': ['json'] },
          defaultUri: runs.defaultDir(),
          openLabel: 'Open Report',
        });
        uri = picked?.[0];
      }
      if (!uri) return;
      let checked: ReturnType<typeof validateReport>;
      try {
        checked = validateReport(JSON.parse(new TextDecoder().decode(await vscode.workspace.fs.readFile(uri))));
      } catch (e) {
        void vscode.window.showErrorMessage(`BatchNorm Lens: cannot read ${path.basename(uri.fsPath)}: ${(e as Error).message}`);
        return;
      }
      if (!checked.ok) {
        void vscode.window.showErrorMessage(
          `BatchNorm Lens: ${path.basename(uri.fsPath)} is not a valid BatchNorm Lens report (${checked.error}); reports are written by "bnlens analyze --out" or "Save Report As…".`,
        );
        return;
      }
      panels.showFixed(checked.report);
    }),
    vscode.commands.registerCommand('bnlens.saveReport', async () => {
      const { report } = runs.current();
      if (!report) {
        void vscode.window.showInformationMessage('BatchNorm Lens: no report to save yet.');
        return;
      }
      const model = report.model.path || report.config.model;
      const stem = path.basename(model).replace(/\.json$/i, '');
      const target = await vscode.window.showSaveDialog({
        defaultUri: vscode.Uri.file(path.join(path.dirname(model), `${stem}.bnlens.json`)),
        filters: { 'BatchNorm Lens report': ['json'] },
        title: 'Save the report (the same JSON as `bnlens analyze --out`)',
      });
      if (!target) return;
      await vscode.workspace.fs.writeFile(target, new TextEncoder().encode(JSON.stringify(report, null, 2) + '\n'));
      log.info(`saved the report of ${model} to ${target.fsPath}`);
    }),
    vscode.commands.registerCommand('bnlens.showLog', () => log.show(true)),
    vscode.commands.registerCommand('bnlens._test.lastReport', (arg?: unknown) => {
      const of = reportOf(arg);
      return of ? of.report : runs.current().report;
    }),
  );
  syncActiveEditor();
  log.info(`BatchNorm Lens activated (VS Code ${vscode.version}, ${process.platform}/${process.arch}, node ${process.version})`);

  return {
    lastReport: (file) => (file ? store.get(file) : runs.current().report),
    isRunning: () => runs.isRunning(),
    panelCount: () => panels.count,
    enginePid: () => runs.enginePid(),
  };
}

export function deactivate(): void {
  // Disposables (including a running engine process, which is killed) are released by VS Code.
}
