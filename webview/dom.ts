// The page around the charts: one card per chart (title, layer picker or step slider, export buttons,
// caption), the status line and the live summary table.
import { formatDuration } from '../src/formatDuration';
import type { Progress, Report } from '../src/protocol';
import type { ChartDef } from './chartList';
import { probedSteps, profileStep, SUMMARY_COLUMNS, summaryRows } from './model';
import type { Theme } from './theme';

export function el<K extends keyof HTMLElementTagNameMap>(tag: K, cls: string): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  e.className = cls;
  return e;
}

export interface Card {
  element: HTMLElement;
  host: HTMLElement;
  caption: HTMLElement;
  select?: HTMLSelectElement;
  range?: HTMLInputElement;
  rangeOut?: HTMLOutputElement;
}

export interface CardActions {
  /** The layer picker chose a layer ('' → null). */
  pickLayer(layer: string | null): void;
  /** The step slider moved to index `i` of the probed steps. */
  pickStepIndex(i: number): void;
  exportChart(format: 'svg' | 'png'): void;
}

export function buildCard(def: ChartDef, on: CardActions): Card {
  const card = el('section', def.layerPicker || def.stepPicker ? 'bn-card' : 'bn-card bn-card-overlay');
  card.dataset.chart = def.id;
  card.setAttribute('aria-label', def.mod.title);
  const head = el('div', 'bn-card-head');
  const name = el('h2', 'bn-card-title');
  name.textContent = def.mod.title;
  head.appendChild(name);
  let select: HTMLSelectElement | undefined;
  if (def.layerPicker) {
    const label = el('label', 'bn-layer-picker');
    label.textContent = 'layer ';
    const s = document.createElement('select');
    s.className = 'bn-select';
    s.dataset.role = 'layer';
    s.setAttribute('aria-label', 'Layer (as written in the network file)');
    s.addEventListener('change', () => on.pickLayer(s.value || null));
    label.appendChild(s);
    head.appendChild(label);
    select = s;
  }
  let range: HTMLInputElement | undefined;
  let rangeOut: HTMLOutputElement | undefined;
  if (def.stepPicker) {
    const label = el('label', 'bn-layer-picker bn-step-picker');
    label.textContent = 'step ';
    const r = document.createElement('input');
    r.type = 'range';
    r.className = 'bn-range';
    r.dataset.role = 'eta-step';
    r.min = '0';
    r.step = '1';
    r.setAttribute('aria-label', 'Training step of the η profile (← → move one probed step)');
    rangeOut = document.createElement('output');
    rangeOut.className = 'bn-range-value';
    r.addEventListener('input', () => on.pickStepIndex(Number(r.value)));
    label.append(r, ' ', rangeOut);
    head.appendChild(label);
    range = r;
  }
  const tools = el('div', 'bn-tools');
  for (const format of ['svg', 'png'] as const) {
    const b = document.createElement('button');
    b.type = 'button';
    b.className = 'bn-btn';
    b.dataset.export = format;
    b.textContent = format.toUpperCase();
    b.title = `Export this chart as ${format.toUpperCase()}`;
    b.setAttribute('aria-label', `Export ${def.mod.title} as ${format.toUpperCase()}`);
    b.addEventListener('click', () => on.exportChart(format));
    tools.appendChild(b);
  }
  head.appendChild(tools);
  const host = el('div', 'bn-chart-host');
  const caption = el('p', 'bn-caption');
  card.append(head, host, caption);
  return { element: card, host, caption, select, range, rangeOut };
}

export function syncOptions(select: HTMLSelectElement, layers: string[], chosen: string | null): void {
  const current = Array.from(select.options).map((o) => o.value);
  if (current.join('\n') !== layers.join('\n')) {
    select.replaceChildren(
      ...layers.map((n) => {
        const o = document.createElement('option');
        o.value = n;
        o.textContent = n;
        return o;
      }),
    );
  }
  select.disabled = layers.length === 0;
  if (chosen !== null && select.value !== chosen) select.value = chosen;
}

export function syncRange(range: HTMLInputElement, out: HTMLOutputElement, report: Report | null, chosen: number | null): void {
  const steps = report ? probedSteps(report) : [];
  const step = report ? profileStep(report, chosen) : null;
  range.max = String(Math.max(0, steps.length - 1));
  range.disabled = steps.length < 2;
  const i = step === null ? 0 : steps.indexOf(step);
  if (range.value !== String(i)) range.value = String(i);
  out.textContent = step === null ? '—' : String(step);
  range.setAttribute('aria-valuetext', step === null ? 'no probed step' : `step ${step}`);
}

/** The status line: what the report is and how far its run got, then any notice. */
export function statusText(r: Report | null, o: { inVsCode: boolean; live: boolean; progress: Progress | null; notice: string | null }): string {
  const parts: string[] = [];
  if (!r) {
    parts.push(o.inVsCode ? 'No report yet. Run “BatchNorm Lens: Analyze BatchNorm” on a network file, or open a report.' : 'No report.');
  } else {
    const done = Math.max(0, ...r.variants.map((v) => v.steps[v.steps.length - 1]?.step ?? 0));
    parts.push(`${r.model.name || r.model.path} · ${r.dataset.name} · lr ${r.config.lr} · batch ${r.config.batch}`);
    if (o.live) {
      const p = o.progress;
      const pct = p && p.total ? ` (${Math.floor((100 * p.done) / p.total)}%)` : '';
      const eta = p?.etaMs != null ? ` · about ${formatDuration(p.etaMs)} left` : '';
      parts.push(`running: step ${done} of ${r.config.steps}${pct}${eta}`);
    } else if (r.complete) parts.push(`${r.config.steps} steps, complete`);
    else parts.push(r.stopReason ? `stopped at step ${done}: ${r.stopReason}` : `partial: ${done} of ${r.config.steps} steps`);
  }
  if (o.notice) parts.push(o.notice);
  return parts.join(' — ');
}

/** The summary table of a report, hidden variants greyed. */
export function summaryTable(report: Report, hidden: ReadonlySet<string>, theme: Theme): HTMLElement {
  const table = document.createElement('table');
  table.className = 'bn-summary';
  const head = table.createTHead().insertRow();
  for (const c of SUMMARY_COLUMNS) {
    const th = document.createElement('th');
    th.textContent = c.header;
    th.title = c.title;
    head.appendChild(th);
  }
  const body = table.createTBody();
  for (const row of summaryRows(report)) {
    const tr = body.insertRow();
    if (hidden.has(row.variant)) tr.classList.add('is-hidden');
    SUMMARY_COLUMNS.forEach((c, i) => {
      const td = tr.insertCell();
      td.textContent = c.cell(row);
      if (i === 0) {
        const sw = el('span', 'bn-swatch');
        sw.style.background = theme.variantColor(row.variant);
        td.prepend(sw);
      }
    });
  }
  const wrap = el('div', 'bn-table-wrap');
  wrap.appendChild(table);
  return wrap;
}
