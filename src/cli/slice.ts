// `bnlens slice MODEL`: a 1-D or 2-D random-direction slice of the loss surface (Li et al. 2018) at the
// file's weights, other weights (--weights) or the weights of a run after N steps (--at-step), per variant.

import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { AnalyzeRequest, BackendChoice, SliceRequest, SliceResult, VariantName } from '../protocol';
import { readConfigValues } from '../engine/config';
import { UserError } from '../engine/errors';
import { parseJsonText } from '../engine/network/json';
import { sliceInProcesses } from '../engine/sliceParallel';
import { helpText, listFlag, numberFlag, parseArgs, type FlagSpec } from './args';
import { reportFailure } from './failure';

const FLAGS: Record<string, FlagSpec> = {
  data: { value: true, help: 'data file or built-in set whose whole content is the batch (as bnlens probe), e.g. batch.npz' },
  dataset: { value: true, help: 'without --data: the run’s data set (mnist, gaussian, dln, a path; default as bnlens analyze)' },
  batch: { value: true, help: 'without --data: examples of the training data in the fixed batch, drawn with the seed (default 1024)' },
  weights: { value: true, help: 'weights from another tfjs model.json with the same layers (default: the model’s own)' },
  'at-step': { value: true, help: 'train each variant N steps with the run’s settings (--report or --config) and slice there' },
  report: { value: true, help: 'a bnlens analyze report whose settings (lr, batch, seed, data, variants) --at-step trains with' },
  config: { value: true, help: 'JSON of bnlens analyze settings for --at-step (as analyze --config)' },
  variants: { value: true, help: 'comma list of variants to slice (default: the file as written; with --at-step the run’s)' },
  dims: { value: true, help: '1 (a curve) or 2 (a surface; default)' },
  range: { value: true, help: 'lo,hi of α (and β) in units of the normalized directions (default -1,1)' },
  points: { value: true, help: 'grid points per axis (default 21)' },
  directions: { value: true, help: 'random (default) | gradient-random (the plane of −g and one random direction)' },
  norm: { value: true, help: 'filter (default, Li et al.) | layer | none' },
  ignore: { value: true, help: 'biasbn (default: biases and BatchNorm γ/β stay fixed) | none (they move, scaled to their norm)' },
  bn: { value: true, help: 'train (default: batch statistics, as every probe here) | eval (moving statistics, as the anchors)' },
  seed: { value: true, help: 'seed of the directions and of the batch (default 0)' },
  backend: { value: true, help: 'auto | node | wasm | cpu (default auto)' },
  parallel: { value: true, help: 'engine processes to spread the points over (default one per core)' },
  out: { value: true, help: 'where to write the slice JSON (default slice.json)' },
  html: { value: true, help: 'also write a self-contained HTML page with the chart' },
  'save-directions': { value: true, help: 'write the directions d₁, d₂ (JSON, per parameter) to this file' },
  quiet: { value: false, help: 'no progress output' },
  help: { value: false, help: 'this help' },
};

const USAGE =
  'Usage: bnlens slice MODEL [--data D] [--weights W | --at-step N [--report R]] [--dims 1|2] [--range -1,1] [--points 21]\n' +
  '                         [--directions random|gradient-random] [--norm filter|layer|none] [--ignore biasbn|none]\n' +
  '                         [--bn train|eval] [--seed S] [--out slice.json] [--html slice.html] [--save-directions F]';

function readJsonObject(path: string, flag: string): Record<string, unknown> {
  if (!existsSync(path)) throw new UserError(`file not found; check the path given to ${flag}`, path);
  const raw = parseJsonText(readFileSync(path, 'utf8'), path);
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new UserError(`${flag} must name a file holding one JSON object`, path);
  return raw as Record<string, unknown>;
}

export function parseSliceArgs(argv: string[]): { req: SliceRequest; out: string; html?: string; saveDirections?: string; quiet: boolean } | 'help' {
  const args = parseArgs(argv, FLAGS, 'slice');
  if (args.flags.has('help')) return 'help';
  if (args.positional.length !== 1) throw new UserError(`bnlens slice: give exactly one network file (${USAGE.split('\n')[0].replace('Usage: ', '')} …)`);
  const str = (k: string) => (typeof args.flags.get(k) === 'string' ? (args.flags.get(k) as string) : undefined);
  let train: AnalyzeRequest | undefined;
  const reportPath = str('report');
  const configPath = str('config');
  if (reportPath && configPath) throw new UserError('bnlens slice: give either --report or --config, not both');
  if (reportPath) {
    const rep = readJsonObject(reportPath, '--report');
    if (rep.schema !== 'bnlens-report' || typeof rep.config !== 'object' || rep.config === null)
      throw new UserError('--report: not a bnlens report (no "schema": "bnlens-report" with a "config"); give the JSON that bnlens analyze --out wrote', reportPath);
    const { model: _m, ...settings } = rep.config as Record<string, unknown>;
    void _m;
    train = { ...readConfigValues(settings, `--report ${reportPath}`, reportPath), model: args.positional[0] };
  } else if (configPath) train = { ...readConfigValues(readJsonObject(configPath, '--config'), `--config ${configPath}`, configPath), model: args.positional[0] };
  const dataset = str('dataset');
  if (dataset) train = { ...(train ?? { model: args.positional[0] }), dataset };
  const variants = str('variants');
  let variantList: VariantName[] | undefined;
  if (variants) variantList = readConfigValues({ variants }, 'bnlens slice').variants;
  const range = listFlag(args, 'range', 'slice');
  if (range && range.length !== 2) throw new UserError(`bnlens slice: --range must be two numbers lo,hi, e.g. --range -1,1; got ${range.length}`);
  const dims = numberFlag(args, 'dims', 'slice', { integer: true });
  const req: SliceRequest = {
    model: args.positional[0],
    data: str('data'),
    batch: numberFlag(args, 'batch', 'slice', { integer: true, min: 1 }),
    weights: str('weights'),
    atStep: numberFlag(args, 'at-step', 'slice', { integer: true, min: 0 }),
    train,
    variants: variantList,
    dims: dims as 1 | 2 | undefined,
    range: range as [number, number] | undefined,
    points: numberFlag(args, 'points', 'slice', { integer: true }),
    directions: str('directions') as SliceRequest['directions'],
    norm: str('norm') as SliceRequest['norm'],
    ignore: str('ignore') as SliceRequest['ignore'],
    bn: str('bn') as SliceRequest['bn'],
    seed: numberFlag(args, 'seed', 'slice', { integer: true }),
    backend: str('backend') as BackendChoice | undefined,
    parallel: numberFlag(args, 'parallel', 'slice', { integer: true, min: 1 }),
  };
  if (req.backend && !['auto', 'node', 'wasm', 'cpu'].includes(req.backend)) throw new UserError(`bnlens slice: --backend must be auto, node, wasm or cpu, got '${req.backend}'`);
  const out = str('out') ?? 'slice.json';
  const html = str('html');
  const saveDirections = str('save-directions');
  for (const p of [out, html, saveDirections]) if (p && !existsSync(dirname(p) || '.')) throw new UserError(`cannot write ${p}: folder ${dirname(p)} does not exist`);
  return { req, out, html, saveDirections, quiet: args.flags.has('quiet') };
}

export async function sliceMain(argv: string[]): Promise<number> {
  try {
    const parsed = parseSliceArgs(argv);
    if (parsed === 'help') {
      process.stdout.write(helpText(USAGE, FLAGS));
      return 0;
    }
    const { req, out, html, saveDirections, quiet } = parsed;
    const assets = html ? (await import('../report/html')).readReportAssets(distDir()) : null;
    let last = 0;
    const result = await sliceInProcesses(req, {
      saveDirections,
      onProgress: (done, total) => {
        const now = Date.now();
        if (quiet || (now - last < 1000 && done < total)) return;
        last = now;
        process.stderr.write(`bnlens slice: ${done}/${total} points\n`);
      },
    });
    writeFileSync(out, JSON.stringify(result));
    if (html && assets) {
      const { renderSliceHtml } = await import('../report/sliceHtml');
      writeFileSync(html, renderSliceHtml(result, assets));
    }
    process.stderr.write(`bnlens: backend ${result.backend} — ${result.backendReason}\n`);
    process.stdout.write(`${sliceSummary(result)}\nSlice: ${out}${html ? `   Chart: ${html}` : ''}${saveDirections ? `   Directions: ${saveDirections}` : ''}\n`);
    return 0;
  } catch (e) {
    return reportFailure(e);
  }
}

/** One line per variant: the loss at the weights, the lowest and highest loss on the grid. */
export function sliceSummary(r: SliceResult): string {
  const lines = r.variants.map((v) => {
    const flat = (r.dims === 2 ? (v.loss as (number | null)[][]).flat() : (v.loss as (number | null)[])).filter((x): x is number => x !== null);
    const nonFinite = (r.dims === 2 ? r.alphas.length * (r.betas?.length ?? 0) : r.alphas.length) - flat.length;
    const cos = v.directionCosine === null ? '' : `, cos(d₁,d₂) before Gram–Schmidt ${v.directionCosine.toExponential(2)}`;
    return `${v.variant.padEnd(16)} center loss ${v.centerLoss.toPrecision(5)}, grid min ${Math.min(...flat).toPrecision(5)}, max ${Math.max(...flat).toPrecision(5)}${nonFinite ? `, ${nonFinite} points not finite` : ''}${cos}`;
  });
  const grid = r.dims === 2 ? `${r.alphas.length}×${r.betas!.length}` : `${r.alphas.length}`;
  return `${grid} ${r.directions} slice, ${r.norm}-normalized, ignore ${r.ignore}, BatchNorm ${r.bn} mode, batch ${r.batch}: ${(r.wallMs / 1000).toFixed(1)} s in ${r.processes} process${r.processes > 1 ? 'es' : ''} (${r.pointsPerSecond.toFixed(1)} points/s)\n${lines.join('\n')}`;
}

function distDir(): string {
  const { join } = require('node:path') as typeof import('node:path');
  const candidates = [__dirname, join(__dirname, '..', '..', 'dist'), join(__dirname, '..', 'dist')];
  const found = candidates.find((d) => existsSync(join(d, 'webview.js')));
  if (!found) throw new UserError('the chart bundle dist/webview.js is missing; run `npm run build` first');
  return found;
}
