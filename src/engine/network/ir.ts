// The engine's own description of a network: what the file says, normalized across tfjs-layers, Keras 2 and
// Keras 3, with nothing of TensorFlow.js in it (the extension host parses files with this for diagnostics).

export type Activation = 'linear' | 'relu' | 'sigmoid' | 'tanh' | 'softmax' | 'elu' | 'selu' | 'softplus' | 'gelu' | 'swish' | 'leaky_relu';

export type Padding = 'valid' | 'same';

export interface InitializerSpec {
  className: string;
  config: Record<string, unknown>;
}

interface LayerBase {
  /** The layer's name in the file. */
  name: string;
  /** Keras class name as written (Dense, Conv2D, …). */
  className: string;
  /** Names of the layers whose outputs feed this one (empty for an input). */
  inbound: string[];
  /** For variants: the source layer this one came from; null for layers of the file itself. */
  derivedFrom?: string | null;
}

export type LayerNode =
  | (LayerBase & { kind: 'input'; shape: number[] })
  | (LayerBase & {
      kind: 'dense';
      units: number;
      useBias: boolean;
      activation: Activation;
      kernelInitializer: InitializerSpec;
      biasInitializer: InitializerSpec;
    })
  | (LayerBase & {
      kind: 'conv2d';
      filters: number;
      kernelSize: [number, number];
      strides: [number, number];
      padding: Padding;
      dilation: [number, number];
      useBias: boolean;
      activation: Activation;
      kernelInitializer: InitializerSpec;
      biasInitializer: InitializerSpec;
    })
  | (LayerBase & {
      kind: 'batchnorm';
      /** As written; must name the last axis (checked when shapes are known). */
      axis: number;
      epsilon: number;
      momentum: number;
      center: boolean;
      scale: boolean;
      /** Variant-only: noise of Santurkar et al. Algorithm 1 after normalizing. */
      noisy?: boolean;
    })
  | (LayerBase & {
      /** ℓp normalization (variants only): subtract batch mean, divide by batch mean of ‖·‖p. */
      kind: 'lpnorm';
      p: 1 | 2 | 'inf';
      epsilon: number;
    })
  | (LayerBase & { kind: 'activation'; activation: Activation; alpha?: number })
  | (LayerBase & { kind: 'relu'; maxValue: number | null; negativeSlope: number; threshold: number })
  | (LayerBase & { kind: 'pool'; op: 'max' | 'avg'; poolSize: [number, number]; strides: [number, number]; padding: Padding })
  | (LayerBase & { kind: 'globalpool'; op: 'max' | 'avg' })
  | (LayerBase & {
      kind: 'flatten';
      /** Flatten an image in channel-first order (as PyTorch's NCHW view does), not the IR's NHWC order. */
      channelsFirst?: boolean;
    })
  | (LayerBase & { kind: 'reshape'; targetShape: number[] })
  | (LayerBase & { kind: 'dropout'; rate: number })
  | (LayerBase & { kind: 'add' })
  | (LayerBase & { kind: 'concatenate'; axis: number });

export type LayerKind = LayerNode['kind'];

/** A weight as stored in the file (name as in the weights manifest). */
export interface WeightSpec {
  name: string;
  shape: number[];
  dtype: 'float32' | 'int32' | 'float16';
}

export interface NetworkSpec {
  /** The file it was read from. */
  file: string;
  format: 'tfjs-layers' | 'keras2' | 'keras3' | 'onnx';
  name: string;
  /** Layers in model order (topologically sorted; file order for Sequential). */
  layers: LayerNode[];
  /** Names of the output layers (one for the models the engine trains). */
  outputs: string[];
  /** Weights manifest, when the file has one; null for topology-only files. */
  weights: { specs: WeightSpec[]; data: ArrayBuffer } | null;
}
