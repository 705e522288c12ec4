// Seeded synthetic data sets: they need no files, so every example and test can run anywhere.
//
// gaussian — class-conditional Gaussian clusters. Class c has mean μ_c with i.i.d. N(0, R²/d) entries
//   (d = input size, R = 4), and examples are μ_c + N(0, I). Scaling the mean entries by 1/√d keeps
//   ‖μ_a − μ_b‖ ≈ R·√2 ≈ 5.7 noise standard deviations whatever the input size, so two classes overlap
//   by about Φ(−2.8) ≈ 0.2% and with ten classes a perfect linear classifier still errs on a few per
//   cent: learnable, yet a randomly initialised network starts at chance and has to work for it.
//   Labels are drawn uniformly.
//
// dln — the deep-linear-network task of Santurkar et al. 2018 (appendix): x ~ N(0, I_d),
//   y = A·x with A (k × d) having i.i.d. N(0, 1) entries, loss ‖f(x) − y‖², 1000 examples used as one
//   full batch. A held-out set is drawn the same way from the same A.

import { Rng } from '../rng';
import type { DataSplit } from './types';

export const GAUSSIAN_RADIUS = 4;
export const GAUSSIAN_DEFAULT_TRAIN = 2000;
export const GAUSSIAN_DEFAULT_TEST = 500;
export const DLN_DEFAULT_TRAIN = 1000;
export const DLN_DEFAULT_TEST = 1000;

/** Rng streams of the data generators, apart from those of weights and batches. */
const STREAM_GAUSSIAN = 1001;
const STREAM_DLN = 1002;

export interface GaussianData {
  train: DataSplit;
  test: DataSplit;
  /** classes × inputSize, row-major. */
  means: Float32Array;
}

export function gaussianClusters(inputSize: number, classes: number, seed: number, nTrain = GAUSSIAN_DEFAULT_TRAIN, nTest = GAUSSIAN_DEFAULT_TEST): GaussianData {
  const rng = new Rng(seed, STREAM_GAUSSIAN);
  const scale = GAUSSIAN_RADIUS / Math.sqrt(inputSize);
  const means = new Float32Array(classes * inputSize);
  for (let i = 0; i < means.length; i++) means[i] = scale * rng.normal();
  const draw = (n: number): DataSplit => {
    const x = new Float32Array(n * inputSize);
    const labels = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      const c = rng.int(classes);
      labels[i] = c;
      for (let j = 0; j < inputSize; j++) x[i * inputSize + j] = means[c * inputSize + j] + rng.normal();
    }
    return { n, x, labels };
  };
  const train = draw(nTrain);
  const test = draw(nTest);
  return { train, test, means };
}

export interface DlnData {
  train: DataSplit;
  test: DataSplit;
  /** outputs × inputs, row-major: y = A·x. */
  A: Float64Array;
}

export function deepLinearData(inputs: number, outputs: number, seed: number, nTrain = DLN_DEFAULT_TRAIN, nTest = DLN_DEFAULT_TEST): DlnData {
  const rng = new Rng(seed, STREAM_DLN);
  const A = new Float64Array(outputs * inputs);
  for (let i = 0; i < A.length; i++) A[i] = rng.normal();
  const draw = (n: number): DataSplit => {
    const x = new Float32Array(n * inputs);
    const targets = new Float32Array(n * outputs);
    for (let i = 0; i < n * inputs; i++) x[i] = rng.normal();
    // y from the stored float32 x, so that y = A·x holds for the data the network actually sees.
    for (let i = 0; i < n; i++) {
      for (let r = 0; r < outputs; r++) {
        let s = 0;
        for (let j = 0; j < inputs; j++) s += A[r * inputs + j] * x[i * inputs + j];
        targets[i * outputs + r] = s;
      }
    }
    return { n, x, targets };
  };
  const train = draw(nTrain);
  const test = draw(nTest);
  return { train, test, A };
}
