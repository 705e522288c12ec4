// The contract between the frame (frame.ts) and a chart module: what a chart says it wants drawn (ChartSpec,
// Panel) and what the frame hands back to its drawing code (PanelContext).
import type * as d3 from 'd3';
import type { Report } from '../../src/protocol';
import type { Theme } from '../theme';

export interface ChartSize {
  width: number;
  height: number;
  /** Narrow side bar: fewer ticks, smaller margins. */
  compact: boolean;
}

export interface ChartState {
  /** Variant names switched off in the legend. */
  hidden: ReadonlySet<string>;
  /** Source layer chosen in the layer picker (per-layer charts). */
  layer: string | null;
  /** Step picked in the η-profile's step slider (null: the last probed step). */
  etaStep: number | null;
  toggleVariant(name: string): void;
}

/** Every chart module exports one of these. */
export type ChartRender = (container: HTMLElement, report: Report | null, size: ChartSize, theme: Theme, state: ChartState) => void;

export type YScale = d3.ScaleContinuousNumeric<number, number>;
export type XScale = d3.ScaleContinuousNumeric<number, number>;
export type G = d3.Selection<SVGGElement, unknown, null, undefined>;

export interface PanelContext {
  x: XScale;
  y: YScale;
  /** The y scale is logarithmic: values ≤ 0 cannot be drawn on it. */
  yLog: boolean;
  width: number;
  height: number;
  theme: Theme;
}

export interface Panel {
  /** Y axis label, with units. */
  label: string;
  scale: 'log' | 'linear' | 'auto';
  /** Every value drawn in the panel (visible variants only); the y domain is fitted to them. */
  values: number[];
  /** A fixed domain (accuracy: [0, 1]); otherwise fitted. */
  fixed?: [number, number];
  tickFormat?: (v: number) => string;
  /** Relative height among the chart's panels. */
  weight?: number;
  draw(g: G, ctx: PanelContext): void;
  /** Fixed y tick values (e.g. one per ridge of a ridgeline); otherwise d3's. */
  ticks?: number[];
  /** Points highlighted by the cursor at a step (at an x value, and in a lane when the chart has lanes). */
  points?(step: number, lane: number): { variant: string; value: number }[];
}

export interface TooltipRow {
  variant: string;
  text: string;
}

export interface ChartSpec {
  key: string;
  title: string;
  xLabel: string;
  panels: Panel[];
  /** The steps the cursor can visit, ascending (the x values, when `x` is given). */
  steps: number[];
  describe(step: number, lane: number): TooltipRow[];
  /**
   * An x axis that is not the training step (η, an activation value): its domain, log or linear, the
   * tooltip heading. No divergence markers are drawn on it (the legend still says ✕step).
   */
  x?: { domain: [number, number]; log?: boolean; cursorLabel(v: number, lane: number): string; what: string };
  /**
   * Horizontal lanes in the first panel (a ridgeline's rows): ↑/↓ or the pointer's height pick one, and
   * `describe` / `points` get its index. `at` maps a y value of the first panel to a lane.
   */
  lanes?: { count: number; at(yValue: number): number; initial?: number };
  /** Shown over the plot when there is nothing to draw yet. */
  emptyText: string;
}
