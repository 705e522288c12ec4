// The `bnlens.charts` webview view in the BatchNorm Lens side bar: shows the current report and, while a
// run goes, its live events. Not retained when hidden (the webview keeps its UI state with setState and
// asks for the report again with 'ready' when it comes back).
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
    private readonly source: ReportSource,
    private readonly log: vscode.LogOutputChannel,
  ) {
    this.subs.push(
      source.onEvent((ev: EngineToHost) => {
        if (this.view) void post(this.view.webview, { type: 'event', event: ev });
      }),
      source.onReplace(() => {
        if (this.view) void post(this.view.webview, { type: 'report', ...this.source.current() });
      }),
    );
  }

  resolveWebviewView(view: vscode.WebviewView): void {
    this.view = view;
    view.webview.options = webviewOptions(this.extensionUri);
    view.webview.html = webviewHtml(view.webview, this.extensionUri, 'BatchNorm Lens charts');
    const sub = view.webview.onDidReceiveMessage((m: WebviewToHost) =>
      handleWebviewMessage(view.webview, m, {
        current: () => this.source.current(),
        defaultDir: () => this.source.defaultDir(),
        log: this.log,
      }),
    );
    view.onDidDispose(() => {
      sub.dispose();
      if (this.view === view) this.view = undefined;
    });
  }

  get visible(): boolean {
    return !!this.view?.visible;
  }

  dispose(): void {
    for (const s of this.subs) s.dispose();
  }
}
