// The IR being built while a model's forward pass (PyTorch) or functional calls (Keras) are evaluated:
// layers in the order they are applied, unique names, and every layer's output shape as soon as it is
// added, so `x.size(1)` and `x.view(x.size(0), -1)` can be answered and a mismatch is reported at the
// call that causes it.

import { UserError } from '../../errors';
import type { LayerNode, SourceLayout } from '../ir';
import { shapeInSourceLayout } from '../layout';
import { inferShapes } from '../shapes';
import { PythonSourceError, rangeOf, type SyntaxNode } from './parser';

export class GraphBuilder {
  readonly layers: LayerNode[] = [];
  private readonly names = new Set<string>();
  private readonly shapes = new Map<string, number[]>();

  constructor(
    readonly file: string,
    readonly layout: SourceLayout,
  ) {}

  reserve(name: string): void {
    this.names.add(name);
  }

  fresh(base: string): string {
    let n = base;
    for (let i = 2; this.names.has(n); i++) n = `${base}_${i}`;
    this.names.add(n);
    return n;
  }

  has(name: string): boolean {
    return this.layers.some((l) => l.name === name);
  }

  /** Append a layer (its name already chosen) and infer its output shape; errors point at `at`. */
  add(layer: LayerNode, at: SyntaxNode): string {
    const withRange = { ...layer, range: layer.range ?? rangeOf(at) } as LayerNode;
    this.layers.push(withRange);
    this.names.add(layer.name);
    try {
      const info = inferShapes(this.layers, this.file);
      this.shapes.set(layer.name, info.shapes.get(layer.name)!);
    } catch (e) {
      this.layers.pop();
      if (e instanceof UserError) throw new PythonSourceError(this.inSourceTerms(e.message), this.file, rangeOf(at));
      throw e;
    }
    return layer.name;
  }

  /** Engine shape (NHWC) of a layer's output, without the batch dimension. */
  shape(name: string): number[] {
    return this.shapes.get(name)!;
  }

  /** The same in the file's layout (C, H, W for PyTorch). */
  sourceShape(name: string): number[] {
    return shapeInSourceLayout(this.shape(name), this.layout);
  }

  /** Shape-inference messages speak Keras; for a PyTorch file the shapes are turned to C, H, W. */
  private inSourceTerms(msg: string): string {
    if (this.layout !== 'NCHW') return msg;
    return msg.replace(/\[(\d+), (\d+), (\d+)\]/g, (_m, h, w, c) => `[${c}, ${h}, ${w}]`).replace(/; use padding "same" or a smaller kernel/, '; use padding or a smaller kernel');
  }
}
