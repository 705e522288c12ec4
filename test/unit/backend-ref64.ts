// Float64 reference implementations of the ops whose wasm gradients we check, written from the
// definitions (TensorFlow's conventions for 'same'/'valid' padding and NHWC layout), sharing nothing with
// tfjs. The gradient tests differentiate these numerically.

export interface Nd {
  shape: number[];
  data: Float64Array;
}

export const nd = (shape: number[], data?: ArrayLike<number>): Nd => ({
  shape,
  data: data ? Float64Array.from(data) : new Float64Array(shape.reduce((a, b) => a * b, 1)),
});

const size = (s: number[]) => s.reduce((a, b) => a * b, 1);

function strides(shape: number[]): number[] {
  const st = new Array(shape.length).fill(1);
  for (let i = shape.length - 2; i >= 0; i--) st[i] = st[i + 1] * shape[i + 1];
  return st;
}

function unravel(i: number, shape: number[]): number[] {
  const idx = new Array(shape.length);
  for (let d = shape.length - 1; d >= 0; d--) {
    idx[d] = i % shape[d];
    i = Math.floor(i / shape[d]);
  }
  return idx;
}

export function map(x: Nd, f: (v: number) => number): Nd {
  return { shape: x.shape, data: x.data.map(f) };
}

/** NumPy broadcasting. */
export function binary(a: Nd, b: Nd, f: (x: number, y: number) => number): Nd {
  const rank = Math.max(a.shape.length, b.shape.length);
  const pa = [...new Array(rank - a.shape.length).fill(1), ...a.shape];
  const pb = [...new Array(rank - b.shape.length).fill(1), ...b.shape];
  const shape = pa.map((s, i) => Math.max(s, pb[i]));
  const sa = strides(pa),
    sb = strides(pb);
  const out = nd(shape);
  for (let i = 0; i < out.data.length; i++) {
    const idx = unravel(i, shape);
    let ia = 0,
      ib = 0;
    for (let d = 0; d < rank; d++) {
      ia += (pa[d] === 1 ? 0 : idx[d]) * sa[d];
      ib += (pb[d] === 1 ? 0 : idx[d]) * sb[d];
    }
    out.data[i] = f(a.data[ia], b.data[ib]);
  }
  return out;
}

export function reduce(x: Nd, axes: number[], init: number, f: (acc: number, v: number) => number, finish = (v: number, _n: number) => v): Nd {
  const shape = x.shape.filter((_, d) => !axes.includes(d));
  const out = nd(shape);
  out.data.fill(init);
  const counts = size(axes.map((d) => x.shape[d]));
  const so = strides(shape);
  for (let i = 0; i < x.data.length; i++) {
    const idx = unravel(i, x.shape).filter((_, d) => !axes.includes(d));
    const o = idx.reduce((acc, v, d) => acc + v * so[d], 0);
    out.data[o] = f(out.data[o], x.data[i]);
  }
  out.data = out.data.map((v) => finish(v, counts));
  return out;
}

export const sum = (x: Nd, axes: number[]) => reduce(x, axes, 0, (a, v) => a + v);
export const mean = (x: Nd, axes: number[]) =>
  reduce(
    x,
    axes,
    0,
    (a, v) => a + v,
    (v, n) => v / n,
  );
export const max = (x: Nd, axes: number[]) => reduce(x, axes, -Infinity, Math.max);
export const min = (x: Nd, axes: number[]) => reduce(x, axes, Infinity, Math.min);

export function matMul(a: Nd, b: Nd, ta = false, tb = false): Nd {
  const [ar, ac] = a.shape,
    [br, bc] = b.shape;
  const m = ta ? ac : ar,
    k = ta ? ar : ac,
    n = tb ? br : bc;
  const A = (i: number, p: number) => (ta ? a.data[p * ac + i] : a.data[i * ac + p]);
  const B = (p: number, j: number) => (tb ? b.data[j * bc + p] : b.data[p * bc + j]);
  const out = nd([m, n]);
  for (let i = 0; i < m; i++)
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let p = 0; p < k; p++) s += A(i, p) * B(p, j);
      out.data[i * n + j] = s;
    }
  return out;
}

export function transpose(x: Nd, perm: number[]): Nd {
  const shape = perm.map((p) => x.shape[p]);
  const sx = strides(x.shape);
  const out = nd(shape);
  for (let i = 0; i < out.data.length; i++) {
    const idx = unravel(i, shape);
    out.data[i] = x.data[idx.reduce((acc, v, d) => acc + v * sx[perm[d]], 0)];
  }
  return out;
}

export function slice(x: Nd, begin: number[], sz: number[]): Nd {
  const sx = strides(x.shape);
  const out = nd(sz);
  for (let i = 0; i < out.data.length; i++) {
    const idx = unravel(i, sz);
    out.data[i] = x.data[idx.reduce((acc, v, d) => acc + (v + begin[d]) * sx[d], 0)];
  }
  return out;
}

export function pad(x: Nd, paddings: [number, number][]): Nd {
  const shape = x.shape.map((s, d) => s + paddings[d][0] + paddings[d][1]);
  const so = strides(shape);
  const out = nd(shape);
  for (let i = 0; i < x.data.length; i++) {
    const idx = unravel(i, x.shape);
    out.data[idx.reduce((acc, v, d) => acc + (v + paddings[d][0]) * so[d], 0)] = x.data[i];
  }
  return out;
}

export function concat(a: Nd, b: Nd, axis: number): Nd {
  const shape = a.shape.map((s, d) => (d === axis ? s + b.shape[d] : s));
  const so = strides(shape);
  const out = nd(shape);
  const put = (x: Nd, off: number) => {
    for (let i = 0; i < x.data.length; i++) {
      const idx = unravel(i, x.shape);
      idx[axis] += off;
      out.data[idx.reduce((acc, v, d) => acc + v * so[d], 0)] = x.data[i];
    }
  };
  put(a, 0);
  put(b, a.shape[axis]);
  return out;
}

/** Softmax over the last axis. */
export function softmax(x: Nd, log = false): Nd {
  const c = x.shape[x.shape.length - 1];
  const out = nd(x.shape);
  for (let r = 0; r < x.data.length / c; r++) {
    let m = -Infinity;
    for (let j = 0; j < c; j++) m = Math.max(m, x.data[r * c + j]);
    let z = 0;
    for (let j = 0; j < c; j++) z += Math.exp(x.data[r * c + j] - m);
    for (let j = 0; j < c; j++) {
      const v = x.data[r * c + j] - m - Math.log(z);
      out.data[r * c + j] = log ? v : Math.exp(v);
    }
  }
  return out;
}

export type Padding = 'same' | 'valid';

/** TensorFlow's output size and leading pad for one spatial axis. */
export function window1d(inSize: number, k: number, stride: number, dilation: number, padding: Padding) {
  const eff = (k - 1) * dilation + 1;
  if (padding === 'valid') return { out: Math.ceil((inSize - eff + 1) / stride), before: 0 };
  const out = Math.ceil(inSize / stride);
  const total = Math.max((out - 1) * stride + eff - inSize, 0);
  return { out, before: Math.floor(total / 2) };
}

/** NHWC input, [kh, kw, cin, cout] filter. */
export function conv2d(x: Nd, w: Nd, stride: number, padding: Padding, dilation = 1): Nd {
  const [n, h, wd, ci] = x.shape;
  const [kh, kw, , co] = w.shape;
  const H = window1d(h, kh, stride, dilation, padding),
    W = window1d(wd, kw, stride, dilation, padding);
  const out = nd([n, H.out, W.out, co]);
  for (let b = 0; b < n; b++)
    for (let i = 0; i < H.out; i++)
      for (let j = 0; j < W.out; j++)
        for (let o = 0; o < co; o++) {
          let s = 0;
          for (let r = 0; r < kh; r++) {
            const y = i * stride + r * dilation - H.before;
            if (y < 0 || y >= h) continue;
            for (let q = 0; q < kw; q++) {
              const xx = j * stride + q * dilation - W.before;
              if (xx < 0 || xx >= wd) continue;
              for (let c = 0; c < ci; c++) s += x.data[((b * h + y) * wd + xx) * ci + c] * w.data[((r * kw + q) * ci + c) * co + o];
            }
          }
          out.data[((b * H.out + i) * W.out + j) * co + o] = s;
        }
  return out;
}

/** Pooling over valid positions only (padding never enters a max or an average, as in TensorFlow). */
export function pool(x: Nd, k: number, stride: number, padding: Padding, kind: 'max' | 'avg'): Nd {
  const [n, h, wd, c] = x.shape;
  const H = window1d(h, k, stride, 1, padding),
    W = window1d(wd, k, stride, 1, padding);
  const out = nd([n, H.out, W.out, c]);
  for (let b = 0; b < n; b++)
    for (let i = 0; i < H.out; i++)
      for (let j = 0; j < W.out; j++)
        for (let ch = 0; ch < c; ch++) {
          let acc = kind === 'max' ? -Infinity : 0,
            cnt = 0;
          for (let r = 0; r < k; r++)
            for (let q = 0; q < k; q++) {
              const y = i * stride + r - H.before,
                xx = j * stride + q - W.before;
              if (y < 0 || y >= h || xx < 0 || xx >= wd) continue;
              const v = x.data[((b * h + y) * wd + xx) * c + ch];
              acc = kind === 'max' ? Math.max(acc, v) : acc + v;
              cnt++;
            }
          out.data[((b * H.out + i) * W.out + j) * c + ch] = kind === 'max' ? acc : acc / cnt;
        }
  return out;
}

/** d/dinputs of L = Σ f(inputs)·weights by central differences, in float64. */
export function numericGrads(f: (...xs: Nd[]) => Nd, xs: Nd[], weights: Float64Array, h = 1e-5): Float64Array[] {
  const L = () => {
    const y = f(...xs);
    let s = 0;
    for (let i = 0; i < y.data.length; i++) s += y.data[i] * weights[i];
    return s;
  };
  return xs.map((x) => {
    const g = new Float64Array(x.data.length);
    for (let i = 0; i < x.data.length; i++) {
      const v = x.data[i];
      x.data[i] = v + h;
      const up = L();
      x.data[i] = v - h;
      const down = L();
      x.data[i] = v;
      g[i] = (up - down) / (2 * h);
    }
    return g;
  });
}
