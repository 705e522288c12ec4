// Which workspace .json files are network files, kept as the context key `bnlens.networkFiles` (their
// URI paths) so that the explorer's context menu offers "Analyze BatchNorm" on those files only, the same
// files the command palette offers it for when they are open. A cheap look at each file's head, the same
// test the editor uses (looksLikeNetworkText); the command itself validates for real.
import * as vscode from 'vscode';
import { looksLikeNetworkText } from './layerRanges';
import { looksLikePythonNetwork } from './pythonDoc';

/** JSON network files by their head; Python files that import a framework and define a model. */
const looksLikeNetwork = (uri: vscode.Uri, head: string) => (/\.py$/i.test(uri.path) ? looksLikePythonNetwork(head) : looksLikeNetworkText(head));

/** Bytes read from each file: a model.json or Keras topology names its classes and layers early. */
const HEAD_BYTES = 256 * 1024;
const MAX_FILES = 5000;
const EXCLUDE = '{**/node_modules/**,**/.git/**,**/dist/**,**/out/**}';

export class NetworkFileIndex implements vscode.Disposable {
  private readonly paths = new Set<string>();
  private readonly subs: vscode.Disposable[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor() {
    for (const glob of ['**/*.json', '**/*.py']) {
      const watcher = vscode.workspace.createFileSystemWatcher(glob);
      this.subs.push(
        watcher,
        watcher.onDidCreate((u) => void this.check(u)),
        watcher.onDidChange((u) => void this.check(u)),
        watcher.onDidDelete((u) => this.set(u, false)),
      );
    }
    void this.scan();
  }

  /** The editor knows better for an open document (it has the unsaved text). */
  note(uri: vscode.Uri, isNetwork: boolean): void {
    if (uri.scheme === 'file') this.set(uri, isNetwork);
  }

  has(uri: vscode.Uri): boolean {
    return this.paths.has(uri.path);
  }

  private async scan(): Promise<void> {
    if (!vscode.workspace.workspaceFolders?.length) return this.publish();
    const files = await vscode.workspace.findFiles('**/*.{json,py}', EXCLUDE, MAX_FILES);
    await Promise.all(files.map((u) => this.check(u, false)));
    this.publish();
  }

  private async check(uri: vscode.Uri, publish = true): Promise<void> {
    if (uri.scheme !== 'file') return;
    try {
      const bytes = await vscode.workspace.fs.readFile(uri);
      const head = new TextDecoder().decode(bytes.subarray(0, HEAD_BYTES));
      this.set(uri, looksLikeNetwork(uri, head), publish);
    } catch {
      this.set(uri, false, publish);
    }
  }

  private set(uri: vscode.Uri, isNetwork: boolean, publish = true): void {
    const had = this.paths.has(uri.path);
    if (isNetwork) this.paths.add(uri.path);
    else this.paths.delete(uri.path);
    if (publish && had !== isNetwork) this.schedulePublish();
  }

  private schedulePublish(): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.publish(), 200);
  }

  private publish(): void {
    void vscode.commands.executeCommand('setContext', 'bnlens.networkFiles', [...this.paths].sort());
  }

  dispose(): void {
    clearTimeout(this.timer);
    for (const s of this.subs) s.dispose();
  }
}
