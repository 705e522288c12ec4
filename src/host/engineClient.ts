// Runs one analysis in a child process (dist/worker.js) so that training never blocks the extension host:
// forks it (through the one child-process helper, src/engine/childProcess.ts), sends `start`, streams its
// EngineToHost events, cancels (politely, then by force), and turns every way it can end — finished, failed,
// cancelled, crashed, killed, out of memory — into one outcome.
// No `vscode` here: the unit tests drive it against a fake worker.
import { ChildLink, describeExit, GRACE_MS, type ChildExit } from '../engine/childProcess';
import { applyEvent, markStopped } from '../report/applyEvent';
import type { AnalyzeRequest, EngineToHost, HostToEngine, Report, SourceLocation } from '../protocol';

export type LogLevel = 'trace' | 'info' | 'warn' | 'error';

export interface EngineClientOptions {
  /** Absolute path of the bundled worker (dist/worker.js). */
  workerPath: string;
  /** Where the worker's stderr/stdout lines and the client's own notes go (the LogOutputChannel). */
  log?: (level: LogLevel, message: string) => void;
  /** How long a cancelled engine may take to send its partial report before it is killed (it stops at the end of a step, which can take seconds on a large network). */
  cancelGraceMs?: number;
  /** How long an engine that has sent its final message may take to exit before it is killed. */
  exitGraceMs?: number;
  /** Extra environment for the child (tests). */
  env?: Record<string, string>;
  cwd?: string;
}

export type RunStatus = 'finished' | 'cancelled' | 'failed';

export interface RunOutcome {
  status: RunStatus;
  /** The final report, or the partial one kept from the events so far (null if the engine never started). */
  report: Report | null;
  /** For 'failed': one line for the user. */
  message?: string;
  /** For 'failed' with a user error in the network file. */
  location?: SourceLocation;
  exitCode: number | null;
  signal: NodeJS.Signals | null;
}

export class EngineRun {
  private readonly child: ChildLink<HostToEngine, EngineToHost>;
  private readonly listeners = new Set<(ev: EngineToHost) => void>();
  private readonly log: (level: LogLevel, message: string) => void;
  private reportState: Report | null = null;
  private terminal: Extract<EngineToHost, { type: 'finished' } | { type: 'failed' }> | null = null;
  private cancelRequested = false;
  private readonly stderrTail: string[] = [];
  readonly done: Promise<RunOutcome>;
  readonly startedAt = Date.now();

  constructor(
    readonly config: AnalyzeRequest,
    private readonly opts: EngineClientOptions,
  ) {
    this.log = opts.log ?? (() => undefined);
    this.child = new ChildLink<HostToEngine, EngineToHost>({
      script: opts.workerPath,
      cwd: opts.cwd,
      env: { ...opts.env, ELECTRON_RUN_AS_NODE: '1' },
      // Its own process group, so that a kill also ends the variant processes the engine forks.
      ownProcessGroup: true,
      output: 'pipe',
      onOutput: (stream, line) => {
        if (stream === 'stderr') {
          this.stderrTail.push(line);
          if (this.stderrTail.length > 40) this.stderrTail.shift();
        }
        this.log(stream === 'stderr' ? 'warn' : 'info', `[engine] ${line}`);
      },
      log: (level, message) => this.log(level, message.replace('child process', 'engine')),
    });
    this.child.onMessage((m) => this.onMessage(m));
    this.done = this.child.closed.then((e) => {
      if (!e.spawnError) this.log(e.code === 0 ? 'info' : 'warn', `engine process exited (${describeExit(e)})`);
      return this.outcome(e);
    });
    this.child.send({ type: 'start', config });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** The report as accumulated from the events so far. */
  get report(): Report | null {
    return this.reportState;
  }

  onEvent(listener: (ev: EngineToHost) => void): { dispose(): void } {
    this.listeners.add(listener);
    return { dispose: () => this.listeners.delete(listener) };
  }

  /** Asks the engine to stop (it answers with a partial report); kills it if it has not exited in time. */
  cancel(): void {
    if (this.child.exited || this.cancelRequested) return;
    this.cancelRequested = true;
    this.log('info', 'cancelling the analysis');
    if (!this.child.send({ type: 'cancel' })) {
      this.kill();
      return;
    }
    this.child.killAfter(this.opts.cancelGraceMs ?? GRACE_MS.afterCancel, 'did not stop after cancel');
  }

  /** Ends the process (and, on POSIX, the processes it forked) now. */
  kill(): void {
    this.child.kill();
  }

  private onMessage(ev: EngineToHost): void {
    // The engine's last word before it exits: nothing for the report or the listeners.
    if (ev.type === 'exiting') return;
    if (ev.type === 'log') this.log(ev.level, ev.message);
    this.reportState = applyEvent(this.reportState, ev);
    if (ev.type === 'finished' || ev.type === 'failed') {
      this.terminal = ev;
      // The worker should exit by itself now; make sure it does.
      this.child.killAfter(this.opts.exitGraceMs ?? GRACE_MS.afterFinal, 'did not exit after its final message');
    }
    for (const l of this.listeners) {
      try {
        l(ev);
      } catch (e) {
        this.log('error', `event listener failed: ${(e as Error).stack ?? e}`);
      }
    }
  }

  private outcome({ code, signal, spawnError }: ChildExit): RunOutcome {
    const base = { report: this.reportState, exitCode: code, signal };
    const t = this.terminal;
    if (t?.type === 'finished') {
      if (this.cancelRequested || !t.report.complete) {
        if (t.report.stopReason === null && !t.report.complete) markStopped(t.report, 'cancelled');
        return { ...base, status: this.cancelRequested ? 'cancelled' : 'finished' };
      }
      return { ...base, status: 'finished' };
    }
    if (t?.type === 'failed') return { ...base, status: 'failed', message: t.message, location: t.location };
    if (this.cancelRequested) {
      if (this.reportState) markStopped(this.reportState, 'cancelled');
      return { ...base, status: 'cancelled' };
    }
    const message = spawnError ? `could not start the engine (${spawnError.message})` : describeCrash(code, signal, this.stderrTail);
    if (this.reportState) {
      this.reportState.complete = false;
      this.reportState.stopReason = `failed: ${message}`;
    }
    return { ...base, status: 'failed', message };
  }
}

/** One line for an engine that ended without saying why. */
export function describeCrash(code: number | null, signal: NodeJS.Signals | string | null, stderrTail: readonly string[] = []): string {
  const tail = stderrTail.join('\n');
  const oom = /heap out of memory|Allocation failed|out of memory|std::bad_alloc/i.test(tail) || signal === 'SIGKILL' || code === 137;
  const how = signal ? `was killed by ${signal}` : code === 0 ? 'exited before finishing the analysis' : `crashed (exit code ${code})`;
  const hint = oom ? ' — it probably ran out of memory; try a smaller bnlens.batch or a smaller network' : '';
  return `The analysis engine ${how}${hint}.`;
}
