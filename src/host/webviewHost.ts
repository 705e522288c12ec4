// What the charts view and the report panel share: webview options limited to dist/ and media/, the HTML
// with a fresh nonce, and the handling of WebviewToHost messages (ready → current report, export → save
// dialog, openReport → the command).
import * as vscode from 'vscode';
import * as path from 'node:path';
import type { HostToWebview, Report, WebviewToHost } from '../protocol';
import { makeNonce, renderWebviewHtml } from '../report/webviewHtml';
import { exportBytes } from './exportData';

export function webviewOptions(extensionUri: vscode.Uri): vscode.WebviewOptions {
  return {
    enableScripts: true,
    enableCommandUris: false,
    localResourceRoots: [vscode.Uri.joinPath(extensionUri, 'dist'), vscode.Uri.joinPath(extensionUri, 'media')],
  };
}

export function webviewHtml(webview: vscode.Webview, extensionUri: vscode.Uri, title: string): string {
  return renderWebviewHtml({
    cspSource: webview.cspSource,
    nonce: makeNonce(),
    scriptUri: webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, 'dist', 'webview.js')).toString(),
    styleUri: webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, 'dist', 'webview.css')).toString(),
    title,
  });
}

/** Posts a typed message (the only way the host talks to a webview). */
export function post(webview: vscode.Webview, msg: HostToWebview): Thenable<boolean> {
  return webview.postMessage(msg);
}

export interface WebviewContext {
  /** The report this webview shows now, and whether it is still being written. */
  current(): { report: Report | null; live: boolean };
  /** Directory offered by the save dialog (the network file's). */
  defaultDir(): vscode.Uri | undefined;
  log: vscode.LogOutputChannel;
  /** The run picker (the charts view only). */
  selectRun?(id: string): void;
}

const ACTIONS = { analyze: 'bnlens.analyze', openExample: 'bnlens.openExample', stop: 'bnlens.stop' } as const;

export async function handleWebviewMessage(webview: vscode.Webview, msg: WebviewToHost, ctx: WebviewContext): Promise<void> {
  switch (msg?.type) {
    case 'ready': {
      const { report, live } = ctx.current();
      await post(webview, { type: 'report', report, live });
      return;
    }
    case 'openReport':
      await vscode.commands.executeCommand('bnlens.openReport');
      return;
    case 'selectRun':
      ctx.selectRun?.(String(msg.id));
      return;
    case 'action':
      if (Object.hasOwn(ACTIONS, msg.action)) await vscode.commands.executeCommand(ACTIONS[msg.action]);
      return;
    case 'export': {
      const safe = String(msg.chart).replace(/[^\w.-]+/g, '-') || 'chart';
      const model = ctx.current().report?.model.path;
      const stem = model ? `${path.basename(model).replace(/\.json$/i, '')}-` : '';
      const dir = ctx.defaultDir();
      const name = `${stem}${safe}.${msg.format}`;
      const target = await vscode.window.showSaveDialog({
        defaultUri: dir ? vscode.Uri.joinPath(dir, name) : undefined,
        filters: msg.format === 'svg' ? { 'SVG image': ['svg'] } : { 'PNG image': ['png'] },
        title: `Export chart as ${msg.format.toUpperCase()}`,
        saveLabel: 'Export',
      });
      if (!target) return;
      try {
        await vscode.workspace.fs.writeFile(target, exportBytes(msg.format, msg.data));
        ctx.log.info(`exported ${msg.chart} to ${target.fsPath}`);
        await post(webview, { type: 'exported', path: target.fsPath });
      } catch (e) {
        ctx.log.error(`export failed: ${(e as Error).message}`);
        void vscode.window.showErrorMessage(`BatchNorm Lens: could not export the chart: ${(e as Error).message}`);
      }
      return;
    }
    default:
      ctx.log.warn(`ignoring an unknown webview message: ${JSON.stringify(msg)?.slice(0, 200)}`);
  }
}
