// One step-count convention for every place that shows how far a run is (notification, status bar, charts
// view, hover): the run is at step N of S when every variant has finished N of its S steps, and each
// variant's own count is shown beside it. A diverged variant stops training, so it counts as finished.
// Pure (no vscode, no DOM): the host and the webview both use it.
import type { EngineToHost, Report } from '../protocol';

export interface VariantProgress {
  name: string;
  /** Training steps this variant has finished (its last recorded step + 1). */
  done: number;
  diverged: boolean;
}

export interface RunProgress {
  /** Steps of the run every variant has finished. */
  step: number;
  /** Steps of the run (the config's). */
  total: number;
  variants: VariantProgress[];
}

export function runProgress(report: Report): RunProgress {
  const total = report.config.steps;
  const variants = report.variants.map((v) => ({
    name: v.name,
    done: v.steps.length ? v.steps[v.steps.length - 1].step + 1 : 0,
    diverged: !!v.diverged,
  }));
  const training = variants.filter((v) => !v.diverged);
  const step = training.length ? Math.min(...training.map((v) => v.done)) : variants.length ? total : 0;
  return { step: Math.min(step, total), total, variants };
}

/** "standard 10, batchnorm 9": each variant's own finished steps. */
export function variantsText(p: RunProgress): string {
  return p.variants.map((v) => `${v.name} ${v.diverged ? `diverged at ${v.done}` : v.done}`).join(', ');
}

/** "step 9 of 40 (standard 10, batchnorm 9)"; the variants only when they differ. */
export function progressText(p: RunProgress): string {
  const head = `step ${p.step} of ${p.total}`;
  const differ = p.variants.some((v) => v.done !== p.variants[0].done || v.diverged);
  return p.variants.length && differ ? `${head} (${variantsText(p)})` : head;
}

/** "8 of 40 steps" for a stopped report, "40 steps" for a complete one. */
export function extentText(report: Report): string {
  if (report.complete) return `${report.config.steps} steps`;
  return `stopped at step ${runProgress(report).step} of ${report.config.steps}`;
}

/** "batchnorm: Hessian at step 25…", the long part of a step going on now (a 'phase' event). */
export function phaseText(ev: EngineToHost & { type: 'phase' }): string {
  const what = ev.phase === 'hessian' ? `Hessian at step ${ev.step}` : `held-out evaluation at step ${ev.step}`;
  return `${ev.lr !== undefined ? `lr ${ev.lr} ` : ''}${ev.variant}: ${what}…`;
}
