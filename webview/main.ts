// Webview entry: the same bundle runs in the VS Code webview (side bar view and report panel) and in the
// self-contained HTML report written by `bnlens analyze --html`.
//  - VS Code (acquireVsCodeApi exists): posts 'ready', takes the report and live engine events from the
//    host, keeps UI state with setState/getState, sends exports to the host for a save dialog.
//  - Standalone: reads the report from <script type="application/json" id="bnlens-report">, exports through
//    a download link.
import './style.css';
import type { EngineToHost, HostToWebview, Progress, Report, WebviewToHost } from '../src/protocol';
import * as betaSmoothness from './charts/betaSmoothness';
import * as etaProfile from './charts/etaProfile';
import type { ChartRender, ChartSize, ChartState } from './charts/frame';
import * as gradPredictiveness from './charts/gradPredictiveness';
import * as layerActivations from './charts/layerActivations';
import * as layerHistogram from './charts/layerHistogram';
import * as layerIcs from './charts/layerIcs';
import * as lossLandscape from './charts/lossLandscape';
import * as training from './charts/training';
import { download, serializeSvg, svgToPng } from './export';
import { applyEvent, defaultLayer, probedSteps, profileStep, SUMMARY_COLUMNS, sourceLayers, summaryRows } from './model';
import { observeTheme, readTheme, type Theme } from './theme';

interface VsCodeApi {
  postMessage(msg: WebviewToHost): void;
  getState(): unknown;
  setState(state: unknown): void;
}
declare const acquireVsCodeApi: undefined | (() => VsCodeApi);

interface ChartModule {
  title: string;
  caption(report: Report | null): string;
  render: ChartRender;
}
interface ChartDef {
  id: string;
  mod: ChartModule;
  /** Panels stacked vertically: taller. */
  panels: number;
  layerPicker?: boolean;
  /** A slider over the probed steps (the η profile). */
  stepPicker?: boolean;
}

export const CHARTS: ChartDef[] = [
  { id: 'loss-landscape', mod: lossLandscape, panels: 1 },
  { id: 'grad-predictiveness', mod: gradPredictiveness, panels: 1 },
  { id: 'beta-smoothness', mod: betaSmoothness, panels: 1 },
  { id: 'training', mod: training, panels: 2 },
  { id: 'layer-ics', mod: layerIcs, panels: 2, layerPicker: true },
  { id: 'layer-activations', mod: layerActivations, panels: 1, layerPicker: true },
  { id: 'layer-histogram', mod: layerHistogram, panels: 2, layerPicker: true },
  { id: 'eta-profile', mod: etaProfile, panels: 2, stepPicker: true },
];

interface SavedState {
  v: 1;
  hidden: string[];
  layer: string | null;
  /** Step of the η profile (absent in states saved before it existed; null: the last probed step). */
  etaStep?: number | null;
  report: Report | null;
  live: boolean;
}

const COMPACT_WIDTH = 520;

class App {
  readonly vscode: VsCodeApi | null;
  report: Report | null = null;
  live = false;
  hidden = new Set<string>();
  layer: string | null = null;
  /** The η profile's step; null follows the last probed step (a live run keeps showing the newest). */
  etaStep: number | null = null;
  progress: Progress | null = null;
  notice: string | null = null;
  theme: Theme;
  private pending = 0;
  private waiting = 0;
  private lastDrawMs = 0;
  private lastDrawEnd = 0;
  private saveTimer = 0;
  private lastSave = 0;
  /** Milliseconds the last draw of each chart took (for devtools and the perf check). */
  readonly timings: Record<string, number> = {};
  private cards = new Map<
    string,
    { host: HTMLElement; caption: HTMLElement; select?: HTMLSelectElement; range?: HTMLInputElement; rangeOut?: HTMLOutputElement; width: number }
  >();
  private status: HTMLElement;
  private summary: HTMLElement;
  private grid: HTMLElement;

  constructor(readonly root: HTMLElement) {
    this.vscode = typeof acquireVsCodeApi === 'function' ? acquireVsCodeApi() : null;
    this.theme = readTheme();
    root.classList.add('bnlens-root');
    root.replaceChildren();
    this.status = el('div', 'bn-status');
    this.status.setAttribute('role', 'status');
    this.summary = el('div', 'bn-summary-live');
    this.grid = el('div', 'bn-grid');
    root.append(this.status, this.summary, this.grid);
    for (const def of CHARTS) this.grid.appendChild(this.card(def));
    this.applyThemeVars();
    observeTheme(() => {
      this.theme = readTheme();
      this.applyThemeVars();
      this.schedule();
    });
  }

  private card(def: ChartDef): HTMLElement {
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
      select = document.createElement('select');
      select.className = 'bn-select';
      select.dataset.role = 'layer';
      select.setAttribute('aria-label', 'Layer (as written in the network file)');
      select.addEventListener('change', () => {
        this.layer = select!.value || null;
        this.schedule();
      });
      label.appendChild(select);
      head.appendChild(label);
    }
    let range: HTMLInputElement | undefined;
    let rangeOut: HTMLOutputElement | undefined;
    if (def.stepPicker) {
      const label = el('label', 'bn-layer-picker bn-step-picker');
      label.textContent = 'step ';
      range = document.createElement('input');
      range.type = 'range';
      range.className = 'bn-range';
      range.dataset.role = 'eta-step';
      range.min = '0';
      range.step = '1';
      range.setAttribute('aria-label', 'Training step of the η profile (← → move one probed step)');
      rangeOut = document.createElement('output');
      rangeOut.className = 'bn-range-value';
      range.addEventListener('input', () => {
        const steps = this.report ? probedSteps(this.report) : [];
        const i = Number(range!.value);
        // the last step is 'follow the newest', so a live run keeps moving
        this.etaStep = i >= steps.length - 1 ? null : (steps[i] ?? null);
        this.schedule();
      });
      label.append(range, ' ', rangeOut);
      head.appendChild(label);
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
      b.addEventListener('click', () => {
        this.exportChart(def.id, format).catch((e) => this.flash(`Export failed: ${String(e)}`));
      });
      tools.appendChild(b);
    }
    head.appendChild(tools);
    const host = el('div', 'bn-chart-host');
    const caption = el('p', 'bn-caption');
    card.append(head, host, caption);
    const entry = { host, caption, select, range, rangeOut, width: -1 };
    this.cards.set(def.id, entry);
    new ResizeObserver(() => {
      if (host.clientWidth !== entry.width) this.schedule();
    }).observe(host);
    return card;
  }

  private applyThemeVars(): void {
    const t = this.theme;
    // On <body>: the standalone page's header and background use them too.
    const s = document.body.style;
    s.setProperty('--bn-fg', t.fg);
    s.setProperty('--bn-bg', t.bg);
    s.setProperty('--bn-muted', t.muted);
    s.setProperty('--bn-grid', t.grid);
    s.setProperty('--bn-focus', t.focus);
    s.setProperty('--bn-font', t.font);
    s.setProperty('--bn-font-size', `${t.fontSize}px`);
    document.body.classList.toggle('bn-kind-dark', t.kind === 'dark' || t.kind === 'high-contrast');
  }

  // ------------------------------------------------------------ data in

  setReport(report: Report | null, live: boolean): void {
    this.report = report;
    this.live = live;
    if (!live) this.progress = null;
    this.schedule();
  }

  handle(msg: HostToWebview): void {
    switch (msg.type) {
      case 'report':
        this.notice = null;
        this.setReport(msg.report, msg.live);
        break;
      case 'event':
        this.onEvent(msg.event);
        break;
      case 'exported':
        this.flash(`Saved ${msg.path}`);
        break;
    }
  }

  onEvent(ev: EngineToHost): void {
    if (ev.type === 'started') {
      this.live = true;
      this.notice = null;
    }
    if (ev.type === 'finished') this.live = false;
    if (ev.type === 'step') this.progress = ev.progress;
    if (ev.type === 'failed') {
      this.live = false;
      this.notice = `Run failed: ${ev.message}`;
    }
    const { report, changed } = applyEvent(this.report, ev);
    this.report = report;
    if (changed || ev.type === 'failed' || ev.type === 'finished') this.schedule(ev.type !== 'finished' && ev.type !== 'failed');
  }

  // ------------------------------------------------------------ drawing

  /**
   * Redraw at most once per animation frame, however many events arrive; for a big report whose draw is
   * slow, leave the page at least 3× the draw time between draws so a live run stays responsive.
   */
  schedule(throttle = false): void {
    if (this.pending) return;
    if (this.waiting && !throttle) {
      clearTimeout(this.waiting);
      this.waiting = 0;
    }
    if (this.waiting) return;
    const gap = throttle ? Math.min(3 * this.lastDrawMs, 1000) - (performance.now() - this.lastDrawEnd) : 0;
    const frame = () => {
      this.pending = requestAnimationFrame(() => {
        this.pending = 0;
        const t0 = performance.now();
        this.draw();
        this.lastDrawEnd = performance.now();
        this.lastDrawMs = this.lastDrawEnd - t0;
        this.save();
      });
    };
    if (gap > 16) {
      this.waiting = window.setTimeout(() => {
        this.waiting = 0;
        frame();
      }, gap);
    } else frame();
  }

  draw(): void {
    const report = this.report;
    this.root.classList.toggle('bn-empty-report', !report);
    const layers = report ? sourceLayers(report) : [];
    if (report && (!this.layer || !layers.includes(this.layer))) this.layer = defaultLayer(report);
    const state: ChartState = {
      hidden: this.hidden,
      layer: this.layer,
      etaStep: this.etaStep,
      toggleVariant: (name) => {
        if (this.hidden.has(name)) this.hidden.delete(name);
        else this.hidden.add(name);
        this.draw();
        this.save();
      },
    };
    const compact = this.root.clientWidth < COMPACT_WIDTH;
    this.root.classList.toggle('bn-compact', compact);
    this.drawStatus();
    this.drawSummary();
    for (const def of CHARTS) {
      const card = this.cards.get(def.id)!;
      if (card.select) syncOptions(card.select, layers, this.layer);
      if (card.range && card.rangeOut) syncRange(card.range, card.rangeOut, report, this.etaStep);
      const width = Math.max(card.host.clientWidth, 200);
      card.width = card.host.clientWidth;
      const base = compact ? 230 : 290;
      const size: ChartSize = { width, height: base + (def.panels - 1) * (compact ? 90 : 120), compact };
      const t0 = performance.now();
      try {
        def.mod.render(card.host, report, size, this.theme, state);
        this.timings[def.id] = performance.now() - t0;
      } catch (e) {
        card.host.textContent = `Could not draw this chart: ${String(e)}`;
        console.error(e);
      }
      card.caption.textContent = def.mod.caption(report);
    }
  }

  private drawStatus(): void {
    const r = this.report;
    const parts: string[] = [];
    if (!r) {
      parts.push(this.vscode ? 'No report yet. Run “BatchNorm Lens: Analyze BatchNorm” on a network file, or open a report.' : 'No report.');
    } else {
      const done = Math.max(0, ...r.variants.map((v) => v.steps[v.steps.length - 1]?.step ?? 0));
      parts.push(`${r.model.name || r.model.path} · ${r.dataset.name} · lr ${r.config.lr} · batch ${r.config.batch}`);
      if (this.live) {
        const p = this.progress;
        const pct = p && p.total ? ` (${Math.floor((100 * p.done) / p.total)}%)` : '';
        const eta = p?.etaMs != null ? ` · about ${formatDuration(p.etaMs)} left` : '';
        parts.push(`running: step ${done} of ${r.config.steps}${pct}${eta}`);
      } else if (r.complete) parts.push(`${r.config.steps} steps, complete`);
      else parts.push(r.stopReason ? `stopped at step ${done}: ${r.stopReason}` : `partial: ${done} of ${r.config.steps} steps`);
    }
    if (this.notice) parts.push(this.notice);
    this.status.replaceChildren();
    this.status.textContent = parts.join(' — ');
    if (!r && this.vscode) {
      const b = document.createElement('button');
      b.type = 'button';
      b.className = 'bn-btn';
      b.textContent = 'Open report…';
      b.addEventListener('click', () => this.vscode!.postMessage({ type: 'openReport' }));
      this.status.append(' ', b);
    }
  }

  private drawSummary(): void {
    // The standalone report has a static summary table (src/report/html.ts); the webview draws its own.
    if (!this.report || document.getElementById('bnlens-summary')) {
      this.summary.replaceChildren();
      return;
    }
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
    for (const row of summaryRows(this.report)) {
      const tr = body.insertRow();
      if (this.hidden.has(row.variant)) tr.classList.add('is-hidden');
      SUMMARY_COLUMNS.forEach((c, i) => {
        const td = tr.insertCell();
        td.textContent = c.cell(row);
        if (i === 0) {
          const sw = el('span', 'bn-swatch');
          sw.style.background = this.theme.variantColor(row.variant);
          td.prepend(sw);
        }
      });
    }
    const wrap = el('div', 'bn-table-wrap');
    wrap.appendChild(table);
    this.summary.replaceChildren(wrap);
  }

  private flash(text: string): void {
    this.notice = text;
    this.drawStatus();
  }

  // ------------------------------------------------------------ export

  async exportChart(id: string, format: 'svg' | 'png'): Promise<string> {
    const card = this.cards.get(id);
    const svg = card?.host.querySelector('svg');
    if (!svg) throw new Error(`no chart '${id}'`);
    const text = serializeSvg(svg, this.theme.bg);
    const data = format === 'svg' ? text : await svgToPng(text, svg.width.baseVal.value, svg.height.baseVal.value);
    if (this.vscode) this.vscode.postMessage({ type: 'export', chart: id, format, data });
    else download(`bnlens-${id}.${format}`, data, format === 'svg' ? 'image/svg+xml' : 'image/png');
    return data;
  }

  // ------------------------------------------------------------ state

  /** Keeps the UI state (and the report) across hide/show and reload; at most once a second while live. */
  save(): void {
    if (!this.vscode) return;
    if (this.saveTimer && !this.live) clearTimeout(this.saveTimer), (this.saveTimer = 0);
    if (this.saveTimer) return;
    const write = () => {
      this.saveTimer = 0;
      this.lastSave = performance.now();
      const s: SavedState = { v: 1, hidden: [...this.hidden], layer: this.layer, etaStep: this.etaStep, report: this.report, live: this.live };
      this.vscode!.setState(s);
    };
    const wait = this.live ? 1000 - (performance.now() - this.lastSave) : 0;
    if (wait > 0) this.saveTimer = window.setTimeout(write, wait);
    else write();
  }

  restore(): boolean {
    const s = this.vscode?.getState() as SavedState | undefined;
    if (!s || s.v !== 1) return false;
    this.hidden = new Set(s.hidden);
    this.layer = s.layer;
    this.etaStep = typeof s.etaStep === 'number' ? s.etaStep : null;
    this.report = s.report;
    this.live = s.live;
    return true;
  }
}

function el<K extends keyof HTMLElementTagNameMap>(tag: K, cls: string): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  e.className = cls;
  return e;
}

function syncOptions(select: HTMLSelectElement, layers: string[], chosen: string | null): void {
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

function syncRange(range: HTMLInputElement, out: HTMLOutputElement, report: Report | null, chosen: number | null): void {
  const steps = report ? probedSteps(report) : [];
  const step = report ? profileStep(report, chosen) : null;
  range.max = String(Math.max(0, steps.length - 1));
  range.disabled = steps.length < 2;
  const i = step === null ? 0 : steps.indexOf(step);
  if (range.value !== String(i)) range.value = String(i);
  out.textContent = step === null ? '—' : String(step);
  range.setAttribute('aria-valuetext', step === null ? 'no probed step' : `step ${step}`);
}

function formatDuration(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  return m < 60 ? `${m}m ${s % 60}s` : `${Math.floor(m / 60)}h ${m % 60}m`;
}

function readEmbeddedReport(): Report | null {
  const node = document.getElementById('bnlens-report');
  if (!node?.textContent) return null;
  try {
    return JSON.parse(node.textContent) as Report;
  } catch (e) {
    console.error('bnlens: the embedded report is not valid JSON', e);
    return null;
  }
}

function start(): void {
  let root = document.getElementById('bnlens-root');
  if (!root) {
    root = document.createElement('div');
    root.id = 'bnlens-root';
    document.body.appendChild(root);
  }
  const app = new App(root);
  if (app.vscode) {
    app.restore();
    window.addEventListener('message', (ev: MessageEvent) => {
      const msg = ev.data as HostToWebview | undefined;
      if (msg && typeof msg === 'object' && typeof msg.type === 'string') app.handle(msg);
    });
    app.schedule();
    app.vscode.postMessage({ type: 'ready' });
  } else {
    document.body.classList.add('bn-standalone');
    app.setReport(readEmbeddedReport(), false);
  }
  // A small handle for tests and for people poking at a report in devtools.
  (window as unknown as { bnlens: unknown }).bnlens = {
    app,
    exportChart: (id: string, format: 'svg' | 'png') => app.exportChart(id, format),
    handle: (msg: HostToWebview) => app.handle(msg),
    redrawNow: () => app.draw(),
  };
}

if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
else start();
