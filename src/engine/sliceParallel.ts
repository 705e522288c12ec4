// The points of a slice are independent, so the grid is dealt round-robin over engine processes (one per
// core; the embedded backend runs one thread per process). Every process computes the same weights and
// directions from the same request and seed, evaluates its share of the points, and sends them back.

import type { EngineToHost, HostToEngine, SliceRequest, SliceResult } from '../protocol';
import { ChildLink, describeExit } from './childProcess';
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
  const children = shares.map(() => new ChildLink<HostToEngine, EngineToHost>({ script: worker, env: { BNLENS_IN_PROCESS: '1' }, output: 'inherit' }));
  const cancel = () => children.forEach((c) => c.send({ type: 'cancel' }));
  opts.signal?.addEventListener('abort', cancel, { once: true });
  try {
    const parts = await Promise.all(
      children.map(async (child, k) => {
        let part: SlicePart | null = null;
        let failure: Error | null = null;
        child.onMessage((m) => {
          if (m.type === 'slicePart') part = m.part;
          else if (m.type === 'sliceProgress') {
            done[k] = m.done;
            totals[k] = m.total;
            opts.onProgress?.(
              done.reduce((a, b) => a + b, 0),
              totals.every((t) => t > 0) ? totals.reduce((a, b) => a + b, 0) : points,
            );
          } else if (m.type === 'failed') failure ??= m.location ? new UserError(m.message, m.location.file, m.location.line, m.location.column) : new Error(m.message);
        });
        child.send({ type: 'slice', request: req, share: shares[k], saveDirections: k === 0 ? opts.saveDirections : undefined });
        const exit = await child.closed;
        if (failure) throw failure;
        if (exit.spawnError) throw exit.spawnError;
        if (!part) throw new Error(opts.signal?.aborted ? 'cancelled' : `a slice engine process stopped unexpectedly (${describeExit(exit)})`);
        return part as SlicePart;
      }),
    );
    const result = mergeSliceParts(parts);
    result.wallMs = performance.now() - t0;
    const evaluated = points * result.variants.length;
    result.pointsPerSecond = evaluated / (result.wallMs / 1000);
    return result;
  } catch (e) {
    for (const c of children) c.kill();
    throw e;
  } finally {
    opts.signal?.removeEventListener('abort', cancel);
  }
}
