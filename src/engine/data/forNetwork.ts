// A data set read in the layout a loaded network expects, and the whole of it as one split (`bnlens probe`
// measures on every row of the file).

import type { LossName } from '../../protocol';
import type { LoadedNetwork } from '../network/load';
import { inputShape, outputWidth } from '../network/modelIO';
import { loadDataset, type Dataset, type DataSplit } from './index';

export function loadData(net: LoadedNetwork, spec: string, loss: LossName | 'auto', seed: number): Dataset {
  return loadDataset(spec, { inputShape: inputShape(net.spec.layers), outputs: outputWidth(net), loss, layout: net.spec.layout }, { seed });
}

export function mergeSplits(a: DataSplit, b: DataSplit): DataSplit {
  const cat = <T extends Float32Array | Int32Array>(u: T | undefined, v: T | undefined, C: { new (n: number): T }) => {
    if (!u || !v) return u ?? v;
    const out = new C(u.length + v.length);
    out.set(u);
    out.set(v, u.length);
    return out;
  };
  return {
    n: a.n + b.n,
    x: cat(a.x, b.x, Float32Array)!,
    labels: cat(a.labels, b.labels, Int32Array),
    targets: cat(a.targets, b.targets, Float32Array),
  };
}
