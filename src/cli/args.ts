// A small, strict flag parser: every command declares its flags, so a typo is an error that names the flag
// and the closest known one, instead of being silently ignored.

import { UserError } from '../engine/errors';

export interface FlagSpec {
  /** Takes a value (`--steps 100`) or is a switch (`--peer`). */
  value: boolean;
  help: string;
}

export interface ParsedArgs {
  positional: string[];
  flags: Map<string, string | true>;
}

export function parseArgs(argv: string[], spec: Record<string, FlagSpec>, command: string): ParsedArgs {
  const positional: string[] = [];
  const flags = new Map<string, string | true>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('--') || a === '--') {
      positional.push(a);
      continue;
    }
    const eq = a.indexOf('=');
    const name = a.slice(2, eq < 0 ? undefined : eq);
    const s = spec[name];
    if (!s) {
      const near = closest(name, Object.keys(spec));
      throw new UserError(`bnlens ${command}: unknown flag --${name}${near ? `; did you mean --${near}?` : ''} (see bnlens ${command} --help)`);
    }
    if (!s.value) {
      flags.set(name, true);
      continue;
    }
    const v = eq >= 0 ? a.slice(eq + 1) : argv[++i];
    if (v === undefined || (eq < 0 && v.startsWith('--'))) throw new UserError(`bnlens ${command}: --${name} needs a value (${s.help})`);
    flags.set(name, v);
  }
  return { positional, flags };
}

export function numberFlag(args: ParsedArgs, name: string, command: string, opts: { integer?: boolean; min?: number; positive?: boolean } = {}): number | undefined {
  const v = args.flags.get(name);
  if (v === undefined) return undefined;
  const n = Number(v);
  const kind = opts.integer ? 'an integer' : 'a number';
  if (v === true || v.trim() === '' || !Number.isFinite(n) || (opts.integer && !Number.isInteger(n))) throw new UserError(`bnlens ${command}: --${name} must be ${kind}, got '${String(v)}'`);
  if (opts.positive && n <= 0) throw new UserError(`bnlens ${command}: --${name} must be greater than 0, got ${n}`);
  if (opts.min !== undefined && n < opts.min) throw new UserError(`bnlens ${command}: --${name} must be at least ${opts.min}, got ${n}`);
  return n;
}

export function listFlag(args: ParsedArgs, name: string, command: string): number[] | undefined {
  const v = args.flags.get(name);
  if (v === undefined) return undefined;
  const parts = String(v)
    .split(',')
    .map((s) => s.trim());
  const nums = parts.map(Number);
  const bad = parts.findIndex((p, i) => p === '' || !Number.isFinite(nums[i]));
  if (bad >= 0) throw new UserError(`bnlens ${command}: --${name} must be a comma-separated list of numbers, and '${parts[bad]}' is not a number`);
  return nums;
}

export function helpText(usage: string, spec: Record<string, FlagSpec>): string {
  const rows = Object.entries(spec).map(([k, s]) => `  --${k}${s.value ? ' <value>' : ''}`.padEnd(26) + s.help);
  return `${usage}\n\n${rows.join('\n')}\n`;
}

function closest(name: string, options: string[]): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  for (const o of options) {
    const d = editDistance(name, o);
    if (d < bestD) {
      bestD = d;
      best = o;
    }
  }
  return bestD <= Math.max(2, Math.floor(name.length / 3)) ? best : undefined;
}

function editDistance(a: string, b: string): number {
  const dp = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = dp[0];
    dp[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const t = dp[j];
      dp[j] = Math.min(dp[j] + 1, dp[j - 1] + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = t;
    }
  }
  return dp[b.length];
}
