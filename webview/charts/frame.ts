// The scaffolding every chart shares, put together: title, legend (legend.ts), stacked panels with axes built
// fresh from the data (panels.ts), a step cursor with a tooltip (cursor.ts). A chart module only says what to
// draw (chartTypes.ts: ChartSpec), with the helpers in draw.ts.
import * as d3 from 'd3';
import type { Report } from '../../src/protocol';
import type { Theme } from '../theme';
import type { ChartSize, ChartSpec, ChartState, XScale } from './chartTypes';
import { attachCursor } from './cursor';
import { drawLegend } from './legend';
import { fitText } from './axisText';
import { layPanels, leftMargin } from './panels';
import { chartSvg, fontSize } from './plain';
import { fitSteps } from './scales';

export function renderChart(container: HTMLElement, report: Report | null, size: ChartSize, theme: Theme, state: ChartState, spec: ChartSpec): void {
  const active = document.activeElement;
  const focusKey = active instanceof Element && container.contains(active) ? active.getAttribute('data-key') : null;
  const { width, height, compact } = size;
  const fs = fontSize(size, theme);
  const svg = chartSvg(container, spec.key, width, height, theme, fs, spec.title);

  const m = { left: compact ? 48 : 62, right: compact ? 10 : 16 };
  const pad = 4;
  // The card's header shows the title on screen; an exported image gets it back (webview/export.ts).
  svg
    .append('text')
    .attr('class', 'bn-title')
    .attr('display', 'none')
    .attr('x', pad)
    .attr('y', fs + 4)
    .attr('font-weight', 600)
    .attr('font-size', fs + 1)
    .text(spec.title);

  const variants = report?.variants ?? [];
  const legendBottom = drawLegend(svg, variants, state, theme, {
    left: pad,
    maxX: width - m.right,
    wrapAfter: pad,
    top: fs + 4,
    fontSize: fs,
  });

  const xLabelH = compact ? 36 : 40;
  const top = legendBottom + 8;
  const gap = compact ? 14 : 18;
  const totalH = Math.max(height - top - xLabelH - gap * (spec.panels.length - 1), 40);
  m.left = leftMargin(svg, spec, { totalH, gap, compact, fontSize: fs, min: m.left });
  const plotW = Math.max(width - m.left - m.right, 20);

  const divergences = spec.x ? [] : variants.filter((v) => v.diverged && !state.hidden.has(v.name)).map((v) => ({ name: v.name, step: v.diverged!.step }));
  const xSteps = spec.steps.concat(divergences.map((d) => d.step));
  // Nothing yet: the axis spans the planned run, so live steps fill it from the left.
  const x: XScale = spec.x
    ? (spec.x.log ? d3.scaleLog() : d3.scaleLinear()).domain(spec.x.domain).range([0, plotW])
    : d3
        .scaleLinear()
        .domain(xSteps.length ? fitSteps(xSteps) : [0, Math.max(1, report?.config?.steps ?? 1)])
        .range([0, plotW]);

  const laid = layPanels(svg, spec, x, divergences, theme, { left: m.left, top, plotW, totalH, gap, compact, fontSize: fs });

  svg
    .append('text')
    .attr('class', 'bn-axis-label')
    .attr('x', m.left + plotW / 2)
    .attr('y', height - 4)
    .attr('text-anchor', 'middle')
    .attr('fill', theme.muted)
    .text(spec.xLabel);

  if (spec.steps.length === 0 || laid.every((l) => !l.hasData)) {
    svg
      .append('text')
      .attr('class', 'bn-empty')
      .attr('x', m.left + plotW / 2)
      .attr('y', laid.length ? laid[0].top + laid[0].h / 2 : top + totalH / 2)
      .attr('text-anchor', 'middle')
      .attr('fill', theme.muted)
      .text(spec.emptyText)
      .call((t) => fitText(t.node() as SVGTextElement, width - 8));
  }

  const restoreCursor = attachCursor(container, svg, spec, x, laid, theme, { left: m.left, top, totalH, plotW, width, height });

  // restore focus and cursor across redraws (live data, theme change, legend toggled by keyboard)
  if (focusKey) {
    const el = container.querySelector<SVGElement>(`[data-key="${CSS.escape(focusKey)}"]`);
    el?.focus();
  }
  restoreCursor(focusKey);
}
