// The one way this project starts a child process and talks to it: the extension host's engine
// (src/host/engineClient.ts), the variant processes of a parallel run (src/engine/parallel.ts), the shares of
// a slice (src/engine/sliceParallel.ts) and the bench's workers all fork a script and exchange typed
// messages over Node's IPC channel.
//
//  - Typed both ways: `send` takes the parent's message type, listeners get the child's; a message that is not
//    an object with a string `type` is dropped with a log line instead of reaching code that trusts it.
//  - The end is 'close', never 'exit': under load 'exit' can come before the last IPC messages and output
//    lines are delivered, and a run's final report is exactly such a last message.
//  - Kill means the whole tree: with `ownProcessGroup` the child leads a process group (POSIX), and a kill
//    ends the group, so the processes it forked go too.
//  - One timeout policy (GRACE_MS): a child asked to stop gets `afterCancel` to send its last message and
//    exit (it stops at the end of a step, which can take seconds on a large network); a child that has sent
//    its final message gets `afterFinal` to exit. Past either deadline it is killed.
//  - Ctrl-C: a terminal sends SIGINT to its whole foreground process group. Children in that group must not
//    die of it (the run's partial report would be lost): the engine worker ignores SIGINT and stops on its
//    parent's 'cancel' message (src/engine/worker.ts); children in their own group never see it.
import { fork, type ChildProcess } from 'node:child_process';

/** How long a child may take before it is killed (milliseconds). */
export const GRACE_MS = {
  /** After 'cancel': until the end of the current step, then the partial report. */
  afterCancel: 15_000,
  /** After the child's final message: only its exit is left. */
  afterFinal: 5_000,
};

export type ChildLogLevel = 'info' | 'warn' | 'error';

export interface ChildOptions {
  /** The script to fork (a bundled dist/*.js, or a .ts file run through `execArgv`). */
  script: string;
  args?: string[];
  /** Added to the parent's environment. */
  env?: Record<string, string | undefined>;
  cwd?: string;
  execArgv?: string[];
  /**
   * The child leads its own process group (POSIX): `kill()` ends everything it forked, and a terminal's
   * Ctrl-C does not reach it. Default false: the child stays in the parent's group.
   */
  ownProcessGroup?: boolean;
  /** 'pipe': stdout/stderr arrive line by line at `onOutput`; 'inherit': they go to the parent's. */
  output?: 'pipe' | 'inherit';
  onOutput?: (stream: 'stdout' | 'stderr', line: string) => void;
  /** Notes of the link itself (malformed messages, failed sends, kills). */
  log?: (level: ChildLogLevel, message: string) => void;
  /** Keep received messages for `next()` (a request/response child such as the bench's). */
  queue?: boolean;
  /**
   * 'advanced': messages are structured clones (typed arrays cross as bytes, not as JSON objects of
   * numbers): for children sent weights and batches every step. Default 'json'.
   */
  serialization?: 'json' | 'advanced';
}

export interface ChildExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** The process could not be started (missing script, fork failure). */
  spawnError: Error | null;
}

type Typed = { type: string };

/** A forked child process speaking `Send` (parent → child) and `Receive` (child → parent). */
export class ChildLink<Send extends Typed, Receive extends Typed> {
  private readonly child: ChildProcess;
  private readonly listeners = new Set<(m: Receive) => void>();
  private readonly log: (level: ChildLogLevel, message: string) => void;
  private readonly queued: Receive[] = [];
  private readonly waiters: ((m: Receive | null) => void)[] = [];
  private killTimer: NodeJS.Timeout | undefined;
  private spawnError: Error | null = null;
  private hasExited = false;
  /** Resolves once the process has exited and all its messages and output have been delivered. */
  readonly closed: Promise<ChildExit>;

  constructor(private readonly opts: ChildOptions) {
    this.log = opts.log ?? (() => undefined);
    const pipe = opts.output === 'pipe';
    this.child = fork(opts.script, opts.args ?? [], {
      execArgv: opts.execArgv ?? [],
      cwd: opts.cwd,
      env: { ...process.env, ...opts.env },
      stdio: ['ignore', pipe ? 'pipe' : 'inherit', pipe ? 'pipe' : 'inherit', 'ipc'],
      serialization: opts.serialization ?? 'json',
      detached: !!opts.ownProcessGroup && process.platform !== 'win32',
    });
    if (pipe) {
      pipeLines(this.child.stdout, (line) => opts.onOutput?.('stdout', line));
      pipeLines(this.child.stderr, (line) => opts.onOutput?.('stderr', line));
    }
    this.child.on('message', (m) => this.receive(m));
    this.closed = new Promise<ChildExit>((resolve) => {
      this.child.once('error', (err) => {
        // fork failed (e.g. the script is missing), or a send failed after exit.
        this.spawnError ??= err;
        this.log('error', `child process error: ${err.message}`);
        if (this.child.pid === undefined) this.ended(resolve, null, null);
      });
      this.child.once('close', (code, signal) => this.ended(resolve, code, signal));
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get exited(): boolean {
    return this.hasExited;
  }

  /** The IPC channel is open: `send` can deliver. */
  get connected(): boolean {
    return this.child.connected;
  }

  onMessage(listener: (m: Receive) => void): { dispose(): void } {
    this.listeners.add(listener);
    return { dispose: () => this.listeners.delete(listener) };
  }

  /** Sends a message; false when the channel is closed or the send failed at once. */
  send(m: Send): boolean {
    if (!this.child.connected) return false;
    try {
      this.child.send(m, (err) => {
        if (err) this.log('warn', `could not send '${m.type}' to the child process: ${err.message}`);
      });
      return true;
    } catch (e) {
      this.log('warn', `could not send '${m.type}' to the child process: ${(e as Error).message}`);
      return false;
    }
  }

  /**
   * The next message (needs `queue: true`): of the type asked for, or an error naming what came instead, or
   * that the process ended first.
   */
  async next<T extends Receive['type']>(type: T): Promise<Extract<Receive, { type: T }>> {
    if (!this.opts.queue) throw new Error('ChildLink.next needs the queue option');
    const m = this.queued.shift() ?? (this.hasExited ? null : await new Promise<Receive | null>((r) => this.waiters.push(r)));
    if (m === null) {
      const e = await this.closed;
      throw new Error(`the child process ended (${describeExit(e)}) before sending '${type}'`);
    }
    if (m.type !== type) throw new Error(`expected '${type}' from the child process, got '${m.type}'`);
    return m as Extract<Receive, { type: T }>;
  }

  /** Ends the process now (and its group, when it leads one). */
  kill(): void {
    if (this.hasExited) return;
    if (this.opts.ownProcessGroup && process.platform !== 'win32' && this.child.pid !== undefined) {
      try {
        process.kill(-this.child.pid, 'SIGKILL');
        return;
      } catch {
        // no such group (already gone): fall back to the process itself
      }
    }
    this.child.kill('SIGKILL');
  }

  /** Kills the process unless it has exited within `ms`; a later call replaces the deadline. */
  killAfter(ms: number, why: string): void {
    clearTimeout(this.killTimer);
    if (this.hasExited) return;
    this.killTimer = setTimeout(() => {
      if (this.hasExited) return;
      this.log('warn', `child process ${why} within ${ms} ms; killing it`);
      this.kill();
    }, ms);
    this.killTimer.unref?.();
  }

  private receive(raw: unknown): void {
    if (!raw || typeof raw !== 'object' || typeof (raw as { type?: unknown }).type !== 'string') {
      this.log('warn', `ignoring a malformed message from the child process: ${JSON.stringify(raw)?.slice(0, 200)}`);
      return;
    }
    const m = raw as Receive;
    if (this.opts.queue) {
      const w = this.waiters.shift();
      if (w) w(m);
      else this.queued.push(m);
    }
    for (const l of this.listeners) {
      try {
        l(m);
      } catch (e) {
        this.log('error', `a message listener failed: ${(e as Error).stack ?? e}`);
      }
    }
  }

  private ended(resolve: (e: ChildExit) => void, code: number | null, signal: NodeJS.Signals | null): void {
    if (this.hasExited) return;
    this.hasExited = true;
    clearTimeout(this.killTimer);
    for (const w of this.waiters.splice(0)) w(null);
    resolve({ code, signal, spawnError: this.spawnError });
  }
}

/** `signal SIGKILL`, `exit code 3`, or why it never started. */
export function describeExit(e: ChildExit): string {
  if (e.spawnError) return `could not start: ${e.spawnError.message}`;
  return e.signal ? `signal ${e.signal}` : `exit code ${e.code}`;
}

function pipeLines(stream: NodeJS.ReadableStream | null, onLine: (line: string) => void): void {
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
