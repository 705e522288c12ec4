// One entry point from a data-set spec (what the user typed) to a checked Dataset in the layout the
// model takes. Each source only decodes its format into a RawData; everything users get wrong — shapes,
// label ranges, NaN, missing arrays — is checked once, here, the same way for every source.
//
// Held-out data: MNIST and CIFAR-10 have fixed test sets; the synthetic sets draw theirs from the same
// distribution. A file without one (.npz without x_test/y_test, .npy pair, .csv) gets HOLDOUT_FRACTION
// of its examples held out, chosen by a permutation from the run's seed, so the same seed always holds
// out the same examples and a different seed a different subset.

import { existsSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { LossName } from '../../protocol';
import { UserError } from '../errors';
import { Rng } from '../rng';
import { isCifarDir, readCifar10, CIFAR_CHANNELS, CIFAR_SIDE } from './cifar';
import { readCsv } from './csv';
import { isDirectory } from './files';
import { loadMnist, MNIST_SIDE } from './mnist';
import { NpyArray, readNpy } from './npy';
import { readNpz } from './npz';
import { deepLinearData, gaussianClusters, GAUSSIAN_DEFAULT_TEST, GAUSSIAN_DEFAULT_TRAIN } from './synthetic';
import type { DataSplit, Dataset } from './types';

export type { DataSplit, Dataset } from './types';
export { batchIterator, epochBatches, takeRows, BATCH_STREAM } from './batches';
export type { Batch, BatchOptions } from './batches';

export const HOLDOUT_FRACTION = 0.2;
/** Rng stream of the held-out choice, apart from the data generators' and the batch order's. */
const SPLIT_STREAM = 1004;

export interface DataNeed {
  /** The model's input shape without the batch dimension. */
  inputShape: number[];
  /** The model's output width: classes for softmax-ce, targets for mse, 1 for binary-ce. */
  outputs: number;
  loss: LossName | 'auto';
  /** The network file's image layout: NCHW files take [c, h, w] examples (transposed to the engine's NHWC). */
  layout?: 'NHWC' | 'NCHW';
  /** Upper bound on the input values a synthetic set holds in memory (train + held-out); sizes large-input sets down. */
  maxValues?: number;
}

/** Default bound on a synthetic data set's input values: 64 M floats (256 MB) — a 224×224×3 set keeps ~400 examples. */
export const SYNTHETIC_MAX_VALUES = 64 * 2 ** 20;

/** A split as decoded from a source, before it is checked and adapted. */
interface RawSplit {
  n: number;
  x: ArrayLike<number>;
  /** Labels or targets, n × prod(yShape). */
  y: ArrayLike<number>;
  /** Per-example shape of y: [] for one label per example. */
  yShape: number[];
  /** 1-based file line of each example (CSV), for messages. */
  lines?: Int32Array;
  /** Names used in messages, e.g. "x" / "y_test". */
  xName: string;
  yName: string;
}

interface RawData {
  name: string;
  /** The file (or folder) messages point at. */
  file?: string;
  /** Per-example shape of x as stored. */
  exampleShape: number[];
  train: RawSplit;
  test?: RawSplit;
  /** How a held-out split came about, when the source has one. */
  testNote?: string;
  /** Forced loss: class data (MNIST, CIFAR, gaussian) or regression (dln). */
  kind?: 'classes' | 'regression';
  generator?: Dataset['generator'];
}

export function loadDataset(spec: string, need: DataNeed, opts: { seed: number }): Dataset {
  const raw = decode(spec.trim(), need, opts.seed);
  return finish(raw, need, opts.seed);
}

// ---------------------------------------------------------------- sources

function decode(spec: string, need: DataNeed, seed: number): RawData {
  const inputSize = prod(need.inputShape);
  switch (spec.toLowerCase()) {
    case 'mnist': {
      const { train, test } = loadMnist();
      const binary = need.loss === 'binary-ce';
      // A binary classifier learns "digit ≥ 5" (class 1) against "digit < 5" (class 0).
      const split = (s: DataSplit): DataSplit => (binary ? { ...s, labels: s.labels!.map((d) => (d >= 5 ? 1 : 0)) } : s);
      return {
        name: binary ? 'mnist-binary' : 'mnist',
        exampleShape: [MNIST_SIDE, MNIST_SIDE, 1],
        train: fromSplit(split(train)),
        test: fromSplit(split(test)),
        testNote: `the last 20% of each digit class of the mnist package held out${binary ? '; label 1 for digits ≥ 5, 0 for the others' : ''}`,
        kind: 'classes',
      };
    }
    case 'gaussian': {
      const binary = need.loss === 'binary-ce';
      if (need.outputs < 2 && !binary) {
        throw new UserError(
          `the gaussian data set is classification and needs a model with one output per class (2 or more), or one sigmoid output (binary); this one has ${need.outputs} linear output — use --loss binary-ce, widen the last layer, or use dln`,
        );
      }
      const classes = binary ? 2 : need.outputs;
      // Large inputs (224×224×3) would need gigabytes for the default 2,000 + 500 examples: fewer, same ratio.
      const budget = Math.floor((need.maxValues ?? SYNTHETIC_MAX_VALUES) / Math.max(inputSize, 1));
      const nTrain = Math.min(GAUSSIAN_DEFAULT_TRAIN, Math.max(64, Math.floor(budget * 0.8)));
      const nTest = Math.min(GAUSSIAN_DEFAULT_TEST, Math.max(16, budget - nTrain));
      const g = gaussianClusters(inputSize, classes, seed, nTrain, nTest);
      return {
        name: 'gaussian',
        exampleShape: need.inputShape.slice(),
        train: fromSplit(g.train),
        test: fromSplit(g.test),
        testNote: `${classes} Gaussian clusters${binary ? ' (labels 0/1 for a binary classifier)' : ''}, seed ${seed}; held-out examples drawn from the same clusters${nTrain < GAUSSIAN_DEFAULT_TRAIN ? ` (${nTrain} + ${nTest} examples: fewer for this large input)` : ''}`,
        kind: 'classes',
        generator: { kind: 'gaussian', means: g.means },
      };
    }
    case 'dln': {
      const d = deepLinearData(inputSize, need.outputs, seed);
      return {
        name: 'dln',
        exampleShape: need.inputShape.slice(),
        train: fromSplit(d.train, need.outputs),
        test: fromSplit(d.test, need.outputs),
        testNote: `y = A·x with Gaussian x and A, seed ${seed}; held-out examples drawn the same way`,
        kind: 'regression',
        generator: { kind: 'dln', A: d.A },
      };
    }
  }
  const pair = spec.split(',').map((s) => s.trim());
  if (pair.length === 2 && pair.every((p) => p.toLowerCase().endsWith('.npy'))) return fromNpyPair(pair[0], pair[1]);
  if (pair.length > 2 || (pair.length === 2 && !pair.every((p) => p.toLowerCase().endsWith('.npy')))) {
    throw new UserError(`data set '${spec}' is not understood: a comma is only for a pair of .npy files; write it as x.npy,y.npy`);
  }
  const lower = spec.toLowerCase();
  if (lower.endsWith('.npz')) return fromNpz(spec);
  if (lower.endsWith('.npy')) return fromNpyPair(spec, siblingY(spec));
  if (lower.endsWith('.csv')) return fromCsv(spec, need);
  if (existsSync(spec) && isDirectory(spec)) {
    if (existsSync(join(spec, 'x.npy'))) return fromNpyPair(join(spec, 'x.npy'), join(spec, 'y.npy'));
    if (isCifarDir(spec)) return fromCifar(spec);
    throw new UserError('this folder has neither x.npy/y.npy nor CIFAR-10 batches (data_batch_1.bin …); give an .npz, .npy, .csv file or a CIFAR-10 binary folder', spec);
  }
  if (existsSync(spec)) {
    throw new UserError('unsupported data file type; use .npz, a pair of .npy files, .csv or a CIFAR-10 binary folder', spec);
  }
  if (/[\\/.]/.test(spec)) throw new UserError('data file not found; check the path given as the data set', spec);
  throw new UserError(`unknown data set '${spec}'; use mnist, gaussian, dln or a path to an .npz, .npy, .csv file or a CIFAR-10 folder`);
}

function fromSplit(s: DataSplit, outputs?: number): RawSplit {
  if (s.labels) return { n: s.n, x: s.x, y: s.labels, yShape: [], xName: 'x', yName: 'labels' };
  return { n: s.n, x: s.x, y: s.targets!, yShape: [outputs ?? s.targets!.length / Math.max(s.n, 1)], xName: 'x', yName: 'targets' };
}

/** `x.npy` → `y.npy`, `x_train.npy` → `y_train.npy`: the y file beside an x file. */
function siblingY(xPath: string): string {
  const b = basename(xPath);
  if (!/^x/i.test(b)) {
    throw new UserError('cannot tell which file holds the labels: name the inputs x.npy (labels beside it in y.npy) or give both as x.npy,y.npy', xPath);
  }
  return join(dirname(xPath), (b[0] === 'X' ? 'Y' : 'y') + b.slice(1));
}

function fromNpyPair(xPath: string, yPath: string): RawData {
  if (!existsSync(yPath)) {
    throw new UserError(`no labels file beside the inputs (expected ${basename(yPath)}); save the labels there or give both as x.npy,y.npy`, yPath);
  }
  const x = readNpy(xPath);
  const y = readNpy(yPath);
  const data = fromArrays(x, y, xPath, yPath, 'x', 'y');
  data.name = basename(dirname(xPath)) + '/' + basename(xPath);
  // x_test.npy / y_test.npy beside x.npy / y.npy are taken as the held-out split.
  const xt = join(dirname(xPath), basename(xPath).replace(/(\.npy)$/i, '_test$1'));
  const yt = join(dirname(yPath), basename(yPath).replace(/(\.npy)$/i, '_test$1'));
  if (existsSync(xt) && existsSync(yt)) {
    const t = fromArrays(readNpy(xt), readNpy(yt), xt, yt, 'x_test', 'y_test');
    checkSameExample(data.exampleShape, t.exampleShape, xt);
    data.test = t.train;
    data.testNote = `held-out split from ${basename(xt)} / ${basename(yt)}`;
  }
  return data;
}

function fromNpz(path: string): RawData {
  const arrays = readNpz(path);
  const names = [...arrays.keys()];
  const missing = (a: string) => new UserError(`the .npz has no array '${a}' (it has: ${names.join(', ') || 'none'}); save it with numpy.savez(path, x=inputs, y=labels)`, path);
  const x = arrays.get('x');
  const y = arrays.get('y');
  if (!x) throw missing('x');
  if (!y) throw missing('y');
  const data = fromArrays(x, y, path, path, 'x', 'y');
  data.name = basename(path);
  const xt = arrays.get('x_test');
  const yt = arrays.get('y_test');
  if (xt || yt) {
    if (!xt) throw missing('x_test');
    if (!yt) throw missing('y_test');
    const t = fromArrays(xt, yt, path, path, 'x_test', 'y_test');
    checkSameExample(data.exampleShape, t.exampleShape, path);
    data.test = t.train;
    data.testNote = 'held-out split from x_test / y_test';
  }
  return data;
}

function fromArrays(x: NpyArray, y: NpyArray, xFile: string, yFile: string, xName: string, yName: string): RawData {
  if (x.shape.length === 0) throw new UserError(`array '${xName}' is a scalar; it must have one row per example, shape (n, …)`, xFile);
  if (y.shape.length === 0) throw new UserError(`array '${yName}' is a scalar; it must have one label per example, shape (n,)`, yFile);
  const n = x.shape[0];
  if (y.shape[0] !== n) {
    throw new UserError(`'${xName}' has ${n} examples but '${yName}' has ${y.shape[0]}; give one label per example`, yFile);
  }
  const exampleShape = x.shape.length === 1 ? [1] : x.shape.slice(1);
  return {
    name: basename(xFile),
    file: xFile,
    exampleShape,
    train: { n, x: x.data, y: y.data, yShape: y.shape.slice(1), xName, yName },
  };
}

function fromCsv(path: string, need: DataNeed): RawData {
  const t = readCsv(path);
  // Label columns: one class id, or, for a regression model, as many targets as it has outputs.
  const yCols = need.loss === 'mse' && need.outputs > 1 ? need.outputs : 1;
  const xCols = t.cols - yCols;
  if (xCols < 1) {
    throw new UserError(`rows have ${t.cols} columns, too few for ${yCols} target column(s) and at least one feature; put features first, targets last`, path);
  }
  const x = new Float64Array(t.rows * xCols);
  const y = new Float64Array(t.rows * yCols);
  for (let i = 0; i < t.rows; i++) {
    for (let j = 0; j < xCols; j++) x[i * xCols + j] = t.values[i * t.cols + j];
    for (let j = 0; j < yCols; j++) y[i * yCols + j] = t.values[i * t.cols + xCols + j];
  }
  return {
    name: basename(path),
    file: path,
    exampleShape: [xCols],
    train: { n: t.rows, x, y, yShape: yCols === 1 ? [] : [yCols], lines: t.lines, xName: 'features', yName: 'label' },
  };
}

function fromCifar(dir: string): RawData {
  const { train, test } = readCifar10(dir);
  return {
    name: 'cifar-10',
    file: dir,
    exampleShape: [CIFAR_SIDE, CIFAR_SIDE, CIFAR_CHANNELS],
    train: fromSplit(train),
    test: test.n > 0 ? fromSplit(test) : undefined,
    testNote: test.n > 0 ? 'held-out split from test_batch.bin' : undefined,
    kind: 'classes',
  };
}

// ---------------------------------------------------------------- checks and adaptation

function finish(raw: RawData, need: DataNeed, seed: number): Dataset {
  const file = raw.file;
  if (raw.train.n === 0) {
    throw new UserError(`the data has zero examples (${raw.train.xName} has shape (0, …)); give at least one example`, file);
  }
  const layout = adaptLayout(raw.exampleShape, need.inputShape, file, need.layout);
  const loss = decideLoss(raw, need);
  const convert = (s: RawSplit): DataSplit => {
    const x = layout(s);
    checkFinite(x, s, s.xName, x.length / Math.max(s.n, 1), file);
    if (loss === 'binary-ce') return { n: s.n, x, labels: classIds(s, 2, file, 'binary-ce') };
    return loss === 'softmax-ce' ? { n: s.n, x, labels: classIds(s, need.outputs, file) } : { n: s.n, x, targets: targets(s, need.outputs, file) };
  };
  let train = convert(raw.train);
  let test: DataSplit;
  let note = raw.testNote;
  if (raw.test) {
    test = convert(raw.test);
  } else {
    const cut = holdOut(train, seed);
    train = cut.train;
    test = cut.test;
    note = `${test.n} of ${train.n + test.n} examples (${HOLDOUT_FRACTION * 100}%) held out, chosen by seed ${seed}`;
  }
  return {
    name: raw.name,
    inputShape: need.inputShape.slice(),
    outputs: need.outputs,
    loss,
    train,
    test,
    description: note,
    ...(raw.generator ? { generator: raw.generator } : {}),
  };
}

/**
 * Returns a function giving x in the model's layout. Sizes must agree; then the data is reshaped
 * (row-major, which is what [28,28] → [784] or [28,28] → [28,28,1] mean), except that channel-first
 * images [c,h,w] given to a channel-last model [h,w,c] are transposed, as reshaping would scramble them.
 */
function adaptLayout(from: number[], to: number[], file?: string, layout?: 'NHWC' | 'NCHW'): (s: RawSplit) => Float32Array {
  const a = prod(from);
  const b = prod(to);
  if (a !== b) {
    throw new UserError(
      `data examples have shape [${from.join(', ')}] (${a} values) but the model's input is [${to.join(', ')}] (${b} values); use data of the model's input shape or change the model's input layer`,
      file,
    );
  }
  const isChw = from.length === 3 && to.length === 3 && from[0] === to[2] && from[1] === to[0] && from[2] === to[1];
  // A channels-first file's data is [c, h, w] by definition; for others, guess only where it is unambiguous.
  const chw = isChw && (layout === 'NCHW' || (from[0] !== from[2] && from[0] > 1));
  if (!chw) return (s) => (s.x instanceof Float32Array ? s.x : Float32Array.from(s.x));
  const [c, h, w] = from;
  return (s) => {
    const out = new Float32Array(s.n * a);
    for (let i = 0; i < s.n; i++) {
      const base = i * a;
      for (let ch = 0; ch < c; ch++) for (let p = 0; p < h * w; p++) out[base + p * c + ch] = s.x[base + ch * h * w + p];
    }
    return out;
  };
}

/**
 * 'auto': whole-number labels, one per example, for a model with two or more outputs are class ids
 * (softmax-ce); anything else — fractional values, target vectors, a single output — is regressed (mse).
 */
function decideLoss(raw: RawData, need: DataNeed): LossName {
  if (raw.kind === 'regression') {
    if (need.loss === 'softmax-ce' || need.loss === 'binary-ce') {
      throw new UserError(
        `'${raw.name}' is a regression task (y = A·x) but the model is a classifier (${need.loss}${need.loss === 'binary-ce' ? ': one sigmoid output' : ''}); use --loss mse, or a classification data set (mnist, gaussian)`,
        raw.file,
      );
    }
    return 'mse';
  }
  if (need.loss !== 'auto') return need.loss;
  if (raw.kind === 'classes') return 'softmax-ce';
  const s = raw.train;
  const scalar = prod(s.yShape) === 1;
  return scalar && need.outputs >= 2 && allWhole(s.y) ? 'softmax-ce' : 'mse';
}

function classIds(s: RawSplit, classes: number, file?: string, loss: 'softmax-ce' | 'binary-ce' = 'softmax-ce'): Int32Array {
  const width = prod(s.yShape);
  const out = new Int32Array(s.n);
  if (width === 1) {
    for (let i = 0; i < s.n; i++) {
      const v = s.y[i];
      if (!Number.isInteger(v)) {
        throw new UserError(`${s.yName} of example ${i} is ${v}, not a class id; labels for softmax-ce must be whole numbers 0…${classes - 1}`, file, s.lines?.[i]);
      }
      if (v < 0 || v >= classes) {
        if (loss === 'binary-ce') throw new UserError(`${s.yName} of example ${i} is ${v}; a binary classifier (one sigmoid output, binary-ce) needs labels 0 or 1`, file, s.lines?.[i]);
        throw new UserError(`${s.yName} of example ${i} is ${v}, out of range for a model with ${classes} classes (0…${classes - 1}); fix the label or the model's output size`, file, s.lines?.[i]);
      }
      out[i] = v;
    }
    return out;
  }
  // One-hot rows of the model's width: the class is where the 1 is.
  if (width !== classes) {
    throw new UserError(`${s.yName} has ${width} values per example but the model has ${classes} classes; give one class id per example (or one-hot rows of width ${classes})`, file);
  }
  for (let i = 0; i < s.n; i++) {
    let hot = -1;
    for (let j = 0; j < width; j++) {
      const v = s.y[i * width + j];
      if (v === 1 && hot < 0) hot = j;
      else if (v !== 0) hot = -2;
    }
    if (hot < 0) throw new UserError(`${s.yName} row of example ${i} is not one-hot; give class ids, one-hot rows, or use --loss mse`, file, s.lines?.[i]);
    out[i] = hot;
  }
  return out;
}

function targets(s: RawSplit, outputs: number, file?: string): Float32Array {
  const width = prod(s.yShape);
  let y: Float32Array;
  if (width === outputs) {
    y = s.y instanceof Float32Array ? s.y : Float32Array.from(s.y);
  } else if (width === 1 && allWhole(s.y)) {
    // Class ids for a regression loss: one-hot targets are the only reading that fits the model.
    const ids = classIds(s, outputs, file);
    y = new Float32Array(s.n * outputs);
    for (let i = 0; i < s.n; i++) y[i * outputs + ids[i]] = 1;
  } else {
    throw new UserError(`${s.yName} has ${width} value(s) per example but the model has ${outputs} outputs; make the targets as wide as the model's output`, file);
  }
  checkFinite(y, s, s.yName, outputs, file);
  return y;
}

function checkFinite(v: Float32Array, s: RawSplit, name: string, width: number, file?: string): void {
  for (let i = 0; i < v.length; i++) {
    if (!Number.isFinite(v[i])) {
      const ex = Math.floor(i / width);
      const what = Number.isNaN(v[i]) ? 'NaN' : 'infinite (or beyond float32 range)';
      throw new UserError(`${name} of example ${ex} (value ${i % width}) is ${what}; clean or drop that example`, file, s.lines?.[ex]);
    }
  }
}

function holdOut(all: DataSplit, seed: number): { train: DataSplit; test: DataSplit } {
  const nTest = Math.floor(all.n * HOLDOUT_FRACTION);
  const perm = new Rng(seed, SPLIT_STREAM).permutation(all.n);
  const testRows = Array.from(perm.subarray(0, nTest)).sort((a, b) => a - b);
  const trainRows = Array.from(perm.subarray(nTest)).sort((a, b) => a - b);
  return { train: rows(all, trainRows), test: rows(all, testRows) };
}

function rows(s: DataSplit, idx: number[]): DataSplit {
  const xw = s.x.length / s.n;
  const x = new Float32Array(idx.length * xw);
  idx.forEach((r, k) => x.set(s.x.subarray(r * xw, (r + 1) * xw), k * xw));
  const out: DataSplit = { n: idx.length, x };
  if (s.labels) out.labels = Int32Array.from(idx, (r) => s.labels![r]);
  if (s.targets) {
    const tw = s.targets.length / s.n;
    const t = new Float32Array(idx.length * tw);
    idx.forEach((r, k) => t.set(s.targets!.subarray(r * tw, (r + 1) * tw), k * tw));
    out.targets = t;
  }
  return out;
}

function checkSameExample(a: number[], b: number[], file: string): void {
  if (a.join() !== b.join()) {
    throw new UserError(`held-out examples have shape [${b.join(', ')}] but training examples [${a.join(', ')}]; save x_test with the same shape as x`, file);
  }
}

function allWhole(v: ArrayLike<number>): boolean {
  for (let i = 0; i < v.length; i++) if (!Number.isInteger(v[i])) return false;
  return true;
}

function prod(shape: number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}
