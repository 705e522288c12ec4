// Independent float64 reference for `bnlens probe`: forward + hand-written backprop in plain loops on
// Float64Array, and the probes of Santurkar et al. 2018 (docs/metrics.md) computed straight
// from their definitions. Deliberately imports nothing from src/ and nothing of TensorFlow.js.
//
// Conventions (those of tfjs-layers / Keras):
// - tensors are row-major, batch first, images NHWC;
// - Dense kernel [in, out]; Conv2D kernel [kh, kw, in, out]; padding 'same' follows TF's rule
//   (out = ceil(in/s), total pad = max((out-1)·s + k − in, 0), floor(total/2) before, the rest after);
// - BatchNormalization is always in training mode: statistics over every axis but the last, biased
//   variance, y = γ·(x − μ)/√(σ² + ε) + β;
// - AveragePooling2D with 'same' averages over the in-bounds elements only (TF semantics);
// - Dropout is the identity (the probes evaluate deterministically);
// - DepthwiseConv2D kernel [kh, kw, in, multiplier], output channel c·multiplier + m; SeparableConv2D is that
//   (no bias) followed by a 1×1 pointwise kernel [1, 1, in·multiplier, filters] and the bias; a Conv2D with
//   `groups` g splits input channels and filters into g consecutive blocks, kernel [kh, kw, in/g, filters];
// - ZeroPadding2D / Cropping2D take [[top, bottom], [left, right]]; UpSampling2D repeats pixels (nearest);
//   Rescaling is x·scale + offset;
// - binary-ce: one logit z per example (a final sigmoid is skipped), labels 0/1,
//   loss = mean(max(z, 0) − z·y + log(1 + e^−|z|)) — the same value as −mean(y·log σ(z) + (1−y)·log(1−σ(z))).

export type Act = 'linear' | 'relu' | 'softmax' | 'sigmoid';
export type Padding = 'valid' | 'same';
export type LossName = 'softmax-ce' | 'mse' | 'binary-ce';
type Pads = [[number, number], [number, number]];

export type Layer =
  | { kind: 'dense'; name: string; units: number; activation: Act; kernel: Float64Array; bias: Float64Array | null }
  | {
      kind: 'conv2d';
      name: string;
      filters: number;
      kernelSize: [number, number];
      strides: [number, number];
      padding: Padding;
      activation: Act;
      kernel: Float64Array;
      bias: Float64Array | null;
      groups?: number;
    }
  | {
      kind: 'depthwise';
      name: string;
      multiplier: number;
      kernelSize: [number, number];
      strides: [number, number];
      padding: Padding;
      activation: Act;
      kernel: Float64Array;
      bias: Float64Array | null;
    }
  | {
      kind: 'separable';
      name: string;
      multiplier: number;
      filters: number;
      kernelSize: [number, number];
      strides: [number, number];
      padding: Padding;
      activation: Act;
      kernel: Float64Array;
      pointwise: Float64Array;
      bias: Float64Array | null;
    }
  | { kind: 'zeropad'; name: string; pads: Pads }
  | { kind: 'crop'; name: string; pads: Pads }
  | { kind: 'upsample'; name: string; size: [number, number] }
  | { kind: 'rescale'; name: string; scale: number; offset: number }
  | { kind: 'batchnorm'; name: string; epsilon: number; gamma: Float64Array | null; beta: Float64Array | null }
  | { kind: 'activation'; name: string; activation: Act }
  | { kind: 'pool'; name: string; op: 'max' | 'avg'; poolSize: [number, number]; strides: [number, number]; padding: Padding }
  | { kind: 'globalavgpool'; name: string }
  | { kind: 'flatten'; name: string }
  | { kind: 'dropout'; name: string };

export interface Net64 {
  /** Shape of one example (no batch dimension). */
  inputShape: number[];
  /** Layers in model order (a chain). */
  layers: Layer[];
}

export interface T64 {
  shape: number[];
  data: Float64Array;
}

export type ParamRole = 'kernel' | 'pointwise' | 'bias' | 'gamma' | 'beta';
export interface ParamRef {
  layer: number;
  layerName: string;
  role: ParamRole;
}

const prod = (a: number[]): number => a.reduce((p, v) => p * v, 1);

/** Trainable weights in model order; within a layer kernel, bias (Dense/Conv2D) or gamma, beta (BN). */
export function paramRefs(net: Net64): ParamRef[] {
  const out: ParamRef[] = [];
  net.layers.forEach((l, i) => {
    if (l.kind === 'dense' || l.kind === 'conv2d' || l.kind === 'depthwise' || l.kind === 'separable') {
      out.push({ layer: i, layerName: l.name, role: 'kernel' });
      if (l.kind === 'separable') out.push({ layer: i, layerName: l.name, role: 'pointwise' });
      if (l.bias) out.push({ layer: i, layerName: l.name, role: 'bias' });
    } else if (l.kind === 'batchnorm') {
      if (l.gamma) out.push({ layer: i, layerName: l.name, role: 'gamma' });
      if (l.beta) out.push({ layer: i, layerName: l.name, role: 'beta' });
    }
  });
  return out;
}

function getParam(net: Net64, r: ParamRef): Float64Array {
  const l = net.layers[r.layer] as Record<string, unknown>;
  return l[r.role] as Float64Array;
}

export function getParams(net: Net64): Float64Array[] {
  return paramRefs(net).map((r) => getParam(net, r));
}

/** A copy of `net` whose trainable weights are `values` (in paramRefs order). */
export function withParams(net: Net64, values: Float64Array[]): Net64 {
  const layers = net.layers.map((l) => ({ ...l })) as Layer[];
  paramRefs(net).forEach((r, k) => {
    (layers[r.layer] as Record<string, unknown>)[r.role] = values[k];
  });
  return { inputShape: net.inputShape.slice(), layers };
}

// ---------- geometry ----------

/** Output size and padding-before of one spatial axis, TF's rule. */
export function axisGeometry(inSize: number, k: number, s: number, padding: Padding): { out: number; before: number } {
  if (padding === 'valid') {
    const out = Math.ceil((inSize - k + 1) / s);
    if (out <= 0) throw new Error(`valid window ${k} larger than input ${inSize}`);
    return { out, before: 0 };
  }
  const out = Math.ceil(inSize / s);
  const total = Math.max((out - 1) * s + k - inSize, 0);
  return { out, before: Math.floor(total / 2) };
}

// ---------- activations ----------

function actForward(act: Act, z: Float64Array, lastDim: number): Float64Array {
  const y = new Float64Array(z.length);
  if (act === 'linear') y.set(z);
  else if (act === 'relu') for (let i = 0; i < z.length; i++) y[i] = z[i] > 0 ? z[i] : 0;
  else if (act === 'sigmoid') for (let i = 0; i < z.length; i++) y[i] = 1 / (1 + Math.exp(-z[i]));
  else {
    for (let r = 0; r < z.length / lastDim; r++) {
      let m = -Infinity;
      for (let j = 0; j < lastDim; j++) m = Math.max(m, z[r * lastDim + j]);
      let s = 0;
      for (let j = 0; j < lastDim; j++) s += y[r * lastDim + j] = Math.exp(z[r * lastDim + j] - m);
      for (let j = 0; j < lastDim; j++) y[r * lastDim + j] /= s;
    }
  }
  return y;
}

function actBackward(act: Act, z: Float64Array, y: Float64Array, dy: Float64Array, lastDim: number): Float64Array {
  if (act === 'linear') return dy;
  const dz = new Float64Array(z.length);
  if (act === 'relu') for (let i = 0; i < z.length; i++) dz[i] = z[i] > 0 ? dy[i] : 0;
  else if (act === 'sigmoid') for (let i = 0; i < z.length; i++) dz[i] = dy[i] * y[i] * (1 - y[i]);
  else {
    for (let r = 0; r < z.length / lastDim; r++) {
      let dot = 0;
      for (let j = 0; j < lastDim; j++) dot += dy[r * lastDim + j] * y[r * lastDim + j];
      for (let j = 0; j < lastDim; j++) dz[r * lastDim + j] = y[r * lastDim + j] * (dy[r * lastDim + j] - dot);
    }
  }
  return dz;
}

// ---------- layers ----------

interface Cache {
  x: T64;
  z?: Float64Array;
  y?: Float64Array;
  act?: Act;
  xhat?: Float64Array;
  invStd?: Float64Array;
  argmax?: Int32Array;
  /** SeparableConv2D: the depthwise output (input of the pointwise step). */
  mid?: T64;
}

interface Grads {
  kernel?: Float64Array;
  pointwise?: Float64Array;
  bias?: Float64Array;
  gamma?: Float64Array;
  beta?: Float64Array;
}

function layerForward(l: Layer, x: T64, actOverride: Act | null): { y: T64; cache: Cache } {
  const cache: Cache = { x };
  switch (l.kind) {
    case 'dense': {
      const inDim = x.shape[x.shape.length - 1];
      const rows = x.data.length / inDim;
      const out = l.units;
      if (l.kernel.length !== inDim * out) throw new Error(`${l.name}: kernel size mismatch`);
      const z = new Float64Array(rows * out);
      for (let r = 0; r < rows; r++)
        for (let o = 0; o < out; o++) {
          let s = l.bias ? l.bias[o] : 0;
          for (let i = 0; i < inDim; i++) s += x.data[r * inDim + i] * l.kernel[i * out + o];
          z[r * out + o] = s;
        }
      const act = actOverride ?? l.activation;
      const y = actForward(act, z, out);
      Object.assign(cache, { z, y, act });
      return { y: { shape: [...x.shape.slice(0, -1), out], data: y }, cache };
    }
    case 'conv2d': {
      const [N, H, W, C] = x.shape;
      const [kh, kw] = l.kernelSize;
      const [sh, sw] = l.strides;
      const F = l.filters;
      const G = l.groups ?? 1;
      const Cg = C / G,
        Fg = F / G;
      if (l.kernel.length !== kh * kw * Cg * F) throw new Error(`${l.name}: kernel size mismatch`);
      const gh = axisGeometry(H, kh, sh, l.padding);
      const gw = axisGeometry(W, kw, sw, l.padding);
      const OH = gh.out,
        OW = gw.out;
      const z = new Float64Array(N * OH * OW * F);
      for (let n = 0; n < N; n++)
        for (let oh = 0; oh < OH; oh++)
          for (let ow = 0; ow < OW; ow++)
            for (let f = 0; f < F; f++) {
              let s = l.bias ? l.bias[f] : 0;
              for (let i = 0; i < kh; i++) {
                const ih = oh * sh + i - gh.before;
                if (ih < 0 || ih >= H) continue;
                for (let j = 0; j < kw; j++) {
                  const iw = ow * sw + j - gw.before;
                  if (iw < 0 || iw >= W) continue;
                  const g0 = Math.floor(f / Fg) * Cg;
                  for (let c = 0; c < Cg; c++) s += x.data[((n * H + ih) * W + iw) * C + g0 + c] * l.kernel[((i * kw + j) * Cg + c) * F + f];
                }
              }
              z[((n * OH + oh) * OW + ow) * F + f] = s;
            }
      const act = actOverride ?? l.activation;
      const y = actForward(act, z, F);
      Object.assign(cache, { z, y, act });
      return { y: { shape: [N, OH, OW, F], data: y }, cache };
    }
    case 'depthwise': {
      const d = depthwiseForward(x, l.kernel, l.multiplier, l.kernelSize, l.strides, l.padding);
      const Cout = d.shape[3];
      if (l.bias) for (let k = 0; k < d.data.length; k++) d.data[k] += l.bias[k % Cout];
      const act = actOverride ?? l.activation;
      const y = actForward(act, d.data, Cout);
      Object.assign(cache, { z: d.data, y, act });
      return { y: { shape: d.shape, data: y }, cache };
    }
    case 'separable': {
      const mid = depthwiseForward(x, l.kernel, l.multiplier, l.kernelSize, l.strides, l.padding);
      const K = mid.shape[3],
        F = l.filters;
      const rows = mid.data.length / K;
      const z = new Float64Array(rows * F);
      for (let r = 0; r < rows; r++)
        for (let f = 0; f < F; f++) {
          let s = l.bias ? l.bias[f] : 0;
          for (let k = 0; k < K; k++) s += mid.data[r * K + k] * l.pointwise[k * F + f];
          z[r * F + f] = s;
        }
      const act = actOverride ?? l.activation;
      const y = actForward(act, z, F);
      Object.assign(cache, { z, y, act, mid });
      return { y: { shape: [...mid.shape.slice(0, 3), F], data: y }, cache };
    }
    case 'zeropad':
    case 'crop': {
      const [N, H, W, C] = x.shape;
      const sign = l.kind === 'zeropad' ? 1 : -1;
      const [[t, b], [le, r]] = l.pads;
      const OH = H + sign * (t + b),
        OW = W + sign * (le + r);
      const y = new Float64Array(N * OH * OW * C);
      for (let n = 0; n < N; n++)
        for (let oh = 0; oh < OH; oh++)
          for (let ow = 0; ow < OW; ow++) {
            const ih = oh - sign * t,
              iw = ow - sign * le;
            if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
            for (let c = 0; c < C; c++) y[((n * OH + oh) * OW + ow) * C + c] = x.data[((n * H + ih) * W + iw) * C + c];
          }
      return { y: { shape: [N, OH, OW, C], data: y }, cache };
    }
    case 'upsample': {
      const [N, H, W, C] = x.shape;
      const [a, b] = l.size;
      const y = new Float64Array(N * H * a * W * b * C);
      for (let n = 0; n < N; n++)
        for (let oh = 0; oh < H * a; oh++)
          for (let ow = 0; ow < W * b; ow++) for (let c = 0; c < C; c++) y[((n * H * a + oh) * W * b + ow) * C + c] = x.data[((n * H + Math.floor(oh / a)) * W + Math.floor(ow / b)) * C + c];
      return { y: { shape: [N, H * a, W * b, C], data: y }, cache };
    }
    case 'rescale':
      return { y: { shape: x.shape.slice(), data: x.data.map((v) => v * l.scale + l.offset) }, cache };
    case 'batchnorm': {
      const C = x.shape[x.shape.length - 1];
      const M = x.data.length / C;
      const mean = new Float64Array(C);
      const vr = new Float64Array(C);
      for (let m = 0; m < M; m++) for (let c = 0; c < C; c++) mean[c] += x.data[m * C + c];
      for (let c = 0; c < C; c++) mean[c] /= M;
      for (let m = 0; m < M; m++)
        for (let c = 0; c < C; c++) {
          const d = x.data[m * C + c] - mean[c];
          vr[c] += d * d;
        }
      const invStd = new Float64Array(C);
      for (let c = 0; c < C; c++) invStd[c] = 1 / Math.sqrt(vr[c] / M + l.epsilon);
      const xhat = new Float64Array(x.data.length);
      const y = new Float64Array(x.data.length);
      for (let m = 0; m < M; m++)
        for (let c = 0; c < C; c++) {
          const k = m * C + c;
          xhat[k] = (x.data[k] - mean[c]) * invStd[c];
          y[k] = (l.gamma ? l.gamma[c] : 1) * xhat[k] + (l.beta ? l.beta[c] : 0);
        }
      Object.assign(cache, { xhat, invStd });
      return { y: { shape: x.shape.slice(), data: y }, cache };
    }
    case 'activation': {
      const act = actOverride ?? l.activation;
      const z = x.data;
      const y = actForward(act, z, x.shape[x.shape.length - 1]);
      Object.assign(cache, { z, y, act });
      return { y: { shape: x.shape.slice(), data: y }, cache };
    }
    case 'pool': {
      const [N, H, W, C] = x.shape;
      const [ph, pw] = l.poolSize;
      const [sh, sw] = l.strides;
      const gh = axisGeometry(H, ph, sh, l.padding);
      const gw = axisGeometry(W, pw, sw, l.padding);
      const OH = gh.out,
        OW = gw.out;
      const y = new Float64Array(N * OH * OW * C);
      const argmax = new Int32Array(y.length);
      for (let n = 0; n < N; n++)
        for (let oh = 0; oh < OH; oh++)
          for (let ow = 0; ow < OW; ow++)
            for (let c = 0; c < C; c++) {
              let best = -Infinity,
                bi = -1,
                sum = 0,
                cnt = 0;
              for (let i = 0; i < ph; i++) {
                const ih = oh * sh + i - gh.before;
                if (ih < 0 || ih >= H) continue;
                for (let j = 0; j < pw; j++) {
                  const iw = ow * sw + j - gw.before;
                  if (iw < 0 || iw >= W) continue;
                  const k = ((n * H + ih) * W + iw) * C + c;
                  const v = x.data[k];
                  if (v > best) {
                    best = v;
                    bi = k;
                  }
                  sum += v;
                  cnt++;
                }
              }
              const o = ((n * OH + oh) * OW + ow) * C + c;
              if (l.op === 'max') {
                y[o] = best;
                argmax[o] = bi;
              } else y[o] = sum / cnt;
            }
      cache.argmax = argmax;
      return { y: { shape: [N, OH, OW, C], data: y }, cache };
    }
    case 'globalavgpool': {
      const [N, H, W, C] = x.shape;
      const y = new Float64Array(N * C);
      for (let n = 0; n < N; n++) for (let p = 0; p < H * W; p++) for (let c = 0; c < C; c++) y[n * C + c] += x.data[(n * H * W + p) * C + c];
      for (let k = 0; k < y.length; k++) y[k] /= H * W;
      return { y: { shape: [N, C], data: y }, cache };
    }
    case 'flatten':
      return { y: { shape: [x.shape[0], prod(x.shape.slice(1))], data: x.data }, cache };
    case 'dropout':
      return { y: x, cache };
  }
}

function layerBackward(l: Layer, cache: Cache, dy: Float64Array, yShape: number[]): { dx: Float64Array; grads: Grads } {
  const x = cache.x;
  switch (l.kind) {
    case 'dense': {
      const inDim = x.shape[x.shape.length - 1];
      const rows = x.data.length / inDim;
      const out = l.units;
      const dz = actBackward(cache.act!, cache.z!, cache.y!, dy, out);
      const dW = new Float64Array(inDim * out);
      const db = new Float64Array(out);
      const dx = new Float64Array(x.data.length);
      for (let r = 0; r < rows; r++)
        for (let o = 0; o < out; o++) {
          const g = dz[r * out + o];
          db[o] += g;
          for (let i = 0; i < inDim; i++) {
            dW[i * out + o] += x.data[r * inDim + i] * g;
            dx[r * inDim + i] += l.kernel[i * out + o] * g;
          }
        }
      return { dx, grads: { kernel: dW, bias: l.bias ? db : undefined } };
    }
    case 'conv2d': {
      const [N, H, W, C] = x.shape;
      const [kh, kw] = l.kernelSize;
      const [sh, sw] = l.strides;
      const F = l.filters;
      const G = l.groups ?? 1;
      const Cg = C / G,
        Fg = F / G;
      const gh = axisGeometry(H, kh, sh, l.padding);
      const gw = axisGeometry(W, kw, sw, l.padding);
      const OH = gh.out,
        OW = gw.out;
      const dz = actBackward(cache.act!, cache.z!, cache.y!, dy, F);
      const dK = new Float64Array(l.kernel.length);
      const db = new Float64Array(F);
      const dx = new Float64Array(x.data.length);
      for (let n = 0; n < N; n++)
        for (let oh = 0; oh < OH; oh++)
          for (let ow = 0; ow < OW; ow++)
            for (let f = 0; f < F; f++) {
              const g = dz[((n * OH + oh) * OW + ow) * F + f];
              db[f] += g;
              for (let i = 0; i < kh; i++) {
                const ih = oh * sh + i - gh.before;
                if (ih < 0 || ih >= H) continue;
                for (let j = 0; j < kw; j++) {
                  const iw = ow * sw + j - gw.before;
                  if (iw < 0 || iw >= W) continue;
                  for (let c = 0; c < Cg; c++) {
                    const xi = ((n * H + ih) * W + iw) * C + Math.floor(f / Fg) * Cg + c;
                    const ki = ((i * kw + j) * Cg + c) * F + f;
                    dK[ki] += x.data[xi] * g;
                    dx[xi] += l.kernel[ki] * g;
                  }
                }
              }
            }
      return { dx, grads: { kernel: dK, bias: l.bias ? db : undefined } };
    }
    case 'depthwise': {
      const Cout = yShape[3];
      const dz = actBackward(cache.act!, cache.z!, cache.y!, dy, Cout);
      const r = depthwiseBackward(x, l.kernel, l.multiplier, l.kernelSize, l.strides, l.padding, dz, yShape);
      const db = new Float64Array(Cout);
      for (let k = 0; k < dz.length; k++) db[k % Cout] += dz[k];
      return { dx: r.dx, grads: { kernel: r.dK, bias: l.bias ? db : undefined } };
    }
    case 'separable': {
      const mid = cache.mid!;
      const K = mid.shape[3],
        F = l.filters;
      const dz = actBackward(cache.act!, cache.z!, cache.y!, dy, F);
      const rows = mid.data.length / K;
      const dP = new Float64Array(K * F),
        db = new Float64Array(F),
        dmid = new Float64Array(mid.data.length);
      for (let r = 0; r < rows; r++)
        for (let f = 0; f < F; f++) {
          const g = dz[r * F + f];
          db[f] += g;
          for (let k = 0; k < K; k++) {
            dP[k * F + f] += mid.data[r * K + k] * g;
            dmid[r * K + k] += l.pointwise[k * F + f] * g;
          }
        }
      const r = depthwiseBackward(x, l.kernel, l.multiplier, l.kernelSize, l.strides, l.padding, dmid, mid.shape);
      return { dx: r.dx, grads: { kernel: r.dK, pointwise: dP, bias: l.bias ? db : undefined } };
    }
    case 'zeropad':
    case 'crop': {
      const [N, H, W, C] = x.shape;
      const [, OH, OW] = yShape;
      const sign = l.kind === 'zeropad' ? 1 : -1;
      const [[t], [le]] = l.pads;
      const dx = new Float64Array(x.data.length);
      for (let n = 0; n < N; n++)
        for (let oh = 0; oh < OH; oh++)
          for (let ow = 0; ow < OW; ow++) {
            const ih = oh - sign * t,
              iw = ow - sign * le;
            if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
            for (let c = 0; c < C; c++) dx[((n * H + ih) * W + iw) * C + c] = dy[((n * OH + oh) * OW + ow) * C + c];
          }
      return { dx, grads: {} };
    }
    case 'upsample': {
      const [N, H, W, C] = x.shape;
      const [a, b] = l.size;
      const dx = new Float64Array(x.data.length);
      for (let n = 0; n < N; n++)
        for (let oh = 0; oh < H * a; oh++)
          for (let ow = 0; ow < W * b; ow++) for (let c = 0; c < C; c++) dx[((n * H + Math.floor(oh / a)) * W + Math.floor(ow / b)) * C + c] += dy[((n * H * a + oh) * W * b + ow) * C + c];
      return { dx, grads: {} };
    }
    case 'rescale':
      return { dx: dy.map((v) => v * l.scale), grads: {} };
    case 'batchnorm': {
      const C = x.shape[x.shape.length - 1];
      const M = x.data.length / C;
      const xhat = cache.xhat!,
        invStd = cache.invStd!;
      const dgamma = new Float64Array(C),
        dbeta = new Float64Array(C);
      const sumD = new Float64Array(C),
        sumDX = new Float64Array(C);
      const dxhat = new Float64Array(x.data.length);
      for (let m = 0; m < M; m++)
        for (let c = 0; c < C; c++) {
          const k = m * C + c;
          dgamma[c] += dy[k] * xhat[k];
          dbeta[c] += dy[k];
          dxhat[k] = dy[k] * (l.gamma ? l.gamma[c] : 1);
          sumD[c] += dxhat[k];
          sumDX[c] += dxhat[k] * xhat[k];
        }
      const dx = new Float64Array(x.data.length);
      for (let m = 0; m < M; m++)
        for (let c = 0; c < C; c++) {
          const k = m * C + c;
          dx[k] = (invStd[c] / M) * (M * dxhat[k] - sumD[c] - xhat[k] * sumDX[c]);
        }
      return { dx, grads: { gamma: l.gamma ? dgamma : undefined, beta: l.beta ? dbeta : undefined } };
    }
    case 'activation':
      return { dx: actBackward(cache.act!, cache.z!, cache.y!, dy, x.shape[x.shape.length - 1]), grads: {} };
    case 'pool': {
      const dx = new Float64Array(x.data.length);
      if (l.op === 'max') {
        for (let o = 0; o < dy.length; o++) dx[cache.argmax![o]] += dy[o];
        return { dx, grads: {} };
      }
      const [N, H, W, C] = x.shape;
      const [ph, pw] = l.poolSize;
      const [sh, sw] = l.strides;
      const gh = axisGeometry(H, ph, sh, l.padding);
      const gw = axisGeometry(W, pw, sw, l.padding);
      const [, OH, OW] = yShape;
      for (let n = 0; n < N; n++)
        for (let oh = 0; oh < OH; oh++)
          for (let ow = 0; ow < OW; ow++)
            for (let c = 0; c < C; c++) {
              const cells: number[] = [];
              for (let i = 0; i < ph; i++) {
                const ih = oh * sh + i - gh.before;
                if (ih < 0 || ih >= H) continue;
                for (let j = 0; j < pw; j++) {
                  const iw = ow * sw + j - gw.before;
                  if (iw < 0 || iw >= W) continue;
                  cells.push(((n * H + ih) * W + iw) * C + c);
                }
              }
              const g = dy[((n * OH + oh) * OW + ow) * C + c] / cells.length;
              for (const k of cells) dx[k] += g;
            }
      return { dx, grads: {} };
    }
    case 'globalavgpool': {
      const [N, H, W, C] = x.shape;
      const dx = new Float64Array(x.data.length);
      for (let n = 0; n < N; n++) for (let p = 0; p < H * W; p++) for (let c = 0; c < C; c++) dx[(n * H * W + p) * C + c] = dy[n * C + c] / (H * W);
      return { dx, grads: {} };
    }
    case 'flatten':
    case 'dropout':
      return { dx: dy, grads: {} };
  }
}

/** Depthwise convolution without bias: out[n, oh, ow, c·M + m] = Σ_ij x[n, ih, iw, c]·K[i, j, c, m]. */
function depthwiseForward(x: T64, K: Float64Array, M: number, [kh, kw]: [number, number], [sh, sw]: [number, number], padding: Padding): T64 {
  const [N, H, W, C] = x.shape;
  if (K.length !== kh * kw * C * M) throw new Error('depthwise kernel size mismatch');
  const gh = axisGeometry(H, kh, sh, padding);
  const gw = axisGeometry(W, kw, sw, padding);
  const OH = gh.out,
    OW = gw.out;
  const y = new Float64Array(N * OH * OW * C * M);
  for (let n = 0; n < N; n++)
    for (let oh = 0; oh < OH; oh++)
      for (let ow = 0; ow < OW; ow++)
        for (let c = 0; c < C; c++)
          for (let m = 0; m < M; m++) {
            let s = 0;
            for (let i = 0; i < kh; i++) {
              const ih = oh * sh + i - gh.before;
              if (ih < 0 || ih >= H) continue;
              for (let j = 0; j < kw; j++) {
                const iw = ow * sw + j - gw.before;
                if (iw < 0 || iw >= W) continue;
                s += x.data[((n * H + ih) * W + iw) * C + c] * K[((i * kw + j) * C + c) * M + m];
              }
            }
            y[((n * OH + oh) * OW + ow) * C * M + c * M + m] = s;
          }
  return { shape: [N, OH, OW, C * M], data: y };
}

function depthwiseBackward(x: T64, K: Float64Array, M: number, [kh, kw]: [number, number], [sh, sw]: [number, number], padding: Padding, dz: Float64Array, yShape: number[]): { dx: Float64Array; dK: Float64Array } {
  const [N, H, W, C] = x.shape;
  const gh = axisGeometry(H, kh, sh, padding);
  const gw = axisGeometry(W, kw, sw, padding);
  const [, OH, OW] = yShape;
  const dx = new Float64Array(x.data.length);
  const dK = new Float64Array(K.length);
  for (let n = 0; n < N; n++)
    for (let oh = 0; oh < OH; oh++)
      for (let ow = 0; ow < OW; ow++)
        for (let c = 0; c < C; c++)
          for (let m = 0; m < M; m++) {
            const g = dz[((n * OH + oh) * OW + ow) * C * M + c * M + m];
            for (let i = 0; i < kh; i++) {
              const ih = oh * sh + i - gh.before;
              if (ih < 0 || ih >= H) continue;
              for (let j = 0; j < kw; j++) {
                const iw = ow * sw + j - gw.before;
                if (iw < 0 || iw >= W) continue;
                const xi = ((n * H + ih) * W + iw) * C + c;
                const ki = ((i * kw + j) * C + c) * M + m;
                dK[ki] += x.data[xi] * g;
                dx[xi] += K[ki] * g;
              }
            }
          }
  return { dx, dK };
}

/** Index of the layer whose final activation is dropped to get logits: softmax for softmax-ce, sigmoid for binary-ce (−1 if none). */
function finalSoftmaxLayer(net: Net64, act: Act = 'softmax'): number {
  for (let i = net.layers.length - 1; i >= 0; i--) {
    const l = net.layers[i];
    if (l.kind === 'dropout' || l.kind === 'flatten') continue;
    if ((l.kind === 'dense' || l.kind === 'conv2d' || l.kind === 'depthwise' || l.kind === 'separable' || l.kind === 'activation') && l.activation === act) return i;
    return -1;
  }
  return -1;
}

export interface ForwardResult {
  out: T64;
  caches: Cache[];
  shapes: number[][];
}

/** Forward pass. With logits = true (or 'softmax-ce') a final softmax is skipped, with 'binary-ce' a final sigmoid. */
export function forward(net: Net64, x: T64, logits: boolean | LossName = false): ForwardResult {
  const skip = logits === true || logits === 'softmax-ce' ? finalSoftmaxLayer(net) : logits === 'binary-ce' ? finalSoftmaxLayer(net, 'sigmoid') : -1;
  let h = x;
  const caches: Cache[] = [];
  const shapes: number[][] = [];
  net.layers.forEach((l, i) => {
    const r = layerForward(l, h, i === skip ? 'linear' : null);
    caches.push(r.cache);
    h = r.y;
    shapes.push(h.shape);
  });
  return { out: h, caches, shapes };
}

/** Loss and its gradient with respect to the network's output (logits for softmax-ce). */
export function lossOfOutput(out: T64, y: ArrayLike<number>, loss: LossName): { loss: number; dout: Float64Array } {
  const dout = new Float64Array(out.data.length);
  if (loss === 'mse') {
    if (y.length !== out.data.length) throw new Error(`mse target size ${y.length} != output size ${out.data.length}`);
    let s = 0;
    const n = out.data.length;
    for (let i = 0; i < n; i++) {
      const d = out.data[i] - y[i];
      s += d * d;
      dout[i] = (2 * d) / n;
    }
    return { loss: s / n, dout };
  }
  if (loss === 'binary-ce') {
    const n = out.data.length;
    if (y.length !== n) throw new Error(`binary-ce: ${y.length} labels for ${n} logits`);
    let s = 0;
    for (let i = 0; i < n; i++) {
      const z = out.data[i];
      if (y[i] !== 0 && y[i] !== 1) throw new Error(`binary-ce label ${y[i]} is not 0 or 1`);
      s += Math.max(z, 0) - z * y[i] + Math.log1p(Math.exp(-Math.abs(z)));
      dout[i] = (1 / (1 + Math.exp(-z)) - y[i]) / n;
    }
    return { loss: s / n, dout };
  }
  const K = out.shape[out.shape.length - 1];
  const N = out.data.length / K;
  if (y.length !== N) throw new Error(`softmax-ce: ${y.length} labels for ${N} rows`);
  let s = 0;
  for (let r = 0; r < N; r++) {
    let m = -Infinity;
    for (let j = 0; j < K; j++) m = Math.max(m, out.data[r * K + j]);
    let z = 0;
    for (let j = 0; j < K; j++) z += Math.exp(out.data[r * K + j] - m);
    const lse = m + Math.log(z);
    const c = y[r];
    if (!Number.isInteger(c) || c < 0 || c >= K) throw new Error(`bad class id ${c}`);
    s += lse - out.data[r * K + c];
    for (let j = 0; j < K; j++) dout[r * K + j] = (Math.exp(out.data[r * K + j] - lse) - (j === c ? 1 : 0)) / N;
  }
  return { loss: s / N, dout };
}

export function lossOnly(net: Net64, x: T64, y: ArrayLike<number>, loss: LossName): number {
  return lossOfOutput(forward(net, x, loss).out, y, loss).loss;
}

/** Loss and gradient over all trainable weights (paramRefs order). */
export function lossAndGrad(net: Net64, x: T64, y: ArrayLike<number>, loss: LossName): { loss: number; grads: Float64Array[]; dx: Float64Array } {
  const f = forward(net, x, loss);
  const lo = lossOfOutput(f.out, y, loss);
  let d = lo.dout;
  const perLayer: Grads[] = new Array(net.layers.length);
  for (let i = net.layers.length - 1; i >= 0; i--) {
    const b = layerBackward(net.layers[i], f.caches[i], d, f.shapes[i]);
    perLayer[i] = b.grads;
    d = b.dx;
  }
  const grads = paramRefs(net).map((r) => {
    const g = perLayer[r.layer][r.role];
    if (!g) throw new Error(`no gradient for ${r.layerName}/${r.role}`);
    return g;
  });
  return { loss: lo.loss, grads, dx: d };
}

// ---------- vector helpers ----------

export function norm(vs: Float64Array[]): number {
  let s = 0;
  for (const v of vs) for (let i = 0; i < v.length; i++) s += v[i] * v[i];
  return Math.sqrt(s);
}

function axpy(a: number, xs: Float64Array[], ys: Float64Array[]): Float64Array[] {
  return ys.map((y, k) => {
    const r = new Float64Array(y.length);
    for (let i = 0; i < y.length; i++) r[i] = y[i] + a * xs[k][i];
    return r;
  });
}

// ---------- the probes ----------

export interface IcsEntry {
  layer: string;
  l2: number;
  cos: number;
  /** ‖G‖ of this layer's kernel at x (reference only: the scale used for the near-zero tolerance of l2). */
  gNorm: number;
}

export interface Probe64 {
  loss: number;
  gradNorm: number;
  eta: number[];
  lossAtEta: number[];
  gradChange: number[];
  betaAtEta: number[];
  beta: number;
  /** κ_G(η) = gᵀ(g − ∇L(x − η·g)) / (η‖g‖²). */
  curvatureAtEta: number[];
  /** κ_L(η) = 2·(ℓ(η) − L + η‖g‖²) / (η²‖g‖²). */
  descentFreeCurvatureAtEta: number[];
  ics: IcsEntry[];
}

export function probe64(net: Net64, x: T64, y: ArrayLike<number>, loss: LossName, etas: number[], icsLr: number): Probe64 {
  const refs = paramRefs(net);
  const w = getParams(net);
  const base = lossAndGrad(net, x, y, loss);
  const g = base.grads;
  const gradNorm = norm(g);
  const lossAtEta: number[] = [],
    gradChange: number[] = [],
    betaAtEta: number[] = [];
  const curvatureAtEta: number[] = [],
    descentFreeCurvatureAtEta: number[] = [];
  for (const eta of etas) {
    const moved = withParams(net, axpy(-eta, g, w));
    const r = lossAndGrad(moved, x, y, loss);
    lossAtEta.push(r.loss);
    const dg = norm(r.grads.map((gi, k) => gi.map((v, i) => v - g[k][i])));
    gradChange.push(dg);
    betaAtEta.push(dg / (eta * gradNorm));
    let dot = 0;
    g.forEach((gk, k) => gk.forEach((v, i) => (dot += v * (v - r.grads[k][i]))));
    curvatureAtEta.push(dot / (eta * gradNorm * gradNorm));
    descentFreeCurvatureAtEta.push((2 * (r.loss - base.loss + eta * gradNorm * gradNorm)) / (eta * eta * gradNorm * gradNorm));
  }
  const ics: IcsEntry[] = [];
  net.layers.forEach((l, i) => {
    if (l.kind !== 'dense' && l.kind !== 'conv2d' && l.kind !== 'depthwise' && l.kind !== 'separable') return;
    const kIdx = refs.findIndex((r) => r.layer === i && r.role === 'kernel');
    const G = g[kIdx];
    // Every trainable weight of every earlier layer takes one SGD step with its gradient at x.
    const stepped = w.map((wk, k) => (refs[k].layer < i ? wk.map((v, j) => v - icsLr * g[k][j]) : wk));
    const G2 = lossAndGrad(withParams(net, stepped), x, y, loss).grads[kIdx];
    let d2 = 0,
      dot = 0,
      n1 = 0,
      n2 = 0;
    for (let j = 0; j < G.length; j++) {
      d2 += (G[j] - G2[j]) ** 2;
      dot += G[j] * G2[j];
      n1 += G[j] ** 2;
      n2 += G2[j] ** 2;
    }
    ics.push({ layer: l.name, l2: Math.sqrt(d2), cos: dot / Math.sqrt(n1 * n2), gNorm: Math.sqrt(n1) });
  });
  return {
    loss: base.loss,
    gradNorm,
    eta: etas.slice(),
    lossAtEta,
    gradChange,
    betaAtEta,
    beta: Math.max(...betaAtEta),
    curvatureAtEta,
    descentFreeCurvatureAtEta,
    ics,
  };
}

// ---------- second order: finite differences of the exact float64 gradients ----------

function flatGrad(net: Net64, x: T64, y: ArrayLike<number>, loss: LossName, w: Float64Array[]): Float64Array {
  const gs = lossAndGrad(withParams(net, w), x, y, loss).grads;
  const out = new Float64Array(gs.reduce((a, g) => a + g.length, 0));
  let off = 0;
  for (const g of gs) {
    out.set(g, off);
    off += g.length;
  }
  return out;
}

/** Trainable weights concatenated in paramRefs order. */
export function flatParams(net: Net64): Float64Array {
  const ps = getParams(net);
  const out = new Float64Array(ps.reduce((a, p) => a + p.length, 0));
  let off = 0;
  for (const p of ps) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

function unflatten(net: Net64, flat: Float64Array): Float64Array[] {
  let off = 0;
  return getParams(net).map((p) => {
    const r = flat.slice(off, off + p.length);
    off += p.length;
    return r;
  });
}

/** (∇L(x + h·v) − ∇L(x − h·v)) / 2h: second order in h, no kink crossed if h is small enough. */
function centralDifference(net: Net64, x: T64, y: ArrayLike<number>, loss: LossName, w: Float64Array, v: Float64Array, h: number): Float64Array {
  const plus = new Float64Array(w.length),
    minus = new Float64Array(w.length);
  for (let i = 0; i < w.length; i++) {
    plus[i] = w[i] + h * v[i];
    minus[i] = w[i] - h * v[i];
  }
  const gp = flatGrad(net, x, y, loss, unflatten(net, plus));
  const gm = flatGrad(net, x, y, loss, unflatten(net, minus));
  return gp.map((a, i) => (a - gm[i]) / (2 * h));
}

export interface CheckedHv {
  hv: Float64Array;
  /** max |Hv(h) − Hv(h/4)| (absolute). */
  maxDiff: number;
  /** max |Hv(h) − Hv(h/4)| / ‖Hv‖∞: the two step sizes agree (no kink between, truncation negligible). */
  disagreement: number;
}

/**
 * Hv by central differences of the exact gradients at two step sizes (h and h/4, relative to ‖v‖∞); the
 * second is returned. A disagreement above ~1e-6 means a ReLU kink or a max-pool tie lies within h of x
 * along v, and the value must not be used as a reference.
 */
export function hessianVector64(net: Net64, x: T64, y: ArrayLike<number>, loss: LossName, v: Float64Array, h = 1e-4): CheckedHv {
  const w = flatParams(net);
  let vmax = 0;
  for (const a of v) vmax = Math.max(vmax, Math.abs(a));
  const step = h / (vmax || 1);
  const a = centralDifference(net, x, y, loss, w, v, step);
  const b = centralDifference(net, x, y, loss, w, v, step / 4);
  let scale = 0,
    diff = 0;
  for (let i = 0; i < a.length; i++) {
    scale = Math.max(scale, Math.abs(b[i]));
    diff = Math.max(diff, Math.abs(a[i] - b[i]));
  }
  return { hv: b, maxDiff: diff, disagreement: diff / (scale || 1) };
}

export interface FullHessian {
  n: number;
  /** Row-major n×n, symmetrized ((H + Hᵀ)/2). */
  h: Float64Array;
  /** Largest disagreement between the two step sizes (see hessianVector64), relative to max |H|. */
  disagreement: number;
  /** max |H − Hᵀ| / max |H| before symmetrizing: another check of the differences. */
  asymmetry: number;
  grad: Float64Array;
}

/** The whole Hessian, column by column (Hessian-vector products with the unit vectors). */
export function fullHessian64(net: Net64, x: T64, y: ArrayLike<number>, loss: LossName, h = 1e-4): FullHessian {
  const w = flatParams(net);
  const n = w.length;
  const H = new Float64Array(n * n);
  let maxDiff = 0;
  const e = new Float64Array(n);
  for (let j = 0; j < n; j++) {
    e.fill(0);
    e[j] = 1;
    const c = hessianVector64(net, x, y, loss, e, h);
    maxDiff = Math.max(maxDiff, c.maxDiff);
    for (let i = 0; i < n; i++) H[i * n + j] = c.hv[i];
  }
  let asym = 0,
    big = 0;
  for (let i = 0; i < n; i++)
    for (let j = 0; j < n; j++) {
      big = Math.max(big, Math.abs(H[i * n + j]));
      asym = Math.max(asym, Math.abs(H[i * n + j] - H[j * n + i]));
    }
  const S = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) S[i * n + j] = (H[i * n + j] + H[j * n + i]) / 2;
  return { n, h: S, disagreement: maxDiff / (big || 1), asymmetry: asym / (big || 1), grad: flatGrad(net, x, y, loss, getParams(net)) };
}

export function matVec(H: FullHessian, v: ArrayLike<number>): Float64Array {
  const out = new Float64Array(H.n);
  for (let i = 0; i < H.n; i++) {
    let s = 0;
    for (let j = 0; j < H.n; j++) s += H.h[i * H.n + j] * v[j];
    out[i] = s;
  }
  return out;
}
