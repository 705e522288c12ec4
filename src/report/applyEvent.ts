// The one reducer from engine events to the report: the extension host keeps its copy of a running
// analysis with it, and the webview (which receives the same events) can use it too. No `vscode`, no DOM.
import type { EngineToHost, Report, SliceResult, VariantName, VariantReport } from '../protocol';
import { runFor } from './runs';

function variantOf(report: { variants: VariantReport[] }, name: VariantName): VariantReport | undefined {
  return report.variants.find((v) => v.name === name);
}

/**
 * Applies one engine event to `report` and returns the report to keep from now on. Mutates `report` in
 * place for the streaming events (a run appends thousands of records; copying each time would be
 * quadratic); 'started' and 'finished' replace it with the engine's document. Events for a variant the
 * report does not know, or arriving before 'started', are ignored.
 */
export function applyEvent(report: Report | null, ev: EngineToHost): Report | null {
  switch (ev.type) {
    case 'started':
      return ev.report;
    case 'finished':
      return ev.report;
    case 'failed':
      if (report) {
        report.complete = false;
        report.stopReason = `failed: ${ev.message}`;
      }
      return report;
    case 'log':
    case 'phase':
    case 'exiting':
    case 'sliceProgress':
    case 'slicePart':
    case 'slicePartial':
      return report;
    case 'slice':
      // A slice replaces its own earlier version and the live one still being evaluated (at most one at a time).
      if (report) report.slices = [...(report.slices ?? []).filter((s) => !sameSlice(s, ev.slice) && s.pending === undefined), ev.slice];
      return report;
  }
  if (!report) return report;
  const v = variantOf(runFor(report, ev.lr) ?? { variants: [] }, ev.variant);
  if (!v) return report;
  switch (ev.type) {
    case 'step':
      insertByStep(v.steps, ev.record);
      break;
    case 'layerStats':
      for (const r of ev.records) v.layerStats.push(r);
      break;
    case 'eval':
      insertByStep(v.evals, ev.record);
      break;
    case 'diverged':
      v.diverged = ev.info;
      break;
  }
  return report;
}

/** A new slice of the same variants at the same step and settings replaces the old one. */
function sameSlice(a: SliceResult, b: SliceResult): boolean {
  const key = (s: SliceResult) => JSON.stringify([s.variants.map((v) => [v.variant, v.step]), s.dims, s.directions, s.norm, s.ignore, s.bn, s.seed]);
  return key(a) === key(b);
}

/** Records arrive in step order; a repeated step replaces the earlier record, a late one is put in its place. */
function insertByStep<T extends { step: number }>(list: T[], rec: T): void {
  const last = list[list.length - 1];
  if (!last || last.step < rec.step) {
    list.push(rec);
    return;
  }
  const i = list.findIndex((r) => r.step >= rec.step);
  if (list[i].step === rec.step) list[i] = rec;
  else list.splice(i, 0, rec);
}

/** Marks a report as stopped part-way (the host does this when a run is cancelled or the engine dies). */
export function markStopped(report: Report, reason: string): Report {
  if (!report.complete && report.stopReason === null) report.stopReason = reason;
  return report;
}
