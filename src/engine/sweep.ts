// The learning-rate sweep of Santurkar et al. Fig. 1: every variant trained at every learning rate. Each
// (lr, variant) pair is an ordinary single-lr run — the same code, the same seed, the same batches — so a
// sweep entry is bit for bit the run `bnlens analyze --lr X` gives; the pairs run side by side in engine
// processes (one per core), and their events are merged into one report with a run per learning rate.

import type { AnalyzeConfig, EngineToHost, LrRun, Report, VariantName } from '../protocol';
import { applyEvent } from '../report/applyEvent';
import { summarize, summarizeVariant } from '../report/summary';
import { sweepSummary } from '../report/runs';
import { analyze } from './analyze';
import { etaGrid } from './config';
import { analyzeInProcesses, defaultParallelism, findWorkerScript } from './parallel';
import { etaProcessesFor } from './etaHelpers';

interface Job {
  lr: number;
  variant: VariantName;
}

export async function analyzeSweep(config: AnalyzeConfig, onEvent: (e: EngineToHost) => void, signal?: AbortSignal, opts: { parallel?: number } = {}): Promise<Report> {
  const lrs = config.lrs!;
  const jobs: Job[] = lrs.flatMap((lr) => config.variants.map((variant) => ({ lr, variant })));
  const parallel = opts.parallel ?? defaultParallelism(jobs.length);
  const worker = parallel > 1 ? findWorkerScript() : null;
  const lanes = worker ? parallel : 1;
  config.etaProcesses = etaProcessesFor(config.etaProcesses, lanes, config.etaCount);
  const order = (list: { name: VariantName }[]) => list.sort((a, b) => config.variants.indexOf(a.name) - config.variants.indexOf(b.name));
  const progress = jobs.map(() => ({ done: 0, total: config.steps, etaMs: null as number | null }));
  const wallParts: Record<string, number>[] = [];
  let merged: Report | null = null;

  const slot = (lr: number): { variants: Report['variants'] } => (lr === lrs[0] ? merged! : merged!.runs!.find((r) => r.lr === lr)!);

  const handle = (j: number, e: EngineToHost) => {
    const { lr } = jobs[j];
    switch (e.type) {
      case 'started': {
        if (!merged) {
          merged = structuredClone(e.report);
          merged.config = { ...config, lr: lrs[0], lrs };
          merged.eta = etaGrid({ ...config, lr: lrs[0] });
          merged.variants = [];
          merged.runs = lrs.slice(1).map((x): LrRun => ({ lr: x, eta: etaGrid({ ...config, lr: x }), variants: [], summary: [] }));
        }
        const into = slot(lr).variants;
        for (const v of e.report.variants) if (!into.some((x) => x.name === v.name)) into.push(structuredClone(v));
        order(into);
        onEvent({ type: 'started', report: structuredClone(merged) });
        return;
      }
      case 'step': {
        progress[j] = { done: Math.min(e.progress.done, config.steps), total: config.steps, etaMs: e.progress.etaMs };
        const done = progress.reduce((a, p) => a + p.done, 0);
        const total = config.steps * jobs.length;
        // Jobs waiting for a lane take as long as the ones running: the estimate scales with what is left.
        const rate = done > 0 ? (performance.now() - t0) / done : null;
        const ev = { ...e, lr, progress: { done, total, etaMs: rate === null ? null : (rate * (total - done)) / Math.max(1, Math.min(lanes, jobs.length)) } };
        merged = applyEvent(merged, ev);
        onEvent(ev);
        return;
      }
      case 'layerStats':
      case 'eval':
      case 'phase':
      case 'diverged': {
        const ev = { ...e, lr };
        merged = applyEvent(merged, ev);
        onEvent(ev);
        return;
      }
      case 'log':
        onEvent({ ...e, message: `lr ${lr}: ${e.message}` });
        return;
      default:
        return;
    }
  };

  const t0 = performance.now();
  const finals: (Report | null)[] = jobs.map(() => null);
  let next = 0;
  let failure: unknown = null;
  const inner = new AbortController();
  const onAbort = () => inner.abort();
  signal?.addEventListener('abort', onAbort, { once: true });
  const lane = async () => {
    while (next < jobs.length && !inner.signal.aborted && !failure) {
      const j = next++;
      const { lr, variant } = jobs[j];
      const cfg: AnalyzeConfig = { ...config, lr, variants: [variant] };
      delete cfg.lrs;
      try {
        finals[j] = worker ? await analyzeInProcesses(cfg, [[variant]], worker, (e) => handle(j, e), inner.signal) : await analyze(cfg, (e) => handle(j, e), inner.signal, { parallel: 1 });
      } catch (e) {
        failure ??= e;
        inner.abort();
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(lanes, jobs.length) }, lane));
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
  if (failure) throw failure;
  const report = merged as Report | null;
  if (!report) throw new Error('the sweep was stopped before any run started');
  finals.forEach((f, j) => {
    if (!f) return;
    const into = slot(jobs[j].lr).variants;
    const i = into.findIndex((v) => v.name === jobs[j].variant);
    if (i >= 0) into[i] = f.variants[0];
    else order((into.push(f.variants[0]), into));
    wallParts.push(f.run.wallMs);
  });
  const ran = finals.filter((f): f is Report => f !== null);
  report.complete = ran.length === jobs.length && ran.every((f) => f.complete);
  report.stopReason = report.complete ? null : (ran.find((f) => f.stopReason)?.stopReason ?? 'cancelled');
  report.summary = summarize(report);
  for (const r of report.runs ?? []) r.summary = r.variants.map((v) => summarizeVariant(v, r.eta));
  report.sweep = sweepSummary(report);
  report.run.wallMs = combine(wallParts, performance.now() - t0);
  report.run.parallelProcesses = lanes;
  onEvent({ type: 'finished', report });
  return report;
}

/** Work per phase adds up over the runs; the sweep's wall time is its own. */
function combine(parts: Record<string, number>[], total: number): Record<string, number> {
  const out: Record<string, number> = {};
  for (const p of parts) for (const [k, v] of Object.entries(p)) if (k !== 'total' && k !== 'train' && k !== 'load' && k !== 'backend') out[k] = (out[k] ?? 0) + v;
  out.load = Math.max(0, ...parts.map((p) => p.load ?? 0));
  out.backend = Math.max(0, ...parts.map((p) => p.backend ?? 0));
  out.train = total;
  out.total = total;
  return out;
}
