// Loss surface slices (Li et al. 2018): the newest slice of the report. 2-D: one contour plot per variant,
// side by side on one colour scale, labelled levels (log-spaced when the losses span more than ×20), the
// weights themselves marked at (0, 0). 1-D: the loss against α, one curve per variant.
import * as d3 from 'd3';
import type { Report, SliceResult } from '../../src/protocol';
import type { ChartRender } from './chartTypes';
import { axes, emptyNote, fontSize, freshSvg, short, type Sel } from './plain';

export const title = 'Loss surface slice';

export function applies(report: Report | null): boolean {
  return (report?.slices?.length ?? 0) > 0;
}

/** " — evaluating, 120 points to go" on a slice that is still being evaluated. */
function live(s: SliceResult): string {
  return s.pending !== undefined ? ` — evaluating, ${s.pending} points to go` : '';
}

function newest(report: Report | null): SliceResult | undefined {
  const s = report?.slices;
  return s && s.length ? s[s.length - 1] : undefined;
}

export function caption(report: Report | null): string {
  const s = newest(report);
  if (!s) return 'No slice yet: run “BatchNorm Lens: Loss Surface at Step…” or `bnlens slice`.';
  const at = s.step === null ? 'the weights in the file' : `the weights after step ${s.step}`;
  const dirs =
    s.directions === 'gradient-random'
      ? 'α along −g (the gradient, scaled to the weights’ norm: α·etaPerAlpha is the paper’s η), β along a random direction orthogonal to it'
      : 'α and β along two random Gaussian directions (the second orthogonalized to the first)';
  const norm = s.norm === 'filter' ? 'each filter rescaled to the norm of the same filter of the weights (Li et al.)' : s.norm === 'layer' ? 'each layer rescaled to the layer’s norm' : 'not normalized';
  return (
    `L(w + α·d₁ + β·d₂) at ${at}, on a fixed batch of ${s.batch} examples: ${dirs}; directions ${norm}` +
    `${s.ignore === 'biasbn' ? ', biases and BatchNorm γ/β fixed' : ''}. BatchNorm in ${s.bn === 'train' ? 'training mode (batch statistics; the anchors use evaluation mode, `--bn eval`)' : 'evaluation mode (moving statistics)'}. ` +
    (s.dims === 2 ? 'Wider, evenly spaced rings around the dot mean a flatter neighbourhood. One colour scale for all panels.' : 'A flatter curve around α = 0 means a flatter neighbourhood.')
  );
}

const finite = (xs: (number | null)[]) => xs.filter((x): x is number => typeof x === 'number' && Number.isFinite(x));

/** Contour levels over [lo, hi]: geometric when the range spans more than ×20 (and is positive), else even. */
export function contourLevels(lo: number, hi: number, n = 12): { levels: number[]; log: boolean } {
  if (!(hi > lo)) return { levels: [lo], log: false };
  const log = lo > 0 && hi / lo > 20;
  const levels = Array.from({ length: n }, (_, k) => (log ? lo * Math.pow(hi / lo, (k + 0.5) / n) : lo + ((hi - lo) * (k + 0.5)) / n));
  return { levels, log };
}

export const render: ChartRender = (container, report, size, theme, state) => {
  const s = newest(report);
  const fs = fontSize(size, theme);
  const variants = (s?.variants ?? []).filter((v) => !state.hidden.has(v.variant));
  if (!s || variants.length === 0) {
    const svg = freshSvg(container, 'slice-surface', size.width, size.height, theme, fs, title);
    emptyNote(svg, size.width, size.height, theme, s ? 'Every variant is hidden' : 'No slice yet');
    return;
  }
  if (s.dims === 1) return render1d(container, s, variants, size, theme, fs);
  return render2d(container, s, variants, size, theme, fs);
};

function render1d(container: HTMLElement, s: SliceResult, variants: SliceResult['variants'], size: { width: number; height: number; compact: boolean }, theme: import('../theme').Theme, fs: number): void {
  const { width, height } = size;
  const svg = freshSvg(container, 'slice-surface', width, height, theme, fs, `${title} (1-D)${s.step !== null ? ` — step ${s.step}` : ''}${live(s)}`);
  const m = { l: fs * 4.2, r: 12, t: fs * 3.6, b: fs * 3.4 };
  const w = width - m.l - m.r;
  const h = height - m.t - m.b;
  const all = variants.flatMap((v) => finite(v.loss as (number | null)[]));
  const lo = Math.min(...all);
  const hi = Math.max(...all);
  const log = lo > 0 && hi / lo > 20;
  const x = d3
    .scaleLinear()
    .domain(d3.extent(s.alphas) as [number, number])
    .range([0, w]);
  const y = (log ? d3.scaleLog() : d3.scaleLinear()).domain([lo, hi]).nice().range([h, 0]);
  const g = svg.append('g').attr('transform', `translate(${m.l},${m.t})`) as Sel;
  axes(g, x, y, w, h, theme, { xLabel: 'α (filter-normalized units)', yLabel: `loss${log ? ' (log scale)' : ''}`, fs, yFormat: short });
  variants.forEach((v, k) => {
    const color = theme.variantColor(v.variant);
    const pts = s.alphas.map((a, i) => [a, (v.loss as (number | null)[])[i]] as [number, number | null]).filter((p): p is [number, number] => p[1] !== null && (!log || p[1] > 0));
    g.append('path')
      .attr('class', 'bn-line')
      .attr('data-variant', v.variant)
      .attr('fill', 'none')
      .attr('stroke', color)
      .attr('stroke-width', 1.8)
      .attr(
        'd',
        d3
          .line<[number, number]>()
          .x((p) => x(p[0]))
          .y((p) => y(p[1]))(pts),
      );
    const dots = g.append('g').attr('data-variant', v.variant);
    for (const [a, l] of pts)
      dots
        .append('circle')
        .attr('cx', x(a))
        .attr('cy', y(l))
        .attr('r', 2.2)
        .attr('fill', color)
        .append('title')
        .text(`${v.variant}: α ${short(a)}, loss ${l}`);
    g.append('circle').attr('class', 'bn-center').attr('cx', x(0)).attr('cy', y(v.centerLoss)).attr('r', 4).attr('fill', 'none').attr('stroke', color).attr('stroke-width', 2);
    const lx = 8 + k * Math.min(180, (width - 16) / variants.length);
    svg
      .append('rect')
      .attr('x', lx)
      .attr('y', fs * 1.7)
      .attr('width', 10)
      .attr('height', 10)
      .attr('fill', color);
    svg
      .append('text')
      .attr('x', lx + 14)
      .attr('y', fs * 1.7 + 9)
      .attr('font-size', fs - 1)
      .text(`${v.variant}${v.step !== null ? ` @${v.step}` : ''}: L(w) ${short(v.centerLoss)}`);
  });
}

function render2d(container: HTMLElement, s: SliceResult, variants: SliceResult['variants'], size: { width: number; height: number; compact: boolean }, theme: import('../theme').Theme, fs: number): void {
  const betas = s.betas ?? [];
  const nA = s.alphas.length;
  const nB = betas.length;
  const grids = variants.map((v) => (v.loss as (number | null)[][]).flat());
  const all = grids.flatMap((gr) => finite(gr));
  const lo = Math.min(...all);
  const hi = Math.max(...all);
  const { levels, log } = contourLevels(lo, hi);
  const color = (log ? d3.scaleSequentialLog(d3.interpolateViridis) : d3.scaleSequential(d3.interpolateViridis)).domain([lo, hi]);
  const perRow = size.width >= 2 * 230 ? variants.length : 1;
  const rows = Math.ceil(variants.length / perRow);
  const m = { l: fs * 3.6, r: 10, t: fs * 3.2, b: fs * 2.8 };
  const cellW = (size.width - 8) / perRow;
  const plot = Math.max(120, Math.min(cellW - m.l - m.r, size.compact ? 240 : 320));
  const legendH = fs * 3.6;
  const width = size.width;
  const height = fs * 2 + rows * (plot + m.t + m.b) + legendH;
  const svg = freshSvg(container, 'slice-surface', width, height, theme, fs, `${title} (2-D)${s.step !== null ? ` — step ${s.step}` : ''}${live(s)}`);
  // In contour coordinates the sample alphas[i] sits at i + 0.5; the plot shows the sampled range only
  // (from the first sample to the last), so nothing is drawn from outside the grid.
  const xs = d3
    .scaleLinear()
    .domain([0.5, nA - 0.5])
    .range([0, plot]);
  const ys = d3
    .scaleLinear()
    .domain([0.5, nB - 0.5])
    .range([plot, 0]);
  const ax = d3
    .scaleLinear()
    .domain([s.alphas[0], s.alphas[nA - 1]])
    .range([0, plot]);
  const by = d3
    .scaleLinear()
    .domain([betas[0], betas[nB - 1]])
    .range([plot, 0]);
  const clipId = `bn-slice-clip-${Math.random().toString(36).slice(2)}`;
  svg.append('defs').append('clipPath').attr('id', clipId).append('rect').attr('width', plot).attr('height', plot);
  const path = d3.geoPath(
    d3.geoTransform({
      point(px: number, py: number) {
        this.stream.point(xs(px), ys(py));
      },
    }),
  );
  variants.forEach((v, k) => {
    const col = k % perRow;
    const row = Math.floor(k / perRow);
    const g = svg
      .append('g')
      .attr('class', 'bn-slice-panel')
      .attr('data-variant', v.variant)
      .attr('transform', `translate(${4 + col * cellW + m.l},${fs * 2 + row * (plot + m.t + m.b) + m.t})`) as Sel;
    g.append('text')
      .attr('x', 0)
      .attr('y', -fs * 0.8)
      .attr('font-weight', 600)
      .attr('fill', theme.variantColor(v.variant))
      .text(`${v.variant}${v.step !== null ? ` · step ${v.step}` : ''} · L(w) ${short(v.centerLoss)}`);
    // The grid cell of point (i, j): the live cells and the hover cells cover the same squares.
    const cell = (parent: d3.Selection<SVGGElement, unknown, null, undefined>, i: number, j: number) =>
      parent
        .append('rect')
        .attr('x', Math.max(0, xs(i)))
        .attr('y', Math.max(0, ys(j + 1)))
        .attr('width', xs(1) - xs(0))
        .attr('height', ys(0) - ys(1));
    let bands: d3.ContourMultiPolygon[] = [];
    if (s.pending !== undefined) {
      // Still being evaluated: the points so far as coloured cells (contours need the whole grid).
      g.append('rect').attr('width', plot).attr('height', plot).attr('fill', theme.bg).attr('stroke', theme.grid);
      const done = g.append('g').attr('class', 'bn-slice-live');
      for (let j = 0; j < nB; j++)
        for (let i = 0; i < nA; i++) {
          const val = grids[k][j * nA + i];
          if (val !== null) cell(done, i, j).attr('fill', color(val));
        }
    } else {
      // Non-finite points count as above every level, so they read as the highest band.
      const values = grids[k].map((x) => (x === null ? hi * 10 : x));
      bands = d3.contours().size([nA, nB]).thresholds(levels)(values);
      g.append('rect').attr('width', plot).attr('height', plot).attr('fill', color(lo));
      g.append('g')
        .attr('clip-path', `url(#${clipId})`)
        .selectAll('path')
        .data(bands)
        .join('path')
        .attr('d', path)
        .attr('fill', (d) => color(d.value))
        .attr('stroke', theme.bg)
        .attr('stroke-width', 0.5)
        .attr('stroke-opacity', 0.6)
        .append('title')
        .text((d) => `${v.variant}: loss ≥ ${short(d.value)}`);
    }
    // Exact values on hover: one transparent cell per grid point.
    const cells = g.append('g').attr('class', 'bn-slice-cells');
    for (let j = 0; j < nB; j++)
      for (let i = 0; i < nA; i++)
        cell(cells, i, j)
          .attr('fill', 'transparent')
          .append('title')
          .text(`${v.variant}: α ${short(s.alphas[i])}, β ${short(betas[j])}, loss ${grids[k][j * nA + i] ?? (s.pending !== undefined ? 'not evaluated yet' : 'not finite')}`);
    labelLevels(g, bands, path, theme, fs, plot);
    axes(g, ax, by, plot, plot, theme, { xLabel: 'α', yLabel: 'β', fs, xTicks: 4, yTicks: 4, xFormat: short, yFormat: short });
    // The weights themselves.
    g.append('circle')
      .attr('class', 'bn-center')
      .attr('cx', ax(0))
      .attr('cy', by(0))
      .attr('r', 4)
      .attr('fill', theme.bg)
      .attr('stroke', theme.fg)
      .attr('stroke-width', 2)
      .append('title')
      .text(`${v.variant}: the weights (α = β = 0), loss ${v.centerLoss}`);
  });
  drawColourLegend(svg, color, levels, log, lo, hi, width, height - legendH + fs * 0.6, theme, fs);
}

/** One label per second level, at a point of its boundary away from the plot's edges. */
function labelLevels(g: Sel, bands: d3.ContourMultiPolygon[], path: d3.GeoPath, theme: import('../theme').Theme, fs: number, plot: number): void {
  const labels = g
    .append('g')
    .attr('class', 'bn-contour-labels')
    .attr('font-size', fs - 2)
    .attr('text-anchor', 'middle');
  bands.forEach((b, k) => {
    if (k % 2 === 1 || b.coordinates.length === 0) return;
    const rings = b.coordinates.map((poly) => poly[0]).sort((p, q) => q.length - p.length);
    const inside = rings[0].map(([px, py]) => path.centroid({ type: 'Point', coordinates: [px, py] } as d3.GeoPermissibleObjects)).filter((c) => c[0] > 10 && c[0] < plot - 10 && c[1] > 10 && c[1] < plot - 10);
    if (inside.length === 0) return;
    const c = inside[Math.floor(inside.length / 2)];
    labels
      .append('text')
      .attr('x', c[0])
      .attr('y', c[1] + fs / 3)
      .attr('fill', theme.fg)
      .attr('stroke', theme.bg)
      .attr('stroke-width', 3)
      .attr('paint-order', 'stroke')
      .text(short(b.value));
  });
}

function drawColourLegend(
  svg: d3.Selection<SVGSVGElement, unknown, null, undefined>,
  color: (v: number) => string,
  levels: number[],
  log: boolean,
  lo: number,
  hi: number,
  width: number,
  top: number,
  theme: import('../theme').Theme,
  fs: number,
): void {
  const w = Math.min(width - 24, 420);
  const x = (log ? d3.scaleLog() : d3.scaleLinear()).domain([lo, hi]).range([0, w]);
  const g = svg.append('g').attr('class', 'bn-colour-legend').attr('transform', `translate(12,${top})`);
  const steps = 64;
  for (let k = 0; k < steps; k++) {
    const v0 = x.invert((k * w) / steps);
    g.append('rect')
      .attr('x', (k * w) / steps)
      .attr('y', 0)
      .attr('width', w / steps + 0.5)
      .attr('height', fs * 0.8)
      .attr('fill', color(v0));
  }
  const ticks = levels.filter((_, k) => k % 2 === 0);
  const axis = d3
    .axisBottom(x)
    .tickValues(ticks)
    .tickFormat((v) => short(Number(v)));
  const ga = g
    .append('g')
    .attr('transform', `translate(0,${fs * 0.8})`)
    .call(axis);
  ga.selectAll('path, line').attr('stroke', theme.grid);
  ga.selectAll('text')
    .attr('fill', theme.muted)
    .attr('font-size', fs - 2);
  g.append('text')
    .attr('x', w + 6)
    .attr('y', fs * 0.8)
    .attr('fill', theme.muted)
    .attr('font-size', fs - 2)
    .text(`loss${log ? ' (log levels)' : ''}`);
}
