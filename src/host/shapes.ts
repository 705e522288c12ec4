// Output shapes and parameter counts of a parsed network, for the hover before any run (a report carries
// the engine's own numbers, which the hover prefers). Pure: works on the tf-free NetworkSpec.
import type { LayerNode, NetworkSpec } from '../engine/network/ir';

export interface LayerShapeInfo {
  /** With the batch dimension first (null), as Keras prints it. */
  outputShape: (number | null)[] | null;
  /** Trainable and non-trainable (BatchNorm moving statistics included, as Keras counts them). */
  params: number | null;
}

const prod = (xs: readonly number[]) => xs.reduce((a, b) => a * b, 1);

function convOut(size: number, k: number, s: number, d: number, padding: 'valid' | 'same'): number {
  if (padding === 'same') return Math.ceil(size / s);
  return Math.floor((size - ((k - 1) * d + 1)) / s) + 1;
}

/** Shape of one example (no batch dimension) after `layer`, given its inputs' shapes; null if unknown. */
export function layerOutput(layer: LayerNode, inputs: (number[] | null)[]): { shape: number[] | null; params: number | null } {
  const x = inputs[0] ?? null;
  const last = x && x.length ? x[x.length - 1] : null;
  switch (layer.kind) {
    case 'input':
      return { shape: layer.shape.slice(), params: 0 };
    case 'dense':
      return {
        shape: x ? [...x.slice(0, -1), layer.units] : null,
        params: last === null ? null : last * layer.units + (layer.useBias ? layer.units : 0),
      };
    case 'conv2d': {
      const params = last === null ? null : layer.kernelSize[0] * layer.kernelSize[1] * last * layer.filters + (layer.useBias ? layer.filters : 0);
      if (!x || x.length !== 3) return { shape: null, params };
      const h = convOut(x[0], layer.kernelSize[0], layer.strides[0], layer.dilation[0], layer.padding);
      const w = convOut(x[1], layer.kernelSize[1], layer.strides[1], layer.dilation[1], layer.padding);
      return { shape: [h, w, layer.filters], params };
    }
    case 'batchnorm':
      return { shape: x, params: last === null ? null : last * (2 + (layer.center ? 1 : 0) + (layer.scale ? 1 : 0)) };
    case 'lpnorm':
      return { shape: x, params: 0 };
    case 'activation':
    case 'relu':
    case 'dropout':
      return { shape: x, params: 0 };
    case 'pool': {
      if (!x || x.length !== 3) return { shape: null, params: 0 };
      const h = convOut(x[0], layer.poolSize[0], layer.strides[0], 1, layer.padding);
      const w = convOut(x[1], layer.poolSize[1], layer.strides[1], 1, layer.padding);
      return { shape: [h, w, x[2]], params: 0 };
    }
    case 'globalpool':
      return { shape: last === null ? null : [last], params: 0 };
    case 'flatten':
      return { shape: x ? [prod(x)] : null, params: 0 };
    case 'reshape': {
      const t = layer.targetShape.slice();
      const free = t.indexOf(-1);
      if (free >= 0) {
        if (!x) return { shape: null, params: 0 };
        const known = prod(t.filter((v) => v !== -1));
        t[free] = known ? prod(x) / known : 0;
      }
      return { shape: t, params: 0 };
    }
    case 'add':
      return { shape: x, params: 0 };
    case 'concatenate': {
      if (inputs.some((s) => !s) || !x) return { shape: null, params: 0 };
      const rank = x.length;
      const axis = layer.axis < 0 ? rank + layer.axis : layer.axis - 1; // Keras axis counts the batch dim
      if (axis < 0 || axis >= rank) return { shape: null, params: 0 };
      const out = x.slice();
      out[axis] = inputs.reduce((a, s) => a + (s as number[])[axis], 0);
      return { shape: out, params: 0 };
    }
  }
}

/** Shapes and parameter counts of every layer of `spec`, by layer name. */
export function inferShapes(spec: NetworkSpec): Map<string, LayerShapeInfo> {
  const shapes = new Map<string, number[] | null>();
  const out = new Map<string, LayerShapeInfo>();
  let prev: string | null = null;
  for (const layer of spec.layers) {
    const inbound = layer.inbound.length ? layer.inbound : prev !== null ? [prev] : [];
    let res: { shape: number[] | null; params: number | null };
    try {
      res = layerOutput(
        layer,
        inbound.map((n) => shapes.get(n) ?? null),
      );
    } catch {
      res = { shape: null, params: null };
    }
    shapes.set(layer.name, res.shape);
    out.set(layer.name, { outputShape: res.shape ? [null, ...res.shape] : null, params: res.params });
    prev = layer.name;
  }
  return out;
}
