// `bnlens inspect`: what the tool understood of a network file — one row per layer (name, type, output
// shape per example in the file's own layout, parameter count) and the totals as the framework counts
// them. The hover shows the same facts. No backend, no data: only the reader and shape inference.

import { isPythonFile, openNetwork, type NetworkReadOptions } from './network/load';
import { layerShapeInSource } from './network/layout';
import type { LoadedNetwork } from './network/load';

export interface InspectRow {
  name: string;
  type: string;
  /** Per example, in the file's layout (C, H, W for PyTorch). */
  outputShape: number[];
  /** As the framework counts a layer: PyTorch parameters only, Keras also the BatchNorm moving statistics. */
  params: number;
  /** 1-based source line where the reader knows it (Python files). */
  line?: number;
}

export interface InspectResult {
  file: string;
  format: string;
  name: string;
  layout: 'NHWC' | 'NCHW';
  layers: InspectRow[];
  trainableParams: number;
  totalParams: number;
  weightsSource?: string;
}

const size = (s: number[]) => s.reduce((a, b) => a * b, 1);

export function inspectLoaded(net: LoadedNetwork): InspectResult {
  const { spec, info } = net;
  // PyTorch counts parameters(); running statistics are buffers, not parameters. Keras counts both.
  const buffersCount = spec.framework !== 'pytorch';
  const count = (layer: string) =>
    info.params.filter((p) => p.layer === layer).reduce((a, p) => a + size(p.shape), 0) + (buffersCount ? info.state.filter((p) => p.layer === layer).reduce((a, p) => a + size(p.shape), 0) : 0);
  const trainable = info.params.reduce((a, p) => a + size(p.shape), 0);
  const state = info.state.reduce((a, p) => a + size(p.shape), 0);
  return {
    file: spec.file,
    format: spec.format,
    name: spec.name,
    layout: spec.layout ?? 'NHWC',
    layers: spec.layers.map((l) => ({
      name: l.name,
      type: l.className,
      outputShape: layerShapeInSource(spec, l.name, info.shapes.get(l.name)!),
      params: count(l.name),
      ...(l.range ? { line: l.range.line } : {}),
    })),
    trainableParams: trainable,
    totalParams: buffersCount ? trainable + state : trainable,
    ...(spec.weightsSource ? { weightsSource: spec.weightsSource } : {}),
  };
}

export async function inspectNetwork(file: string, read: NetworkReadOptions = {}): Promise<InspectResult> {
  return inspectLoaded(await openNetwork(file, isPythonFile(file) ? read : {}));
}

export function inspectTable(r: InspectResult): string {
  const rows = r.layers.map((l) => [l.name, l.type, `(${l.outputShape.join(', ')})`, String(l.params)]);
  // Channels first is worth saying only where there are images (an MLP's shapes read the same either way).
  const images = r.layout === 'NCHW' && r.layers.some((l) => l.outputShape.length === 3);
  const head = ['layer', 'type', `output shape (${images ? 'C, H, W' : 'per example'})`, 'params'];
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === 3 ? c.padStart(w[i]) : c.padEnd(w[i])))
      .join('  ')
      .trimEnd();
  const out = [`${r.name} (${r.format}) — ${r.file}`, line(head), ...rows.map(line), `trainableParams ${r.trainableParams}`, `totalParams ${r.totalParams}`];
  if (r.weightsSource) out.push(`weights ${r.weightsSource}`);
  return `${out.join('\n')}\n`;
}
