// "BatchNorm Lens: Loss Surface at Step…": a 2-D filter-normalized slice (Li et al. 2018) of each variant of
// the current report, at the weights the run reached after the step the user picks. The engine retrains
// each variant to that step with the report's own settings (bit for bit the run's weights) and evaluates
// the grid; the points are spread over engine processes, one per core. The slice is added to the report
// (`slices`), so the charts view, the report panel and a saved report show it.
import * as vscode from 'vscode';
import { availableParallelism } from 'node:os';
import * as path from 'node:path';
import { ChildLink, describeExit } from '../engine/childProcess';
import { mergeLiveParts, mergeSliceParts, type SlicePart } from '../engine/sliceMerge';
import type { AnalyzeRequest, EngineToHost, HostToEngine, Report, SliceRequest, SliceResult, VariantName } from '../protocol';
import { applyEvent } from '../report/applyEvent';

export interface LossSurfaceDeps {
  workerPath: string;
  current(): { file: string | null; report: Report | null; live: boolean };
  /** Keeps the report with its new slice and shows it. */
  update(file: string, report: Report): void;
  /** Shows the slice so far while it is evaluated (not kept); null: the slice ended without a result, show the report as kept. */
  preview(file: string, slice: SliceResult | null): void;
  log: vscode.LogOutputChannel;
}

/** The slice request for `report` at `step`: the run's own settings, its first learning rate. */
export function sliceRequestFor(report: Report, step: number, variants: VariantName[], points = 21): SliceRequest {
  const train: AnalyzeRequest = { ...report.config };
  delete train.lrs;
  return { model: report.config.model || report.model.path, atStep: step, train, variants, dims: 2, points, directions: 'random', norm: 'filter', ignore: 'biasbn', bn: 'train', seed: report.config.seed };
}

/** Asks for the step and the variants, runs the slice with progress, adds it to the report. */
export async function lossSurfaceAtStep(deps: LossSurfaceDeps, presetStep?: number): Promise<SliceResult | null> {
  const { file, report, live } = deps.current();
  if (!file || !report || report.variants.length === 0) {
    void vscode.window.showInformationMessage('BatchNorm Lens: run "Analyze BatchNorm" first (or open a report); the loss surface is taken at a step of that run.');
    return null;
  }
  if (live) {
    void vscode.window.showInformationMessage('BatchNorm Lens: the analysis is still running; take the loss surface when it has finished.');
    return null;
  }
  const steps = report.config.steps;
  let step = presetStep;
  if (step === undefined) {
    const answer = await vscode.window.showInputBox({
      title: 'BatchNorm Lens: Loss Surface at Step',
      prompt: `Training step (0–${steps}) whose weights to slice. Each variant is retrained to it with the run's settings (lr ${report.config.lr}, seed ${report.config.seed}).`,
      value: String(steps),
      validateInput: (v) => (/^\d+$/.test(v.trim()) && Number(v) <= steps ? null : `a whole number from 0 to ${steps}`),
    });
    if (answer === undefined) return null;
    step = Number(answer.trim());
  }
  const names = report.variants.map((v) => v.name);
  const diverged = report.variants.filter((v) => v.diverged && v.diverged.step < step!).map((v) => v.name);
  let chosen = names.filter((n) => !diverged.includes(n));
  if (presetStep === undefined && chosen.length > 1) {
    const picked = await vscode.window.showQuickPick(
      chosen.map((n) => ({ label: n, picked: true })),
      { canPickMany: true, title: `Loss surface at step ${step}: which variants (side by side, one colour scale)` },
    );
    if (!picked || picked.length === 0) return null;
    chosen = picked.map((p) => p.label as VariantName);
  }
  if (chosen.length === 0) {
    void vscode.window.showInformationMessage(`BatchNorm Lens: every variant diverged before step ${step}; pick an earlier step.`);
    return null;
  }
  const request = sliceRequestFor(report, step!, chosen);
  deps.log.info(`loss surface of ${path.basename(file)} at step ${step} for ${chosen.join(', ')}: ${JSON.stringify({ ...request, train: undefined })}`);
  const t0 = Date.now();
  const slice = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: `BatchNorm Lens: loss surface of ${path.basename(file)} at step ${step}`, cancellable: true },
    (progress, token) => {
      let reported = 0;
      return runSliceProcesses(
        deps,
        request,
        token,
        (done, total) => {
          const pct = (100 * done) / Math.max(1, total);
          progress.report({ message: `${done}/${total} points`, increment: pct - reported });
          reported = pct;
        },
        (partial) => deps.preview(file, partial),
      );
    },
  );
  if (!slice) {
    deps.preview(file, null);
    return null;
  }
  const updated = applyEvent(structuredClone(report), { type: 'slice', slice })!;
  deps.update(file, updated);
  deps.log.info(`loss surface done in ${((Date.now() - t0) / 1000).toFixed(1)} s (${slice.pointsPerSecond.toFixed(1)} points/s in ${slice.processes} processes)`);
  void vscode.commands.executeCommand('bnlens.charts.focus');
  return slice;
}

const PREVIEW_MS = 300;

/** Forks one engine process per core, each evaluating its share of the grid; merges the shares. */
function runSliceProcesses(
  deps: LossSurfaceDeps,
  request: SliceRequest,
  token: vscode.CancellationToken,
  onProgress: (done: number, total: number) => void,
  onPartial: (slice: SliceResult) => void,
): Promise<SliceResult | null> {
  const points = (request.points ?? 21) ** 2;
  const n = Math.max(1, Math.min(availableParallelism(), points));
  const t0 = Date.now();
  const children: ChildLink<HostToEngine, EngineToHost>[] = [];
  const done = new Array<number>(n).fill(0);
  let shown = 0;
  return new Promise((resolve) => {
    let settled = false;
    const finish = (r: SliceResult | null, error?: string) => {
      if (settled) return;
      settled = true;
      for (const c of children) c.kill();
      if (error) {
        deps.log.error(`loss surface failed: ${error}`);
        void vscode.window.showErrorMessage(`BatchNorm Lens: loss surface failed: ${error}`, 'Show Log').then((c) => c && deps.log.show(true));
      }
      resolve(r);
    };
    token.onCancellationRequested(() => finish(null));
    const parts: (SlicePart | null)[] = new Array(n).fill(null);
    // The charts fill in while the points come: the processes' latest snapshots merged, at most ~3 times a second.
    const partials: (SlicePart | null)[] = new Array(n).fill(null);
    let lastPreview = 0;
    const preview = () => {
      if (settled || Date.now() - lastPreview < PREVIEW_MS) return;
      lastPreview = Date.now();
      onPartial(
        mergeLiveParts(
          partials.filter((p): p is SlicePart => p !== null),
          request.variants?.length ?? 1,
        ),
      );
    };
    for (let k = 0; k < n; k++) {
      const child = new ChildLink<HostToEngine, EngineToHost>({
        script: deps.workerPath,
        cwd: path.dirname(request.model),
        env: { ELECTRON_RUN_AS_NODE: '1', BNLENS_IN_PROCESS: '1' },
        ownProcessGroup: true,
        output: 'pipe',
        onOutput: (stream, line) => deps.log[stream === 'stderr' ? 'warn' : 'info'](`[slice engine ${k}] ${line}`),
        log: (level, message) => deps.log[level](`[slice engine ${k}] ${message}`),
      });
      children.push(child);
      child.onMessage((m) => {
        if (m.type === 'slicePart') parts[k] = m.part;
        else if (m.type === 'slicePartial') {
          partials[k] = m.part;
          preview();
        } else if (m.type === 'sliceProgress') {
          done[k] = m.done;
          const total = done.reduce((a, b) => a + b, 0);
          if (total > shown) {
            onProgress(total, points * (request.variants?.length ?? 1));
            shown = total;
          }
        } else if (m.type === 'failed') finish(null, m.message);
      });
      void child.closed.then((exit) => {
        if (settled) return;
        if (!parts[k]) return finish(null, exit.spawnError ? exit.spawnError.message : `a slice engine process stopped unexpectedly (${describeExit(exit)})`);
        if (parts.every(Boolean)) {
          const slice = mergeSliceParts(parts as SlicePart[]);
          slice.wallMs = Date.now() - t0;
          slice.pointsPerSecond = (points * slice.variants.length) / (slice.wallMs / 1000);
          finish(slice);
        }
      });
      child.send({ type: 'slice', request, share: { k, of: n } });
    }
  });
}
