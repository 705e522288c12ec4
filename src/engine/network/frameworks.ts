// What each framework assumes where a file is silent, in one place: the readers fill layers from it and
// the variants insert BatchNorm with it, so a PyTorch network gets PyTorch's BatchNorm and initial weights.

import type { Framework, InitializerSpec, NetworkSpec } from './ir';

export interface FrameworkDefaults {
  /** BatchNorm epsilon when not written (PyTorch 1e-5, Keras 1e-3). */
  bnEpsilon: number;
  /**
   * BatchNorm moving-average factor in the IR's (Keras') convention. PyTorch's momentum 0.1 is 0.9 here.
   * Keras' own default is 0.99; inserted layers use 0.9 too because 0.99 lags far behind in short runs.
   */
  bnMomentum: number;
  /** Moving-average factor of the BatchNorm layers the variants insert. */
  insertedBnMomentum: number;
  unbiasedMovingVariance: boolean;
  kernelInitializer: InitializerSpec;
  biasInitializer: InitializerSpec;
  /** Class name shown for an inserted BatchNorm after a layer of this kind. */
  bnClassName(after: 'dense' | 'conv2d' | 'depthwise' | 'separable'): string;
}

/**
 * PyTorch's default for Linear and Conv2d weights and biases: kaiming_uniform_(a=√5) on the weight, which is
 * U(−1/√fan_in, 1/√fan_in), and the same bound for the bias with the weight's fan-in (see initializers.ts).
 */
export const TORCH_DEFAULT_INIT: InitializerSpec = { className: 'TorchDefault', config: {} };

export const FRAMEWORK_DEFAULTS: Record<Framework, FrameworkDefaults> = {
  keras: {
    bnEpsilon: 1e-3,
    bnMomentum: 0.99,
    insertedBnMomentum: 0.9,
    unbiasedMovingVariance: false,
    kernelInitializer: { className: 'GlorotUniform', config: {} },
    biasInitializer: { className: 'Zeros', config: {} },
    bnClassName: () => 'BatchNormalization',
  },
  pytorch: {
    bnEpsilon: 1e-5,
    bnMomentum: 0.9,
    insertedBnMomentum: 0.9,
    unbiasedMovingVariance: true,
    kernelInitializer: TORCH_DEFAULT_INIT,
    biasInitializer: TORCH_DEFAULT_INIT,
    bnClassName: (after) => (after === 'dense' ? 'BatchNorm1d' : 'BatchNorm2d'),
  },
};

export function frameworkOf(spec: Pick<NetworkSpec, 'framework'>): Framework {
  return spec.framework ?? 'keras';
}

export function defaultsOf(spec: Pick<NetworkSpec, 'framework'>): FrameworkDefaults {
  return FRAMEWORK_DEFAULTS[frameworkOf(spec)];
}

/** PyTorch's BatchNorm momentum (weight of the new batch) as the IR's moving-average factor. */
export function momentumFromTorch(m: number): number {
  return 1 - m;
}
