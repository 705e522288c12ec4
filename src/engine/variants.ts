// The networks a run compares, derived from the file as written, so that the only difference between
// them is the normalization (Santurkar et al. Sec. 2–3):
//   standard         every BatchNormalization removed (a layer whose bias BatchNorm made redundant gets it back)
//   batchnorm        the standard network with BatchNorm after every Dense/Conv2D but the output, before the
//                    nonlinearity (a fused activation is split into its own Activation layer), bias dropped
//   noisy-batchnorm  batchnorm with Algorithm 1's noise after every BatchNorm
//   l1, l2, linf     batchnorm with ℓp normalization in place of BatchNorm (see lpnorm in forward.ts)
//   as-written       the file itself, when it differs from all of the above
// Layers keep their names, so the layers variants share draw the same initial weights from the seed; a
// layer a variant adds records the file layer it follows (`derivedFrom`), which the hover uses.

import type { VariantName } from '../protocol';
import { UserError } from './errors';
import { defaultsOf, type FrameworkDefaults } from './network/frameworks';
import type { LayerNode, NetworkSpec } from './network/ir';

export interface Variant {
  name: VariantName;
  description: string;
  layers: LayerNode[];
  outputs: string[];
}

export const LP_EPSILON = 1e-3;

const DESCRIPTIONS: Record<VariantName, string> = {
  'as-written': 'the network exactly as the file defines it',
  standard: 'no normalization: every BatchNormalization layer removed',
  batchnorm: 'BatchNorm after every Dense/Conv2D (and depthwise/separable conv) except the output, before the nonlinearity (bias dropped)',
  'noisy-batchnorm': 'BatchNorm followed by time-varying random noise (Santurkar et al. Algorithm 1: n_μ 0.5, n_σ 1.25, r_μ = r_σ 0.1)',
  l1: 'ℓ1 normalization: (x − mean) / mean|x| per unit, with learnable scale and shift',
  l2: 'ℓ2 normalization: (x − mean) / √mean(x²) per unit, with learnable scale and shift',
  linf: 'ℓ∞ normalization: (x − mean) / max|x| per unit, with learnable scale and shift',
};

export function deriveVariants(spec: NetworkSpec, names: VariantName[]): Variant[] {
  const seen = new Set<string>();
  for (const n of names) {
    if (!DESCRIPTIONS[n]) throw new UserError(`unknown variant '${n}'; choose from ${Object.keys(DESCRIPTIONS).join(', ')}`);
    if (seen.has(n)) throw new UserError(`variant '${n}' is listed twice`);
    seen.add(n);
  }
  const out = spec.outputs[0];
  const standard = removeBatchNorm(spec.layers);
  const fw = defaultsOf(spec);
  const make = (kind: 'bn' | 'noisy' | 1 | 2 | 'inf') => insertNormalization(standard, out, kind, fw);
  const build: Record<VariantName, () => LayerNode[]> = {
    'as-written': () => spec.layers,
    standard: () => standard,
    batchnorm: () => make('bn'),
    'noisy-batchnorm': () => make('noisy'),
    l1: () => make(1),
    l2: () => make(2),
    linf: () => make('inf'),
  };
  const variants = names.map((name) => ({ name, description: DESCRIPTIONS[name], layers: build[name](), outputs: spec.outputs }));
  return variants;
}

/** Whether the file as written is one of the derived networks already (then as-written adds nothing). */
export function asWrittenIsDistinct(spec: NetworkSpec): boolean {
  const sig = signature(spec.layers);
  const standard = removeBatchNorm(spec.layers);
  const others = [standard, ...(['bn', 'noisy', 1, 2, 'inf'] as const).map((k) => insertNormalization(standard, spec.outputs[0], k, defaultsOf(spec)))];
  return !others.some((o) => signature(o) === sig);
}

function signature(layers: LayerNode[]): string {
  return JSON.stringify(
    layers.map((l) => {
      const { name: _n, derivedFrom: _d, className: _c, inbound, ...rest } = l as LayerNode & { [k: string]: unknown };
      return { ...rest, inbound: inbound.length };
    }),
  );
}

/** Layers with a kernel and a fused bias/activation: BatchNorm goes after each (depthwise and separable too). */
function isWeighted(l: LayerNode): l is Extract<LayerNode, { kind: 'dense' | 'conv2d' | 'depthwise' | 'separable' }> {
  return l.kind === 'dense' || l.kind === 'conv2d' || l.kind === 'depthwise' || l.kind === 'separable';
}

function removeBatchNorm(layers: LayerNode[]): LayerNode[] {
  const replace = new Map<string, string>();
  const regainBias = new Set<string>();
  const byName = new Map(layers.map((l) => [l.name, l]));
  const resolve = (n: string): string => (replace.has(n) ? resolve(replace.get(n)!) : n);
  for (const l of layers) {
    if (l.kind !== 'batchnorm') continue;
    const src = resolve(l.inbound[0]);
    replace.set(l.name, src);
    const before = byName.get(src);
    if (before && isWeighted(before) && !before.useBias) regainBias.add(before.name);
  }
  return layers
    .filter((l) => l.kind !== 'batchnorm')
    .map((l) => {
      const inbound = l.inbound.map(resolve);
      if (isWeighted(l) && regainBias.has(l.name)) return { ...l, inbound, useBias: true };
      return { ...l, inbound };
    });
}

/** BatchNorm as the file's framework makes it (PyTorch: eps 1e-5, unbiased running variance, BatchNorm1d/2d). */
function insertNormalization(standard: LayerNode[], output: string, kind: 'bn' | 'noisy' | 1 | 2 | 'inf', fw: FrameworkDefaults): LayerNode[] {
  const result: LayerNode[] = [];
  const rename = new Map<string, string>();
  const names = new Set(standard.map((l) => l.name));
  const fresh = (base: string) => {
    let n = base;
    for (let i = 2; names.has(n); i++) n = `${base}_${i}`;
    names.add(n);
    return n;
  };
  for (const l of standard) {
    const inbound = l.inbound.map((n) => rename.get(n) ?? n);
    if (!isWeighted(l) || l.name === output) {
      result.push({ ...l, inbound });
      continue;
    }
    result.push({ ...l, inbound, useBias: false, activation: 'linear' });
    const normName = fresh(`${l.name}_${kind === 'bn' || kind === 'noisy' ? 'bn' : `l${kind}`}`);
    const norm: LayerNode =
      kind === 'bn' || kind === 'noisy'
        ? {
            kind: 'batchnorm',
            name: normName,
            className: fw.bnClassName(l.kind),
            inbound: [l.name],
            derivedFrom: l.name,
            axis: -1,
            epsilon: fw.bnEpsilon,
            momentum: fw.insertedBnMomentum,
            center: true,
            scale: true,
            ...(kind === 'noisy' ? { noisy: true } : {}),
            ...(fw.unbiasedMovingVariance ? { unbiasedMovingVariance: true } : {}),
          }
        : { kind: 'lpnorm', name: normName, className: `L${kind === 'inf' ? '∞' : kind}Normalization`, inbound: [l.name], derivedFrom: l.name, p: kind, epsilon: LP_EPSILON };
    result.push(norm);
    let last = normName;
    if (l.activation !== 'linear') {
      const actName = fresh(`${l.name}_act`);
      result.push({ kind: 'activation', name: actName, className: 'Activation', inbound: [normName], derivedFrom: l.name, activation: l.activation });
      last = actName;
    }
    rename.set(l.name, last);
  }
  return result;
}
