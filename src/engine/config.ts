// The analysis settings: defaults, the keys users write (CLI flags, --config JSON, bnlens.* settings, and
// a network file's own `userDefinedMetadata.bnlens`), and the checks that turn a bad value into one line.

import { VARIANT_NAMES, type AnalyzeConfig, type VariantName } from '../protocol';
import { UserError } from './errors';

/** Sized so the quick-start example (MNIST MLP, two variants) finishes well within 2 minutes on 2 cores. */
export const DEFAULT_CONFIG: Omit<AnalyzeConfig, 'model'> = {
  dataset: 'auto',
  loss: 'auto',
  variants: ['standard', 'batchnorm'],
  steps: 200,
  batch: 128,
  lr: 0.1,
  momentum: 0,
  probeEvery: 1,
  etaRange: [0.5, 4],
  etaCount: 8,
  icsEvery: 10,
  evalEvery: 50,
  seed: 0,
  backend: 'auto',
};

/** Every key a user may write, in the spelling of the CLI flag, mapped to the config field. */
export const CONFIG_KEYS: Record<string, keyof Omit<AnalyzeConfig, 'model'>> = {
  dataset: 'dataset',
  loss: 'loss',
  variants: 'variants',
  steps: 'steps',
  batch: 'batch',
  lr: 'lr',
  momentum: 'momentum',
  'probe-every': 'probeEvery',
  'eta-range': 'etaRange',
  'eta-count': 'etaCount',
  'ics-every': 'icsEvery',
  'eval-every': 'evalEvery',
  'eval-batch': 'evalBatch',
  seed: 'seed',
  backend: 'backend',
  'hessian-every': 'hessianEvery',
  'hessian-bn': 'hessianBn',
  'hessian-top': 'hessianTop',
  model: 'pythonModel',
  'input-shape': 'inputShape',
  weights: 'weights',
  'eta-processes': 'etaProcesses',
};

const camelToFlag = new Map(Object.entries(CONFIG_KEYS).map(([flag, field]) => [field as string, flag]));

/**
 * Turn loosely typed user values (strings from flags, JSON values, settings) into config fields, checking
 * each. `where` names the source for messages ("--config run.json", "command line").
 */
export function readConfigValues(values: Record<string, unknown>, where: string, file?: string): Partial<AnalyzeConfig> {
  const out: Partial<AnalyzeConfig> = {};
  for (const [rawKey, v] of Object.entries(values)) {
    if (v === undefined || v === null) continue;
    const field = CONFIG_KEYS[rawKey] ?? (camelToFlag.has(rawKey) ? (rawKey as keyof AnalyzeConfig) : undefined);
    const flag = camelToFlag.get(field as string) ?? rawKey;
    const bad = (what: string): never => {
      throw new UserError(`${where}: ${flag} ${what}`, file);
    };
    if (!field) {
      if (rawKey === 'model') continue;
      bad(`is not a setting; the settings are ${Object.keys(CONFIG_KEYS).join(', ')}`);
    }
    const num = (opts: { int?: boolean; min?: number; gt?: number }) => {
      const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
      if (!Number.isFinite(n)) bad(`must be a number, got ${JSON.stringify(v)}`);
      if (opts.int && !Number.isInteger(n)) bad(`must be a whole number, got ${n}`);
      if (opts.min !== undefined && n < opts.min) bad(`must be at least ${opts.min}, got ${n}`);
      if (opts.gt !== undefined && !(n > opts.gt)) bad(`must be greater than ${opts.gt}, got ${n}`);
      return n;
    };
    switch (field) {
      case 'dataset':
        if (typeof v !== 'string' || v.trim() === '') bad('must be mnist, gaussian, dln or a path');
        out.dataset = (v as string).trim();
        break;
      case 'loss':
        if (!['softmax-ce', 'binary-ce', 'mse', 'auto'].includes(String(v))) bad(`must be softmax-ce, binary-ce, mse or auto, got ${JSON.stringify(v)}`);
        out.loss = v as AnalyzeConfig['loss'];
        break;
      case 'backend':
        if (!['auto', 'node', 'wasm', 'cpu'].includes(String(v))) bad(`must be auto, node, wasm or cpu, got ${JSON.stringify(v)}`);
        out.backend = v as AnalyzeConfig['backend'];
        break;
      case 'variants': {
        const list = Array.isArray(v)
          ? v.map(String)
          : String(v)
              .split(',')
              .map((s) => s.trim())
              .filter(Boolean);
        if (list.length === 0) bad('needs at least one variant');
        for (const n of list) if (!(VARIANT_NAMES as readonly string[]).includes(n)) bad(`has unknown variant '${n}'; choose from ${VARIANT_NAMES.join(', ')}`);
        if (new Set(list).size !== list.length) bad('lists a variant twice');
        out.variants = list as VariantName[];
        break;
      }
      case 'etaRange': {
        const list = Array.isArray(v)
          ? v.map(Number)
          : String(v)
              .split(',')
              .map((s) => Number(s.trim()));
        if (list.length !== 2 || list.some((x) => !Number.isFinite(x))) bad(`must be two numbers lo,hi (multiples of lr), got ${JSON.stringify(v)}`);
        if (!(list[0] > 0 && list[1] >= list[0])) bad(`must satisfy 0 < lo ≤ hi, got ${list.join(',')}`);
        out.etaRange = [list[0], list[1]];
        break;
      }
      case 'steps':
        out.steps = num({ int: true, min: 1 });
        break;
      case 'batch':
        out.batch = num({ int: true, min: 1 });
        break;
      case 'lr': {
        // A list (`--lr 0.01,0.05,0.1`, `"lr": [0.01, 0.1]`) is a learning-rate sweep: config.lrs.
        const list = Array.isArray(v) ? v : typeof v === 'string' && v.includes(',') ? v.split(',').map((x) => x.trim()) : null;
        if (!list) {
          out.lr = num({ gt: 0 });
          break;
        }
        const lrs = list.map((x) => (typeof x === 'number' ? x : typeof x === 'string' && x.trim() !== '' ? Number(x) : NaN));
        if (lrs.length === 0) bad('needs at least one learning rate');
        const wrong = lrs.find((x) => !(Number.isFinite(x) && x > 0));
        if (wrong !== undefined) bad(`must be numbers greater than 0, got ${JSON.stringify(v)}`);
        if (new Set(lrs).size !== lrs.length) bad(`lists a learning rate twice: ${JSON.stringify(v)}`);
        out.lr = lrs[0];
        if (lrs.length > 1) out.lrs = lrs;
        break;
      }
      case 'momentum':
        out.momentum = num({ min: 0 });
        if (out.momentum >= 1) bad(`must be below 1, got ${out.momentum}`);
        break;
      case 'probeEvery':
        out.probeEvery = num({ int: true, min: 1 });
        break;
      case 'etaCount':
        out.etaCount = num({ int: true, min: 1 });
        break;
      case 'icsEvery':
        out.icsEvery = num({ int: true, min: 0 });
        break;
      case 'evalEvery':
        out.evalEvery = num({ int: true, min: 0 });
        break;
      case 'evalBatch':
        out.evalBatch = num({ int: true, min: 1 });
        break;
      case 'seed':
        out.seed = num({ int: true });
        break;
      case 'hessianEvery':
        out.hessianEvery = num({ int: true, min: 0 });
        break;
      case 'hessianTop':
        out.hessianTop = num({ int: true, min: 1 });
        break;
      case 'hessianBn':
        if (!['train', 'eval'].includes(String(v))) bad(`must be train or eval, got ${JSON.stringify(v)}`);
        out.hessianBn = v as AnalyzeConfig['hessianBn'];
        break;
      case 'pythonModel':
      case 'weights':
        if (typeof v !== 'string' || v.trim() === '') bad(field === 'weights' ? 'must be a .safetensors path' : 'must be a model name or call, e.g. Net or "VGG(\'VGG11\')"');
        if (field === 'weights') out.weights = (v as string).trim();
        else out.pythonModel = (v as string).trim();
        break;
      case 'etaProcesses':
        if (v === 'auto') out.etaProcesses = 'auto';
        else if (typeof v === 'number' || (typeof v === 'string' && /^\s*\d+\s*$/.test(v))) out.etaProcesses = num({ int: true, min: 1 });
        else bad(`must be auto or a whole number of processes, got ${JSON.stringify(v)}`);
        break;
      case 'inputShape':
        out.inputShape = parseInputShape(v, bad);
        break;
    }
  }
  return out;
}

/** Probes and layer statistics of a learning-rate sweep when nobody set them: sparse, so N runs cost about N trainings. */
export const SWEEP_DEFAULTS = { probeEvery: 10, icsEvery: 0 } as const;

/** The η grid: etaCount values evenly spaced over [lo·lr, hi·lr] (one value at lo·lr when etaCount is 1). */
export function etaGrid(c: Pick<AnalyzeConfig, 'lr' | 'etaRange' | 'etaCount'>): number[] {
  const [lo, hi] = c.etaRange;
  if (c.etaCount === 1) return [lo * c.lr];
  return Array.from({ length: c.etaCount }, (_, k) => c.lr * (lo + ((hi - lo) * k) / (c.etaCount - 1)));
}

/** `--input-shape C,H,W` (or F): positive integers. */
export function parseInputShape(v: unknown, bad: (what: string) => never): number[] {
  const list = Array.isArray(v)
    ? v.map(Number)
    : String(v)
        .split(/[,x×]/)
        .map((s) => Number(s.trim()));
  if (list.length === 0 || list.length > 3 || list.some((x) => !Number.isInteger(x) || x <= 0)) bad(`must be positive sizes C,H,W (or F), got ${JSON.stringify(v)}`);
  return list;
}
