// Gradients. The Node entry of tfjs-core (dist/tf-core.node.js) registers no gradient at all — the union
// package @tensorflow/tfjs normally imports them — so we import tfjs-core's own registrations, then add the
// few that training and probing need and tfjs lacks. The gradient registry is global (shared by every copy
// of tfjs-core in the process), so this also serves the tfjs-node namespace.
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import type { GradConfig, NamedAttrMap, Tensor } from '@tensorflow/tfjs-core';
import type { TfNamespace } from './tfjsNode';
import { registerSecondOrderGradients } from './secondOrder';

/** Comparisons and logic have no gradient in tfjs, so `where(greater(a, b), a, b)` fails on the way back. */
const PIECEWISE_CONSTANT: Array<[string, string[]]> = [
  ['Greater', ['a', 'b']],
  ['Less', ['a', 'b']],
  ['LessEqual', ['a', 'b']],
  ['GreaterEqual', ['a', 'b']],
  ['Equal', ['a', 'b']],
  ['NotEqual', ['a', 'b']],
  ['LogicalAnd', ['a', 'b']],
  ['LogicalOr', ['a', 'b']],
  ['LogicalXor', ['a', 'b']],
  ['LogicalNot', ['x']],
];

export function registerGradients(tf: TfNamespace): void {
  for (const [kernelName, inputs] of PIECEWISE_CONSTANT) {
    if (tf.getGradient(kernelName)) continue;
    tf.registerGradient({
      kernelName,
      inputsToSave: inputs,
      // Zero almost everywhere, as in TensorFlow; float32 because the tape requires float gradients.
      gradFunc: (_dy: Tensor | Tensor[], saved: Tensor[]) => Object.fromEntries(inputs.map((name, i) => [name, () => tf.zeros(saved[i].shape, 'float32')])),
    });
  }
  registerDilatedConv2DGradient(tf);
  registerSecondOrderGradients(tf);
}

/**
 * tfjs-core's Conv2D gradient refuses dilations > 1. A dilated convolution (tfjs requires stride 1 then) is
 * an ordinary convolution with the dilated filter W_d (zeros between taps), whose effective size also
 * gives the same 'same' padding. So dx = ∂/∂x conv(x, W_d), and dW is every d-th tap of ∂/∂W_d.
 */
function registerDilatedConv2DGradient(tf: TfNamespace): void {
  const original = tf.getGradient('Conv2D') as GradConfig | undefined;
  if (!original || (original as GradConfig & { bnlensDilated?: true }).bnlensDilated) return;
  const config: GradConfig & { bnlensDilated: true } = {
    kernelName: 'Conv2D',
    inputsToSave: ['x', 'filter'],
    bnlensDilated: true,
    gradFunc: (dy: Tensor | Tensor[], saved: Tensor[], attrs: NamedAttrMap) => {
      const { dilations, strides, pad, dataFormat, dimRoundingMode } = attrs as unknown as {
        dilations: number | [number, number];
        strides: number | [number, number];
        pad: unknown;
        dataFormat: 'NHWC' | 'NCHW';
        dimRoundingMode?: string;
      };
      const [dilH, dilW] = typeof dilations === 'number' ? [dilations, dilations] : dilations;
      if (dilH === 1 && dilW === 1) return original.gradFunc(dy, saved, attrs);
      const [x, filter] = saved;
      const [kh, kw, ci, co] = filter.shape;
      const effShape: [number, number, number, number] = [(kh - 1) * dilH + 1, (kw - 1) * dilW + 1, ci, co];
      const dilated = dilateFilter(tf, filter, dilH, dilW, effShape);
      const conv = { strides, pad, dataFormat, dimRoundingMode };
      return {
        x: () => tf.engine().runKernel('Conv2DBackpropInput', { dy: dy as Tensor, filter: dilated }, { ...conv, inputShape: x.shape } as never) as Tensor,
        filter: () => {
          const dWd = tf.engine().runKernel('Conv2DBackpropFilter', { x, dy: dy as Tensor }, { ...conv, filterShape: effShape } as never) as Tensor;
          return tf.stridedSlice(dWd, [0, 0, 0, 0], effShape, [dilH, dilW, 1, 1]);
        },
      };
    },
  };
  tf.registerGradient(config);
}

/** [kh, kw, ci, co] → [(kh−1)·dh+1, (kw−1)·dw+1, ci, co] with dh−1 (dw−1) zero rows (columns) between taps. */
function dilateFilter(tf: TfNamespace, w: Tensor, dh: number, dw: number, effShape: number[]): Tensor {
  const [kh, kw, ci, co] = w.shape;
  const spread = tf.pad(tf.reshape(w, [kh, 1, kw, 1, ci, co]), [
    [0, 0],
    [0, dh - 1],
    [0, 0],
    [0, dw - 1],
    [0, 0],
    [0, 0],
  ]);
  return tf.slice(tf.reshape(spread, [kh * dh, kw * dw, ci, co]), [0, 0, 0, 0], effShape);
}
