// Keras / TensorFlow.js initializers, reproduced with our seeded generator so a topology-only file gets
// the same weights for the same --seed on every backend. Each (layer, role) draws from its own stream,
// which is what lets every variant share the initial weights of the layers they have in common.

import { UserError } from '../errors';
import { Rng } from '../rng';
import type { InitializerSpec } from './ir';

export interface Fans {
  fanIn: number;
  fanOut: number;
}

export function fansOf(shape: number[]): Fans {
  if (shape.length === 2) return { fanIn: shape[0], fanOut: shape[1] };
  if (shape.length === 4) {
    const rf = shape[0] * shape[1];
    return { fanIn: shape[2] * rf, fanOut: shape[3] * rf };
  }
  const n = shape.reduce((a, b) => a * b, 1);
  return { fanIn: n, fanOut: n };
}

/** Stable 32-bit hash of a string (FNV-1a), to derive a per-parameter stream from its name. */
export function streamOf(key: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

type Dist = 'uniform' | 'truncated_normal' | 'normal';

interface Normalized {
  kind: 'constant' | 'uniform' | 'normal' | 'truncated' | 'scaling' | 'identity' | 'torch';
  value?: number;
  lo?: number;
  hi?: number;
  mean?: number;
  std?: number;
  scale?: number;
  mode?: 'fan_in' | 'fan_out' | 'fan_avg';
  dist?: Dist;
}

function normalize(init: InitializerSpec, where: string): Normalized {
  const c = init.config;
  const num = (k: string, d: number) => (typeof c[k] === 'number' ? (c[k] as number) : d);
  const name = init.className.replace(/_/g, '').toLowerCase();
  switch (name) {
    case 'zeros':
    case 'zero':
      return { kind: 'constant', value: 0 };
    case 'ones':
    case 'one':
      return { kind: 'constant', value: 1 };
    case 'constant':
      return { kind: 'constant', value: num('value', 0) };
    case 'randomuniform':
    case 'uniform':
      return { kind: 'uniform', lo: num('minval', -0.05), hi: num('maxval', 0.05) };
    case 'randomnormal':
    case 'normal':
      return { kind: 'normal', mean: num('mean', 0), std: num('stddev', 0.05) };
    case 'truncatednormal':
      return { kind: 'truncated', mean: num('mean', 0), std: num('stddev', 0.05) };
    case 'glorotuniform':
      return { kind: 'scaling', scale: 1, mode: 'fan_avg', dist: 'uniform' };
    case 'glorotnormal':
      return { kind: 'scaling', scale: 1, mode: 'fan_avg', dist: 'truncated_normal' };
    case 'heuniform':
      return { kind: 'scaling', scale: 2, mode: 'fan_in', dist: 'uniform' };
    case 'henormal':
      return { kind: 'scaling', scale: 2, mode: 'fan_in', dist: 'truncated_normal' };
    case 'lecununiform':
      return { kind: 'scaling', scale: 1, mode: 'fan_in', dist: 'uniform' };
    case 'lecunnormal':
      return { kind: 'scaling', scale: 1, mode: 'fan_in', dist: 'truncated_normal' };
    case 'variancescaling': {
      const mode = (c.mode as string) ?? 'fan_in';
      let dist = ((c.distribution as string) ?? 'truncated_normal') as string;
      if (dist === 'untruncated_normal') dist = 'normal';
      else if (dist === 'normal') dist = 'truncated_normal'; // Keras 2 / tfjs: 'normal' means truncated
      return { kind: 'scaling', scale: num('scale', 1), mode: mode as Normalized['mode'], dist: dist as Dist };
    }
    case 'identity':
      return { kind: 'identity', value: num('gain', 1) };
    case 'torchdefault':
      return { kind: 'torch' };
    default:
      throw new UserError(`${where} uses initializer ${init.className}, which BatchNorm Lens cannot reproduce; use GlorotUniform, HeNormal, RandomNormal, … or save the weights with the model`);
  }
}

/**
 * Draw a tensor's initial values. `fanShape` is the shape whose fan-in applies when it is not the tensor's
 * own: PyTorch bounds a bias by its weight's fan-in.
 */
export function initialize(init: InitializerSpec, shape: number[], rng: Rng, where: string, fanShape: number[] = shape): Float32Array {
  const n = shape.reduce((a, b) => a * b, 1);
  const out = new Float32Array(n);
  const s = normalize(init, where);
  const truncated = (mean: number, std: number) => {
    for (;;) {
      const z = rng.normal();
      if (Math.abs(z) <= 2) return mean + std * z;
    }
  };
  switch (s.kind) {
    case 'constant':
      out.fill(s.value!);
      break;
    case 'uniform':
      for (let i = 0; i < n; i++) out[i] = rng.range(s.lo!, s.hi!);
      break;
    case 'normal':
      for (let i = 0; i < n; i++) out[i] = s.mean! + s.std! * rng.normal();
      break;
    case 'truncated':
      for (let i = 0; i < n; i++) out[i] = truncated(s.mean!, s.std!);
      break;
    case 'torch': {
      // kaiming_uniform_(a=√5): gain √(2/(1+a²)) = √(1/3), bound = gain·√(3/fan_in) = 1/√fan_in; a bias
      // draws from the same bound with its weight's fan-in (0 when the fan-in is 0, as in torch).
      const { fanIn } = fansOf(fanShape);
      const bound = fanIn > 0 ? 1 / Math.sqrt(fanIn) : 0;
      for (let i = 0; i < n; i++) out[i] = rng.range(-bound, bound);
      break;
    }
    case 'identity': {
      if (shape.length !== 2) throw new UserError(`${where} uses the Identity initializer on a non-matrix weight`);
      for (let i = 0; i < Math.min(shape[0], shape[1]); i++) out[i * shape[1] + i] = s.value!;
      break;
    }
    case 'scaling': {
      const { fanIn, fanOut } = fansOf(shape);
      const denom = s.mode === 'fan_in' ? fanIn : s.mode === 'fan_out' ? fanOut : (fanIn + fanOut) / 2;
      const variance = s.scale! / Math.max(1, denom);
      if (s.dist === 'uniform') {
        const limit = Math.sqrt(3 * variance);
        for (let i = 0; i < n; i++) out[i] = rng.range(-limit, limit);
      } else if (s.dist === 'normal') {
        const std = Math.sqrt(variance);
        for (let i = 0; i < n; i++) out[i] = std * rng.normal();
      } else {
        // Keras divides by the std of a unit normal truncated at ±2 so the variance comes out as asked.
        const std = Math.sqrt(variance) / 0.8796256610342398;
        for (let i = 0; i < n; i++) out[i] = truncated(0, std);
      }
      break;
    }
  }
  return out;
}

export function initialValues(init: InitializerSpec, shape: number[], seed: number, key: string, where: string, fanShape?: number[]): Float32Array {
  return initialize(init, shape, new Rng(seed, streamOf(key)), where, fanShape);
}
