// Full reports in editor panels. One panel follows the current run (live events, replaced when a new run
// starts); reports opened from disk get panels of their own. A serializer restores panels after a reload
// from the state the webview saved with setState (which holds its report).
import * as vscode from 'vscode';
import * as path from 'node:path';
import type { EngineToHost, Report, WebviewToHost } from '../protocol';
import { asReport } from './reportStore';
import type { ReportSource } from './runManager';
import { handleWebviewMessage, post, webviewHtml, webviewOptions } from './webviewHost';

export const REPORT_PANEL_TYPE = 'bnlens.report';

interface PanelEntry {
  panel: vscode.WebviewPanel;
  /** null: follows the current report; else a fixed report. */
  fixed: Report | null;
  /** createdAt of the report last handed to the webview when it asked ('ready'); null before. */
  shown: string | null;
}

function title(report: Report | null): string {
  return report ? `BatchNorm Lens: ${path.basename(report.model.path || report.config.model)}` : 'BatchNorm Lens report';
}

export class ReportPanels implements vscode.WebviewPanelSerializer, vscode.Disposable {
  private readonly panels = new Set<PanelEntry>();
  private readonly subs: vscode.Disposable[] = [];

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly source: ReportSource,
    private readonly log: vscode.LogOutputChannel,
  ) {
    this.subs.push(
      vscode.window.registerWebviewPanelSerializer(REPORT_PANEL_TYPE, this),
      source.onEvent((ev: EngineToHost) => {
        for (const e of this.panels) if (!e.fixed) void post(e.panel.webview, { type: 'event', event: ev });
      }),
      source.onReplace(() => {
        const cur = this.source.current();
        for (const e of this.panels) {
          if (e.fixed) continue;
          e.panel.title = title(cur.report);
          void post(e.panel.webview, { type: 'report', ...cur });
        }
      }),
    );
  }

  /** Reveals the panel that follows the current report, creating it if needed. */
  showCurrent(): vscode.WebviewPanel {
    for (const e of this.panels) {
      if (!e.fixed) {
        e.panel.reveal(undefined, false);
        return e.panel;
      }
    }
    const panel = vscode.window.createWebviewPanel(REPORT_PANEL_TYPE, title(this.source.current().report), vscode.ViewColumn.Beside, {
      ...webviewOptions(this.extensionUri),
      retainContextWhenHidden: false,
    });
    this.attach(panel, null);
    return panel;
  }

  /** Opens a panel of its own for a report (e.g. one read from disk). */
  showFixed(report: Report): vscode.WebviewPanel {
    const panel = vscode.window.createWebviewPanel(REPORT_PANEL_TYPE, title(report), vscode.ViewColumn.Active, webviewOptions(this.extensionUri));
    this.attach(panel, report);
    return panel;
  }

  async deserializeWebviewPanel(panel: vscode.WebviewPanel, state: unknown): Promise<void> {
    const saved = asReport((state as { report?: unknown } | undefined)?.report);
    const live = (state as { live?: unknown } | undefined)?.live === true;
    // A panel that followed the current run keeps following; a fixed one gets its report back.
    const followsCurrent = !saved || live || this.isCurrent(saved);
    panel.webview.options = webviewOptions(this.extensionUri);
    this.attach(panel, followsCurrent && !this.hasFollower() ? null : saved);
  }

  get count(): number {
    return this.panels.size;
  }

  /** Per open panel, the createdAt of the report its webview asked for and received (null: not yet). */
  get shownReports(): (string | null)[] {
    return [...this.panels].map((e) => e.shown);
  }

  private hasFollower(): boolean {
    return [...this.panels].some((e) => !e.fixed);
  }

  private isCurrent(r: Report): boolean {
    const cur = this.source.current().report;
    return !!cur && cur.config.model === r.config.model && cur.createdAt === r.createdAt;
  }

  private attach(panel: vscode.WebviewPanel, fixed: Report | null): void {
    const entry: PanelEntry = { panel, fixed, shown: null };
    this.panels.add(entry);
    panel.iconPath = vscode.Uri.joinPath(this.extensionUri, 'media', 'bnlens.svg');
    panel.title = title(fixed ?? this.source.current().report);
    panel.webview.html = webviewHtml(panel.webview, this.extensionUri, panel.title);
    const sub = panel.webview.onDidReceiveMessage((m: WebviewToHost) =>
      handleWebviewMessage(panel.webview, m, {
        current: () => {
          const cur = entry.fixed ? { report: entry.fixed, live: false } : this.source.current();
          entry.shown = cur.report?.createdAt ?? null;
          return cur;
        },
        defaultDir: () => {
          const model = entry.fixed?.model.path ?? entry.fixed?.config.model;
          return model ? vscode.Uri.file(path.dirname(model)) : this.source.defaultDir();
        },
        log: this.log,
      }),
    );
    panel.onDidDispose(() => {
      sub.dispose();
      this.panels.delete(entry);
    });
  }

  dispose(): void {
    for (const s of this.subs) s.dispose();
    for (const e of [...this.panels]) e.panel.dispose();
  }
}
