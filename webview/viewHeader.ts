// The lines above the charts in VS Code: which network file and which run they show (with a picker over
// the file's run history), what is going on (starting, running with the step count, stopping, complete,
// stopped), and, with nothing to show, an empty state that offers the next step.
import { formatDuration } from '../src/formatDuration';
import type { Progress, Report, ViewContext, WebviewToHost } from '../src/protocol';
import { progressText, runProgress, variantsText } from '../src/report/progress';

export interface HeaderInput {
  report: Report | null;
  live: boolean;
  progress: Progress | null;
  notice: string | null;
  /** The long part of a step going on now ("batchnorm: Hessian at step 25…"), from a 'phase' event. */
  working?: string | null;
}

/** The status line for a report: "running · step 9 of 40 (…) · about 35s left", "complete · 40 steps", "stopped at step 8 of 40". */
export function statusText(report: Report, live: boolean, progress: Progress | null, phase: ViewContext['phase'] | null, working: string | null = null): string {
  const p = runProgress(report);
  if (live && phase === 'stopping') return `stopping at the end of the current step… (${progressText(p)})`;
  if (live) {
    const pct = p.total ? ` (${Math.floor((100 * p.step) / p.total)}%)` : '';
    const eta = progress?.etaMs != null ? ` · about ${formatDuration(progress.etaMs)} left` : '';
    return `running: step ${p.step} of ${p.total}${pct} · ${variantsText(p)}${eta}${working ? ` · ${working}` : ''}`;
  }
  if (report.complete) return `complete: ${p.total} steps`;
  const why = report.stopReason && report.stopReason !== 'cancelled' ? `: ${report.stopReason}` : '';
  return `partial: stopped at ${progressText(p)}${why}`;
}

function settingsText(r: Report): string {
  // The data set's name without its long explanation ("mnist — the last 20% of … held out" → "mnist").
  return `${r.dataset.name.split(' — ')[0]} · lr ${r.config.lr} · batch ${r.config.batch}`;
}

export class ViewHeader {
  readonly el: HTMLElement;
  ctx: ViewContext | null = null;

  constructor(private readonly post: ((m: WebviewToHost) => void) | null) {
    this.el = document.createElement('div');
    this.el.className = 'bn-status';
    this.el.setAttribute('role', 'status');
  }

  render(input: HeaderInput): void {
    const { report, live, notice } = input;
    const ctx = this.ctx;
    const phase = ctx?.phase ?? null;
    this.el.replaceChildren();
    if (!this.post) {
      // The standalone report has its own page header; the status line only says what is missing.
      this.el.textContent = report ? statusText(report, live, input.progress, null) : 'No report.';
      return;
    }
    const head = div('bn-view-file');
    const fileName = ctx?.fileName ?? (report ? baseName(report.model.path || report.config.model) : null);
    if (fileName) {
      const name = document.createElement('strong');
      name.className = 'bn-file-name';
      name.textContent = fileName;
      name.title = ctx?.file ?? fileName;
      head.append(name);
    }
    const runs = ctx?.runs ?? [];
    if (fileName && runs.length > 0) {
      const select = document.createElement('select');
      select.className = 'bn-select bn-run-picker';
      select.dataset.role = 'run';
      select.setAttribute('aria-label', `Run of ${fileName} to show`);
      for (const r of runs) {
        const o = document.createElement('option');
        o.value = r.id;
        o.textContent = r.label + (r.complete || r.id === 'live' ? '' : ' (partial)');
        o.title = r.detail;
        select.appendChild(o);
      }
      select.value = ctx?.shown ?? runs[0].id;
      select.title = runs.find((r) => r.id === select.value)?.detail ?? '';
      select.disabled = runs.length < 2;
      select.addEventListener('change', () => this.post!({ type: 'selectRun', id: select.value }));
      head.append(select);
    }
    if (head.childNodes.length) this.el.append(head);

    const line = div('bn-view-state');
    if (phase === 'starting' && (!report || ctx?.shown === 'live')) {
      line.textContent = `Starting analysis of ${fileName ?? 'the network'}… (the engine loads TensorFlow.js and the data)`;
      line.classList.add('bn-busy');
      this.el.append(line, this.buttons([['Stop', { type: 'action', action: 'stop' }]]));
    } else if (report) {
      line.textContent = `${statusText(report, live, input.progress, phase, input.working ?? null)} · ${settingsText(report)}`;
      if (live) line.classList.add('bn-busy');
      this.el.append(line);
      if (live && phase === 'running') this.el.append(this.buttons([['Stop', { type: 'action', action: 'stop' }]]));
    } else {
      this.el.classList.add('bn-empty-state');
      const active = ctx?.activeNetwork ?? null;
      line.textContent = fileName ? `No analysis of ${fileName} yet.` : 'No network analyzed yet. BatchNorm Lens trains a network with and without BatchNorm and draws how smooth its loss landscape is.';
      const buttons: [string, WebviewToHost][] = [];
      if (active || !fileName) buttons.push([active ? `Analyze ${active}` : 'Analyze current file', { type: 'action', action: 'analyze' }]);
      else buttons.push([`Analyze ${fileName}`, { type: 'action', action: 'analyze' }]);
      buttons.push(['Open an example', { type: 'action', action: 'openExample' }], ['Open report…', { type: 'openReport' }]);
      this.el.append(line, this.buttons(buttons));
    }
    this.el.classList.toggle('bn-empty-state', !report && phase !== 'starting');
    if (notice) this.el.append(div('bn-notice', notice));
  }

  private buttons(list: [string, WebviewToHost][]): HTMLElement {
    const row = div('bn-view-actions');
    list.forEach(([label, msg], i) => {
      const b = document.createElement('button');
      b.type = 'button';
      b.className = i === 0 ? 'bn-btn bn-btn-primary' : 'bn-btn';
      b.textContent = label;
      b.dataset.action = msg.type === 'action' ? msg.action : msg.type;
      b.addEventListener('click', () => this.post!(msg));
      row.append(b);
    });
    return row;
  }
}

function div(cls: string, text?: string): HTMLElement {
  const d = document.createElement('div');
  d.className = cls;
  if (text !== undefined) d.textContent = text;
  return d;
}

function baseName(p: string): string {
  return p.split(/[\\/]/).pop() ?? p;
}
