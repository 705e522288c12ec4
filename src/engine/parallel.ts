// Variants are independent until the report, so on a machine with several cores each group of variants
// trains in its own engine process (the embedded backend runs one thread per process). This module forks
// them, merges their event streams into one report, and passes cancellation on.

import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import type { AnalyzeConfig, EngineToHost, HostToEngine, Report, VariantName } from '../protocol';
import { applyEvent } from '../report/applyEvent';
import { ChildLink, describeExit } from './childProcess';
import { UserError } from './errors';
import { summarize } from '../report/summary';

/** Set in the environment of the processes this module forks: they run their variants in-process. */
export const IN_PROCESS_ENV = 'BNLENS_IN_PROCESS';

export function defaultParallelism(variants: number): number {
  if (process.env[IN_PROCESS_ENV] === '1') return 1;
  return Math.max(1, Math.min(coreCount(), variants));
}

/** Cores the engine may use: BNLENS_PARALLEL when set, else the machine's. */
export function coreCount(): number {
  const env = Number(process.env.BNLENS_PARALLEL);
  return Number.isInteger(env) && env > 0 ? env : availableParallelism();
}

/** dist/worker.js beside the running bundle, or the repository's build when running from sources. */
export function findWorkerScript(): string | null {
  const candidates = [join(__dirname, 'worker.js'), join(__dirname, '..', '..', 'dist', 'worker.js')];
  return candidates.find((p) => existsSync(p)) ?? null;
}

/** Deal variants round-robin into `n` groups, keeping the requested order within each. */
export function groupVariants(names: VariantName[], n: number): VariantName[][] {
  const groups: VariantName[][] = Array.from({ length: n }, () => []);
  names.forEach((v, i) => groups[i % n].push(v));
  return groups.filter((g) => g.length > 0);
}

interface Child {
  proc: ChildLink<HostToEngine, EngineToHost>;
  variants: VariantName[];
  started: Report | null;
  finished: Report | null;
  done: number;
  total: number;
  etaMs: number | null;
  buffered: EngineToHost[];
  exit: Promise<void>;
}

export async function analyzeInProcesses(config: AnalyzeConfig, groups: VariantName[][], worker: string, onEvent: (e: EngineToHost) => void, signal?: AbortSignal): Promise<Report> {
  let merged: Report | null = null;
  let failure: Error | null = null;
  const children: Child[] = groups.map((variants) => {
    // In this process's group, so that killing an engine's group (the extension's stop) ends them too; a
    // terminal's Ctrl-C reaches them as well, and the worker ignores it and stops on our 'cancel'.
    const proc = new ChildLink<HostToEngine, EngineToHost>({ script: worker, env: { [IN_PROCESS_ENV]: '1' }, output: 'inherit' });
    const child: Child = { proc, variants, started: null, finished: null, done: 0, total: 0, etaMs: null, buffered: [], exit: Promise.resolve() };
    child.exit = proc.closed.then((e) => {
      if (e.spawnError) fail(e.spawnError);
      else if (!child.finished && !failure) fail(new Error(`the engine process for ${variants.join(', ')} stopped unexpectedly (${describeExit(e)})`));
    });
    proc.onMessage((m) => handle(child, m));
    proc.send({ type: 'start', config: { ...config, variants } });
    return child;
  });

  const cancel = () => children.forEach((c) => c.proc.send({ type: 'cancel' }));
  signal?.addEventListener('abort', cancel, { once: true });

  function fail(e: Error) {
    if (failure) return;
    failure = e;
    for (const c of children) c.proc.kill();
  }

  function emitProgressed(child: Child, m: EngineToHost & { type: 'step' }) {
    child.done = m.progress.done;
    child.total = m.progress.total;
    child.etaMs = m.progress.etaMs;
    const done = children.reduce((a, c) => a + c.done, 0);
    const total = children.reduce((a, c) => a + (c.total || config.steps * c.variants.length), 0);
    const etas = children.map((c) => c.etaMs).filter((x): x is number => x !== null);
    onEvent({ ...m, progress: { done, total, etaMs: etas.length ? Math.max(...etas) : null } });
  }

  function apply(child: Child, m: EngineToHost) {
    merged = applyEvent(merged, m);
    if (m.type === 'step') emitProgressed(child, m);
    else onEvent(m);
  }

  function handle(child: Child, m: EngineToHost) {
    if (m.type === 'failed') {
      fail(m.location ? new UserError(m.message, m.location.file, m.location.line, m.location.column) : new Error(m.message));
      return;
    }
    if (m.type === 'exiting') return;
    if (m.type === 'log') {
      onEvent(m);
      return;
    }
    if (m.type === 'started') {
      child.started = m.report;
      if (children.every((c) => c.started)) {
        merged = mergeStarted(
          children.map((c) => c.started!),
          config,
        );
        onEvent({ type: 'started', report: structuredClone(merged) });
        for (const c of children) {
          const queued = c.buffered;
          c.buffered = [];
          queued.forEach((q) => handle(c, q));
        }
      }
      return;
    }
    // A short run can finish before a slower process has even started: its final report is noted at once
    // (so its exit is not taken for a crash) and merged when every process has started.
    if (m.type === 'finished') child.finished = m.report;
    if (!merged) {
      child.buffered.push(m);
      return;
    }
    if (m.type === 'finished') {
      for (const v of m.report.variants) {
        const i = merged.variants.findIndex((x) => x.name === v.name);
        merged.variants[i] = v;
      }
      return;
    }
    apply(child, m);
  }

  await Promise.all(children.map((c) => c.exit));
  signal?.removeEventListener('abort', cancel);
  if (failure) throw failure;
  const report = merged!;
  const finals = children.map((c) => c.finished!);
  report.complete = finals.every((r) => r.complete);
  report.stopReason = finals.find((r) => r.stopReason)?.stopReason ?? null;
  report.run.wallMs = combineWallMs(finals.map((r) => r.run.wallMs));
  report.run.parallelProcesses = children.length;
  report.summary = summarize(report);
  onEvent({ type: 'finished', report });
  return report;
}

function mergeStarted(parts: Report[], config: AnalyzeConfig): Report {
  const base = structuredClone(parts[0]);
  const all = parts.flatMap((p) => p.variants);
  base.config = config;
  base.variants = config.variants.filter((n) => all.some((v) => v.name === n)).map((n) => structuredClone(all.find((v) => v.name === n)!));
  return base;
}

/** Phases ran side by side: wall time is the longest process's; the work per phase adds up. */
function combineWallMs(parts: Record<string, number>[]): Record<string, number> {
  const out: Record<string, number> = {};
  const wall = new Set(['load', 'backend', 'train', 'total']);
  for (const p of parts) for (const [k, v] of Object.entries(p)) out[k] = wall.has(k) ? Math.max(out[k] ?? 0, v) : (out[k] ?? 0) + v;
  return out;
}
