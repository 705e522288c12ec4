// The editor side of network files: a per-version cache of what the file says (networkDoc.ts), the
// `bnlens.isNetworkFile` context key, diagnostics in the Problems panel (debounced while typing), the
// layer hover and the code lenses above layers.
import * as vscode from 'vscode';
import { codeLensTitle, hoverMarkdown, modelLensTitle } from './hoverContent';
import { layerAt } from './layerRanges';
import { analyzeNetworkText, type NetworkDocInfo } from './networkDoc';
import type { ReportStore } from './reportStore';
import type { RunManager } from './runManager';

export const NETWORK_SELECTOR: vscode.DocumentSelector = [
  { language: 'json', scheme: 'file' },
  { language: 'jsonc', scheme: 'file' },
  { language: 'python', scheme: 'file' },
];

/** Languages whose files can be network files: JSON (tfjs, Keras) and Python (PyTorch, Keras). */
export const isNetworkLanguage = (languageId: string) => languageId === 'json' || languageId === 'jsonc' || languageId === 'python';
const isJson = (doc: vscode.TextDocument) => doc.uri.scheme === 'file' && isNetworkLanguage(doc.languageId);

export class NetworkDocs {
  private readonly cache = new Map<string, { version: number; info: NetworkDocInfo }>();

  get(doc: vscode.TextDocument): NetworkDocInfo {
    const key = doc.uri.toString();
    const hit = this.cache.get(key);
    if (hit && hit.version === doc.version) return hit.info;
    const info = analyzeNetworkText(doc.getText(), doc.uri.fsPath);
    this.cache.set(key, { version: doc.version, info });
    return info;
  }

  forget(doc: vscode.TextDocument): void {
    this.cache.delete(doc.uri.toString());
  }

  /** Forget every cached Python file (the grammar finished loading, or a model was chosen). */
  forgetPython(): void {
    for (const k of [...this.cache.keys()]) if (/\.py$/i.test(k)) this.cache.delete(k);
  }
}

export function commandUri(command: string, ...args: unknown[]): string {
  return `command:${command}?${encodeURIComponent(JSON.stringify(args))}`;
}

export class LayerHoverProvider implements vscode.HoverProvider {
  constructor(
    private readonly docs: NetworkDocs,
    private readonly store: ReportStore,
    private readonly runs: RunManager,
  ) {}

  provideHover(doc: vscode.TextDocument, pos: vscode.Position): vscode.Hover | undefined {
    if (!isJson(doc)) return undefined;
    const info = this.docs.get(doc);
    if (!info.isNetwork) return undefined;
    const layer = layerAt(info.layers, doc.offsetAt(pos));
    if (!layer) return undefined;
    const facts = info.facts.get(layer.name) ?? { name: layer.name, className: layer.className, outputShape: null, params: null };
    const file = doc.uri.fsPath;
    const md = hoverMarkdown(facts, this.store.get(file), { analyze: commandUri('bnlens.analyze', doc.uri.toString()), openReport: commandUri('bnlens.openReportPanel', doc.uri.toString()) }, this.runs.isRunning(file));
    const ms = new vscode.MarkdownString(md);
    ms.isTrusted = { enabledCommands: ['bnlens.analyze', 'bnlens.openReportPanel'] };
    const nameRange = new vscode.Range(doc.positionAt(layer.nameStart), doc.positionAt(layer.nameEnd));
    return new vscode.Hover(ms, nameRange.contains(pos) ? nameRange : undefined);
  }
}

export class LayerCodeLensProvider implements vscode.CodeLensProvider, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeCodeLenses = this.changed.event;
  private readonly sub: { dispose(): void };

  constructor(
    private readonly docs: NetworkDocs,
    private readonly store: ReportStore,
    private readonly runs: RunManager,
  ) {
    this.sub = store.onDidChange(() => this.changed.fire());
  }

  provideCodeLenses(doc: vscode.TextDocument): vscode.CodeLens[] {
    if (!isJson(doc)) return [];
    const info = this.docs.get(doc);
    if (!info.isNetwork) return [];
    const report = this.store.get(doc.uri.fsPath);
    if (!report) return [];
    const running = this.runs.isRunning(doc.uri.fsPath);
    const lenses: vscode.CodeLens[] = [];
    const open = { command: 'bnlens.openReportPanel', arguments: [doc.uri.toString()] };
    const model = modelLensTitle(report, running);
    if (model) {
      // At the top: the first line of the file (the model-level result), not above any one layer.
      const top = new vscode.Range(0, 0, 0, 0);
      lenses.push(
        new vscode.CodeLens(top, {
          ...open,
          title: model,
          tooltip: 'β̄: mean effective β-smoothness of the loss along the gradient per variant, over the run (lower is smoother; Santurkar et al. Fig. 4c). Click to open the report.',
        }),
      );
    }
    for (const l of info.layers) {
      const title = codeLensTitle(l.name, report, running);
      if (!title) continue;
      const at = doc.positionAt(l.start);
      lenses.push(
        new vscode.CodeLens(new vscode.Range(at, at), {
          ...open,
          title,
          tooltip: `${l.name}, last measurement per variant. ICS ℓ2: how much this layer's gradient changes when the earlier layers take their step (internal covariate shift, Santurkar et al. Def. 2.1; 0 = none). act std: standard deviation of its output activations. Click to open the report.`,
        }),
      );
    }
    return lenses;
  }

  dispose(): void {
    this.sub.dispose();
    this.changed.dispose();
  }
}

const UNSUPPORTED_LAYER_CODE = 'unsupported-layer';

/** The quick fix on an unsupported layer: open the README's list of supported layers. */
export class SupportedLayersAction implements vscode.CodeActionProvider {
  static readonly kinds = [vscode.CodeActionKind.QuickFix];

  provideCodeActions(_doc: vscode.TextDocument, _range: vscode.Range, context: vscode.CodeActionContext): vscode.CodeAction[] {
    return context.diagnostics
      .filter((d) => d.source === 'BatchNorm Lens' && d.code === UNSUPPORTED_LAYER_CODE)
      .map((d) => {
        const a = new vscode.CodeAction('Show the layers BatchNorm Lens supports', vscode.CodeActionKind.QuickFix);
        a.command = { command: 'bnlens.showSupportedLayers', title: 'Show the layers BatchNorm Lens supports' };
        a.diagnostics = [d];
        return a;
      });
  }
}

/** Problems-panel entries for network files, refreshed while typing (debounced) and cleared when fixed. */
export class NetworkDiagnostics implements vscode.Disposable {
  readonly collection = vscode.languages.createDiagnosticCollection('bnlens');
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly subs: vscode.Disposable[] = [];

  constructor(
    private readonly docs: NetworkDocs,
    private readonly delayMs = 300,
  ) {
    this.subs.push(
      this.collection,
      vscode.workspace.onDidOpenTextDocument((d) => this.update(d)),
      vscode.workspace.onDidChangeTextDocument((e) => this.schedule(e.document)),
      vscode.workspace.onDidCloseTextDocument((d) => {
        this.collection.delete(d.uri);
        this.docs.forget(d);
        clearTimeout(this.timers.get(d.uri.toString()));
      }),
    );
    for (const d of vscode.workspace.textDocuments) this.update(d);
  }

  schedule(doc: vscode.TextDocument): void {
    if (!isJson(doc)) return;
    const key = doc.uri.toString();
    clearTimeout(this.timers.get(key));
    this.timers.set(
      key,
      setTimeout(() => {
        this.timers.delete(key);
        this.update(doc);
      }, this.delayMs),
    );
  }

  update(doc: vscode.TextDocument): void {
    if (!isJson(doc) || doc.isClosed) return;
    const info = this.docs.get(doc);
    if (!info.isNetwork || !info.problem || info.problem.syntax) {
      this.collection.delete(doc.uri);
      return;
    }
    const p = info.problem;
    // An unsupported layer gets the short text (the full one lists every supported type, a screen long in the
    // Problems panel); the list is one quick fix away (SupportedLayersAction).
    const d = new vscode.Diagnostic(new vscode.Range(doc.positionAt(p.start), doc.positionAt(p.end)), p.short ?? p.message, vscode.DiagnosticSeverity.Error);
    d.source = 'BatchNorm Lens';
    if (p.short) d.code = UNSUPPORTED_LAYER_CODE;
    this.collection.set(doc.uri, [d]);
  }

  dispose(): void {
    for (const t of this.timers.values()) clearTimeout(t);
    for (const s of this.subs) s.dispose();
  }
}
