// The η of a probed step are independent evaluations at the same weights and batch, and they are most of a
// step's time. When there are more cores than engine processes, each variant's process forks probe helpers
// (dist/worker.js, src/engine/etaHelperProcess.ts) and splits every probed step's η with them; the rows come
// back in η order, so the merged probe is the very one a single process computes.
//
// A helper that fails or dies does not lose the run: the trainer warns once, ends the others and evaluates
// every η itself from then on. Helpers stay in the trainer's process group and exit when its IPC channel
// closes (src/engine/worker.ts), so a killed trainer leaves none behind.

import type { HelperToTrainer, TensorData, TrainerToHelper } from '../protocol';
import { ChildLink, describeExit } from './childProcess';
import type { NoiseTensors, Tensor } from './network/forward';
import { coreCount } from './parallel';

type Init = Omit<Extract<TrainerToHelper, { type: 'helperInit' }>, 'type'>;
export type ProbeRequest = Omit<Extract<TrainerToHelper, { type: 'probe' }>, 'type' | 'etas'>;

/**
 * Processes per variant that share the η: as asked, 'auto' = the cores each engine process has to itself, or
 * by default 1 (no helpers: on the 2-core test machine helpers made every probed step slower, see the README);
 * never more than there are η.
 */
export function etaProcessesFor(setting: number | 'auto' | undefined, engineProcesses: number, etaCount: number, cores = coreCount()): number {
  const wanted = typeof setting === 'number' ? setting : setting === 'auto' ? Math.floor(cores / Math.max(1, engineProcesses)) : 1;
  return Math.max(1, Math.min(wanted, etaCount));
}

/**
 * `count` η in `processes` contiguous [start, end) shares, in η order. The trainer's share is the first and
 * never the larger one: it also has the gradient, the update and the messages to do.
 */
export function etaShares(count: number, processes: number): [number, number][] {
  const base = Math.floor(count / processes);
  const extra = count % processes;
  const shares: [number, number][] = [];
  let start = 0;
  for (let i = 0; i < processes; i++) {
    // The extra η go to the last shares: the helpers'.
    const size = base + (i >= processes - extra ? 1 : 0);
    shares.push([start, start + size]);
    start += size;
  }
  return shares;
}

export async function tensorData(t: Tensor): Promise<TensorData> {
  const dtype = t.dtype === 'int32' ? 'int32' : 'float32';
  return { values: (await t.data()) as Float32Array | Int32Array, shape: t.shape.slice(), dtype };
}

/** The probe request's weights, batch and noise, read back from the trainer's tensors. */
export async function probeRequest(step: number, params: Tensor[], batch: { x: Tensor; y: Tensor }, noise: Map<string, NoiseTensors> | undefined, gridSize: number): Promise<ProbeRequest> {
  const [values, x, y] = await Promise.all([Promise.all(params.map((p) => p.data() as Promise<Float32Array>)), tensorData(batch.x), tensorData(batch.y)]);
  const req: ProbeRequest = { step, params: values, x, y, gridSize };
  if (noise) req.noise = await Promise.all([...noise].map(async ([layer, n]) => ({ layer, scale: await tensorData(n.scale), shift: await tensorData(n.shift) })));
  return req;
}

interface Helper {
  link: ChildLink<TrainerToHelper, HelperToTrainer>;
  ready: boolean;
  pending: ((rows: Float32Array | null) => void) | null;
}

export class EtaHelpers {
  private readonly helpers: Helper[];
  private readonly allReady: Promise<void>;
  private broken = false;
  private closing = false;
  private warning: string | null = null;
  /** Ends the wait for start-up (every helper ready, or the pool broken). */
  private readonly onBreak: () => void;

  constructor(worker: string, count: number, init: Init) {
    let readyCount = 0;
    let markReady!: () => void;
    this.allReady = new Promise<void>((r) => (markReady = r));
    this.helpers = Array.from({ length: count }, () => {
      // Advanced serialization: the weights and the batch cross as bytes every probed step.
      const link = new ChildLink<TrainerToHelper, HelperToTrainer>({ script: worker, output: 'inherit', serialization: 'advanced' });
      const h: Helper = { link, ready: false, pending: null };
      link.onMessage((m) => {
        if (m.type === 'ready') {
          h.ready = true;
          if (++readyCount === count) markReady();
        } else if (m.type === 'rows') {
          const done = h.pending;
          h.pending = null;
          done?.(m.rows);
        } else if (m.type === 'failed') this.fail(`a probe helper failed (${m.message})`);
      });
      void link.closed.then((e) => this.fail(`a probe helper stopped unexpectedly (${describeExit(e)})`));
      link.send({ type: 'helperInit', ...init });
      return h;
    });
    // A pool that breaks before every helper is ready stops the wait too.
    this.onBreak = markReady;
  }

  /** Helpers working now: 0 once the pool has failed or been disposed. */
  get size(): number {
    return this.broken ? 0 : this.helpers.length;
  }

  /** The one warning of a failed pool, handed out once. */
  takeWarning(): string | null {
    const w = this.warning;
    this.warning = null;
    return w;
  }

  /**
   * Sends each helper its share (`shares[i]`: the η of helper i) and resolves, once sent, to a promise of
   * their rows in the same order; null for a share the trainer must evaluate itself (the pool failed).
   * Waits for the helpers' start-up at the first call only.
   */
  async send(req: ProbeRequest, shares: number[][]): Promise<{ rows: Promise<(Float32Array | null)[]> }> {
    await this.allReady;
    const rows = this.helpers.map((h, i) => {
      if (this.broken || shares[i].length === 0) return Promise.resolve(null);
      return new Promise<Float32Array | null>((resolve) => {
        h.pending = resolve;
        if (!h.link.send({ type: 'probe', ...req, etas: shares[i] })) this.fail('a probe helper could not be reached');
      });
    });
    return { rows: Promise.all(rows) };
  }

  private fail(why: string): void {
    if (this.broken) return;
    this.broken = true;
    if (!this.closing) this.warning = `${why}; this variant's process evaluates every η itself from now on`;
    this.end();
  }

  private end(): void {
    for (const h of this.helpers) {
      h.link.kill();
      const done = h.pending;
      h.pending = null;
      done?.(null);
    }
    this.onBreak();
  }

  /** Ends the helpers (the run is over, or cancelled). */
  dispose(): void {
    this.closing = true;
    this.fail('disposed');
  }
}
