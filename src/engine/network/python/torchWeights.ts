// A PyTorch state_dict (from a .safetensors file) onto the IR's `layer/role` weights, converted to the
// engine's layout: Linear [out, in] → kernel [in, out], Conv2d OIHW → HWIO, BatchNorm weight/bias →
// gamma/beta and running_mean/var → moving statistics. Every key is checked: missing, extra or mis-shaped
// keys are one line naming the key and both shapes.

import { basename } from 'node:path';
import { UserError } from '../../errors';
import type { LayerNode } from '../ir';
import { linearToKernel, oihwToHwio, type ConvertedWeight } from '../layout';
import type { StoredTensor } from '../safetensors';
import type { TorchModule } from './torch';

interface Expected {
  key: string;
  shape: number[];
  convert: (v: Float64Array) => ConvertedWeight | null;
}

export function torchWeights(layers: LayerNode[], modules: TorchModule[], stored: Map<string, StoredTensor>, weightsFile: string, modelName: string): ConvertedWeight[] {
  const byName = new Map(layers.map((l) => [l.name, l]));
  // DataParallel saves every key under "module.".
  const keys = [...stored.keys()];
  const strip = keys.length > 0 && keys.every((k) => k.startsWith('module.'));
  const get = (k: string) => stored.get(strip ? `module.${k}` : k);
  const expected: Expected[] = [];
  const known = new Set<string>();
  const f32 = (v: Float64Array) => Float32Array.from(v);
  for (const m of modules) {
    const p = m.path ?? '';
    const at = (s: string) => (p ? `${p}.${s}` : s);
    const layer = byName.get(p);
    const c = m.cfg;
    const used = layer !== undefined;
    const add = (key: string, shape: number[], convert: Expected['convert']) => {
      known.add(key);
      if (used) expected.push({ key, shape, convert });
    };
    if (m.type === 'Linear') {
      const out = Number(c.out_features);
      const inp = Number(c.in_features);
      add(at('weight'), [out, inp], (v) => ({ layer: p, role: 'kernel', shape: [inp, out], values: linearToKernel(v, [out, inp]) }));
      if (c.bias !== false && c.bias !== null) add(at('bias'), [out], (v) => ({ layer: p, role: 'bias', shape: [out], values: f32(v) }));
    } else if (m.type === 'Conv2d') {
      const o = Number(c.out_channels);
      // Grouped (and depthwise) convolutions: each filter sees in_channels / groups channels.
      const i = Number(c.in_channels) / Number(c.groups ?? 1);
      const [kh, kw] = typeof c.kernel_size === 'number' ? [c.kernel_size, c.kernel_size] : (c.kernel_size as { items: number[] }).items;
      add(at('weight'), [o, i, kh, kw], (v) => ({ layer: p, role: 'kernel', shape: [kh, kw, i, o], values: oihwToHwio(v, [o, i, kh, kw]) }));
      if (c.bias !== false && c.bias !== null) add(at('bias'), [o], (v) => ({ layer: p, role: 'bias', shape: [o], values: f32(v) }));
    } else if (m.type === 'BatchNorm1d' || m.type === 'BatchNorm2d') {
      const n = Number(c.num_features);
      if (c.affine !== false) {
        add(at('weight'), [n], (v) => ({ layer: p, role: 'gamma', shape: [n], values: f32(v) }));
        add(at('bias'), [n], (v) => ({ layer: p, role: 'beta', shape: [n], values: f32(v) }));
      }
      add(at('running_mean'), [n], (v) => ({ layer: p, role: 'moving_mean', shape: [n], values: f32(v) }));
      add(at('running_var'), [n], (v) => ({ layer: p, role: 'moving_variance', shape: [n], values: f32(v) }));
      known.add(at('num_batches_tracked'));
    }
  }
  const file = basename(weightsFile);
  for (const k of keys) {
    const bare = strip ? k.slice('module.'.length) : k;
    if (!known.has(bare)) throw new UserError(`"${k}" in ${file} is not a parameter of ${modelName} (is it the state_dict of another model or of a different --model?)`, weightsFile);
  }
  const out: ConvertedWeight[] = [];
  for (const e of expected) {
    const t = get(e.key);
    if (!t) throw new UserError(`${file} has no "${e.key}" (shape [${e.shape.join(', ')}]); save the whole model.state_dict()`, weightsFile);
    if (t.shape.join() !== e.shape.join())
      throw new UserError(`"${e.key}" has shape [${t.shape.join(', ')}] in ${file} but ${modelName} needs [${e.shape.join(', ')}]; the weights belong to a different configuration`, weightsFile);
    const w = e.convert(t.values);
    if (w) out.push(w);
  }
  return out;
}
