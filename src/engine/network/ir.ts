// The engine's own description of a network: what the file says, normalized across tfjs-layers, Keras 2 and
// Keras 3, with nothing of TensorFlow.js in it (the extension host parses files with this for diagnostics).

export type Activation = 'linear' | 'relu' | 'sigmoid' | 'tanh' | 'softmax' | 'elu' | 'selu' | 'softplus' | 'gelu' | 'swish' | 'leaky_relu' | 'relu6' | 'hard_sigmoid';

export type Padding = 'valid' | 'same';

/**
 * How the file lays out an image: Keras and tfjs channels-last (NHWC), PyTorch and ONNX channels-first
 * (NCHW). The engine always computes in NHWC: NCHW data is transposed where it enters (data loading), NCHW
 * weights where they are read (see layout.ts), and shapes are shown back to the user in the file's layout.
 */
export type SourceLayout = 'NHWC' | 'NCHW';

/** Whose defaults apply where the file is silent (BatchNorm eps/momentum, initializers, inserted layers). */
export type Framework = 'keras' | 'pytorch';

/** A place in the source file, 1-based lines and columns, end exclusive (Python readers set it). */
export interface SourceRange {
  line: number;
  column: number;
  endLine: number;
  endColumn: number;
}

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
  /** Where the file defines the layer, when the reader knows it exactly (Python: the assignment or call). */
  range?: SourceRange;
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
      /**
       * Explicit zero padding [top, bottom, left, right] (PyTorch `padding=1`, ONNX `pads`); when present it
       * replaces `padding`. TF's 'same' is asymmetric, so PyTorch's symmetric padding needs this.
       */
      pads?: [number, number, number, number];
      dilation: [number, number];
      useBias: boolean;
      activation: Activation;
      kernelInitializer: InitializerSpec;
      biasInitializer: InitializerSpec;
      /** Grouped convolution: input and output channels split into this many independent groups (default 1). */
      groups?: number;
    })
  | (LayerBase & {
      kind: 'batchnorm';
      /** As written; must name the last axis (checked when shapes are known). */
      axis: number;
      epsilon: number;
      /**
       * Keras' convention: moving = momentum·moving + (1 − momentum)·batch. PyTorch's momentum m is stored
       * as 1 − m (its default 0.1 is 0.9 here); see frameworks.ts.
       */
      momentum: number;
      /** PyTorch updates running_var with the unbiased batch variance (n/(n−1)); Keras with the biased one. */
      unbiasedMovingVariance?: boolean;
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
  | (LayerBase & {
      kind: 'pool';
      op: 'max' | 'avg';
      poolSize: [number, number];
      strides: [number, number];
      padding: Padding;
      /**
       * Explicit padding [top, bottom, left, right] (PyTorch `padding=1`, ONNX `pads`, ceil_mode's last window);
       * when present it replaces `padding`. Max pooling never picks a padded cell; average pooling counts padded
       * cells as zeros when `countIncludePad` (PyTorch's default), else averages the cells inside the image.
       */
      pads?: [number, number, number, number];
      countIncludePad?: boolean;
    })
  | (LayerBase & { kind: 'globalpool'; op: 'max' | 'avg' })
  | (LayerBase & {
      kind: 'flatten';
      /**
       * PyTorch's flatten of an NCHW tensor: values in C·H·W order. The engine's NHWC tensor is transposed to
       * NCHW before flattening, so a Linear after it sees exactly PyTorch's order (and its weights fit).
       */
      channelsFirst?: boolean;
    })
  | (LayerBase & { kind: 'reshape'; targetShape: number[] })
  | (LayerBase & { kind: 'dropout'; rate: number })
  | (LayerBase & { kind: 'add' })
  | (LayerBase & { kind: 'concatenate'; axis: number })
  // Layers of MobileNets, ResNets and preprocessing (issue 11). A `conv2d` may carry `groups` (below);
  // DepthwiseConv2D / SeparableConv2D are kinds of their own because their kernels differ in shape.
  | (LayerBase & {
      kind: 'depthwise';
      depthMultiplier: number;
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
      /** Depthwise (role 'kernel', file name depthwise_kernel) then 1×1 pointwise (role 'pointwise'). */
      kind: 'separable';
      filters: number;
      depthMultiplier: number;
      kernelSize: [number, number];
      strides: [number, number];
      padding: Padding;
      dilation: [number, number];
      useBias: boolean;
      activation: Activation;
      kernelInitializer: InitializerSpec;
      pointwiseInitializer: InitializerSpec;
      biasInitializer: InitializerSpec;
    })
  /** [[top, bottom], [left, right]] zeros around an image. */
  | (LayerBase & { kind: 'zeropad'; padding: [[number, number], [number, number]] })
  /** [[top, bottom], [left, right]] rows/columns removed. */
  | (LayerBase & { kind: 'crop'; cropping: [[number, number], [number, number]] })
  /** Nearest-neighbour upsampling by whole factors. */
  | (LayerBase & { kind: 'upsample'; size: [number, number] })
  /** y = x·scale + offset (Keras Rescaling). */
  | (LayerBase & { kind: 'rescale'; scale: number; offset: number })
  /**
   * y = (x − mean) / √variance per feature of the last axis (Keras Normalization, fixed after adapt()).
   * From the config when written there (scalars or one value per feature); else non-trainable state
   * read from the file's weights (roles 'mean', 'variance').
   */
  | (LayerBase & { kind: 'normalize'; mean: number[] | null; variance: number[] | null });

/** A weight as stored in the file (name as in the weights manifest). */
export interface WeightSpec {
  name: string;
  shape: number[];
  dtype: 'float32' | 'int32' | 'float16';
}

export interface NetworkSpec {
  /** The file it was read from. */
  file: string;
  format: 'tfjs-layers' | 'keras2' | 'keras3' | 'pytorch' | 'keras-python' | 'onnx';
  /** The file's image layout (default NHWC); the engine's tensors are NHWC whatever this says. */
  layout?: SourceLayout;
  /** Whose defaults apply (default keras); read it with frameworkOf(). */
  framework?: Framework;
  name: string;
  /** Layers in model order (topologically sorted; file order for Sequential). */
  layers: LayerNode[];
  /** Names of the output layers (one for the models the engine trains). */
  outputs: string[];
  /**
   * Weights manifest, when the file has one; null for topology-only files. Readers of other formats
   * deliver weights already in the engine's layout, named `layer/role` (see packWeights in layout.ts).
   */
  weights: { specs: WeightSpec[]; data: ArrayBuffer } | null;
  /** Where the weights came from, when not from the network file itself (shown in the report). */
  weightsSource?: string;
  /**
   * Per layer of the file, its output shape without the batch exactly as the file's framework computes it,
   * where that is not the engine's shape put in `layout` (ONNX GlobalAveragePool keeps [C, 1, 1]).
   */
  sourceShapes?: Record<string, number[]>;
}
