// The page around the charts: one card per chart (a title that folds it, layer picker or step slider, an
// info toggle for the caption, export buttons) and the live summary table. The status line above them is
// viewHeader.ts.
import type { Report } from '../src/protocol';
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
  toggle: HTMLButtonElement;
  info: HTMLButtonElement;
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
  /** The title was clicked: fold or unfold the card. */
  toggleFold(): void;
  /** The info button was clicked: show or hide the caption. */
  toggleCaption(): void;
}

export function buildCard(def: ChartDef, on: CardActions): Card {
  const card = el('section', 'bn-card');
  card.dataset.chart = def.id;
  card.setAttribute('aria-label', def.mod.title);
  const head = el('div', 'bn-card-head');
  const name = el('h2', 'bn-card-title');
  // The title folds the card (a disclosure button inside the heading).
  const toggle = document.createElement('button');
  toggle.type = 'button';
  toggle.className = 'bn-card-toggle';
  toggle.setAttribute('aria-expanded', 'true');
  toggle.textContent = def.mod.title;
  toggle.addEventListener('click', () => on.toggleFold());
  name.appendChild(toggle);
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
  const info = document.createElement('button');
  info.type = 'button';
  info.className = 'bn-btn bn-info';
  info.textContent = 'i';
  info.title = 'What this chart shows';
  info.setAttribute('aria-label', `What ${def.mod.title} shows`);
  info.setAttribute('aria-expanded', 'false');
  info.addEventListener('click', () => on.toggleCaption());
  tools.appendChild(info);
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
  caption.id = `bn-caption-${def.id}`;
  info.setAttribute('aria-controls', caption.id);
  card.append(head, caption, host);
  return { element: card, host, caption, toggle, info, select, range, rangeOut };
}

/** Shows a card folded or not, and its caption open or not. */
export function syncCard(card: Card, folded: boolean, captionOpen: boolean): void {
  card.element.classList.toggle('is-collapsed', folded);
  card.toggle.setAttribute('aria-expanded', String(!folded));
  const open = captionOpen && !folded;
  card.caption.hidden = !open;
  card.info.setAttribute('aria-expanded', String(open));
  card.info.classList.toggle('is-on', open);
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
      td.dataset.label = c.header;
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
