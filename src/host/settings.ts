// `bnlens.*` settings → the engine's AnalyzeConfig. Pure (the caller passes a getter over
// `workspace.getConfiguration('bnlens', uri)`), so the mapping and its checks are unit-tested.
import * as path from 'node:path';
import { VARIANT_NAMES, type AnalyzeConfig, type BackendChoice, type LossName, type VariantName } from '../protocol';

/** Defaults, identical to package.json `contributes.configuration` (a unit test keeps them in step). */
export const SETTING_DEFAULTS = {
  dataset: 'auto',
  loss: 'auto' as LossName | 'auto',
  steps: 200,
  batch: 64,
  lr: 0.1,
  momentum: 0,
  variants: ['standard', 'batchnorm'] as VariantName[],
  etaRange: [0.5, 4] as [number, number],
  etaCount: 8,
  probeEvery: 1,
  icsEvery: 10,
  evalEvery: 50,
  backend: 'auto' as BackendChoice,
  seed: 0,
};

export type SettingKey = keyof typeof SETTING_DEFAULTS;

/**
 * 'auto' picks MNIST when the network takes 28×28 images (28×28×1, 28×28 or 784 inputs) and Gaussian
 * clusters of the network's input size otherwise.
 */
export function autoDataset(inputShape: readonly number[] | null): 'mnist' | 'gaussian' {
  if (!inputShape) return 'gaussian';
  const s = inputShape.join('x');
  return s === '28x28x1' || s === '28x28' || s === '784' ? 'mnist' : 'gaussian';
}

export class SettingsError extends Error {
  constructor(
    readonly key: string,
    message: string,
  ) {
    super(`bnlens.${key}: ${message}`);
    this.name = 'SettingsError';
  }
}

/**
 * Builds the run's config. `get(key)` returns the setting's value (undefined → default); `inputShape` is
 * the network's input without the batch dimension (for dataset 'auto'); `baseDir` resolves a relative
 * dataset path (the workspace folder of the file, else its directory).
 */
export function buildConfig(
  get: (key: SettingKey) => unknown,
  modelPath: string,
  inputShape: readonly number[] | null,
  baseDir: string,
): AnalyzeConfig {
  const val = <K extends SettingKey>(k: K): unknown => {
    const v = get(k);
    return v === undefined || v === null ? SETTING_DEFAULTS[k] : v;
  };
  const int = (k: SettingKey, min: number): number => {
    const v = val(k);
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min) throw new SettingsError(k, `must be a whole number ≥ ${min} (is ${JSON.stringify(v)})`);
    return v;
  };
  const num = (k: SettingKey, ok: (x: number) => boolean, what: string): number => {
    const v = val(k);
    if (typeof v !== 'number' || !Number.isFinite(v) || !ok(v)) throw new SettingsError(k, `must be ${what} (is ${JSON.stringify(v)})`);
    return v;
  };

  let dataset = String(val('dataset')).trim() || 'auto';
  if (dataset.toLowerCase() === 'auto') dataset = autoDataset(inputShape);
  else if (!['mnist', 'gaussian', 'dln'].includes(dataset.toLowerCase())) dataset = path.resolve(baseDir, dataset);

  const variants = val('variants');
  if (!Array.isArray(variants) || variants.length === 0) throw new SettingsError('variants', `must list at least one of ${VARIANT_NAMES.join(', ')}`);
  for (const v of variants) {
    if (!(VARIANT_NAMES as readonly string[]).includes(v)) throw new SettingsError('variants', `unknown variant ${JSON.stringify(v)}; use ${VARIANT_NAMES.join(', ')}`);
  }
  const eta = val('etaRange');
  if (!Array.isArray(eta) || eta.length !== 2 || !eta.every((x) => typeof x === 'number' && x > 0) || !(eta[0] < eta[1])) {
    throw new SettingsError('etaRange', `must be [low, high] with 0 < low < high (is ${JSON.stringify(eta)})`);
  }
  const loss = val('loss');
  if (loss !== 'auto' && loss !== 'softmax-ce' && loss !== 'mse') throw new SettingsError('loss', `must be auto, softmax-ce or mse`);
  const backend = val('backend');
  if (!['auto', 'node', 'wasm', 'cpu'].includes(backend as string)) throw new SettingsError('backend', 'must be auto, node, wasm or cpu');

  return {
    model: modelPath,
    dataset,
    loss,
    variants: [...new Set(variants as VariantName[])],
    steps: int('steps', 1),
    batch: int('batch', 1),
    lr: num('lr', (x) => x > 0, 'a positive number'),
    momentum: num('momentum', (x) => x >= 0 && x < 1, 'in [0, 1)'),
    probeEvery: int('probeEvery', 1),
    etaRange: [eta[0], eta[1]],
    etaCount: int('etaCount', 1),
    icsEvery: int('icsEvery', 1),
    evalEvery: int('evalEvery', 1),
    seed: int('seed', 0),
    backend: backend as BackendChoice,
  };
}
