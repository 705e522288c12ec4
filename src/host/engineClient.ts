// Runs one analysis in a child process (dist/worker.js) so that training never blocks the extension host:
// forks it, sends `start`, streams its EngineToHost events, cancels (politely, then by force), and turns
// every way it can end — finished, failed, cancelled, crashed, killed, out of memory — into one outcome.
// No `vscode` here: the unit tests drive it against a fake worker.
import { fork, type ChildProcess } from 'node:child_process';
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
  private readonly child: ChildProcess;
  private readonly listeners = new Set<(ev: EngineToHost) => void>();
  private readonly log: (level: LogLevel, message: string) => void;
  private reportState: Report | null = null;
  private terminal: Extract<EngineToHost, { type: 'finished' } | { type: 'failed' }> | null = null;
  private cancelRequested = false;
  private killTimer: NodeJS.Timeout | undefined;
  private spawnError: Error | null = null;
  private readonly stderrTail: string[] = [];
  private exited = false;
  readonly done: Promise<RunOutcome>;
  readonly startedAt = Date.now();

  constructor(
    readonly config: AnalyzeRequest,
    private readonly opts: EngineClientOptions,
  ) {
    this.log = opts.log ?? (() => undefined);
    this.child = fork(opts.workerPath, [], {
      execArgv: [],
      cwd: opts.cwd,
      env: { ...process.env, ...opts.env, ELECTRON_RUN_AS_NODE: '1' },
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      serialization: 'json',
      // Its own process group on POSIX, so that a kill also ends the variant processes the engine forks.
      detached: process.platform !== 'win32',
    });
    this.pipeLines(this.child.stderr, (line) => {
      this.stderrTail.push(line);
      if (this.stderrTail.length > 40) this.stderrTail.shift();
      this.log('warn', `[engine] ${line}`);
    });
    this.pipeLines(this.child.stdout, (line) => this.log('info', `[engine] ${line}`));
    this.child.on('message', (m) => this.onMessage(m as EngineToHost));
    this.done = new Promise<RunOutcome>((resolve) => {
      this.child.once('error', (err) => {
        // fork failed (e.g. the worker file is missing) or a send failed after exit.
        this.spawnError ??= err;
        this.log('error', `engine process error: ${err.message}`);
        if (this.child.pid === undefined) {
          this.exited = true;
          resolve(this.outcome(null, null));
        }
      });
      // 'close', not 'exit': under load 'exit' can come before the last IPC messages are delivered.
      this.child.once('close', (code, signal) => {
        this.exited = true;
        clearTimeout(this.killTimer);
        this.log(code === 0 ? 'info' : 'warn', `engine process exited (${signal ? `signal ${signal}` : `code ${code}`})`);
        resolve(this.outcome(code, signal));
      });
    });
    this.send({ type: 'start', config });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** The report as accumulated from the events so far. */
  get report(): Report | null {
    return this.reportState;
  }

  get cancelled(): boolean {
    return this.cancelRequested;
  }

  onEvent(listener: (ev: EngineToHost) => void): { dispose(): void } {
    this.listeners.add(listener);
    return { dispose: () => this.listeners.delete(listener) };
  }

  /** Asks the engine to stop (it answers with a partial report); kills it if it has not exited in time. */
  cancel(): void {
    if (this.exited || this.cancelRequested) return;
    this.cancelRequested = true;
    this.log('info', 'cancelling the analysis');
    if (!this.send({ type: 'cancel' })) {
      this.kill();
      return;
    }
    this.armKill(this.opts.cancelGraceMs ?? 15_000, 'did not stop after cancel');
  }

  /** Ends the process (and, on POSIX, the processes it forked) now. */
  kill(): void {
    if (this.exited) return;
    if (process.platform !== 'win32' && this.child.pid !== undefined) {
      try {
        process.kill(-this.child.pid, 'SIGKILL');
        return;
      } catch {
        // no such group (already gone): fall back to the process itself
      }
    }
    this.child.kill('SIGKILL');
  }

  private armKill(ms: number, why: string): void {
    clearTimeout(this.killTimer);
    this.killTimer = setTimeout(() => {
      if (this.exited) return;
      this.log('warn', `engine ${why} within ${ms} ms; killing it`);
      this.kill();
    }, ms);
    this.killTimer.unref?.();
  }

  private send(msg: HostToEngine): boolean {
    if (!this.child.connected) return false;
    try {
      this.child.send(msg, (err) => {
        if (err) this.log('warn', `could not send '${msg.type}' to the engine: ${err.message}`);
      });
      return true;
    } catch (e) {
      this.log('warn', `could not send '${msg.type}' to the engine: ${(e as Error).message}`);
      return false;
    }
  }

  private onMessage(ev: EngineToHost): void {
    if (!ev || typeof ev !== 'object' || typeof (ev as { type?: unknown }).type !== 'string') {
      this.log('warn', `ignoring a malformed engine message: ${JSON.stringify(ev)?.slice(0, 200)}`);
      return;
    }
    if (ev.type === 'log') this.log(ev.level, ev.message);
    this.reportState = applyEvent(this.reportState, ev);
    if (ev.type === 'finished' || ev.type === 'failed') {
      this.terminal = ev;
      // The worker should exit by itself now; make sure it does.
      this.armKill(this.opts.exitGraceMs ?? 5000, 'did not exit after its final message');
    }
    for (const l of this.listeners) {
      try {
        l(ev);
      } catch (e) {
        this.log('error', `event listener failed: ${(e as Error).stack ?? e}`);
      }
    }
  }

  private outcome(code: number | null, signal: NodeJS.Signals | null): RunOutcome {
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
    const message = this.spawnError
      ? `could not start the engine (${this.spawnError.message})`
      : describeCrash(code, signal, this.stderrTail);
    if (this.reportState) {
      this.reportState.complete = false;
      this.reportState.stopReason = `failed: ${message}`;
    }
    return { ...base, status: 'failed', message };
  }

  private pipeLines(stream: NodeJS.ReadableStream | null, onLine: (line: string) => void): void {
    if (!stream) return;
    let buf = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      buf += chunk;
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl).replace(/\r$/, '');
        buf = buf.slice(nl + 1);
        if (line.trim()) onLine(line);
      }
    });
    stream.on('end', () => {
      if (buf.trim()) onLine(buf);
      buf = '';
    });
  }
}

/** One line for an engine that ended without saying why. */
export function describeCrash(code: number | null, signal: NodeJS.Signals | string | null, stderrTail: readonly string[] = []): string {
  const tail = stderrTail.join('\n');
  const oom = /heap out of memory|Allocation failed|out of memory|std::bad_alloc/i.test(tail) || signal === 'SIGKILL' || code === 137;
  const how = signal ? `was killed by ${signal}` : code === 0 ? 'exited before finishing the analysis' : `crashed (exit code ${code})`;
  const hint = oom
    ? ' — it probably ran out of memory; try a smaller bnlens.batch or a smaller network'
    : '';
  return `The analysis engine ${how}${hint}.`;
}

export function startAnalysis(config: AnalyzeRequest, opts: EngineClientOptions): EngineRun {
  return new EngineRun(config, opts);
}
