// One analysis at a time: validates the file, builds the config from settings, runs the engine process
// under a cancellable progress notification and a status bar item, forwards live events to the webviews,
// keeps the report (also a cancelled run's partial one) and tells the user how it ended.
import * as vscode from 'vscode';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { formatDuration } from '../formatDuration';
import type { AnalyzeRequest, EngineToHost, Progress, Report } from '../protocol';
import { EngineRun, type LogLevel, type RunOutcome } from './engineClient';
import { analyzeNetworkText } from './networkDoc';
import type { ReportStore } from './reportStore';
import { buildRequest, explicitValue, SettingsError, type SettingKey } from './settings';

/** What the webviews show: the current report and its live events. */
export interface ReportSource {
  current(): { report: Report | null; live: boolean };
  defaultDir(): vscode.Uri | undefined;
  onEvent(l: (ev: EngineToHost) => void): vscode.Disposable;
  /** The current report was replaced (new run, report opened, another network file's report). */
  onReplace(l: () => void): vscode.Disposable;
}

interface ActiveRun {
  run: EngineRun;
  file: string;
}

export function progressMessage(p: Progress): string {
  const eta = p.etaMs === null ? '' : ` · ${formatDuration(p.etaMs)} left`;
  return `step ${p.done}/${p.total}${eta}`;
}

export class RunManager implements ReportSource, vscode.Disposable {
  private active: ActiveRun | null = null;
  private currentFile: string | null = null;
  private currentReport: Report | null = null;
  private readonly events = new vscode.EventEmitter<EngineToHost>();
  private readonly replaced = new vscode.EventEmitter<void>();
  private readonly status: vscode.StatusBarItem;
  private readonly subs: vscode.Disposable[] = [];

  constructor(
    private readonly context: vscode.ExtensionContext,
    private readonly store: ReportStore,
    private readonly log: vscode.LogOutputChannel,
  ) {
    this.status = vscode.window.createStatusBarItem('bnlens.run', vscode.StatusBarAlignment.Left, 20);
    this.status.name = 'BatchNorm Lens';
    this.status.command = 'bnlens.charts.focus';
    this.subs.push(this.status, this.events, this.replaced);
  }

  // ------------------------------------------------------------ ReportSource

  current(): { report: Report | null; live: boolean } {
    return { report: this.currentReport, live: !!this.active && this.active.file === this.currentFile };
  }

  currentFileName(): string | null {
    return this.currentFile;
  }

  defaultDir(): vscode.Uri | undefined {
    return this.currentFile ? vscode.Uri.file(path.dirname(this.currentFile)) : vscode.workspace.workspaceFolders?.[0]?.uri;
  }

  onEvent(l: (ev: EngineToHost) => void): vscode.Disposable {
    return this.events.event(l);
  }

  onReplace(l: () => void): vscode.Disposable {
    return this.replaced.event(l);
  }

  /** Shows `report` (of `file`) in the webviews that follow the current report. */
  showReport(file: string, report: Report | null): void {
    if (this.active && this.active.file !== file) return; // a live run keeps the charts
    if (this.currentFile === file && this.currentReport === report) return;
    this.currentFile = file;
    this.currentReport = report;
    void vscode.commands.executeCommand('setContext', 'bnlens.hasReport', !!report);
    this.replaced.fire();
  }

  isRunning(file?: string): boolean {
    return !!this.active && (file === undefined || this.active.file === file);
  }

  /** The running engine process's id (the integration tests kill it to play a crash). */
  enginePid(): number | undefined {
    return this.active?.run.pid;
  }

  // ------------------------------------------------------------ commands

  /** Stops the running analysis (its partial report is kept). Resolves when the engine has exited. */
  async stop(): Promise<void> {
    const a = this.active;
    if (!a) return;
    a.run.cancel();
    await a.run.done;
  }

  /**
   * Analyzes the network file `uri` (default: the active editor's). Resolves with the report when the run
   * ends (finished, stopped or failed part-way), or null if it did not start.
   */
  async analyze(uri: vscode.Uri | undefined): Promise<Report | null> {
    uri ??= vscode.window.activeTextEditor?.document.uri;
    if (!uri) {
      void vscode.window.showWarningMessage('BatchNorm Lens: open a network file (a TensorFlow.js model.json or a Keras model.to_json() file) first.');
      return null;
    }
    if (uri.scheme !== 'file') {
      void vscode.window.showErrorMessage(`BatchNorm Lens analyzes files on disk; ${uri.toString(true)} is not one.`);
      return null;
    }
    const file = uri.fsPath;
    const base = path.basename(file);

    // The engine reads the file from disk: save pending edits first.
    const open = vscode.workspace.textDocuments.find((d) => d.uri.toString() === uri!.toString());
    if (open?.isDirty && !(await open.save())) {
      void vscode.window.showWarningMessage(`BatchNorm Lens: ${base} has unsaved changes; save it to analyze it.`);
      return null;
    }
    let text: string;
    try {
      text = open ? open.getText() : new TextDecoder().decode(await vscode.workspace.fs.readFile(uri));
    } catch (e) {
      void vscode.window.showErrorMessage(`BatchNorm Lens: cannot read ${base}: ${(e as Error).message}`);
      return null;
    }
    const info = analyzeNetworkText(text, file);
    if (!info.isNetwork) {
      void vscode.window.showErrorMessage(
        `BatchNorm Lens: ${base} is not a network file. It needs a TensorFlow.js model.json ("modelTopology") or a Keras model.to_json() topology ("class_name" and "config.layers").`,
      );
      return null;
    }
    if (info.problem) {
      const at = info.problem;
      void vscode.window.showErrorMessage(`BatchNorm Lens: ${base}: ${at.message}`, 'Go to Problem').then(async (choice) => {
        if (choice !== 'Go to Problem') return;
        const doc = await vscode.workspace.openTextDocument(uri!);
        const range = new vscode.Range(doc.positionAt(at.start), doc.positionAt(at.end));
        await vscode.window.showTextDocument(doc, { selection: range });
      });
      return null;
    }

    const settings = vscode.workspace.getConfiguration('bnlens', uri);
    const folder = vscode.workspace.getWorkspaceFolder(uri);
    let config: AnalyzeRequest;
    try {
      config = buildRequest((k: SettingKey) => explicitValue(settings.inspect(k)), file, folder?.uri.fsPath ?? path.dirname(file));
    } catch (e) {
      if (!(e instanceof SettingsError)) throw e;
      const key = /bnlens\.\w+/.exec(e.message)?.[0] ?? 'bnlens';
      void vscode.window.showErrorMessage(`BatchNorm Lens: ${e.message}`, 'Open Settings').then((c) => {
        if (c) void vscode.commands.executeCommand('workbench.action.openSettings', key);
      });
      return null;
    }

    if (this.active) {
      const other = path.basename(this.active.file);
      const choice = await vscode.window.showWarningMessage(
        `An analysis of ${other} is running. Stop it and analyze ${base}?`,
        { modal: true, detail: `The partial report of ${other} is kept.` },
        'Stop and Analyze',
      );
      if (choice !== 'Stop and Analyze') return null;
      await this.stop();
    }
    return this.run(file, config);
  }

  private async run(file: string, config: AnalyzeRequest): Promise<Report | null> {
    const base = path.basename(file);
    const logFn = (level: LogLevel, msg: string) => this.log[level](msg);
    this.log.info(`analyzing ${file} with settings ${JSON.stringify({ ...config, model: undefined })} (the rest from the file's userDefinedMetadata.bnlens and the defaults)`);
    const workerPath = this.context.asAbsolutePath(path.join('dist', 'worker.js'));
    if (!fs.existsSync(workerPath)) {
      this.log.error(`the engine bundle ${workerPath} is missing`);
      void vscode.window.showErrorMessage('BatchNorm Lens: the analysis engine (dist/worker.js) is missing from the extension; rebuild it with `npm run build`.', 'Show Log').then((c) => {
        if (c) this.log.show(true);
      });
      return null;
    }
    const run = new EngineRun(config, {
      workerPath,
      log: logFn,
      cwd: path.dirname(file),
    });
    const active: ActiveRun = { run, file };
    this.active = active;
    void vscode.commands.executeCommand('setContext', 'bnlens.running', true);
    this.currentFile = file;
    this.currentReport = null;
    this.replaced.fire();
    this.updateStatus(base, null);

    let lastTouch = 0;
    const sub = run.onEvent((ev) => {
      if (ev.type === 'started' || ev.type === 'finished') {
        this.currentReport = run.report;
        if (run.report) this.store.set(file, run.report, false);
        void vscode.commands.executeCommand('setContext', 'bnlens.hasReport', true);
      } else if (Date.now() - lastTouch > 1000) {
        lastTouch = Date.now();
        this.store.touch(file);
      }
      if (ev.type === 'step') this.updateStatus(base, ev.progress);
      if (this.currentFile === file) this.events.fire(ev);
    });

    const outcome = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `BatchNorm Lens: analyzing ${base}`, cancellable: true },
      async (progress, token) => {
        token.onCancellationRequested(() => run.cancel());
        let reported = 0;
        const psub = run.onEvent((ev) => {
          if (ev.type !== 'step' || ev.progress.total <= 0) return;
          const pct = (100 * ev.progress.done) / ev.progress.total;
          progress.report({ message: progressMessage(ev.progress), increment: Math.max(0, pct - reported) });
          reported = Math.max(reported, pct);
        });
        progress.report({ message: 'starting the engine…' });
        try {
          return await run.done;
        } finally {
          psub.dispose();
        }
      },
    );
    sub.dispose();
    if (this.active === active) {
      this.active = null;
      void vscode.commands.executeCommand('setContext', 'bnlens.running', false);
      this.status.hide();
    }
    return this.finish(file, outcome, Date.now() - run.startedAt);
  }

  private finish(file: string, outcome: RunOutcome, ms: number): Report | null {
    const base = path.basename(file);
    const report = outcome.report;
    if (report) {
      this.store.set(file, report, true);
      if (this.currentFile === file) {
        this.currentReport = report;
        // The webviews received every event; a final 'report' makes sure they hold the kept document.
        this.replaced.fire();
      }
    }
    this.log.info(`analysis of ${file} ${outcome.status}${outcome.message ? `: ${outcome.message}` : ''} (${formatDuration(ms)})`);
    switch (outcome.status) {
      case 'finished': {
        const div = report?.variants.filter((v) => v.diverged).map((v) => v.name) ?? [];
        const note = div.length ? ` ${div.join(', ')} diverged.` : '';
        void vscode.window.showInformationMessage(`BatchNorm Lens: analysis of ${base} finished in ${formatDuration(ms)}.${note}`, 'Open Report').then((c) => {
          if (c) void vscode.commands.executeCommand('bnlens.openReportPanel');
        });
        break;
      }
      case 'cancelled':
        void vscode.window.showInformationMessage(`BatchNorm Lens: analysis of ${base} stopped${report ? '; the partial report is kept' : ''}.`);
        break;
      case 'failed': {
        const loc = outcome.location;
        const buttons = loc?.file ? ['Go to Problem', 'Show Log'] : ['Show Log'];
        void vscode.window.showErrorMessage(`BatchNorm Lens: ${outcome.message ?? 'the analysis failed'}`, ...buttons).then(async (c) => {
          if (c === 'Show Log') this.log.show(true);
          if (c === 'Go to Problem' && loc?.file) {
            const doc = await vscode.workspace.openTextDocument(vscode.Uri.file(loc.file));
            const pos = new vscode.Position(Math.max(0, (loc.line ?? 1) - 1), Math.max(0, (loc.column ?? 1) - 1));
            await vscode.window.showTextDocument(doc, { selection: new vscode.Range(pos, pos) });
          }
        });
        break;
      }
    }
    return report;
  }

  private updateStatus(base: string, p: Progress | null): void {
    this.status.text = p ? `$(sync~spin) BN Lens ${base} ${p.done}/${p.total}` : `$(sync~spin) BN Lens ${base}`;
    this.status.tooltip = new vscode.MarkdownString(
      `**BatchNorm Lens** — analyzing \`${base}\`\n\n${p ? progressMessage(p) : 'starting…'}\n\nClick to show the charts.`,
    );
    this.status.show();
  }

  dispose(): void {
    this.active?.run.kill();
    for (const s of this.subs) s.dispose();
  }
}
