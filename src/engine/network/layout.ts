// Between a file's layout and the engine's: the engine computes in NHWC with Keras' weight layouts
// (Dense kernel [in, out], Conv2D kernel HWIO). Readers of channels-first formats (PyTorch, ONNX) convert
// weights here and deliver them as `layer/role` entries; shapes go back to the file's layout for display.

import type { NetworkSpec, SourceLayout, WeightSpec } from './ir';

type Values = ArrayLike<number>;

/** An image shape per example, engine [h, w, c] → as the file writes it ([c, h, w] for NCHW); others unchanged. */
export function shapeInSourceLayout(shape: number[], layout: SourceLayout | undefined): number[] {
  if (layout !== 'NCHW' || shape.length !== 3) return shape.slice();
  const [h, w, c] = shape;
  return [c, h, w];
}

/** A layer's output shape per example as the user's framework shows it (see NetworkSpec.sourceShapes). */
export function layerShapeInSource(spec: Pick<NetworkSpec, 'layout' | 'sourceShapes'>, layer: string, engineShape: number[]): number[] {
  return spec.sourceShapes?.[layer]?.slice() ?? shapeInSourceLayout(engineShape, spec.layout);
}

/** The inverse: a file's [c, h, w] → the engine's [h, w, c]. */
export function shapeInEngineLayout(shape: number[], layout: SourceLayout | undefined): number[] {
  if (layout !== 'NCHW' || shape.length !== 3) return shape.slice();
  const [c, h, w] = shape;
  return [h, w, c];
}

/** PyTorch Linear weight [out, in] → Dense kernel [in, out]. */
export function linearToKernel(values: Values, [out, inp]: [number, number]): Float32Array {
  const k = new Float32Array(out * inp);
  for (let o = 0; o < out; o++) for (let i = 0; i < inp; i++) k[i * out + o] = values[o * inp + i];
  return k;
}

/** Conv weight OIHW → HWIO (also right for grouped convs: I is then in_channels / groups). */
export function oihwToHwio(values: Values, [o, i, h, w]: [number, number, number, number]): Float32Array {
  const k = new Float32Array(o * i * h * w);
  for (let a = 0; a < o; a++) for (let b = 0; b < i; b++) for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) k[((y * w + x) * i + b) * o + a] = values[((a * i + b) * h + y) * w + x];
  return k;
}

/** Examples in NCHW → NHWC, n examples of [c, h, w]. */
export function nchwToNhwc(values: Values, n: number, [c, h, w]: [number, number, number]): Float32Array {
  const out = new Float32Array(n * c * h * w);
  const size = c * h * w;
  for (let e = 0; e < n; e++) for (let ch = 0; ch < c; ch++) for (let p = 0; p < h * w; p++) out[e * size + p * c + ch] = values[e * size + ch * h * w + p];
  return out;
}

export interface ConvertedWeight {
  /** The engine's layer name (module path for PyTorch). */
  layer: string;
  /** kernel | bias | gamma | beta | moving_mean | moving_variance */
  role: string;
  /** Shape in the engine's layout. */
  shape: number[];
  values: Float32Array;
}

/**
 * Weights already in the engine's layout, as the `weights` field of a NetworkSpec: initialWeights finds
 * each by its `layer/role` name exactly as it finds the entries of a tfjs weights manifest.
 */
export function packWeights(entries: ConvertedWeight[]): NonNullable<NetworkSpec['weights']> {
  const total = entries.reduce((a, e) => a + e.values.length, 0);
  const data = new Float32Array(total);
  const specs: WeightSpec[] = [];
  let at = 0;
  for (const e of entries) {
    const n = e.shape.reduce((a, b) => a * b, 1);
    if (n !== e.values.length) throw new Error(`packWeights: ${e.layer}/${e.role} has ${e.values.length} values for shape [${e.shape.join(', ')}]`);
    data.set(e.values, at);
    at += n;
    specs.push({ name: `${e.layer}/${e.role}`, shape: e.shape, dtype: 'float32' });
  }
  return { specs, data: data.buffer };
}
