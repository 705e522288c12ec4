// Domains, scale kinds and tick labels of chart axes, fitted to the data a panel shows.
import * as d3 from 'd3';
import { isNum } from '../model';
import type { Panel, XScale } from './chartTypes';

/**
 * The y domain: the finite data range (positive values only for a log scale), widened by 5% of the span
 * on each side (in log space for a log scale); a single value gets a range around it.
 */
export function fitDomain(values: number[], log: boolean): [number, number] | null {
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of values) {
    if (!isNum(v) || (log && v <= 0)) continue;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  if (lo > hi) return null;
  if (log) {
    let a = Math.log10(lo);
    let b = Math.log10(hi);
    if (b - a < 1e-9) {
      a -= 0.5;
      b += 0.5;
    }
    const pad = 0.05 * (b - a);
    return [10 ** (a - pad), 10 ** (b + pad)];
  }
  if (hi - lo < 1e-12 * Math.max(1, Math.abs(hi))) {
    const d = Math.abs(hi) > 0 ? Math.abs(hi) * 0.1 : 1;
    return [lo - d, hi + d];
  }
  const pad = 0.05 * (hi - lo);
  return [lo - pad, hi + pad];
}

/** 'auto': a log scale when every value is positive and they span more than 30×. */
export function useLog(kind: Panel['scale'], values: number[]): boolean {
  if (kind !== 'auto') return kind === 'log';
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of values) {
    if (!isNum(v)) continue;
    if (v <= 0) return false;
    lo = Math.min(lo, v);
    hi = Math.max(hi, v);
  }
  return lo < hi && hi / lo > 30;
}

/** The x domain: first to last step; a single step gets ±0.5 around it. */
export function fitSteps(steps: number[]): [number, number] {
  if (steps.length === 0) return [0, 1];
  const lo = d3.min(steps)!;
  const hi = d3.max(steps)!;
  return lo === hi ? [lo - 0.5, hi + 0.5] : [lo, hi];
}

/** Ticks of a value axis (η, activations): d3's nice ticks; on a log axis only the decades (1, 2, 5 if few). */
export function xTickValues(x: XScale, count: number, log: boolean): number[] {
  const t = x.ticks(count);
  if (!log) return t;
  const decades = t.filter((v) => Math.abs(Math.log10(v) - Math.round(Math.log10(v))) < 1e-9);
  if (decades.length >= 2) return decades;
  return t.filter((v) => /^[125]/.test(v.toExponential()));
}

/** Step ticks: whole steps, and the axis' last step when there is room after the last tick. */
export function stepTickValues(x: XScale, count: number): number[] {
  const t = x.ticks(count).filter((v) => Number.isInteger(v));
  const end = Math.floor(x.domain()[1]);
  const spacing = t.length > 1 ? t[1] - t[0] : Infinity;
  if (t.length && end > t[t.length - 1] && end - t[t.length - 1] >= spacing / 2) t.push(end);
  return t;
}

/** Log y ticks: the decades when there are two or more (every k-th when too many), else d3's 1-2-5 ticks. */
export function logTickValues(y: d3.ScaleContinuousNumeric<number, number>, count: number): number[] {
  const t = y.ticks(count);
  const decades = t.filter((v) => v > 0 && Math.abs(Math.log10(v) - Math.round(Math.log10(v))) < 1e-9);
  if (decades.length >= 2) return decades.length > count ? decades.filter((_, i) => i % Math.ceil(decades.length / count) === 0) : decades;
  const few = t.filter((v) => /^[125]/.test(v.toExponential()));
  return few.length >= 2 ? few : t;
}

/** Axis tick labels: short, no SI prefixes (0.5, not 500m), exponents only for very large or small values. */
export function tickLabel(v: number): string {
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1e5 || a < 1e-3) return v.toExponential(0).replace('e+', 'e');
  return String(Number(v.toPrecision(3)));
}
