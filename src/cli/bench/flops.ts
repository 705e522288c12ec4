// FLOPs counted analytically from the layer shapes — matrix products and convolutions only (elementwise work
// is left out): a Dense layer's forward pass is 2·B·in·out, a Conv2D's 2·B·OH·OW·KH·KW·Cin·Cout. A gradient
// evaluation is the forward pass plus the weight gradient of every layer plus the input gradient of every
// layer but the first (whose input is the data): 3F − F₁. A probed step is (1 + #η) gradient evaluations —
// the work the peer does too; the engine's extra forward pass for batch accuracy and BatchNorm statistics is
// not counted. A training step is one gradient evaluation.

import type { LayerNode } from '../../engine/network/ir';
import type { ShapeInfo } from '../../engine/network/shapes';

/** Forward FLOPs of the matrix products and convolutions, per example; and those of the first such layer. */
export function forwardFlopsPerExample(layers: LayerNode[], info: ShapeInfo): { total: number; first: number } {
  let total = 0;
  let first = -1;
  for (const p of info.params) {
    if (p.role !== 'kernel') continue;
    const layer = layers.find((l) => l.name === p.layer);
    let f = 0;
    if (layer?.kind === 'dense') f = 2 * p.shape[0] * p.shape[1];
    else if (layer?.kind === 'conv2d') {
      const out = info.shapes.get(layer.name)!;
      const [kh, kw, ci, co] = p.shape;
      f = 2 * out[0] * out[1] * kh * kw * ci * co;
    } else continue;
    if (first < 0) first = f;
    total += f;
  }
  return { total, first: Math.max(first, 0) };
}

export function gradientEvalFlops(layers: LayerNode[], info: ShapeInfo, batch: number): number {
  const f = forwardFlopsPerExample(layers, info);
  return batch * (3 * f.total - f.first);
}
