// Browser plumbing for the chart tests: build the bundle, launch Debian Chromium through playwright-core,
// open a standalone report (file://) or the VS Code webview page (served from a fake webview origin with a
// stubbed acquireVsCodeApi), and collect every page error, console error and outside request.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, statSync, readdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import type { Report } from '../../src/protocol';
import { readReportAssets, renderReportHtml } from '../../src/report/html';
import { renderWebviewHtml } from '../../src/report/webviewHtml';

export const ROOT = resolve(__dirname, '../..');
export const DIST = join(ROOT, 'dist');
export const ARTIFACTS = join(ROOT, 'test-artifacts');

function newestMtime(dir: string): number {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs);
  }
  return t;
}

/** Builds dist/webview.js (and .css) with the project's esbuild script when missing or older than webview/. */
export function ensureBundle(): void {
  const js = join(DIST, 'webview.js');
  const stale = !existsSync(js) || !existsSync(join(DIST, 'webview.css')) || statSync(js).mtimeMs < newestMtime(join(ROOT, 'webview'));
  if (stale) execFileSync(process.execPath, ['esbuild.mjs'], { cwd: ROOT, stdio: 'inherit' });
}

export async function launch(): Promise<Browser> {
  const executablePath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
  return chromium.launch({
    executablePath,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'],
  });
}

export interface Opened {
  page: Page;
  /** Page errors, console errors and warnings about CSP, requests that left the page. */
  problems: string[];
}

function watch(page: Page, allowed: (url: string) => boolean): string[] {
  const problems: string[] = [];
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error' || /Content.Security.Policy/i.test(m.text())) problems.push(`console.${m.type()}: ${m.text()}`);
  });
  page.on('request', (r) => {
    if (!allowed(r.url())) problems.push(`request: ${r.url()}`);
  });
  return problems;
}

export function writeStandalone(report: Report, name: string): string {
  mkdirSync(ARTIFACTS, { recursive: true });
  const file = join(ARTIFACTS, `${name}.html`);
  writeFileSync(file, renderReportHtml(report, readReportAssets(DIST)));
  return file;
}

export async function openStandalone(browser: Browser, report: Report, name: string, opts: { width?: number; height?: number; colorScheme?: 'light' | 'dark' } = {}): Promise<Opened> {
  const file = writeStandalone(report, name);
  const context = await browser.newContext({
    viewport: { width: opts.width ?? 1400, height: opts.height ?? 1000 },
    colorScheme: opts.colorScheme ?? 'light',
    acceptDownloads: true,
  });
  const page = await context.newPage();
  const url = pathToFileURL(file).href;
  const problems = watch(page, (u) => u === url || u.startsWith('data:') || u.startsWith('blob:'));
  await page.goto(url);
  await page.waitForSelector('[data-chart="loss-landscape"] svg');
  await nextFrame(page);
  return { page, problems };
}

/** A few of the variables VS Code's Dark Modern / Light Modern themes set on a webview's <html>. */
const VSCODE_VARS: Record<string, Record<string, string>> = {
  'vscode-dark': {
    '--vscode-font-family': 'system-ui, "Ubuntu", "Droid Sans", sans-serif',
    '--vscode-font-size': '13px',
    '--vscode-foreground': '#cccccc',
    '--vscode-editor-foreground': '#cccccc',
    '--vscode-editor-background': '#1f1f1f',
    '--vscode-sideBar-background': '#181818',
    '--vscode-descriptionForeground': '#9d9d9d',
    '--vscode-focusBorder': '#0078d4',
    '--vscode-charts-red': '#f14c4c',
    '--vscode-charts-blue': '#3794ff',
    '--vscode-charts-green': '#89d185',
    '--vscode-charts-yellow': '#cca700',
    '--vscode-charts-orange': '#d18616',
    '--vscode-charts-purple': '#b180d7',
    '--vscode-charts-foreground': '#cccccc',
    '--vscode-dropdown-background': '#313131',
    '--vscode-dropdown-foreground': '#cccccc',
    '--vscode-dropdown-border': '#3c3c3c',
  },
  'vscode-light': {
    '--vscode-font-family': 'system-ui, "Ubuntu", "Droid Sans", sans-serif',
    '--vscode-font-size': '13px',
    '--vscode-foreground': '#3b3b3b',
    '--vscode-editor-foreground': '#3b3b3b',
    '--vscode-editor-background': '#ffffff',
    '--vscode-sideBar-background': '#f8f8f8',
    '--vscode-descriptionForeground': '#3b3b3b',
    '--vscode-focusBorder': '#005fb8',
    '--vscode-charts-red': '#e51400',
    '--vscode-charts-blue': '#1a85ff',
    '--vscode-charts-green': '#388a34',
    '--vscode-charts-yellow': '#bf8803',
    '--vscode-charts-orange': '#d18616',
    '--vscode-charts-purple': '#652d90',
    '--vscode-charts-foreground': '#616161',
  },
};

export const WEBVIEW_ORIGIN = 'https://bnlens-webview.test';

/**
 * The VS Code webview page (src/report/webviewHtml.ts) with its strict CSP, served from a fake webview
 * origin. acquireVsCodeApi is stubbed: posted messages land in window.__posted, state in window.__state
 * (seeded from `state`, as VS Code's getState would after a reload).
 */
export async function openWebview(browser: Browser, opts: { width?: number; height?: number; state?: unknown; kind?: string } = {}): Promise<Opened> {
  const context = await browser.newContext({ viewport: { width: opts.width ?? 1200, height: opts.height ?? 900 } });
  const page = await context.newPage();
  const problems = watch(page, (u) => u.startsWith(WEBVIEW_ORIGIN) || u.startsWith('data:') || u.startsWith('blob:'));
  // A string, not a function: tsx's transpiled functions reference helpers (__name) the page does not have.
  await page.addInitScript(`
    (() => {
      const state = ${JSON.stringify(opts.state ?? null)};
      window.__posted = [];
      window.__state = state === null ? undefined : state;
      let acquired = false;
      window.acquireVsCodeApi = () => {
        if (acquired) throw new Error('acquireVsCodeApi called twice');
        acquired = true;
        return {
          postMessage: (m) => window.__posted.push(JSON.parse(JSON.stringify(m))),
          getState: () => window.__state,
          setState: (s) => { window.__state = JSON.parse(JSON.stringify(s)); },
        };
      };
      // What VS Code does to a webview: theme variables on <html>, the theme class and colours on <body>.
      const vars = ${JSON.stringify(VSCODE_VARS[opts.kind ?? 'vscode-dark'] ?? {})};
      document.addEventListener('DOMContentLoaded', () => {
        for (const [k, v] of Object.entries(vars)) document.documentElement.style.setProperty(k, v);
        document.body.classList.add(${JSON.stringify(opts.kind ?? 'vscode-dark')});
        document.body.style.backgroundColor = 'var(--vscode-sideBar-background, var(--vscode-editor-background))';
        document.body.style.color = 'var(--vscode-foreground)';
        document.body.style.fontFamily = 'var(--vscode-font-family)';
        document.body.style.fontSize = 'var(--vscode-font-size)';
      });
    })();
  `);
  const html = renderWebviewHtml({
    cspSource: WEBVIEW_ORIGIN,
    nonce: 'dGVzdG5vbmNlMTIzNDU2',
    scriptUri: `${WEBVIEW_ORIGIN}/dist/webview.js`,
    styleUri: `${WEBVIEW_ORIGIN}/dist/webview.css`,
    title: 'BatchNorm Lens',
  });
  await page.route(`${WEBVIEW_ORIGIN}/**`, (route) => {
    const u = new URL(route.request().url());
    if (u.pathname === '/index.html') return route.fulfill({ body: html, contentType: 'text/html' });
    const f = join(ROOT, u.pathname);
    if (u.pathname.startsWith('/dist/') && existsSync(f)) return route.fulfill({ path: f, contentType: f.endsWith('.css') ? 'text/css' : f.endsWith('.js') ? 'text/javascript' : 'application/octet-stream' });
    return route.fulfill({ status: 404, body: '' });
  });
  await page.goto(`${WEBVIEW_ORIGIN}/index.html`);
  await page.waitForFunction(() => (window as unknown as { __posted: { type: string }[] }).__posted.some((m) => m.type === 'ready'));
  return { page, problems };
}

/** Waits until the webview has drawn (two animation frames: the throttled redraw, then paint). */
export async function nextFrame(page: Page): Promise<void> {
  await page.evaluate(() => new Promise<void>((r) => requestAnimationFrame(() => requestAnimationFrame(() => r()))));
}

export async function post(page: Page, msg: unknown): Promise<void> {
  await page.evaluate((m) => window.postMessage(m, '*'), msg as object);
  await nextFrame(page);
}

export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(ARTIFACTS, { recursive: true });
  const path = join(ARTIFACTS, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}

/** Points of an SVG path `d` written by d3-shape (M/L commands, absolute coordinates). */
export function pathPoints(d: string): { x: number; y: number }[] {
  const out: { x: number; y: number }[] = [];
  const re = /[ML]\s*(-?[\d.]+(?:e[-+]?\d+)?)[ ,](-?[\d.]+(?:e[-+]?\d+)?)/g;
  for (let m = re.exec(d); m; m = re.exec(d)) out.push({ x: Number(m[1]), y: Number(m[2]) });
  return out;
}
