// Colours and fonts for the charts, read from VS Code's theme CSS variables (--vscode-*), with fallbacks
// for the standalone HTML report. A chart never hard-codes a colour: it receives a Theme.
import type { VariantName } from '../src/protocol';

export type ThemeKind = 'light' | 'dark' | 'high-contrast' | 'high-contrast-light';

export interface Theme {
  kind: ThemeKind;
  fg: string;
  bg: string;
  /** Secondary text (axis ticks, captions). */
  muted: string;
  /** Grid lines and axis domain lines. */
  grid: string;
  focus: string;
  font: string;
  fontSize: number;
  /** Opacity of the shaded bands. */
  bandOpacity: number;
  variantColor(name: string): string;
}

type Palette = Record<'red' | 'blue' | 'green' | 'yellow' | 'orange' | 'purple' | 'grey', string>;

const FALLBACK: Record<ThemeKind, { fg: string; bg: string; muted: string; grid: string; focus: string; palette: Palette }> = {
  light: {
    fg: '#1f1f1f',
    bg: '#ffffff',
    muted: '#616161',
    grid: '#e0e0e0',
    focus: '#005fb8',
    palette: { red: '#c72e0f', blue: '#1a85ff', green: '#388a34', yellow: '#bf8803', orange: '#d18616', purple: '#652d90', grey: '#6c6c6c' },
  },
  dark: {
    fg: '#cccccc',
    bg: '#1f1f1f',
    muted: '#9d9d9d',
    grid: '#3c3c3c',
    focus: '#0078d4',
    palette: { red: '#f14c4c', blue: '#3794ff', green: '#89d185', yellow: '#cca700', orange: '#d18616', purple: '#b180d7', grey: '#a0a0a0' },
  },
  'high-contrast': {
    fg: '#ffffff',
    bg: '#000000',
    muted: '#ffffff',
    grid: '#6fc3df',
    focus: '#f38518',
    palette: { red: '#f48771', blue: '#75beff', green: '#89d185', yellow: '#ffd700', orange: '#f38518', purple: '#c586c0', grey: '#ffffff' },
  },
  'high-contrast-light': {
    fg: '#292929',
    bg: '#ffffff',
    muted: '#292929',
    grid: '#0f4a85',
    focus: '#006bbd',
    palette: { red: '#b5200d', blue: '#0f4a85', green: '#2d7a28', yellow: '#895503', orange: '#8f4b00', purple: '#5c2d91', grey: '#292929' },
  },
};

/** A stable colour per variant name, so a variant has the same colour in every chart and every report. */
const VARIANT_SLOT: Record<VariantName, keyof Palette> = {
  'as-written': 'grey',
  standard: 'red',
  batchnorm: 'blue',
  'noisy-batchnorm': 'purple',
  l1: 'green',
  l2: 'orange',
  linf: 'yellow',
};
const EXTRA_SLOTS: (keyof Palette)[] = ['blue', 'green', 'orange', 'purple', 'red', 'yellow'];

const CSS_VAR: Record<keyof Palette, string> = {
  red: '--vscode-charts-red',
  blue: '--vscode-charts-blue',
  green: '--vscode-charts-green',
  yellow: '--vscode-charts-yellow',
  orange: '--vscode-charts-orange',
  purple: '--vscode-charts-purple',
  grey: '--vscode-charts-foreground',
};

export function themeKind(body: HTMLElement = document.body): ThemeKind {
  const c = body.classList;
  if (c.contains('vscode-high-contrast-light')) return 'high-contrast-light';
  if (c.contains('vscode-high-contrast')) return 'high-contrast';
  if (c.contains('vscode-light')) return 'light';
  if (c.contains('vscode-dark')) return 'dark';
  const dark = typeof matchMedia === 'function' && matchMedia('(prefers-color-scheme: dark)').matches;
  return dark ? 'dark' : 'light';
}

function hashSlot(name: string): keyof Palette {
  let h = 0;
  for (let i = 0; i < name.length; i++) h = (h * 31 + name.charCodeAt(i)) | 0;
  return EXTRA_SLOTS[Math.abs(h) % EXTRA_SLOTS.length];
}

export function readTheme(body: HTMLElement = document.body): Theme {
  const kind = themeKind(body);
  const fb = FALLBACK[kind];
  const cs = getComputedStyle(body);
  const v = (name: string, fallback: string) => cs.getPropertyValue(name).trim() || fallback;
  const palette = {} as Palette;
  for (const k of Object.keys(fb.palette) as (keyof Palette)[]) palette[k] = v(CSS_VAR[k], fb.palette[k]);
  const fontSize = parseFloat(v('--vscode-font-size', '13px')) || 13;
  const fg = v('--vscode-editor-foreground', v('--vscode-foreground', fb.fg));
  return {
    kind,
    fg,
    bg: v('--vscode-editor-background', fb.bg),
    muted: v('--vscode-descriptionForeground', fb.muted),
    grid: v('--vscode-editorWidget-border', v('--vscode-panel-border', fb.grid)),
    focus: v('--vscode-focusBorder', fb.focus),
    font: v('--vscode-font-family', 'system-ui, -apple-system, "Segoe UI", Ubuntu, sans-serif'),
    fontSize: Math.min(Math.max(fontSize, 10), 16),
    bandOpacity: kind.startsWith('high-contrast') ? 0.35 : kind === 'dark' ? 0.28 : 0.22,
    variantColor(name: string) {
      const slot = (VARIANT_SLOT as Record<string, keyof Palette>)[name] ?? hashSlot(name);
      return palette[slot];
    },
  };
}

/** Calls `onChange` when VS Code switches theme (body class, or the CSS variables on <html>) or the OS scheme flips. */
export function observeTheme(onChange: () => void): () => void {
  const mo = new MutationObserver(onChange);
  mo.observe(document.body, { attributes: true, attributeFilter: ['class', 'data-vscode-theme-kind'] });
  mo.observe(document.documentElement, { attributes: true, attributeFilter: ['style', 'class'] });
  const mq = typeof matchMedia === 'function' ? matchMedia('(prefers-color-scheme: dark)') : null;
  mq?.addEventListener('change', onChange);
  return () => {
    mo.disconnect();
    mq?.removeEventListener('change', onChange);
  };
}
