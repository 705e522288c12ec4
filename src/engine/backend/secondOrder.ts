// Gradients that make second derivatives (Hessian-vector products by nested tf.grad) exact.
//
// tfjs 4.22 records the copy of an op's saved *output* on the tape before the op itself, so when the
// gradient is differentiated again that copy is not seen as depending on the input: Exp, Softmax,
// LogSoftmax, Sigmoid, Tanh, Elu and Pow are differentiated as if their output were a constant (tfjs issue
// 3252; measured: gᵀHg/‖g‖² −0.317 against 0.561 in float64 through softmax cross-entropy). The versions
// here recompute the output from the saved *input*, which the tape does connect. First derivatives are the
// same numbers (the recomputed output is bit-identical), at the cost of one more elementwise op.
//
// The kernels that run a backward pass (Conv2DBackpropInput/Filter, MaxPoolGrad, AvgPoolGrad) need gradients
// of their own for the second pass. tfjs has one only for Conv2DBackpropInput; the others (and the depthwise
// pair) are below. All are registered by kernel name, so they serve every backend and the project's own
// kernels of those names.
import type { GradConfig, NamedAttrMap, Tensor } from '@tensorflow/tfjs-core';
import { MAX_POOL_GATHER } from './poolGrad';
import type { TfNamespace } from './tfjsNode';

type Attrs = Record<string, unknown>;

export function registerSecondOrderGradients(tf: TfNamespace): void {
  const reg = (kernelName: string, inputsToSave: string[], gradFunc: (dy: Tensor, saved: Tensor[], attrs: Attrs) => Record<string, () => Tensor>) =>
    tf.registerGradient({ kernelName, inputsToSave, gradFunc: gradFunc as unknown as GradConfig['gradFunc'] });

  reg('Exp', ['x'], (dy, [x]) => ({ x: () => tf.mul(dy, tf.exp(x)) }));
  reg('Sigmoid', ['x'], (dy, [x]) => ({
    x: () => {
      const y = tf.sigmoid(x);
      return tf.mul(dy, tf.mul(y, tf.sub(1, y)));
    },
  }));
  reg('Tanh', ['x'], (dy, [x]) => ({ x: () => tf.mul(dy, tf.sub(1, tf.square(tf.tanh(x)))) }));
  // Elu (α = 1 in tfjs): 1 above zero, exp(x) below.
  reg('Elu', ['x'], (dy, [x]) => ({ x: () => tf.where(tf.greater(x, 0), dy, tf.mul(dy, tf.exp(tf.minimum(x, 0)))) }));
  reg('Softmax', ['logits'], (dy, [logits], attrs) => ({
    logits: () => {
      const dim = attrs.dim as number[] | number;
      const y = tf.softmax(logits, Array.isArray(dim) ? dim[0] : dim);
      const dyy = tf.mul(dy, y);
      return tf.sub(dyy, tf.mul(tf.sum(dyy, dim, true), y));
    },
  }));
  reg('LogSoftmax', ['logits'], (dy, [logits], attrs) => ({
    logits: () => {
      const axis = attrs.axis as number[] | number;
      const y = tf.softmax(logits, Array.isArray(axis) ? axis[0] : axis);
      return tf.sub(dy, tf.mul(tf.sum(dy, axis, true), y));
    },
  }));
  reg('Pow', ['a', 'b'], (dy, [a, b]) => {
    const outShape = tf.broadcast_util.assertAndGetBroadcastShape(a.shape, b.shape);
    const reduceTo = (t: Tensor, shape: number[]) => {
      const axes = tf.broadcast_util.getReductionAxes(shape, outShape);
      return tf.reshape(axes.length ? tf.sum(t, axes) : t, shape);
    };
    return {
      a: () => {
        const e = tf.cast(b, 'float32');
        return reduceTo(tf.mul(dy, tf.mul(e, tf.pow(a, tf.sub(e, 1)))), a.shape);
      },
      b: () => {
        const logA = tf.where(tf.greater(a, 0), tf.log(a), tf.zerosLike(a));
        return reduceTo(tf.mul(dy, tf.mul(tf.pow(a, b), logA)), b.shape);
      },
    };
  });

  // dW = Conv2DBackpropFilter(x, dy) is bilinear in x and dy: its adjoint in x is a transposed
  // convolution of dy with the incoming filter-shaped gradient, in dy a convolution of x with it.
  reg('Conv2DBackpropFilter', ['x', 'dy'], (ddw, [x, dy], attrs) => {
    const conv = { strides: attrs.strides, pad: attrs.pad, dataFormat: attrs.dataFormat ?? 'NHWC', dimRoundingMode: attrs.dimRoundingMode };
    return {
      x: () => tf.engine().runKernel('Conv2DBackpropInput', { dy, filter: ddw }, { ...conv, inputShape: x.shape } as unknown as NamedAttrMap) as Tensor,
      dy: () => tf.engine().runKernel('Conv2D', { x, filter: ddw }, { ...conv, dilations: [1, 1] } as unknown as NamedAttrMap) as Tensor,
    };
  });

  // The depthwise pair (MobileNets' layers, grouped convs with one channel per group). tfjs differentiates
  // DepthwiseConv2dNative but not its two backprop kernels. Both are bilinear: dx = BackpropInput(dy, K)
  // has adjoint in dy the forward depthwise convolution of the incoming gradient with K, and in K the filter
  // gradient of the incoming gradient against dy; dK = BackpropFilter(x, dy) has adjoint in x the input
  // gradient of dy through the incoming filter-shaped gradient, and in dy the forward convolution of x by it.
  const depthwise = (a: Attrs) => ({ strides: a.strides, pad: a.pad, dilations: a.dilations ?? 1, dimRoundingMode: a.dimRoundingMode });
  reg('DepthwiseConv2dNativeBackpropInput', ['dy', 'filter'], (ddx, [dy, filter], attrs) => {
    const d = depthwise(attrs);
    return {
      dy: () => tf.engine().runKernel('DepthwiseConv2dNative', { x: ddx, filter }, d as unknown as NamedAttrMap) as Tensor,
      filter: () => tf.engine().runKernel('DepthwiseConv2dNativeBackpropFilter', { x: ddx, dy }, { ...d, filterShape: filter.shape } as unknown as NamedAttrMap) as Tensor,
    };
  });
  reg('DepthwiseConv2dNativeBackpropFilter', ['x', 'dy'], (ddk, [x, dy], attrs) => {
    const d = depthwise(attrs);
    return {
      x: () => tf.engine().runKernel('DepthwiseConv2dNativeBackpropInput', { dy, filter: ddk }, { ...d, inputShape: x.shape } as unknown as NamedAttrMap) as Tensor,
      dy: () => tf.engine().runKernel('DepthwiseConv2dNative', { x, filter: ddk }, d as unknown as NamedAttrMap) as Tensor,
    };
  });

  // dx = MaxPoolGrad(dy, x, y) is linear in dy (routing each window's dy to its argmax) and piecewise
  // constant in x and y: its gradient in dy reads the incoming gradient at each window's argmax.
  reg('MaxPoolGrad', ['dy', 'input', 'output'], (ddx, [, input, output], attrs) => ({
    dy: () => tf.engine().runKernel(MAX_POOL_GATHER, { x: input, dd: ddx }, attrs as unknown as NamedAttrMap) as Tensor,
    input: () => tf.zerosLike(input),
    output: () => tf.zerosLike(output),
  }));

  // dx = AvgPoolGrad(dy, x) spreads each window's dy evenly over its in-bounds cells; its adjoint in dy
  // averages over the same cells, which is the forward average pooling.
  reg('AvgPoolGrad', ['dy', 'input'], (ddx, [, input], attrs) => ({
    dy: () => tf.engine().runKernel('AvgPool', { x: ddx }, attrs as unknown as NamedAttrMap) as Tensor,
    input: () => tf.zerosLike(input),
  }));
}
