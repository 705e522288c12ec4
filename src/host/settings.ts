// `bnlens.*` settings → the engine's AnalyzeRequest. Only settings the user set explicitly are sent: the
// engine fills the rest from its defaults and the network file's own `userDefinedMetadata.bnlens`, the same
// order as the CLI. Values are checked by the engine's own reader (one message per bad value). Pure: the
// caller passes a getter over `workspace.getConfiguration('bnlens', uri).inspect`.
import * as path from 'node:path';
import { DEFAULT_CONFIG, readConfigValues } from '../engine/config';
import type { AnalyzeConfig, AnalyzeRequest } from '../protocol';

export type SettingKey = keyof Omit<AnalyzeConfig, 'model'>;

/**
 * The settings contributed in package.json, with the engine's defaults (a unit test keeps them equal): the
 * run's, the Hessian measures', which are off unless asked for (they cost tens of gradients a step), and the
 * probe helpers', none unless asked for (on the 2-core test machine they slowed every probed step).
 */
export const SETTING_DEFAULTS: Omit<AnalyzeConfig, 'model'> = { ...DEFAULT_CONFIG, hessianEvery: 0, hessianBn: 'train', hessianTop: 5, etaProcesses: 1 };
export const SETTING_KEYS = Object.keys(SETTING_DEFAULTS) as SettingKey[];

const BUILTIN_DATASETS = new Set(['auto', 'mnist', 'gaussian', 'dln']);

export class SettingsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SettingsError';
  }
}

/**
 * The run request for `modelPath`. `explicit(key)` returns the value the user set at any level (undefined
 * when the setting is left at its default); `baseDir` resolves a relative dataset path (the file's
 * workspace folder, else its directory).
 */
export function buildRequest(explicit: (key: SettingKey) => unknown, modelPath: string, baseDir: string): AnalyzeRequest {
  const values: Record<string, unknown> = {};
  for (const k of SETTING_KEYS) {
    const v = explicit(k);
    if (v !== undefined && v !== null) values[k] = v;
  }
  let checked: Partial<AnalyzeConfig>;
  try {
    checked = readConfigValues(values, 'settings');
  } catch (e) {
    // "settings: eta-count must be …" → "bnlens.etaCount must be …"
    const msg = String((e as Error).message).replace(/^settings: ([\w-]+)/, (_, flag: string) => `bnlens.${flag.replace(/-(\w)/g, (_m: string, c: string) => c.toUpperCase())}`);
    throw new SettingsError(msg);
  }
  if (checked.dataset !== undefined) {
    if (checked.dataset.toLowerCase() === 'auto') delete checked.dataset;
    else if (!BUILTIN_DATASETS.has(checked.dataset.toLowerCase())) checked.dataset = path.resolve(baseDir, checked.dataset);
  }
  return { ...checked, model: modelPath };
}

/** The value set at the most specific level of an `inspect()` result, if any. */
export function explicitValue<T>(i: { globalValue?: T; workspaceValue?: T; workspaceFolderValue?: T } | undefined): T | undefined {
  if (!i) return undefined;
  return i.workspaceFolderValue ?? i.workspaceValue ?? i.globalValue;
}
