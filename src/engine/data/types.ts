import type { LossName } from '../../protocol';

/** One split of a data set, held as flat typed arrays (row-major, NHWC for images). */
export interface DataSplit {
  /** Number of examples. */
  n: number;
  /** n × prod(inputShape) values. */
  x: Float32Array;
  /** softmax-ce: class ids, length n. */
  labels?: Int32Array;
  /** mse: n × outputs targets. */
  targets?: Float32Array;
}

export interface Dataset {
  name: string;
  /** Shape of one example, without the batch dimension (e.g. [28, 28, 1] or [784]). */
  inputShape: number[];
  /** Number of classes (softmax-ce) or target width (mse). */
  outputs: number;
  loss: LossName;
  train: DataSplit;
  /** Held-out split; may be empty (n = 0) for data that has none. */
  test: DataSplit;
  /** One line on where the data came from and how the held-out split was made, for the report. */
  description?: string;
  /** Synthetic data only: the parameters it was drawn from, so tests and reports can check against them. */
  generator?: { kind: 'gaussian'; means: Float32Array } | { kind: 'dln'; A: Float64Array };
}
