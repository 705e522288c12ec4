// Webview entry: the same bundle runs in the VS Code webview (side bar view and report panel) and in the
// self-contained HTML report written by `bnlens analyze --html`.
//  - VS Code (acquireVsCodeApi exists): posts 'ready', takes the report and live engine events from the
//    host, keeps UI state with setState/getState (savedState.ts), sends exports to the host for a save dialog.
//  - Standalone: reads the report from <script type="application/json" id="bnlens-report">, exports through
//    a download link.
// The page is built in dom.ts, the charts listed in chartList.ts, redraws scheduled by redraw.ts.
import './style.css';
import type { EngineToHost, HostToWebview, Progress, Report } from '../src/protocol';
import { CHARTS } from './chartList';
import type { ChartSize, ChartState } from './charts/chartTypes';
import { buildCard, type Card, el, summaryTable, syncCard, syncOptions, syncRange } from './dom';
import { exportChart } from './export';
import { applyEvent, defaultLayer, probedSteps, sourceLayers } from './model';
import { phaseText } from '../src/report/progress';
import { RedrawScheduler } from './redraw';
import { readSavedState, type SavedState, StateSaver, type VsCodeApi, vscodeApi } from './savedState';
import { observeTheme, readTheme, type Theme } from './theme';
import { ViewHeader } from './viewHeader';

const COMPACT_WIDTH = 520;
/** In a narrow side bar the per-layer cards start folded, so the view opens on the landscape charts. */
const FOLDED_WHEN_NARROW = ['layer-ics', 'layer-activations', 'layer-histogram', 'eta-profile'];

class App {
  readonly vscode: VsCodeApi | null;
  report: Report | null = null;
  live = false;
  hidden = new Set<string>();
  /** Folded cards (null until the first draw picks the default for the width) and cards whose caption is open. */
  collapsed: Set<string> | null = null;
  captions = new Set<string>();
  /** The summary fold, once the user has opened or closed it. */
  summaryOpen: boolean | null = null;
  layer: string | null = null;
  /** The η profile's step; null follows the last probed step (a live run keeps showing the newest). */
  etaStep: number | null = null;
  progress: Progress | null = null;
  working: { variant: string; text: string } | null = null;
  notice: string | null = null;
  theme: Theme;
  /** Milliseconds the last draw of each chart took (for devtools and the perf check). */
  readonly timings: Record<string, number> = {};
  private readonly redraw = new RedrawScheduler(
    () => this.draw(),
    () => this.save(),
  );
  private readonly saver: StateSaver | null;
  private cards = new Map<string, Card & { width: number }>();
  private header: ViewHeader;
  private summary: HTMLElement;
  private grid: HTMLElement;

  constructor(readonly root: HTMLElement) {
    this.vscode = vscodeApi();
    this.saver = this.vscode ? new StateSaver(this.vscode, () => this.savedState()) : null;
    this.theme = readTheme();
    root.classList.add('bnlens-root');
    root.replaceChildren();
    this.header = new ViewHeader(this.vscode ? (m) => this.vscode!.postMessage(m) : null);
    this.summary = el('div', 'bn-summary-live');
    this.grid = el('div', 'bn-grid');
    root.append(this.header.el, this.summary, this.grid);
    for (const def of CHARTS) {
      const card = buildCard(def, {
        pickLayer: (layer) => {
          this.layer = layer;
          this.schedule();
        },
        pickStepIndex: (i) => {
          const steps = this.report ? probedSteps(this.report) : [];
          // the last step is 'follow the newest', so a live run keeps moving
          this.etaStep = i >= steps.length - 1 ? null : (steps[i] ?? null);
          this.schedule();
        },
        exportChart: (format) => {
          this.exportChart(def.id, format).catch((e) => this.flash(`Export failed: ${String(e)}`));
        },
        toggleFold: () => {
          const c = (this.collapsed ??= new Set());
          if (c.has(def.id)) c.delete(def.id);
          else c.add(def.id);
          this.schedule();
        },
        toggleCaption: () => {
          if (this.captions.has(def.id)) this.captions.delete(def.id);
          else this.captions.add(def.id);
          this.syncCard(def.id);
          this.save();
        },
      });
      const entry = { ...card, width: -1 };
      this.cards.set(def.id, entry);
      new ResizeObserver(() => {
        if (entry.host.clientWidth !== entry.width) this.schedule();
      }).observe(entry.host);
      this.grid.appendChild(card.element);
    }
    this.applyThemeVars();
    observeTheme(() => {
      this.theme = readTheme();
      this.applyThemeVars();
      this.schedule();
    });
  }

  /** Folds the card and opens its caption as the App's sets say; true when it is folded. */
  private syncCard(id: string): boolean {
    const folded = this.collapsed?.has(id) ?? false;
    syncCard(this.cards.get(id)!, folded, this.captions.has(id));
    return folded;
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
      case 'context':
        this.header.ctx = msg.context;
        this.drawStatus();
        break;
    }
  }

  onEvent(ev: EngineToHost): void {
    if (ev.type === 'started') {
      this.live = true;
      this.notice = null;
    }
    if (ev.type === 'finished') this.live = false;
    if (ev.type === 'step') {
      this.progress = ev.progress;
      if (this.working?.variant === ev.variant) this.working = null;
    }
    if (ev.type === 'finished' || ev.type === 'failed' || ev.type === 'started') this.working = null;
    if (ev.type === 'phase') {
      // Only the status line changes: no chart redraw for it.
      this.working = { variant: ev.variant, text: phaseText(ev) };
      this.drawStatus();
    }
    if (ev.type === 'failed') {
      this.live = false;
      this.notice = `Run failed: ${ev.message}`;
    }
    const { report, changed } = applyEvent(this.report, ev);
    this.report = report;
    if (changed || ev.type === 'failed' || ev.type === 'finished') this.schedule(ev.type !== 'finished' && ev.type !== 'failed');
  }

  // ------------------------------------------------------------ drawing

  schedule(throttle = false): void {
    this.redraw.schedule(throttle);
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
    // The standalone report is a document: every card open, every explanation shown.
    if (!this.vscode && this.collapsed === null) for (const def of CHARTS) this.captions.add(def.id);
    this.collapsed ??= new Set(this.vscode && compact ? FOLDED_WHEN_NARROW : []);
    this.drawStatus();
    this.drawSummary();
    for (const def of CHARTS) {
      const card = this.cards.get(def.id)!;
      // A slice-only page (`bnlens slice --html`) has no training run: only the charts that apply are shown.
      const shown = def.applies ? def.applies(report) : !(report && report.variants.length === 0);
      card.element.hidden = !shown;
      if (!shown) continue;
      card.caption.textContent = def.mod.caption(report);
      if (this.syncCard(def.id)) continue; // folded: not drawn
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
    }
  }

  private drawStatus(): void {
    this.root.classList.toggle('bn-empty-report', !this.report);
    this.header.render({ report: this.report, live: this.live, progress: this.progress, notice: this.notice, working: this.working?.text ?? null });
  }

  private drawSummary(): void {
    // The standalone report has a static summary table (src/report/html.ts); the webview draws its own.
    if (!this.report || document.getElementById('bnlens-summary')) {
      this.summary.replaceChildren();
      return;
    }
    // A fold of its own: open in a wide panel, folded in a narrow side bar (where it would push the charts
    // a screen down); the user's choice is kept.
    // The box being replaced knows best: a click opens it at once, but its 'toggle' event (which records
    // the choice) comes a task later, after a redraw that would otherwise fold it again.
    const shown = this.summary.querySelector<HTMLDetailsElement>('details.bn-summary-box');
    if (shown) this.summaryOpen = shown.open;
    const box = el('details', 'bn-summary-box');
    box.open = this.summaryOpen ?? this.root.clientWidth >= COMPACT_WIDTH;
    const head = el('summary', 'bn-summary-head');
    head.textContent = 'Summary: final and held-out loss and accuracy, mean band, β per variant';
    box.addEventListener('toggle', () => {
      if (this.summaryOpen === box.open) return;
      this.summaryOpen = box.open;
      this.save();
    });
    box.append(head, summaryTable(this.report, this.hidden, this.theme));
    this.summary.replaceChildren(box);
  }

  private flash(text: string): void {
    this.notice = text;
    this.drawStatus();
  }

  exportChart(id: string, format: 'svg' | 'png'): Promise<string> {
    return exportChart(this.cards.get(id)?.host, id, format, this.theme.bg, this.vscode);
  }

  // ------------------------------------------------------------ state

  private savedState(): SavedState {
    return {
      v: 1,
      hidden: [...this.hidden],
      collapsed: this.collapsed ? [...this.collapsed] : undefined,
      captions: [...this.captions],
      summaryOpen: this.summaryOpen,
      layer: this.layer,
      etaStep: this.etaStep,
      report: this.report,
      live: this.live,
    };
  }

  /** Keeps the UI state (and the report) across hide/show and reload; at most once a second while live. */
  save(): void {
    this.saver?.save(this.live);
  }

  restore(): boolean {
    const s = readSavedState(this.vscode);
    if (!s) return false;
    this.hidden = new Set(s.hidden);
    if (Array.isArray(s.collapsed)) this.collapsed = new Set(s.collapsed);
    if (Array.isArray(s.captions)) this.captions = new Set(s.captions);
    if (typeof s.summaryOpen === 'boolean') this.summaryOpen = s.summaryOpen;
    this.layer = s.layer;
    this.etaStep = typeof s.etaStep === 'number' ? s.etaStep : null;
    this.report = s.report;
    this.live = s.live;
    return true;
  }
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
