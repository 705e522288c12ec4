// The engine process the extension forks: it runs one analysis and streams EngineToHost events over the
// IPC channel. Training never runs on the extension host's thread; cancelling aborts at the end of a step
// and still sends the partial report. The same script is a variant's probe helper when its first message
// is 'helperInit' (src/engine/etaHelpers.ts).

import type { EngineToHost, HelperToTrainer, HostToEngine, TrainerToHelper } from '../protocol';
import { analyze } from './analyze';
import { isUserError } from './errors';
import { startEtaHelper } from './etaHelperProcess';
import { runSlice } from './sliceCommand';

const send = (m: EngineToHost) => process.send?.(m);
const sendHelper = (m: HelperToTrainer) => process.send?.(m);
const controller = new AbortController();
let running = false;
/** A slice share has no step boundary to stop at: cancelling it ends the process. */
let slicing = false;

/** As a probe helper: the variant's network once built, and the probes so far, answered in order. */
let helper: ReturnType<typeof startEtaHelper> | null = null;
let helperQueue: Promise<void> = Promise.resolve();

process.on('message', (raw: unknown) => {
  const m = raw as HostToEngine | TrainerToHelper;
  if (m?.type === 'helperInit') {
    if (running || helper) return;
    helper = startEtaHelper(m);
    helperQueue = helper.then(() => void sendHelper({ type: 'ready' }), helperFailed);
    return;
  }
  if (m?.type === 'probe') {
    const h = helper;
    if (!h) return;
    helperQueue = helperQueue.then(async () => void sendHelper({ type: 'rows', step: m.step, rows: await (await h)(m) })).catch(helperFailed);
    return;
  }
  if (m?.type === 'cancel') {
    controller.abort();
    if (!running || slicing) process.exit(0);
    return;
  }
  if (running || (m?.type !== 'start' && m?.type !== 'slice')) return;
  running = true;
  const job =
    m.type === 'slice'
      ? ((slicing = true),
        runSlice(m.request, {
          share: m.share,
          saveDirections: m.saveDirections,
          onProgress: (done, total) => send({ type: 'sliceProgress', done, total }),
          onPartial: (part) => send({ type: 'slicePartial', part }),
        }).then((part) => send({ type: 'slicePart', part })))
      : analyze(m.config, send, controller.signal);
  job.then(
    () => finish(0),
    (e) => {
      if (isUserError(e)) send({ type: 'failed', message: e.message, location: e.file ? { file: e.file, line: e.line, column: e.column } : undefined });
      else {
        const err = e as Error;
        process.stderr.write(`${err?.stack ?? String(e)}\n`);
        send({ type: 'failed', message: `internal error: ${String(err?.message ?? e).split('\n')[0]}` });
      }
      finish(1);
    },
  );
});

/** The trainer warns once and ends this process; the stack is for whoever reads the output. */
function helperFailed(e: unknown): void {
  const err = e as Error;
  process.stderr.write(`${err?.stack ?? String(e)}\n`);
  sendHelper({ type: 'failed', message: isUserError(e) ? err.message : `internal error: ${String(err?.message ?? e).split('\n')[0]}` });
}

// Ctrl-C at a terminal signals every process of the foreground group, this one too when `bnlens analyze`
// forked it for a parallel run. Dying of it would lose the run's partial report: the engine stops on its
// parent's 'cancel' instead, at the end of the step (src/engine/childProcess.ts).
process.on('SIGINT', () => undefined);

// The host going away (window closed, extension host restarted) must not leave a training orphan behind.
process.on('disconnect', () => process.exit(0));

function finish(code: number) {
  // Exit only after the last message has left the IPC channel.
  if (process.send) process.send({ type: 'exiting', code } satisfies EngineToHost, () => process.exit(code));
  else process.exit(code);
}
