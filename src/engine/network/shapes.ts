// Shape inference and the list of trainable parameters, derived from the IR alone (no tfjs): the engine
// allocates weights from it, the hover shows output shapes and parameter counts from it.

import { UserError } from '../errors';
import type { LayerNode } from './ir';
import { locate } from './parse';

/** 'kernel' is a layer's main kernel (the depthwise one of Depthwise/SeparableConv2D); 'pointwise' the 1×1 of SeparableConv2D. */
export type ParamRole = 'kernel' | 'pointwise' | 'bias' | 'gamma' | 'beta';

export interface ParamSpec {
  layer: string;
  role: ParamRole;
  shape: number[];
}

export interface StateSpec {
  layer: string;
  role: 'moving_mean' | 'moving_variance';
  shape: number[];
}

export interface ShapeInfo {
  /** Output shape of every layer, without the batch dimension. */
  shapes: Map<string, number[]>;
  /** Trainable parameters in model order (per layer: kernel, bias / gamma, beta). */
  params: ParamSpec[];
  /** Non-trainable state (BatchNorm moving statistics). */
  state: StateSpec[];
}

const prod = (s: number[]) => s.reduce((a, b) => a * b, 1);

export function inferShapes(layers: LayerNode[], file: string, text?: string): ShapeInfo {
  const shapes = new Map<string, number[]>();
  const params: ParamSpec[] = [];
  const state: StateSpec[] = [];
  const err = (l: LayerNode, msg: string): never => {
    const at = text ? locate(text, `"${l.derivedFrom ?? l.name}"`) : undefined;
    throw new UserError(msg, file, at?.line, at?.column);
  };
  for (const l of layers) {
    const ins = l.inbound.map((n) => shapes.get(n)!);
    const x = ins[0];
    const want = (rank: number, what: string) => {
      if (x.length !== rank) err(l, `${l.className} layer "${l.name}" receives shape [${x.join(', ')}] but needs ${what}`);
    };
    let out: number[];
    switch (l.kind) {
      case 'input':
        out = l.shape;
        break;
      case 'dense':
        if (x.length !== 1) err(l, `Dense layer "${l.name}" receives shape [${x.join(', ')}]; add a Flatten layer before it`);
        params.push({ layer: l.name, role: 'kernel', shape: [x[0], l.units] });
        if (l.useBias) params.push({ layer: l.name, role: 'bias', shape: [l.units] });
        out = [l.units];
        break;
      case 'conv2d':
      case 'depthwise':
      case 'separable': {
        want(3, 'an image of shape [height, width, channels]');
        const [h, w, c] = x;
        const [kh, kw] = l.kernelSize;
        const [sh, sw] = l.strides;
        const [dh, dw] = l.dilation;
        const pads = l.kind === 'conv2d' ? l.pads : undefined;
        const [pt, pb, pl, pr] = pads ?? [0, 0, 0, 0];
        const size = (n: number, k: number, s: number, d: number) => (l.padding === 'same' && !pads ? Math.ceil(n / s) : Math.floor((n - (k - 1) * d - 1) / s) + 1);
        const channels = l.kind === 'depthwise' ? c * l.depthMultiplier : l.filters;
        out = [size(h + pt + pb, kh, sh, dh), size(w + pl + pr, kw, sw, dw), channels];
        if (out[0] <= 0 || out[1] <= 0) err(l, `${l.className} layer "${l.name}" with kernel ${kh}×${kw} does not fit its ${h}×${w} input; use padding "same" or a smaller kernel`);
        if (l.kind === 'conv2d') {
          const groups = l.groups ?? 1;
          if (c % groups !== 0) err(l, `Conv2D layer "${l.name}" has groups ${groups}, which does not divide its ${c} input channels`);
          if (l.filters % groups !== 0) err(l, `Conv2D layer "${l.name}" has groups ${groups}, which does not divide its ${l.filters} filters`);
          params.push({ layer: l.name, role: 'kernel', shape: [kh, kw, c / groups, l.filters] });
        } else {
          params.push({ layer: l.name, role: 'kernel', shape: [kh, kw, c, l.depthMultiplier] });
          if (l.kind === 'separable') params.push({ layer: l.name, role: 'pointwise', shape: [1, 1, c * l.depthMultiplier, l.filters] });
        }
        if (l.useBias) params.push({ layer: l.name, role: 'bias', shape: [channels] });
        break;
      }
      case 'zeropad':
      case 'crop':
      case 'upsample': {
        want(3, 'an image of shape [height, width, channels]');
        const [h, w, c] = x;
        if (l.kind === 'upsample') out = [h * l.size[0], w * l.size[1], c];
        else {
          const sign = l.kind === 'zeropad' ? 1 : -1;
          const [[t, b], [le, r]] = l.kind === 'zeropad' ? l.padding : l.cropping;
          out = [h + sign * (t + b), w + sign * (le + r), c];
          if (out[0] <= 0 || out[1] <= 0) err(l, `Cropping2D layer "${l.name}" removes more than its ${h}×${w} input has`);
        }
        break;
      }
      case 'normalize': {
        const c = x[x.length - 1];
        for (const [what, v] of [
          ['mean', l.mean],
          ['variance', l.variance],
        ] as const)
          if (v && v.length !== 1 && v.length !== c) err(l, `Normalization layer "${l.name}" has ${v.length} ${what} values for ${c} features; give one or ${c}`);
        out = x;
        break;
      }
      case 'batchnorm':
      case 'lpnorm': {
        if (l.kind === 'batchnorm' && l.axis !== -1 && l.axis !== x.length) err(l, `BatchNormalization layer "${l.name}" uses axis ${l.axis}; only the last axis (${x.length} or -1) is supported`);
        const c = x[x.length - 1];
        const hasScale = l.kind === 'lpnorm' || l.scale;
        const hasCenter = l.kind === 'lpnorm' || l.center;
        if (hasScale) params.push({ layer: l.name, role: 'gamma', shape: [c] });
        if (hasCenter) params.push({ layer: l.name, role: 'beta', shape: [c] });
        if (l.kind === 'batchnorm') {
          state.push({ layer: l.name, role: 'moving_mean', shape: [c] }, { layer: l.name, role: 'moving_variance', shape: [c] });
        }
        out = x;
        break;
      }
      case 'pool': {
        want(3, 'an image of shape [height, width, channels]');
        const [h, w, c] = x;
        const [pt, pb, pl, pr] = l.pads ?? [0, 0, 0, 0];
        const size = (n: number, k: number, s: number) => (l.padding === 'same' && !l.pads ? Math.ceil(n / s) : Math.floor((n - k) / s) + 1);
        out = [size(h + pt + pb, l.poolSize[0], l.strides[0]), size(w + pl + pr, l.poolSize[1], l.strides[1]), c];
        if (out[0] <= 0 || out[1] <= 0) err(l, `${l.className} layer "${l.name}" with pool ${l.poolSize.join('×')} does not fit its ${h}×${w} input`);
        break;
      }
      case 'globalpool':
        want(3, 'an image of shape [height, width, channels]');
        out = [x[2]];
        break;
      case 'flatten':
        out = [prod(x)];
        break;
      case 'reshape': {
        const known = l.targetShape.filter((d) => d !== -1);
        const total = prod(x);
        const free = total / prod(known);
        out = l.targetShape.map((d) => (d === -1 ? free : d));
        if (prod(out) !== total || !Number.isInteger(free)) err(l, `Reshape layer "${l.name}" cannot reshape [${x.join(', ')}] to [${l.targetShape.join(', ')}]`);
        break;
      }
      case 'add':
        for (const s of ins) if (s.join() !== x.join()) err(l, `Add layer "${l.name}" adds shapes [${x.join(', ')}] and [${s.join(', ')}]; they must be equal`);
        out = x;
        break;
      case 'concatenate': {
        const axis = l.axis < 0 ? x.length + l.axis : l.axis - 1;
        out = [...x];
        out[axis] = 0;
        for (const s of ins) {
          if (s.length !== x.length || s.some((d, i) => i !== axis && d !== x[i])) err(l, `Concatenate layer "${l.name}" joins shapes that differ outside axis ${l.axis}`);
          out[axis] += s[axis];
        }
        break;
      }
      default:
        out = x;
    }
    shapes.set(l.name, out);
  }
  return { shapes, params, state };
}

export function paramCount(info: ShapeInfo, layer: string): number {
  const count = (s: { layer: string; shape: number[] }[]) => s.filter((p) => p.layer === layer).reduce((a, p) => a + prod(p.shape), 0);
  return count(info.params) + count(info.state);
}
