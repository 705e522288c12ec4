// One analysis at a time: checks the file (the editor's text, before anything is saved), builds the config
// from settings, runs the engine process with progress in three places (a notification for the first
// seconds, the charts view's icon, the status bar), forwards live events to the webviews, keeps every
// run in the file's history and tells the user how it ended.
import * as vscode from 'vscode';
import { initPythonParser } from '../engine/network/python/parser';
import { analyzePythonText, pythonModelChoices, type PythonDocInfo } from './pythonDoc';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { formatDuration } from '../formatDuration';
import type { AnalyzeRequest, EngineToHost, Report, RunChoice, SliceResult, ViewContext } from '../protocol';
import { extentText, phaseText, progressText, runProgress } from '../report/progress';
import { EngineRun, type LogLevel, type RunOutcome } from './engineClient';
import { analyzeNetworkText, type NetworkDocInfo } from './networkDoc';
import { isOnnxFile } from '../engine/network/onnx/load';
import type { ReportStore, RunEntry } from './reportStore';
import { buildRequest, explicitValue, SettingsError, type SettingKey } from './settings';

/** What the webviews show: the current report, its live events, and the context around it. */
export interface ReportSource {
  current(): { report: Report | null; live: boolean };
  viewContext(): ViewContext;
  defaultDir(): vscode.Uri | undefined;
  onEvent(l: (ev: EngineToHost) => void): vscode.Disposable;
  /** The current report was replaced (new run, report opened, another network file's report). */
  onReplace(l: () => void): vscode.Disposable;
  /** The context changed without the report changing (phase, history, active editor). */
  onContext(l: () => void): vscode.Disposable;
}

type Phase = ViewContext['phase'];

interface ActiveRun {
  run: EngineRun;
  file: string;
  phase: Phase;
  /** Resolves when the run has ended (used to close a prompt that is about this run). */
  ended: vscode.EventEmitter<void>;
  /** Updates the notification's text at once (Stopping…). */
  say?: (message: string) => void;
  /** The long part of a step going on now ("batchnorm: Hessian at step 25…"), until that variant's step lands. */
  working?: { variant: string; text: string } | null;
}

/** How long the progress notification stays once training has started; then the status bar and the view carry it. */
export const NOTIFICATION_MS = 8000;
export const LIVE_ID = 'live';

/** The run's progress with the time left: "step 9 of 40 (standard 10, batchnorm 9) · 35s left". */
export function progressMessage(report: Report | null, etaMs: number | null, working: string | null = null): string {
  if (!report) return 'starting the engine…';
  const eta = etaMs === null ? '' : ` · ${formatDuration(etaMs)} left`;
  return `${progressText(runProgress(report))}${eta}${working ? ` · ${working}` : ''}`;
}

function when(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return d.toLocaleString(undefined, { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' });
}

export function runChoice(e: RunEntry): RunChoice {
  const extent = e.complete ? `${e.steps} steps` : `stopped at step ${e.step} of ${e.steps}`;
  return {
    id: e.id,
    label: `${when(e.createdAt)} · ${extent}`,
    detail: `${e.variants.join(', ')} · lr ${e.lr} · batch ${e.batch} · ${e.dataset}`,
    complete: e.complete,
  };
}

export class RunManager implements ReportSource, vscode.Disposable {
  private active: ActiveRun | null = null;
  /** The network file the charts follow, and the run of its history they show (LIVE_ID, an id, or null: the default). */
  private followed: string | null = null;
  private shownId: string | null = null;
  private activeNetwork: string | null = null;
  private readonly events = new vscode.EventEmitter<EngineToHost>();
  private readonly replaced = new vscode.EventEmitter<void>();
  private readonly contextChanged = new vscode.EventEmitter<void>();
  private readonly status: vscode.StatusBarItem;
  private readonly subs: vscode.Disposable[] = [];
  /** Hooks for the charts view (kept out of this class so that it does not depend on the view). */
  revealCharts: () => void = () => undefined;

  constructor(
    private readonly context: vscode.ExtensionContext,
    private readonly store: ReportStore,
    private readonly log: vscode.LogOutputChannel,
  ) {
    this.status = vscode.window.createStatusBarItem('bnlens.run', vscode.StatusBarAlignment.Left, 20);
    this.status.name = 'BatchNorm Lens';
    this.status.command = 'bnlens.showCharts';
    this.subs.push(this.status, this.events, this.replaced, this.contextChanged);
    // After a reload the charts show the last file analyzed until a network file is active.
    const last = store.lastFile() ?? context.workspaceState.get<string>('bnlens.lastFile');
    if (last && fs.existsSync(last) && store.runs(last).length) this.followed = last;
    if (last) log.info(this.followed ? `the charts show ${last}, the network file they followed last` : `the network file followed last, ${last}, has no stored report`);
    this.setHasReport();
  }

  // ------------------------------------------------------------ ReportSource

  current(): { report: Report | null; live: boolean } {
    const a = this.active;
    if (a && a.file === this.followed && this.shownId === LIVE_ID) return { report: a.run.report, live: true };
    if (!this.followed) return { report: null, live: false };
    return { report: this.store.get(this.followed), live: false };
  }

  viewContext(): ViewContext {
    const file = this.followed;
    const a = this.active && this.active.file === file ? this.active : null;
    const runs: RunChoice[] = file ? this.store.runs(file).map(runChoice) : [];
    if (a) {
      const r = a.run.report;
      const label = a.phase === 'starting' ? 'starting…' : a.phase === 'stopping' ? 'stopping…' : `running · ${r ? progressText(runProgress(r)) : ''}`;
      const detail = r ? `${r.variants.map((v) => v.name).join(', ')} · lr ${r.config.lr} · batch ${r.config.batch} · ${r.dataset.name}` : '';
      const i = runs.findIndex((c) => r && c.id === r.createdAt);
      if (i >= 0) runs.splice(i, 1);
      runs.unshift({ id: LIVE_ID, label, detail, complete: false });
    }
    const shown = this.shownId === LIVE_ID && a ? LIVE_ID : null;
    return {
      file,
      fileName: file ? path.basename(file) : null,
      phase: a ? a.phase : 'idle',
      runs,
      shown: shown ?? (file ? this.store.shownId(file) : null),
      activeNetwork: this.activeNetwork ? path.basename(this.activeNetwork) : null,
    };
  }

  currentFileName(): string | null {
    return this.followed;
  }

  defaultDir(): vscode.Uri | undefined {
    return this.followed ? vscode.Uri.file(path.dirname(this.followed)) : vscode.workspace.workspaceFolders?.[0]?.uri;
  }

  onEvent(l: (ev: EngineToHost) => void): vscode.Disposable {
    return this.events.event(l);
  }

  onReplace(l: () => void): vscode.Disposable {
    return this.replaced.event(l);
  }

  onContext(l: () => void): vscode.Disposable {
    return this.contextChanged.event(l);
  }

  /** The active editor changed: `file` is its network file, or null (not a network file, or no editor). */
  setActiveNetwork(file: string | null): void {
    const before = this.activeNetwork;
    this.activeNetwork = file;
    // The charts follow the active network file; a live run keeps them until it ends.
    if (file && file !== this.followed && !this.active) this.follow(file);
    else if (before !== file) this.contextChanged.fire();
  }

  /**
   * Shows `file` in the webviews that follow the current report: its live run (LIVE_ID), a run of its
   * history (an id; null: back to the default run), or (undefined) the run picked for it last.
   */
  follow(file: string, id?: string | null): void {
    if (this.active && this.active.file !== file && this.followed === this.active.file) return; // a live run keeps the charts
    const live = id === LIVE_ID;
    const before = this.current().report;
    const sameFile = this.followed === file;
    this.followed = file;
    if (!sameFile) this.log.info(`the charts follow ${file}`);
    this.shownId = live ? LIVE_ID : null;
    if (!live && id !== undefined) this.store.select(file, id);
    void this.context.workspaceState.update('bnlens.lastFile', file);
    this.store.setLastFile(file);
    this.setHasReport();
    if (!sameFile || id !== undefined || this.current().report !== before) this.replaced.fire();
    else this.contextChanged.fire();
  }

  /**
   * A slice still being evaluated, shown over the followed file's report as a live event (not kept: the
   * finished slice is stored with the report). null: it ended without a result; the views get the report back.
   */
  previewSlice(file: string, slice: SliceResult | null): void {
    if (this.followed !== file) return;
    if (slice) this.events.fire({ type: 'slice', slice });
    else this.replaced.fire();
  }

  /** Picks a run of the followed file's history (from the view's run picker). */
  selectRun(id: string): void {
    if (!this.followed) return;
    if (id === LIVE_ID) {
      if (this.active?.file === this.followed) this.follow(this.followed, LIVE_ID);
      return;
    }
    this.follow(this.followed, id);
  }

  /** Back-compat for callers that had a report in hand: follow its file. */
  showReport(file: string, _report: Report | null): void {
    this.follow(file);
  }

  isRunning(file?: string): boolean {
    return !!this.active && (file === undefined || this.active.file === file);
  }

  /** The running engine process's id (the integration tests kill it to play a crash). */
  enginePid(): number | undefined {
    return this.active?.run.pid;
  }

  private setHasReport(): void {
    void vscode.commands.executeCommand('setContext', 'bnlens.hasReport', !!this.current().report);
  }

  // ------------------------------------------------------------ commands

  /** Stops the running analysis (its partial report is kept). Says "Stopping…" at once; resolves when the engine has exited. */
  async stop(): Promise<void> {
    const a = this.active;
    if (!a) return;
    if (a.phase !== 'stopping') {
      a.phase = 'stopping';
      a.say?.('Stopping… (at the end of the current step)');
      this.updateStatus(a);
      this.contextChanged.fire();
      a.run.cancel();
    }
    await a.run.done;
  }

  /**
   * Analyzes the network file `uri` (default: the active editor's). Resolves with the report when the run
   * ends (finished, stopped or failed part-way), or null if it did not start.
   */
  async analyze(uri: vscode.Uri | undefined): Promise<Report | null> {
    uri ??= vscode.window.activeTextEditor?.document.uri ?? (this.activeNetwork ? vscode.Uri.file(this.activeNetwork) : undefined);
    if (!uri) {
      void vscode.window.showWarningMessage('BatchNorm Lens: open a network file (a TensorFlow.js model.json or a Keras model.to_json() file) first.', 'Open an Example').then((c) => {
        if (c) void vscode.commands.executeCommand('bnlens.openExample');
      });
      return null;
    }
    if (uri.scheme !== 'file') {
      void vscode.window.showErrorMessage(`BatchNorm Lens analyzes files on disk; ${uri.toString(true)} is not one. Save it to a file first.`);
      return null;
    }
    const file = uri.fsPath;
    const base = path.basename(file);

    // Check what the editor holds first; only a buffer that will run is saved (the engine reads the disk).
    const open = vscode.workspace.textDocuments.find((d) => d.uri.toString() === uri!.toString());
    let text: string;
    try {
      // An .onnx file is binary: the engine reads and checks it (its errors come back as the run's failure).
      text = isOnnxFile(file) ? '' : open ? open.getText() : new TextDecoder().decode(await vscode.workspace.fs.readFile(uri));
    } catch (e) {
      void vscode.window.showErrorMessage(`BatchNorm Lens: cannot read ${base}: ${(e as Error).message}`);
      return null;
    }
    if (/\.py$/i.test(file)) await initPythonParser();
    let info: Pick<NetworkDocInfo, 'isNetwork' | 'problem'> = isOnnxFile(file) ? { isNetwork: true, problem: null } : analyzeNetworkText(text, file);
    // A Python file with several models: ask which one, and remember the answer for this file.
    let pythonModel = /\.py$/i.test(file) ? pythonModelChoices.get(file) : undefined;
    const choice = info as Partial<PythonDocInfo>;
    if (choice.needsChoice && choice.candidates?.length) {
      const picked = await vscode.window.showQuickPick(
        choice.candidates.map((c) => ({ label: c })),
        { title: `BatchNorm Lens: which model of ${base}?`, placeHolder: "A class, a builder function or a variable; a call with arguments can be typed, e.g. VGG('VGG11')" },
      );
      if (!picked) return null;
      pythonModel = picked.label;
      pythonModelChoices.set(file, pythonModel);
      info = analyzePythonText(text, file, pythonModel);
    }
    const unsaved = open?.isDirty ? ' Nothing was saved.' : '';
    if (!info.isNetwork && /\.py$/i.test(file)) {
      void vscode.window.showErrorMessage(`BatchNorm Lens: ${base} holds no model BatchNorm Lens can read: it needs a PyTorch nn.Module / nn.Sequential or a Keras model (see "Python network files" in the README).${''}`);
      return null;
    }
    if (!info.isNetwork) {
      void vscode.window.showErrorMessage(
        `BatchNorm Lens: ${base} is not a network file: it needs a TensorFlow.js model.json ("modelTopology") or a Keras model.to_json() topology ("class_name" and "config.layers").${unsaved}`,
      );
      return null;
    }
    if (info.problem) {
      const at = info.problem;
      const buttons = at.short ? ['Go to Problem', 'Supported Layers'] : ['Go to Problem'];
      void vscode.window.showErrorMessage(`BatchNorm Lens: ${base}: ${at.short ?? at.message}${unsaved}`, ...buttons).then(async (choice) => {
        if (choice === 'Supported Layers') void vscode.commands.executeCommand('bnlens.showSupportedLayers');
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
      if (pythonModel) config.pythonModel = pythonModel;
    } catch (e) {
      if (!(e instanceof SettingsError)) throw e;
      const key = /bnlens\.\w+/.exec(e.message)?.[0] ?? 'bnlens';
      void vscode.window.showErrorMessage(`BatchNorm Lens: ${e.message}`, 'Open Settings').then((c) => {
        if (c) void vscode.commands.executeCommand('workbench.action.openSettings', key);
      });
      return null;
    }

    if (this.active && !(await this.confirmReplace(this.active, base))) return null;
    if (open?.isDirty && !(await open.save())) {
      void vscode.window.showWarningMessage(`BatchNorm Lens: ${base} could not be saved; the engine analyzes the file on disk.`);
      return null;
    }
    return this.run(file, config);
  }

  /**
   * Asks whether to stop the running analysis for a new one. A quick pick, not a modal dialog, so that it
   * closes by itself when the running analysis ends first (then the new one simply starts).
   */
  private async confirmReplace(a: ActiveRun, base: string): Promise<boolean> {
    const other = path.basename(a.file);
    const stopItem: vscode.QuickPickItem = { label: `$(debug-stop) Stop ${other} and analyze ${base}`, detail: `The partial report of ${other} is kept in its run history.` };
    const keepItem: vscode.QuickPickItem = { label: `$(close) Keep ${other} running`, detail: `${base} is not analyzed.` };
    const cts = new vscode.CancellationTokenSource();
    let endedFirst = false;
    const sub = a.ended.event(() => {
      endedFirst = true;
      cts.cancel();
    });
    try {
      const choice = await vscode.window.showQuickPick([stopItem, keepItem], { title: `BatchNorm Lens: an analysis of ${other} is running`, ignoreFocusOut: true }, cts.token);
      if (endedFirst || this.active !== a) return true;
      if (choice !== stopItem) return false;
      await this.stop();
      return true;
    } finally {
      sub.dispose();
      cts.dispose();
    }
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
    const run = new EngineRun(config, { workerPath, log: logFn, cwd: path.dirname(file) });
    const active: ActiveRun = { run, file, phase: 'starting', ended: new vscode.EventEmitter<void>() };
    this.active = active;
    void vscode.commands.executeCommand('setContext', 'bnlens.running', true);
    this.follow(file, LIVE_ID);
    this.updateStatus(active);
    if (vscode.workspace.getConfiguration('bnlens').get<boolean>('revealCharts', true)) this.revealCharts();

    let lastTouch = 0;
    let etaMs: number | null = null;
    const sub = run.onEvent((ev) => {
      if (ev.type === 'started' || ev.type === 'finished') {
        if (active.phase === 'starting') active.phase = 'running';
        if (run.report) this.store.set(file, run.report, false);
        if (this.followed === file) this.setHasReport();
        this.contextChanged.fire();
      } else if (Date.now() - lastTouch > 1000) {
        lastTouch = Date.now();
        this.store.touch(file);
      }
      if (ev.type === 'step') {
        etaMs = ev.progress.etaMs;
        if (active.working?.variant === ev.variant) active.working = null;
        if (active.phase !== 'stopping') this.updateStatus(active, etaMs);
      }
      if (ev.type === 'phase') {
        active.working = { variant: ev.variant, text: phaseText(ev) };
        if (active.phase !== 'stopping') this.updateStatus(active, etaMs);
      }
      if (this.followed === file && this.shownId === LIVE_ID) this.events.fire(ev);
    });

    // Progress on the view's icon for the whole run; a notification (with Cancel and a link to the charts)
    // for the first seconds of training only, so that a long run does not hold a toast over the editor.
    void vscode.window.withProgress({ location: { viewId: 'bnlens.charts' } }, () => run.done);
    const outcome = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `BatchNorm Lens: analyzing ${base}`, cancellable: true }, async (progress, token) => {
      token.onCancellationRequested(() => void this.stop());
      const link = '[Show Charts](command:bnlens.showCharts)';
      let reported = 0;
      let stopping = false;
      active.say = (message) => {
        stopping = true;
        progress.report({ message: `${message} ${link}` });
      };
      const psub = run.onEvent((ev) => {
        if ((ev.type !== 'step' && ev.type !== 'phase') || stopping || !run.report) return;
        const total = Math.max(1, run.report.config.steps);
        const pct = (100 * runProgress(run.report).step) / total;
        progress.report({ message: `${progressMessage(run.report, etaMs, active.working?.text)} ${link}`, increment: Math.max(0, pct - reported) });
        reported = Math.max(reported, pct);
      });
      progress.report({ message: `starting the engine… ${link}` });
      let timer: NodeJS.Timeout | undefined;
      const handOver = new Promise<null>((resolve) => {
        const firstStep = run.onEvent((ev) => {
          if (ev.type !== 'step') return;
          firstStep.dispose();
          timer = setTimeout(() => resolve(null), NOTIFICATION_MS);
        });
      });
      try {
        // The notification closes after the first seconds of training unless the run ends (or is being stopped) first.
        const r = await Promise.race([run.done, handOver]);
        if (r === null && !stopping) this.log.info(`${base}: progress continues in the status bar and on the charts view`);
        if (stopping) return await run.done;
        return r;
      } finally {
        clearTimeout(timer);
        psub.dispose();
      }
    });
    const final = outcome ?? (await run.done);
    sub.dispose();
    if (this.active === active) {
      this.active = null;
      void vscode.commands.executeCommand('setContext', 'bnlens.running', false);
      this.status.hide();
    }
    active.ended.fire();
    active.ended.dispose();
    return this.finish(file, final, Date.now() - run.startedAt);
  }

  private finish(file: string, outcome: RunOutcome, ms: number): Report | null {
    const base = path.basename(file);
    const report = outcome.report;
    let runId: string | null = null;
    if (report) runId = this.store.set(file, report, true);
    // The charts go to the file's default run: this one if it completed, else the last complete one.
    const previousComplete = this.store.runs(file).find((e) => e.complete && e.id !== runId);
    if (this.followed === file || this.followed === null) this.follow(file, null);
    else this.store.select(file, null);
    this.log.info(`analysis of ${file} ${outcome.status}${outcome.message ? `: ${outcome.message}` : ''} (${formatDuration(ms)})`);
    const keptNote =
      report && !report.complete
        ? previousComplete
          ? ` The partial report (${extentText(report)}) is kept in the run history; the charts show the complete report of ${when(previousComplete.createdAt)}.`
          : ` The partial report (${extentText(report)}) is kept.`
        : '';
    const showPartial = (c: string | undefined) => {
      if (c === 'Show Partial Report' && runId) this.follow(file, runId);
    };
    switch (outcome.status) {
      case 'finished': {
        const div = report?.variants.filter((v) => v.diverged).map((v) => v.name) ?? [];
        const note = div.length ? ` ${div.join(', ')} diverged.` : '';
        void vscode.window.showInformationMessage(`BatchNorm Lens: analysis of ${base} finished in ${formatDuration(ms)}.${note}`, 'Show Charts', 'Open Report').then((c) => {
          if (c === 'Show Charts') void vscode.commands.executeCommand('bnlens.showCharts');
          if (c === 'Open Report') void vscode.commands.executeCommand('bnlens.openReportPanel');
        });
        break;
      }
      case 'cancelled': {
        const buttons = previousComplete && report ? ['Show Partial Report'] : [];
        void vscode.window.showInformationMessage(`BatchNorm Lens: analysis of ${base} stopped.${keptNote}`, ...buttons).then(showPartial);
        break;
      }
      case 'failed': {
        const loc = outcome.location;
        const buttons = loc?.file ? ['Go to Problem', 'Show Log'] : ['Show Log'];
        void vscode.window.showErrorMessage(`BatchNorm Lens: ${outcome.message ?? 'the analysis failed'}${keptNote}`, ...buttons).then(async (c) => {
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

  private updateStatus(a: ActiveRun, etaMs: number | null = null): void {
    const base = path.basename(a.file);
    const r = a.run.report;
    if (a.phase === 'stopping') {
      this.status.text = `$(loading~spin) BN Lens: stopping ${base}…`;
    } else {
      const p = r ? runProgress(r) : null;
      const extra = a.working ? ` · ${a.working.text}` : '';
      this.status.text = p ? `$(sync~spin) BN Lens ${base} step ${p.step}/${p.total}${extra}` : `$(sync~spin) BN Lens: starting ${base}…`;
    }
    const what = a.phase === 'stopping' ? 'stopping at the end of the current step…' : progressMessage(r, etaMs, a.working?.text);
    this.status.tooltip = new vscode.MarkdownString(`**BatchNorm Lens** — analyzing \`${base}\`\n\n${what}\n\nClick to show the charts.`);
    this.status.show();
  }

  dispose(): void {
    this.active?.run.kill();
    for (const s of this.subs) s.dispose();
  }
}
