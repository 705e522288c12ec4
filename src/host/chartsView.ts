// The `bnlens.charts` webview view in the BatchNorm Lens side bar: shows the current report and, while a
// run goes, its live events, with the context around them (which file, which run, what is going on).
// Not retained when hidden (the webview keeps its UI state with setState and asks for the report again
// with 'ready' when it comes back).
import * as vscode from 'vscode';
import type { EngineToHost, WebviewToHost } from '../protocol';
import type { ReportSource } from './runManager';
import { handleWebviewMessage, post, webviewHtml, webviewOptions } from './webviewHost';

export class ChartsViewProvider implements vscode.WebviewViewProvider, vscode.Disposable {
  static readonly viewType = 'bnlens.charts';
  private view: vscode.WebviewView | undefined;
  private readonly subs: vscode.Disposable[] = [];

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly source: ReportSource & { selectRun(id: string): void },
    private readonly log: vscode.LogOutputChannel,
  ) {
    this.subs.push(
      source.onEvent((ev: EngineToHost) => {
        if (this.view) void post(this.view.webview, { type: 'event', event: ev });
      }),
      source.onReplace(() => {
        if (!this.view) return;
        void post(this.view.webview, { type: 'context', context: this.source.viewContext() });
        void post(this.view.webview, { type: 'report', ...this.source.current() });
      }),
      source.onContext(() => {
        if (this.view) void post(this.view.webview, { type: 'context', context: this.source.viewContext() });
      }),
    );
  }

  resolveWebviewView(view: vscode.WebviewView): void {
    this.view = view;
    view.webview.options = webviewOptions(this.extensionUri);
    view.webview.html = webviewHtml(view.webview, this.extensionUri, 'BatchNorm Lens charts');
    const sub = view.webview.onDidReceiveMessage((m: WebviewToHost) => {
      if (m?.type === 'ready') void post(view.webview, { type: 'context', context: this.source.viewContext() });
      return handleWebviewMessage(view.webview, m, {
        current: () => this.source.current(),
        defaultDir: () => this.source.defaultDir(),
        log: this.log,
        selectRun: (id) => this.source.selectRun(id),
      });
    });
    view.onDidDispose(() => {
      sub.dispose();
      if (this.view === view) this.view = undefined;
    });
  }

  /**
   * Brings the view up without taking the focus from the editor (a run started from the palette shows
   * its charts at once), or with it (`preserveFocus` false: "Show Charts").
   */
  reveal(preserveFocus = true): void {
    if (this.view && preserveFocus) this.view.show(true);
    else void vscode.commands.executeCommand(`${ChartsViewProvider.viewType}.focus`, { preserveFocus });
  }

  get visible(): boolean {
    return !!this.view?.visible;
  }

  dispose(): void {
    for (const s of this.subs) s.dispose();
  }
}
