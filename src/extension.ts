// BatchNorm Lens in VS Code: commands, the charts view, report panels, hover, code lens and diagnostics
// for network files. The training itself runs in a separate engine process (src/host/engineClient.ts).
import * as vscode from 'vscode';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Report, ViewContext } from './protocol';
import { ChartsViewProvider } from './host/chartsView';
import { isNetworkLanguage, LayerCodeLensProvider, LayerHoverProvider, NETWORK_SELECTOR, NetworkDiagnostics, NetworkDocs, SupportedLayersAction } from './host/editorFeatures';
import { pythonModelChoices } from './host/pythonDoc';
import { initPythonParser } from './engine/network/python/parser';
import { ReportPanels } from './host/reportPanel';
import { NetworkFileIndex } from './host/networkFileIndex';
import { ReportStore, type RunEntry } from './host/reportStore';
import { validateReport } from './report/validate';
import { RunManager } from './host/runManager';
import { OnnxEditorProvider } from './host/onnxEditor';
import { lossSurfaceAtStep } from './host/lossSurface';

/** The example networks shipped in dist/examples (copied there from examples/ by esbuild.mjs). */
const EXAMPLES = [
  { file: 'mlp-mnist.json', detail: 'MLP 784-256-128-10 on MNIST digits: about 15 seconds for 200 steps' },
  { file: 'vgg-mnist.json', detail: 'A small VGG-like CNN on MNIST: about a minute' },
  { file: 'deep-linear.json', detail: "The paper's 25-layer deep linear network on regression data: seconds" },
];

/** What activate() returns; the integration tests use it. */
export interface BnLensApi {
  /** The newest report of `file` (fsPath; a live run's too), or the one the charts show. */
  lastReport(file?: string): Report | null;
  /** The report `file` has (hover, code lens, the charts by default): the picked run, else its newest complete, else newest partial. */
  shownReport(file: string): Report | null;
  /** The run history of `file`, newest first. */
  runs(file: string): RunEntry[];
  /** What the charts view says around the charts (file, phase, runs). */
  viewContext(): ViewContext;
  isRunning(): boolean;
  /** Report panels currently open. */
  panelCount(): number;
  /** Test-only: per report panel, the createdAt of the report its webview asked for and received. */
  panelReports(): (string | null)[];
  /** Test-only: the process id of the running analysis engine, if one runs. */
  enginePid(): number | undefined;
}

function toUri(arg: unknown): vscode.Uri | undefined {
  if (arg instanceof vscode.Uri) return arg;
  if (typeof arg === 'string' && arg) return /^[a-z][\w+.-]*:/i.test(arg) && !/^[a-z]:[\\/]/i.test(arg) ? vscode.Uri.parse(arg) : vscode.Uri.file(arg);
  if (arg && typeof arg === 'object' && 'scheme' in arg && 'path' in arg) return vscode.Uri.from(arg as vscode.Uri);
  return undefined;
}

function fileDir(uri: vscode.Uri | undefined): string | null {
  return uri?.scheme === 'file' ? uri.fsPath : null;
}

/** The workspace this window has open, as one string (null: no folder open). */
function workspaceKey(): string | null {
  const ws = vscode.workspace.workspaceFile ?? null;
  if (ws) return ws.toString();
  const folders = vscode.workspace.workspaceFolders;
  return folders?.length ? folders.map((f) => f.uri.toString()).join('\n') : null;
}

/**
 * Where earlier versions kept reports: the workspace storage. A host that found it locked by another was
 * given "<id>-N/…" instead of "<id>/…", so the unsuffixed folder is looked at too.
 */
function earlierStorage(uri: vscode.Uri | undefined): string[] {
  const dir = fileDir(uri);
  if (!dir) return [];
  const parent = path.dirname(dir);
  const base = parent.replace(/-\d+$/, '');
  return base === parent ? [dir] : [dir, path.join(base, path.basename(dir))];
}

export function activate(context: vscode.ExtensionContext): BnLensApi {
  const log = vscode.window.createOutputChannel('BatchNorm Lens', { log: true });
  const store = new ReportStore(fileDir(context.globalStorageUri), (m) => log.warn(m), { workspace: workspaceKey(), earlierDirs: earlierStorage(context.storageUri) });
  const runs = new RunManager(context, store, log);
  const docs = new NetworkDocs();
  const charts = new ChartsViewProvider(context.extensionUri, runs, log);
  const panels = new ReportPanels(context.extensionUri, runs, log);
  const codeLens = new LayerCodeLensProvider(docs, store, runs);
  const networkFiles = new NetworkFileIndex();
  const onnxEditors = new OnnxEditorProvider(store, runs, log);

  const syncActiveEditor = () => {
    const doc = vscode.window.activeTextEditor?.document;
    const isNet = !!doc && doc.uri.scheme === 'file' && isNetworkLanguage(doc.languageId) && docs.get(doc).isNetwork;
    void vscode.commands.executeCommand('setContext', 'bnlens.isNetworkFile', isNet);
    if (doc && isNetworkLanguage(doc.languageId)) networkFiles.note(doc.uri, isNet);
    // Only a real editor change moves the charts: focus in the Output panel or a webview keeps them.
    if (doc && doc.uri.scheme !== 'output') runs.setActiveNetwork(isNet ? doc.uri.fsPath : null);
  };
  runs.revealCharts = () => charts.reveal();

  const reportOf = (arg: unknown): { file: string; report: Report | null } | null => {
    const uri = toUri(arg);
    if (uri?.scheme === 'file') return { file: uri.fsPath, report: store.get(uri.fsPath) };
    return null;
  };
  const newest = (file: string): Report | null => {
    const first = store.runs(file)[0];
    return first ? store.getRun(file, first.id) : null;
  };

  /** "Open an Example": a copy in the extension's global storage (never in the user's repository), opened in an editor. */
  const openExample = async (name?: string) => {
    const dir = vscode.Uri.joinPath(context.extensionUri, 'dist', 'examples');
    const picked =
      name ??
      (
        await vscode.window.showQuickPick(
          EXAMPLES.map((e) => ({ label: e.file, detail: e.detail })),
          {
            title: 'BatchNorm Lens: open an example network',
            placeHolder: 'A copy opens in an editor; then run "Analyze BatchNorm" (the editor title\'s pulse button).',
          },
        )
      )?.label;
    if (!picked) return;
    const target = vscode.Uri.joinPath(context.globalStorageUri, 'examples', picked);
    try {
      await vscode.workspace.fs.stat(target);
    } catch {
      await vscode.workspace.fs.createDirectory(vscode.Uri.joinPath(context.globalStorageUri, 'examples'));
      await vscode.workspace.fs.copy(vscode.Uri.joinPath(dir, picked), target, { overwrite: false });
    }
    await vscode.window.showTextDocument(target, { preview: false });
  };

  // Python network files need the tree-sitter grammar (WebAssembly, loaded once); until then they count as
  // not yet read, and every open one is looked at again when it is ready.
  pythonModelChoices.store = context.workspaceState;
  const diagnostics = new NetworkDiagnostics(docs);
  void initPythonParser().then(
    () => {
      docs.forgetPython();
      for (const d of vscode.workspace.textDocuments) if (d.languageId === 'python') diagnostics.update(d);
      syncActiveEditor();
    },
    (e) => log.error(`the Python grammar did not load: ${(e as Error).message}`),
  );

  context.subscriptions.push(
    log,
    runs,
    charts,
    panels,
    codeLens,
    networkFiles,
    diagnostics,
    vscode.window.registerWebviewViewProvider(ChartsViewProvider.viewType, charts),
    onnxEditors,
    vscode.window.registerCustomEditorProvider(OnnxEditorProvider.viewType, onnxEditors, { supportsMultipleEditorsPerDocument: true }),
    vscode.languages.registerHoverProvider(NETWORK_SELECTOR, new LayerHoverProvider(docs, store, runs)),
    vscode.languages.registerCodeLensProvider(NETWORK_SELECTOR, codeLens),
    vscode.languages.registerCodeActionsProvider(NETWORK_SELECTOR, new SupportedLayersAction(), { providedCodeActionKinds: SupportedLayersAction.kinds }),
    vscode.window.onDidChangeActiveTextEditor(syncActiveEditor),
    vscode.workspace.onDidChangeTextDocument((e) => {
      if (e.document === vscode.window.activeTextEditor?.document) syncActiveEditor();
    }),

    vscode.commands.registerCommand('bnlens.analyze', (arg?: unknown) => runs.analyze(toUri(arg) ?? onnxEditors.activeUri())),
    vscode.commands.registerCommand('bnlens.stop', () => runs.stop()),
    vscode.commands.registerCommand('bnlens.showCharts', () => charts.reveal(false)),
    // The extension's README (shipped in the .vsix) at its list of supported layers.
    vscode.commands.registerCommand('bnlens.showSupportedLayers', () => {
      // In the .vsix the users' README is readme.md (vsce --readme-path); in a development checkout, media/README.md.
      const readme = ['readme.md', 'media/README.md', 'README.md'].map((f) => path.join(context.extensionPath, f)).find((f) => fs.existsSync(f));
      if (readme) return vscode.commands.executeCommand('markdown.showPreview', vscode.Uri.file(readme).with({ fragment: 'supported-layers' }));
    }),
    vscode.commands.registerCommand('bnlens.openExample', (name?: unknown) => openExample(typeof name === 'string' ? name : undefined)),
    vscode.commands.registerCommand('bnlens.openReportPanel', (arg?: unknown) => {
      const of = reportOf(arg);
      if (of?.report) runs.follow(of.file);
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
        void vscode.window.showErrorMessage(`BatchNorm Lens: ${path.basename(uri.fsPath)} is not a valid BatchNorm Lens report (${checked.error}); reports are written by "bnlens analyze --out" or "Save Report As…".`);
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
    vscode.commands.registerCommand('bnlens.lossSurface', (step?: unknown) =>
      lossSurfaceAtStep(
        {
          workerPath: context.asAbsolutePath(path.join('dist', 'worker.js')),
          current: () => ({ file: runs.currentFileName(), ...runs.current() }),
          update: (file, report) => {
            // The same run (createdAt) with its new slice: replace its history entry and redraw it.
            runs.follow(file, store.set(file, report, true));
          },
          preview: (file, slice) => runs.previewSlice(file, slice),
          log,
        },
        typeof step === 'number' ? step : undefined,
      ),
    ),
    vscode.commands.registerCommand('bnlens.showLog', () => log.show(true)),
  );
  syncActiveEditor();
  log.info(`BatchNorm Lens activated (VS Code ${vscode.version}, ${process.platform}/${process.arch}, node ${process.version}); reports are kept in ${fileDir(context.globalStorageUri) ?? 'memory only'}`);

  return {
    lastReport: (file) => (file ? newest(file) : runs.current().report),
    shownReport: (file) => store.get(file),
    runs: (file) => store.runs(file),
    viewContext: () => runs.viewContext(),
    isRunning: () => runs.isRunning(),
    panelCount: () => panels.count,
    panelReports: () => panels.shownReports,
    enginePid: () => runs.enginePid(),
  };
}

export function deactivate(): void {
  // Disposables (including a running engine process, which is killed) are released by VS Code.
}
