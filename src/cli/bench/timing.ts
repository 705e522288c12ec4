// Timing inside one engine process: steps of a variant as `bnlens analyze` takes them (wall and CPU time, the
// tensor count after each), and a per-kernel timer around the active backend's kernels for --profile.

import type { TF } from '../../engine/network/forward';
import type { VariantBench } from './workloads';

export interface KernelStat {
  calls: number;
  ms: number;
}

/** Wraps every kernel of the active backend (or those in `only`) with a call counter and timer; wasm and cpu
 * kernels run synchronously, so the time inside the call is the kernel's time. `clock` 'cpu' measures the
 * process's CPU time (a system call per kernel, about a microsecond): on a machine shared with other work,
 * wall time inside a kernel includes the time other processes held the core. */
export function instrumentKernels(tf: TF, backendName: string, only?: Set<string>, clock: 'wall' | 'cpu' = 'wall'): Map<string, KernelStat> {
  const now =
    clock === 'wall'
      ? () => performance.now()
      : () => {
          const u = process.cpuUsage();
          return (u.user + u.system) / 1000;
        };
  const stats = new Map<string, KernelStat>();
  const t = tf as unknown as {
    getKernelsForBackend(b: string): Array<{ kernelName: string; backendName: string; kernelFunc: (...a: unknown[]) => unknown }>;
    unregisterKernel(k: string, b: string): void;
    registerKernel(c: unknown): void;
  };
  for (const k of t.getKernelsForBackend(backendName)) {
    if (only && !only.has(k.kernelName)) continue;
    const s = { calls: 0, ms: 0 };
    stats.set(k.kernelName, s);
    const run = k.kernelFunc;
    const wrapped = {
      ...k,
      kernelFunc: (...a: unknown[]) => {
        const t0 = now();
        try {
          return run(...a);
        } finally {
          s.ms += now() - t0;
          s.calls++;
        }
      },
    };
    t.unregisterKernel(k.kernelName, backendName);
    t.registerKernel(wrapped);
  }
  return stats;
}

export function resetStats(stats: Map<string, KernelStat>): void {
  for (const s of stats.values()) {
    s.calls = 0;
    s.ms = 0;
  }
}

export interface StepTiming {
  /** Wall time per step. */
  ms: number;
  /** CPU time of this process per step: less sensitive than wall time to other load on the machine. */
  cpuMs: number;
  /** tf.memory().numTensors after each step. */
  tensors: number[];
  loss: number;
}

/** Runs `count` steps of `one` and times them; yields to the event loop between steps as the engine does. */
export async function timeSteps(b: VariantBench, count: number, one: (i: number) => Promise<number | void>): Promise<StepTiming> {
  const tensors: number[] = [];
  let loss = NaN;
  const start = performance.now();
  const cpu0 = process.cpuUsage();
  for (let i = 0; i < count; i++) {
    const l = await one(i);
    if (typeof l === 'number') loss = l;
    tensors.push(b.tf.memory().numTensors);
    await new Promise((r) => setImmediate(r));
  }
  const cpu = process.cpuUsage(cpu0);
  return { ms: (performance.now() - start) / count, cpuMs: (cpu.user + cpu.system) / 1000 / count, tensors, loss };
}

/** Steps `count` times as analyze does, probed or plain, from step number t0. */
export function stepMany(b: VariantBench, t0: number, count: number, probed: boolean): Promise<StepTiming> {
  b.config.probeEvery = probed ? 1 : Number.MAX_SAFE_INTEGER;
  return timeSteps(b, count, async (i) => {
    const batch = b.nextBatch();
    try {
      const out = await b.run.step(t0 + i, batch, batch.n);
      if (out.diverged) throw new Error(`variant ${b.run.variant.name} diverged at step ${t0 + i}: ${out.diverged.reason}`);
      return out.record?.loss;
    } finally {
      if (batch.owned) b.tf.dispose([batch.x, batch.y]);
    }
  });
}
