// The bench's engine processes: the parent forks one per variant (the same `bnlens` entry with the spec in an
// environment variable), and the two run each phase concurrently on the parent's 'go' — so the parent's wall
// time per phase is what a user waits for one step of an analysis with two variants.
//
// Protocol, per child: → ready (after warm-up) · ← go probe · → phaseDone · ← go train · → phaseDone ·
// (← go <extra phase> · → phaseDone)* · → result. Any failure: → error, and the child exits.

import { fork, type ChildProcess } from 'node:child_process';
import type { BackendChoice, VariantName } from '../../protocol';
import { wasmKernelReport } from '../../engine/backend';
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

export function forkChild(spec: ChildSpec): ChildProcess {
  const entry = process.argv[1];
  return fork(entry, ['bench'], {
    env: { ...process.env, [CHILD_ENV]: JSON.stringify(spec) },
    execArgv: process.execArgv,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
}

/** The parent's side of one engine process: its messages in order, or the reason it ended. */
export class ChildHandle {
  private queue: ChildMsg[] = [];
  private waiters: Array<(m: ChildMsg) => void> = [];
  constructor(
    readonly proc: ChildProcess,
    readonly variant: VariantName,
  ) {
    proc.on('message', (m) => this.push(m as ChildMsg));
    // 'close', not 'exit': messages still in the IPC pipe when the process exits arrive before 'close'.
    proc.on('close', (code, signal) => this.push({ type: 'error', message: `engine process for ${variant} exited (${signal ?? `code ${code}`})` }));
  }
  private push(m: ChildMsg) {
    const w = this.waiters.shift();
    if (w) w(m);
    else this.queue.push(m);
  }
  async next<T extends ChildMsg['type']>(type: T): Promise<Extract<ChildMsg, { type: T }>> {
    const m = this.queue.shift() ?? (await new Promise<ChildMsg>((r) => this.waiters.push(r)));
    if (m.type === 'error') throw new Error(`${this.variant}: ${m.message}`);
    if (m.type !== type) throw new Error(`${this.variant}: expected ${type}, got ${m.type}`);
    return m as Extract<ChildMsg, { type: T }>;
  }
  send(m: ParentMsg) {
    this.proc.send(m);
  }
  kill() {
    if (this.proc.exitCode === null && this.proc.signalCode === null) this.proc.kill();
  }
}
