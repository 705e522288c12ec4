// An .onnx file as a network the engine trains: decode, map the graph onto the IR, infer its shapes; the
// initializers are the weights (already in the engine's layout, named `layer/role`).

import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename } from 'node:path';
import { UserError } from '../../errors';
import type { Framework, NetworkSpec } from '../ir';
import { inferShapes, type ShapeInfo } from '../shapes';
import { decodeModel, defaultOpset } from './decode';
import { mapGraph } from './graph';

export const MIN_OPSET = 9;
export const MAX_OPSET = 21;

export interface OnnxNetwork {
  spec: NetworkSpec;
  info: ShapeInfo;
  notes: string[];
  /** Per IR layer, the ONNX node it came from. */
  origin: Map<string, string>;
  /** Per IR layer, its output's ONNX dimensions without the batch (NCHW for images). */
  onnxShapes: Map<string, number[]>;
  opset: number;
  producer: string;
}

export function isOnnxFile(file: string): boolean {
  return /\.onnx$/i.test(file);
}

/**
 * Whose conventions a model gets where the graph is silent (the BatchNorm layers variants insert, how running
 * variance is updated, initializers): Keras' for tf2onnx/keras2onnx exports, else PyTorch's — the exporter
 * of most ONNX files, whose NCHW layout and BatchNorm defaults (epsilon 1e-5, momentum 0.9) are ONNX's own.
 */
export function frameworkOfProducer(producerName: string): Framework {
  return /tf2onnx|keras/i.test(producerName) ? 'keras' : 'pytorch';
}

/** Reads and maps an .onnx file. Every problem is a UserError naming the file (and the node). */
export function readOnnxNetwork(file: string): OnnxNetwork {
  if (!existsSync(file)) throw new UserError('network file not found; check the path', file);
  if (statSync(file).isDirectory()) throw new UserError('this is a folder; give the .onnx file inside it', file);
  const model = decodeModel(readFileSync(file), file);
  const opset = defaultOpset(model);
  if (opset < MIN_OPSET || opset > MAX_OPSET) throw new UserError(`the model uses ONNX opset ${opset || '(none)'}; BatchNorm Lens reads opsets ${MIN_OPSET}–${MAX_OPSET} — export with opset_version between them`, file);
  const framework = frameworkOfProducer(model.producerName ?? '');
  const mapped = mapGraph(model, file, opset, framework);
  const layers = mapped.layers;
  const info = inferShapes(layers, file);
  const name = model.graph?.name || basename(file).replace(/\.onnx$/i, '');
  const spec: NetworkSpec = {
    file,
    format: 'onnx',
    framework,
    layout: mapped.layout,
    name,
    layers,
    outputs: [mapped.output],
    weights: mapped.weights,
    sourceShapes: Object.fromEntries(mapped.onnxShapes),
  };
  const producer = [model.producerName, model.producerVersion].filter(Boolean).join(' ');
  return { spec, info, notes: mapped.notes, origin: mapped.origin, onnxShapes: mapped.onnxShapes, opset, producer };
}
