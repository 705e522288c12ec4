// Runs `bnlens probe` exactly as a user would (node bin/bnlens.js probe …) and compares its JSON to a
// reference, field by field, with one documented tolerance rule.
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { HessianMeasure } from '../../src/protocol';

export const ROOT = resolve(__dirname, '..', '..');
export const BACKENDS = ['wasm', 'cpu'] as const;

export interface ProbeOutput {
  loss: number;
  gradNorm: number;
  eta: number[];
  lossAtEta: number[];
  gradChange: number[];
  betaAtEta: number[];
  beta: number;
  curvatureAtEta: number[];
  descentFreeCurvatureAtEta: (number | null)[];
  hessian?: HessianMeasure;
  ics: { layer: string; l2: number; cos: number }[];
  backend: string;
  tfjsVersion: string;
}

export function assertBuilt(): void {
  if (!existsSync(join(ROOT, 'dist', 'cli.js'))) throw new Error(`dist/cli.js is missing: build first with \`node esbuild.mjs\` in ${ROOT} (the test runs the built CLI through bin/bnlens.js)`);
}

export function tfjsCoreVersion(): string {
  return JSON.parse(readFileSync(join(ROOT, 'node_modules', '@tensorflow', 'tfjs-core', 'package.json'), 'utf8')).version;
}

/** BNLENS_PROBE_BIN (optional) runs another launcher instead of bin/bnlens.js — used only to test this harness. */
export function runProbe(args: string[]): Promise<ProbeOutput> {
  const bin = process.env.BNLENS_PROBE_BIN;
  if (!bin) assertBuilt();
  return new Promise((res, rej) => {
    execFile(process.execPath, [...(bin ? ['--import', 'tsx', bin] : [join(ROOT, 'bin', 'bnlens.js')]), 'probe', ...args], { cwd: ROOT, timeout: 180_000, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      if (err) return rej(new Error(`bnlens probe ${args.join(' ')} failed (${err.message.split('\n')[0]}):\n${stderr}`));
      try {
        res(JSON.parse(stdout));
      } catch {
        rej(new Error(`bnlens probe ${args.join(' ')}: stdout is not one JSON object:\n${stdout.slice(0, 2000)}\nstderr:\n${stderr}`));
      }
    });
  });
}

/**
 * Tolerance rule. A value `a` from the CLI matches the reference `r` when
 *     |a − r| ≤ RTOL · max(|r|, FLOOR · scale)          RTOL = 1e-3, FLOOR = 1e-3
 * i.e. 1e-3 relative, except that for a reference value that is tiny next to the natural scale of its field
 * (`scale`) the error is measured against FLOOR · scale instead, where float32 cannot do better than
 * absolute accuracy. Scales: loss, gradNorm, lossAtEta, gradChange, betaAtEta, beta: the value itself (pure
 * relative); ics.l2: ‖G‖, the layer's kernel-gradient norm at x (so the first layer's exact 0 allows an
 * absolute 1e-6·‖G‖); ics.cos is compared through 1 − cos (the informative part when cos ≈ 1) with scale 10,
 * i.e. |Δcos| ≤ 1e-3 · max(1 − cos, 1e-2), which is tighter than 1e-3 relative on cos itself.
 */
export const RTOL = 1e-3;
export const FLOOR = 1e-3;

export class Comparison {
  readonly failures: string[] = [];
  worst = { rel: 0, what: '' };
  constructor(private readonly label: string) {}

  check(what: string, actual: unknown, ref: number, scale = Math.abs(ref)): void {
    if (typeof actual !== 'number' || !Number.isFinite(actual)) {
      this.failures.push(`${what}: expected a finite number near ${ref}, got ${JSON.stringify(actual)}`);
      return;
    }
    const denom = Math.max(Math.abs(ref), FLOOR * scale) || Number.MIN_VALUE;
    const rel = Math.abs(actual - ref) / denom;
    if (rel > this.worst.rel) this.worst = { rel, what };
    if (!(rel <= RTOL)) this.failures.push(`${what}: CLI ${actual} vs reference ${ref} (error ${rel.toExponential(2)} > ${RTOL} of ${denom.toPrecision(4)})`);
  }

  checkCos(what: string, actual: unknown, ref: number): void {
    this.check(`${what} (as 1−cos)`, typeof actual === 'number' ? 1 - actual : actual, 1 - ref, 10);
  }

  fail(msg: string): void {
    this.failures.push(msg);
  }

  report(): string {
    return `${this.label}: worst error ${this.worst.rel.toExponential(2)} (${this.worst.what})` + (this.failures.length ? `\n  FAIL ${this.failures.join('\n  FAIL ')}` : '');
  }
}
