// The read-only editor VS Code opens for .onnx files (a binary file has no text to hover): the layers with
// shapes and parameters, the file's notes, an "Analyze BatchNorm" button, and after a run each layer's
// statistics. A file the engine cannot read shows its one-line error instead.
import * as vscode from 'vscode';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { isUserError } from '../engine/errors';
import { readOnnxNetwork } from '../engine/network/onnx/load';
import type { ReportStore } from './reportStore';
import type { RunManager } from './runManager';
import { onnxEditorHtml, onnxModelView, type OnnxEditorState } from './onnxEditorHtml';

/** Decoding runs on the extension host; beyond this size the editor does not block it and says so. */
const MAX_INLINE_BYTES = 64 << 20;

export class OnnxEditorProvider implements vscode.CustomReadonlyEditorProvider, vscode.Disposable {
  static readonly viewType = 'bnlens.onnx';
  private active: vscode.Uri | undefined;
  private readonly subs: vscode.Disposable[] = [];

  constructor(
    private readonly store: ReportStore,
    private readonly runs: RunManager,
    private readonly log: vscode.LogOutputChannel,
  ) {}

  /** The .onnx file of the focused editor, for "Analyze BatchNorm" from the palette. */
  activeUri(): vscode.Uri | undefined {
    return this.active;
  }

  openCustomDocument(uri: vscode.Uri): vscode.CustomDocument {
    return { uri, dispose: () => {} };
  }

  resolveCustomEditor(doc: vscode.CustomDocument, panel: vscode.WebviewPanel): void {
    const file = doc.uri.fsPath;
    panel.webview.options = { enableScripts: true, localResourceRoots: [] };
    let state = this.read(file);
    const render = () => {
      const nonce = randomBytes(16).toString('base64');
      panel.webview.html = onnxEditorHtml(state, this.store.get(file), this.runs.isRunning(file), nonce, panel.webview.cspSource);
    };
    render();
    const setActive = () => {
      if (panel.active) this.active = doc.uri;
      else if (this.active?.toString() === doc.uri.toString()) this.active = undefined;
    };
    setActive();
    let timer: NodeJS.Timeout | undefined;
    const later = (ms: number) => {
      if (!timer) timer = setTimeout(() => ((timer = undefined), render()), ms);
    };
    const watcher = vscode.workspace.createFileSystemWatcher(new vscode.RelativePattern(vscode.Uri.file(path.dirname(file)), path.basename(file)));
    const reread = () => {
      state = this.read(file);
      render();
    };
    const subs = [
      watcher,
      watcher.onDidChange(reread),
      watcher.onDidCreate(reread),
      panel.onDidChangeViewState(setActive),
      panel.webview.onDidReceiveMessage((m: { type?: string }) => {
        if (m?.type === 'analyze') void vscode.commands.executeCommand('bnlens.analyze', doc.uri);
        else if (m?.type === 'reload') reread();
      }),
      this.runs.onReplace(() => later(50)),
      this.runs.onEvent((ev) => {
        if (ev.type === 'started' || ev.type === 'finished' || ev.type === 'failed') later(50);
        else if (ev.type === 'layerStats') later(2000);
      }),
    ];
    panel.onDidDispose(() => {
      if (timer) clearTimeout(timer);
      subs.forEach((s) => s.dispose());
      if (this.active?.toString() === doc.uri.toString()) this.active = undefined;
    });
  }

  private read(file: string): OnnxEditorState {
    try {
      const size = fs.statSync(file).size;
      if (size > MAX_INLINE_BYTES)
        return {
          kind: 'error',
          file,
          message: `${path.basename(file)} is ${Math.round(size / 2 ** 20)} MB; the layer list is shown for models up to ${MAX_INLINE_BYTES >> 20} MB. "BatchNorm Lens: Analyze BatchNorm" still analyzes it.`,
        };
      return { kind: 'model', model: onnxModelView(readOnnxNetwork(file)) };
    } catch (e) {
      if (isUserError(e)) return { kind: 'error', file, message: e.message };
      this.log.error(`reading ${file}: ${(e as Error)?.stack ?? e}`);
      return { kind: 'error', file, message: `BatchNorm Lens could not read this file: ${(e as Error)?.message ?? e}` };
    }
  }

  dispose(): void {
    this.subs.forEach((s) => s.dispose());
  }
}
