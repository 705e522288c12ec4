// One bench line per workload and backend: the JSON fields (names kept stable for scripts and the README's
// history) and the human-readable rendering.

import type { PeerCheckSummary } from './child';
import type { KernelStat } from './timing';

export interface PhaseLine {
  unit: string;
  /** Wall time of one unit of both variants, concurrently. */
  twoVariantMs: number;
  gflops: number;
  perVariant: Record<string, { ms: number; cpuMs: number }>;
}

export interface BenchLine {
  workload: string;
  backend: string;
  steps: number;
  /** Engine processes running at once: 2 (one per variant, the default) or 1 (--concurrency 1, one after the other). */
  concurrency: number;
  /** Wall time of one probed step of both variants, run concurrently in two engine processes. */
  twoVariantMsPerProbedStep: number;
  /** Wall time of one plain training step of both variants, concurrently. */
  msPerTrainStep: number;
  /** CPU time of one probed step, summed over both variants: steadier than wall time on a busy machine. */
  cpuMsPerProbedStep: number;
  /** Matrix-product/convolution GFLOP/s of the two concurrent variants over the probed steps. */
  gflops: number;
  trainGflops: number;
  /** Kernel calls per probed step, summed over both variants (null on backends whose kernels are not counted). */
  kernelCallsPerProbedStep: number | null;
  peakRssMB: number;
  tensorsAtEnd: number;
  /** Whether every variant's tensor count stayed the same from step to step. */
  tensorsSteady: boolean;
  perVariant: Record<
    string,
    { msPerProbedStep: number; msPerTrainStep: number; cpuMsPerProbedStep: number; cpuMsPerTrainStep: number; peakRssMB: number; tensorsAtEnd: number; finalLoss: number; kernelCallsPerProbedStep: number | null }
  >;
  /** The workload's extra phases (Hessian lines, slice points, …), by name. */
  phases?: Record<string, PhaseLine>;
  /** os.loadavg()[0] after the run, and the cores: wall times mean little on a machine busy with other work. */
  loadAverage: number;
  cores: number;
  fallbackCalls: Record<string, KernelStat>;
  peerMsPerProbedStep?: number | null;
  peerMsPerTrainStep?: number | null;
  peerCpuMsPerProbedStep?: number | null;
  ratioToPeer?: number | null;
  /** CPU time per probed step, engine (both variants) over peer (both variants): the work done, whatever the load. */
  cpuRatioToPeer?: number | null;
  /** Why there is no peer figure although one was asked for (no python3 with numpy, …). */
  peerMissing?: string;
  /** The peer's numbers against the engine's on the same weights and batch, per variant (see peerCheck.ts). */
  peerCheck?: Record<string, PeerCheckSummary | undefined>;
  profile?: Record<string, Array<{ kernel: string; calls: number; ms: number }>>;
}

export function round(x: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

/** Whether the engine processes waited for the cores (wall time well above their CPU time). */
function busy(l: BenchLine): boolean {
  return Object.values(l.perVariant).some((v) => v.msPerProbedStep > 1.25 * v.cpuMsPerProbedStep);
}

export function humanLine(l: BenchLine): string {
  const v = Object.entries(l.perVariant)
    .map(([k, s]) => `${k}: ${s.msPerProbedStep.toFixed(1)} ms wall, ${s.cpuMsPerProbedStep.toFixed(1)} ms CPU`)
    .join(', ');
  const fb = Object.entries(l.fallbackCalls).map(([k, s]) => `${k} ×${s.calls} (${s.ms.toFixed(1)} ms)`);
  let out =
    `\n${l.workload} on ${l.backend}${l.concurrency === 1 ? ', variants one after the other (--concurrency 1)' : ''}:\n` +
    `  probed step, both variants:   ${l.twoVariantMsPerProbedStep.toFixed(1)} ms   (${v})\n` +
    `  training step, both variants: ${l.msPerTrainStep.toFixed(1)} ms   (${Object.entries(l.perVariant)
      .map(([k, s]) => `${k}: ${s.cpuMsPerTrainStep.toFixed(1)} ms CPU`)
      .join(', ')})\n` +
    `  GFLOP/s: ${l.gflops.toFixed(1)} probing, ${l.trainGflops.toFixed(1)} training\n` +
    (l.kernelCallsPerProbedStep !== null ? `  kernel calls per probed step: ${Math.round(l.kernelCallsPerProbedStep)} (both variants)\n` : '') +
    `  peak RSS ${l.peakRssMB.toFixed(0)} MB per engine process; tensors alive at the end ${l.tensorsAtEnd} (${l.tensorsSteady ? 'steady from step to step' : 'CHANGING from step to step: a leak'})\n` +
    `  load average ${l.loadAverage.toFixed(1)} on ${l.cores} cores${busy(l) ? '; wall time well above CPU time: other work shared the cores, wall times are inflated' : ''}\n` +
    (fb.length ? `  cpu fallback: ${fb.join(', ')}\n` : '');
  for (const [name, p] of Object.entries(l.phases ?? {}))
    out += `  ${name}: ${p.twoVariantMs.toFixed(1)} ms per ${p.unit}, both variants (${Object.entries(p.perVariant)
      .map(([k, s]) => `${k}: ${s.cpuMs.toFixed(1)} ms CPU`)
      .join(', ')})${p.gflops > 0 ? `, ${p.gflops.toFixed(1)} GFLOP/s` : ''}\n`;
  if (l.peerCheck)
    out += `  NumPy peer checked on the engine's weights and batch: ${Object.entries(l.peerCheck)
      .map(([k, c]) => (c ? `${k} loss ${c.lossRelDiff.toExponential(1)}, β ${c.betaRelDiff.toExponential(1)} relative difference${c.ok ? '' : ' — DISAGREES'}` : `${k} not checked`))
      .join('; ')}\n`;
  if (l.peerMsPerProbedStep != null)
    out += `  NumPy peer: ${l.peerMsPerProbedStep.toFixed(1)} ms per probed step${l.peerCpuMsPerProbedStep != null ? ` (${l.peerCpuMsPerProbedStep.toFixed(1)} ms CPU)` : ''}, ${l.peerMsPerTrainStep!.toFixed(1)} ms per training step (both variants); ratio project/peer ${l.ratioToPeer!.toFixed(2)}${l.cpuRatioToPeer != null ? ` (CPU time ${l.cpuRatioToPeer.toFixed(2)})` : ''}\n`;
  else if (l.peerMissing) out += `  NumPy peer: not run (${l.peerMissing})\n`;
  if (l.profile)
    for (const [variant, rows] of Object.entries(l.profile))
      out += `  kernels of ${variant} (calls, CPU ms per probed step): ${rows
        .slice(0, 15)
        .map((r) => `${r.kernel} ×${Math.round(r.calls)} ${r.ms.toFixed(2)}`)
        .join(', ')}\n`;
  return out;
}
