// The points of a slice are independent, so the grid is dealt round-robin over engine processes (one per
// core; the embedded backend runs one thread per process). Every process computes the same weights and
// directions from the same request and seed, evaluates its share of the points, and sends them back.

import { fork } from 'node:child_process';
import type { EngineToHost, HostToEngine, SliceRequest, SliceResult } from '../protocol';
import { UserError } from './errors';
import { defaultParallelism, findWorkerScript } from './parallel';
import { resolveSlice, runSlice, type SliceRunOptions } from './sliceCommand';
import { mergeSliceParts, type SlicePart } from './sliceMerge';

export async function sliceInProcesses(req: SliceRequest, opts: Omit<SliceRunOptions, 'share'> & { signal?: AbortSignal } = {}): Promise<SliceResult> {
  const t0 = performance.now();
  const r = resolveSlice(req);
  const points = r.dims === 2 ? r.points * r.points : r.points;
  const n = req.parallel ?? defaultParallelism(points);
  const worker = n > 1 ? findWorkerScript() : null;
  if (!worker) return (await runSlice(req, opts)).result;
  const shares = Array.from({ length: n }, (_, k) => ({ k, of: n }));
  const done = new Array<number>(n).fill(0);
  const totals = new Array<number>(n).fill(0);
  const children = shares.map(() => fork(worker, [], { env: { ...process.env, BNLENS_IN_PROCESS: '1' }, stdio: ['ignore', 'inherit', 'inherit', 'ipc'], execArgv: [] }));
  const cancel = () => children.forEach((c) => c.connected && c.send({ type: 'cancel' } satisfies HostToEngine));
  opts.signal?.addEventListener('abort', cancel, { once: true });
  try {
    const parts = await Promise.all(
      children.map(
        (child, k) =>
          new Promise<SlicePart>((resolve, reject) => {
            let part: SlicePart | null = null;
            child.on('message', (m: EngineToHost) => {
              if (m.type === 'slicePart') part = m.part;
              else if (m.type === 'sliceProgress') {
                done[k] = m.done;
                totals[k] = m.total;
                opts.onProgress?.(done.reduce((a, b) => a + b, 0), totals.every((t) => t > 0) ? totals.reduce((a, b) => a + b, 0) : points);
              } else if (m.type === 'failed') reject(m.location ? new UserError(m.message, m.location.file, m.location.line, m.location.column) : new Error(m.message));
            });
            child.on('error', reject);
            // 'close', not 'exit': the last IPC message may arrive after 'exit'.
            child.on('close', (code, sig) =>
              part ? resolve(part) : reject(new Error(opts.signal?.aborted ? 'cancelled' : `a slice engine process stopped unexpectedly (${sig ? `signal ${sig}` : `exit code ${code}`})`)),
            );
            child.send({ type: 'slice', request: req, share: shares[k], saveDirections: k === 0 ? opts.saveDirections : undefined } satisfies HostToEngine);
          }),
      ),
    );
    const result = mergeSliceParts(parts);
    result.wallMs = performance.now() - t0;
    const evaluated = points * result.variants.length;
    result.pointsPerSecond = evaluated / (result.wallMs / 1000);
    return result;
  } catch (e) {
    for (const c of children) if (c.exitCode === null) c.kill();
    throw e;
  } finally {
    opts.signal?.removeEventListener('abort', cancel);
  }
}
