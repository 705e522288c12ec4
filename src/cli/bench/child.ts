// The bench's engine processes: the parent forks one per variant (the same `bnlens` entry with the spec in an
// environment variable), and the two run each phase concurrently on the parent's 'go' — so the parent's wall
// time per phase is what a user waits for one step of an analysis with two variants.
//
// Protocol, per child: → ready (after warm-up) · ← go probe · → phaseDone · ← go train · → phaseDone ·
// (← go <extra phase> · → phaseDone)* · → result. Any failure: → error, and the child exits.

import type { BackendChoice, VariantName } from '../../protocol';
import { wasmKernelReport } from '../../engine/backend';
import { ChildLink } from '../../engine/childProcess';
import { checkPeer } from './peerCheck';
import { instrumentKernels, resetStats, stepMany, timeSteps, type KernelStat } from './timing';
import { setupVariant, type WorkloadName } from './workloads';

export const CHILD_ENV = 'BNLENS_BENCH_CHILD';
export const WARMUP_STEPS = 2;

export interface ChildSpec {
  workload: WorkloadName;
  variant: VariantName;
  backend: BackendChoice;
  steps: number;
  root: string;
  profile: boolean;
  /** Check the NumPy peer against this variant (python interpreter to run it with) before warming up. */
  peerCheckPython?: string;
}

export interface PhaseTiming {
  ms: number;
  cpuMs: number;
  flops: number;
}

export interface ChildResult {
  variant: VariantName;
  backend: string;
  /** This process alone, ms per step. */
  msPerProbedStep: number;
  msPerTrainStep: number;
  /** CPU time of this process per step: less sensitive than wall time to other load on the machine. */
  cpuMsPerProbedStep: number;
  cpuMsPerTrainStep: number;
  flopsPerProbedStep: number;
  flopsPerTrainStep: number;
  /** The workload's extra phases, per unit. */
  phases: Record<string, PhaseTiming>;
  peakRssMB: number;
  tensorsAtEnd: number;
  /** tf.memory().numTensors after each measured step. */
  tensorsPerStep: number[];
  finalLoss: number;
  kernels: { wrapped: string[]; replaced: string[]; added: string[]; viaCpu: string[] } | null;
  /** Kernels that ran through the cpu fallback, with calls and ms per probed step (CPU ms with --profile). */
  fallbackCalls: Record<string, KernelStat>;
  /** Kernel calls per probed step (all kernels; counted whenever the backend is wasm or cpu). */
  kernelCallsPerProbedStep: number | null;
  profile?: Array<{ kernel: string; calls: number; ms: number }>;
  peerCheck?: PeerCheckSummary;
}

export interface PeerCheckSummary {
  ok: boolean;
  loss: number;
  beta: number;
  lossRelDiff: number;
  betaRelDiff: number;
  curveRelDiff: number;
}

export type ParentMsg = { type: 'go'; phase: string } | { type: 'quit' };
export type ChildMsg = { type: 'ready' } | { type: 'phaseDone'; phase: string } | { type: 'result'; result: ChildResult } | { type: 'error'; message: string };

export async function childMain(spec: ChildSpec): Promise<void> {
  const send = (m: ChildMsg) => new Promise<void>((r) => process.send!(m, () => r()));
  const waitFor = () => new Promise<ParentMsg>((r) => process.once('message', (m) => r(m as ParentMsg)));
  const b = await setupVariant(spec.workload, spec.variant, spec.backend, spec.root);
  const tf = b.tf;
  let peerCheck: PeerCheckSummary | undefined;
  if (spec.peerCheckPython && b.workload.peer) {
    const c = await checkPeer(b, spec.peerCheckPython, spec.root);
    peerCheck = { ok: c.ok, loss: c.engine.loss, beta: c.engine.beta, lossRelDiff: c.lossRelDiff, betaRelDiff: c.betaRelDiff, curveRelDiff: c.curveRelDiff };
  }
  const fallback = new Set(wasmKernelReport()?.viaCpu ?? []);
  // Every kernel is counted (the count is cheap); timing every kernel only matters with --profile.
  const counted = b.backendName === 'wasm' || b.backendName === 'cpu';
  const stats = counted ? instrumentKernels(tf, b.backendName, undefined, spec.profile ? 'cpu' : 'wall') : new Map<string, KernelStat>();
  // Warm-up: first calls compile, allocate the heap, fill caches.
  await stepMany(b, 0, WARMUP_STEPS, true);
  resetStats(stats);
  await send({ type: 'ready' });
  const go = async (phase: string) => {
    const m = await waitFor();
    if (m.type !== 'go' || m.phase !== phase) process.exit(0);
  };
  await go('probe');
  const probe = await stepMany(b, WARMUP_STEPS, spec.steps, true);
  const probeStats = [...stats].map(([kernel, s]) => ({ kernel, calls: s.calls / spec.steps, ms: s.ms / spec.steps }));
  await send({ type: 'phaseDone', phase: 'probe' });
  await go('train');
  const train = await stepMany(b, WARMUP_STEPS + spec.steps, spec.steps, false);
  await send({ type: 'phaseDone', phase: 'train' });
  const phases: Record<string, PhaseTiming> = {};
  for (const p of b.workload.extraPhases ?? []) {
    for (let i = 0; i < WARMUP_STEPS; i++) await p.run(b, i);
    await go(p.name);
    const t = await timeSteps(b, spec.steps, (i) => p.run(b, WARMUP_STEPS + i));
    phases[p.name] = { ms: t.ms, cpuMs: t.cpuMs, flops: p.flops(b) };
    await send({ type: 'phaseDone', phase: p.name });
  }
  const report = wasmKernelReport();
  const result: ChildResult = {
    variant: spec.variant,
    backend: b.backendName,
    msPerProbedStep: probe.ms,
    msPerTrainStep: train.ms,
    cpuMsPerProbedStep: probe.cpuMs,
    cpuMsPerTrainStep: train.cpuMs,
    flopsPerProbedStep: b.flopsPerProbedStep,
    flopsPerTrainStep: b.flopsPerTrainStep,
    phases,
    peakRssMB: process.resourceUsage().maxRSS / 1024,
    tensorsAtEnd: tf.memory().numTensors,
    tensorsPerStep: [...probe.tensors, ...train.tensors],
    finalLoss: probe.loss,
    kernels: b.backendName === 'wasm' && report ? report : null,
    fallbackCalls: Object.fromEntries(probeStats.filter((s) => fallback.has(s.kernel) && s.calls > 0).map((s) => [s.kernel, { calls: s.calls, ms: s.ms }])),
    kernelCallsPerProbedStep: counted ? probeStats.reduce((a, s) => a + s.calls, 0) : null,
  };
  if (peerCheck) result.peerCheck = peerCheck;
  if (spec.profile) result.profile = probeStats.filter((p) => p.calls > 0).sort((a, b2) => b2.ms - a.ms);
  await send({ type: 'result', result });
  process.exit(0);
}

/** The parent's side of one engine process (src/engine/childProcess.ts): its messages in order, or why it ended. */
export class ChildHandle {
  private readonly link: ChildLink<ParentMsg, ChildMsg>;
  /** The child's own account of a failure, which arrives in place of the message the parent waits for. */
  private failure: string | null = null;
  constructor(
    spec: ChildSpec,
    readonly variant: VariantName,
  ) {
    // The same entry point as the parent (bundle or sources through tsx), in the parent's process group so
    // a Ctrl-C of the bench ends it too.
    this.link = new ChildLink<ParentMsg, ChildMsg>({
      script: process.argv[1],
      args: ['bench'],
      env: { [CHILD_ENV]: JSON.stringify(spec) },
      execArgv: process.execArgv,
      output: 'inherit',
      queue: true,
    });
    this.link.onMessage((m) => {
      if (m.type === 'error') this.failure = m.message;
    });
  }
  async next<T extends ChildMsg['type']>(type: T): Promise<Extract<ChildMsg, { type: T }>> {
    try {
      return await this.link.next(type);
    } catch (e) {
      throw new Error(`engine process for ${this.variant}: ${this.failure ?? (e as Error).message}`, { cause: e });
    }
  }
  send(m: ParentMsg) {
    this.link.send(m);
  }
  kill() {
    if (!this.link.exited) this.link.kill();
  }
}
