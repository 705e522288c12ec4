// The two ends of a network that the data must fit: the input shape and the width of the output layer.

import { UserError } from '../errors';
import type { LayerNode } from './ir';
import type { LoadedNetwork } from './load';

export function outputWidth(net: LoadedNetwork): number {
  const shape = net.info.shapes.get(net.spec.outputs[0])!;
  if (shape.length !== 1) throw new UserError(`the output layer "${net.spec.outputs[0]}" has shape [${shape.join(', ')}]; end the network with a Dense layer (add Flatten before it)`, net.spec.file);
  return shape[0];
}

export function inputShape(layers: LayerNode[]): number[] {
  const input = layers.find((l) => l.kind === 'input');
  return input && input.kind === 'input' ? input.shape : [];
}
