// The PyTorch front end: torch.nn layers as values, nn.Module subclasses of the file as objects whose
// submodules get their state_dict paths, and the forward pass evaluated over symbolic tensors into the IR —
// with PyTorch's semantics (NCHW data and weights, C·H·W flatten, BatchNorm eps 1e-5 / momentum 0.1,
// default initializers).

import { momentumFromTorch, TORCH_DEFAULT_INIT } from '../frameworks';
import type { Activation, LayerNode } from '../ir';
import { GraphBuilder } from './graph';
import { opaqueModule, type FrontEnd, type Interpreter } from './interp';
import type { SyntaxNode } from './parser';
import { classAttr, isClass, isDict, isFunc, isNative, isObj, isSeq, nativeBases, repr, typeName, type Kwargs, type Native, type Py, type PyClass, type PyObj } from './values';

/** How a layer is named in messages: with its module path, without it, and its class in the IR. */
interface Named {
  what: string;
  label: string;
  cls: string;
}

/** A torch.nn layer or container made by the file. */
export class TorchModule implements Native {
  readonly k = 'native' as const;
  path: string | null = null;
  /** How many times the forward pass applied it. */
  uses = 0;
  constructor(
    readonly type: string,
    readonly cfg: Record<string, Py>,
    readonly at: SyntaxNode,
    readonly children: [string, ModuleValue][] = [],
    private readonly front?: TorchFront,
  ) {}
  get describe(): string {
    return `nn.${this.type}`;
  }
  call(args: Py[], _kw: Kwargs, at: SyntaxNode): Py {
    if (!this.front) throw new Error('module without front end');
    return this.front.applyModule(this, args, at);
  }
  attr(name: string, at: SyntaxNode): Py | undefined {
    const f = this.front!;
    if (this.type === 'ModuleList' || this.type === 'Sequential') {
      if (name === 'append')
        return nativeFn('append', (args) => {
          this.children.push([String(this.children.length), asModule(f.it, args[0], at)]);
          return this;
        });
      if (name === 'extend')
        return nativeFn('extend', (args) => {
          for (const m of f.it.iterate(args[0], at)) this.children.push([String(this.children.length), asModule(f.it, m, at)]);
          return this;
        });
      if (name === 'add_module')
        return nativeFn('add_module', (args) => {
          this.children.push([String(args[0]), asModule(f.it, args[1], at)]);
          return null;
        });
      const child = this.children.find(([n]) => n === name);
      if (child) return child[1];
    }
    if (name in this.cfg) return this.cfg[name];
    if (name === 'to' || name === 'cuda' || name === 'cpu' || name === 'train' || name === 'eval' || name === 'double' || name === 'float') return nativeFn(name, () => this);
    return undefined;
  }
  iter(): Py[] {
    return this.children.map(([, m]) => m);
  }
  index(key: Py, at: SyntaxNode): Py {
    if (typeof key === 'number') {
      const i = key < 0 ? this.children.length + key : key;
      if (i < 0 || i >= this.children.length) throw this.front!.it.error(at, `index ${key} is out of range (${this.children.length} modules)`);
      return this.children[i][1];
    }
    throw this.front!.it.unsupported(at, `indexing nn.${this.type} with ${repr(key)}`, 'index with an integer');
  }
  len(): number {
    return this.children.length;
  }
}

export type ModuleValue = TorchModule | PyObj;

function nativeFn(describe: string, call: Native['call']): Native {
  return { k: 'native', describe, call };
}

function asModule(it: Interpreter, v: Py, at: SyntaxNode): ModuleValue {
  if (v instanceof TorchModule) return v;
  if (isObj(v) && v.meta.torchModule) return v;
  throw it.error(at, `expected a module (an nn layer or an nn.Module object), got ${typeName(v)}`);
}

/** A symbolic tensor of the forward pass: the IR layer that produces it. */
class Tensor implements Native {
  readonly k = 'native' as const;
  readonly describe = 'a tensor';
  constructor(
    readonly layer: string,
    private readonly front: TorchFront,
  ) {}
  attr(name: string, at: SyntaxNode): Py | undefined {
    return this.front.tensorMethod(this, name, at);
  }
  binop(op: string, other: Py, _reflected: boolean, at: SyntaxNode): Py | undefined {
    if (op === '+' && other instanceof Tensor) return this.front.add([this, other], at);
    if (op === '__int__') return undefined;
    throw this.front.it.unsupported(at, `tensor ${op} ${typeName(other)}`, 'only tensor + tensor (a residual addition) is supported in forward');
  }
}

/** x.size(0) / x.shape[0]: the batch size, usable only where PyTorch code passes it on (view, reshape). */
class BatchDim implements Native {
  readonly k = 'native' as const;
  readonly describe = 'the batch size';
}

const MODULE_BASE: Native = { k: 'native', describe: 'nn.Module', attr: () => undefined };

/** Wrap a list of tensors as the value of `x.size()` / `x.shape`. */
function sizeValue(front: TorchFront, t: Tensor): Py {
  return { k: 'tuple', items: [new BatchDim(), ...front.graph!.sourceShape(t.layer)] };
}

interface Sig {
  names: string[];
  defaults: Record<string, Py>;
}

const SIGS: Record<string, Sig> = {
  Linear: { names: ['in_features', 'out_features', 'bias'], defaults: { bias: true, device: null, dtype: null } },
  Conv2d: {
    names: ['in_channels', 'out_channels', 'kernel_size', 'stride', 'padding', 'dilation', 'groups', 'bias', 'padding_mode'],
    defaults: { stride: 1, padding: 0, dilation: 1, groups: 1, bias: true, padding_mode: 'zeros', device: null, dtype: null },
  },
  BatchNorm1d: { names: ['num_features', 'eps', 'momentum', 'affine', 'track_running_stats'], defaults: { eps: 1e-5, momentum: 0.1, affine: true, track_running_stats: true, device: null, dtype: null } },
  ReLU: { names: ['inplace'], defaults: { inplace: false } },
  ReLU6: { names: ['inplace'], defaults: { inplace: false } },
  LeakyReLU: { names: ['negative_slope', 'inplace'], defaults: { negative_slope: 0.01, inplace: false } },
  ELU: { names: ['alpha', 'inplace'], defaults: { alpha: 1.0, inplace: false } },
  GELU: { names: ['approximate'], defaults: { approximate: 'none' } },
  Tanh: { names: [], defaults: {} },
  Sigmoid: { names: [], defaults: {} },
  SiLU: { names: ['inplace'], defaults: { inplace: false } },
  Softmax: { names: ['dim'], defaults: { dim: null } },
  LogSoftmax: { names: ['dim'], defaults: { dim: null } },
  MaxPool2d: { names: ['kernel_size', 'stride', 'padding', 'dilation', 'return_indices', 'ceil_mode'], defaults: { stride: null, padding: 0, dilation: 1, return_indices: false, ceil_mode: false } },
  AvgPool2d: {
    names: ['kernel_size', 'stride', 'padding', 'ceil_mode', 'count_include_pad', 'divisor_override'],
    defaults: { stride: null, padding: 0, ceil_mode: false, count_include_pad: true, divisor_override: null },
  },
  AdaptiveAvgPool2d: { names: ['output_size'], defaults: {} },
  AdaptiveMaxPool2d: { names: ['output_size', 'return_indices'], defaults: { return_indices: false } },
  Flatten: { names: ['start_dim', 'end_dim'], defaults: { start_dim: 1, end_dim: -1 } },
  Dropout: { names: ['p', 'inplace'], defaults: { p: 0.5, inplace: false } },
  Identity: { names: [], defaults: {} },
  ZeroPad2d: { names: ['padding'], defaults: {} },
  Upsample: { names: ['size', 'scale_factor', 'mode', 'align_corners', 'recompute_scale_factor'], defaults: { size: null, scale_factor: null, mode: 'nearest', align_corners: null, recompute_scale_factor: null } },
  UpsamplingNearest2d: { names: ['size', 'scale_factor'], defaults: { size: null, scale_factor: null } },
};
SIGS.BatchNorm2d = SIGS.BatchNorm1d;
SIGS.Dropout2d = SIGS.Dropout;
SIGS.Dropout1d = SIGS.Dropout;
SIGS.AlphaDropout = SIGS.Dropout;

const PARAMETRIC = new Set(['Linear', 'Conv2d', 'BatchNorm1d', 'BatchNorm2d']);

export class TorchFront implements FrontEnd {
  it!: Interpreter;
  graph: GraphBuilder | null = null;
  /** Every nn layer made while evaluating, for messages about unsupported ones. */
  private readonly nn: Native;
  private readonly F: Native;
  private readonly torch: Native;

  constructor() {
    this.nn = {
      k: 'native',
      describe: 'torch.nn',
      attr: (name, at) => this.nnAttr(name, at),
    };
    this.F = { k: 'native', describe: 'torch.nn.functional', attr: (name, at) => this.functional(name, at) };
    this.torch = {
      k: 'native',
      describe: 'torch',
      attr: (name, at) => {
        if (name === 'nn') return this.nn;
        if (name === 'flatten' || name === 'cat' || name === 'add' || name === 'relu' || name === 'sigmoid' || name === 'tanh' || name === 'mean' || name === 'softmax' || name === 'log_softmax' || name === 'concat')
          return this.torchOp(name, at);
        if (name === 'no_grad') return nativeFn('torch.no_grad', () => null);
        return opaqueModule(this.it, `torch.${name}`);
      },
    };
  }

  importModule(path: string): Py | undefined {
    switch (path) {
      case 'torch':
        return this.torch;
      case 'torch.nn':
        return this.nn;
      case 'torch.nn.functional':
        return this.F;
      case 'torch.nn.Module':
        return MODULE_BASE;
      case 'collections':
        return { k: 'native', describe: 'collections', attr: (n) => (n === 'OrderedDict' ? this.orderedDict() : undefined) };
      case 'collections.OrderedDict':
        return this.orderedDict();
      case 'math':
        return mathModule(this);
    }
    return undefined;
  }

  private orderedDict(): Native {
    return nativeFn('OrderedDict', (args, kw, at) => {
      const d: Py = { k: 'dict', keys: [], values: [] };
      if (args.length)
        for (const p of this.it.iterate(args[0], at)) {
          const [k, v] = this.it.iterate(p, at);
          d.keys.push(k);
          d.values.push(v);
        }
      for (const [k, v] of kw) {
        d.keys.push(k);
        d.values.push(v);
      }
      return d;
    });
  }

  /** Whether a class of the file is a torch module (derives from nn.Module). */
  isModuleClass(cls: PyClass): boolean {
    return nativeBases(cls).some((b) => b === MODULE_BASE);
  }

  onNewObject(obj: PyObj): void {
    if (this.isModuleClass(obj.cls)) obj.meta.torchModule = true;
  }

  onSetAttr(obj: PyObj, name: string, value: Py, at: SyntaxNode): void {
    if (!obj.meta.torchModule) return;
    if (isSeq(value) && value.items.some((v) => v instanceof TorchModule || (isObj(v) && v.meta.torchModule)))
      throw this.it.error(at, `self.${name} holds modules in a plain ${value.k}, which PyTorch does not register (no parameters, not in the state_dict); wrap it: nn.ModuleList(...) or nn.Sequential(*...)`);
  }

  callObject(obj: PyObj, args: Py[], kwargs: Kwargs, at: SyntaxNode): Py {
    if (!obj.meta.torchModule) throw this.it.unsupported(at, `calling a ${obj.cls.name} object`, 'call nn.Module objects');
    const fwd = classAttr(obj.cls, 'forward');
    if (!isFunc(fwd)) throw this.it.error(obj.cls.node, `${obj.cls.name} has no forward method; define forward(self, x)`);
    return this.it.callFunction({ ...fwd, self: obj }, args, kwargs, at);
  }

  private nnAttr(name: string, at: SyntaxNode): Py | undefined {
    if (name === 'Module') return MODULE_BASE;
    if (name === 'functional') return this.F;
    if (name === 'Sequential')
      return nativeFn('nn.Sequential', (args, _kw, callAt) => {
        if (args.length === 1 && isDict(args[0])) {
          const d = args[0];
          return new TorchModule(
            'Sequential',
            {},
            callAt,
            d.keys.map((k, i) => [String(k), asModule(this.it, d.values[i], callAt)]),
            this,
          );
        }
        return new TorchModule(
          'Sequential',
          {},
          callAt,
          args.map((m, i) => [String(i), asModule(this.it, m, callAt)]),
          this,
        );
      });
    if (name === 'ModuleList')
      return nativeFn('nn.ModuleList', (args, _kw, callAt) => {
        const items = args.length ? this.it.iterate(args[0], callAt) : [];
        return new TorchModule(
          'ModuleList',
          {},
          callAt,
          items.map((m, i) => [String(i), asModule(this.it, m, callAt)]),
          this,
        );
      });
    const sig = SIGS[name];
    if (sig)
      return nativeFn(`nn.${name}`, (args, kw, callAt) => {
        const cfg = bindArgs(this.it, `nn.${name}`, sig, args, kw, callAt);
        return new TorchModule(name, cfg, callAt, [], this);
      });
    // A real torch.nn class the reader does not model: an error where it is made.
    if (/^[A-Z]/.test(name))
      return nativeFn(`nn.${name}`, (_a, _k, callAt) => {
        throw this.it.unsupported(callAt, `nn.${name}`, `use the layers listed in the README’s Python section, or export the model to ONNX`);
      });
    void at;
    return undefined;
  }

  // ------------------------------------------------------------------ module paths

  /** Give every module its state_dict path; returns the leaf modules with parameters or state, in registration order. */
  assignPaths(root: ModuleValue): TorchModule[] {
    const leaves: TorchModule[] = [];
    const seen = new Set<unknown>();
    const walk = (m: ModuleValue, path: string) => {
      if (seen.has(m)) return;
      seen.add(m);
      if (m instanceof TorchModule) {
        m.path = path;
        if (m.children.length || m.type === 'Sequential' || m.type === 'ModuleList') for (const [n, c] of m.children) walk(c, path ? `${path}.${n}` : n);
        else leaves.push(m);
        return;
      }
      m.meta.path = path;
      for (const [n, v] of m.attrs) if (v instanceof TorchModule || (isObj(v) && v.meta.torchModule)) walk(v, path ? `${path}.${n}` : n);
    };
    walk(root, '');
    return leaves;
  }

  // ------------------------------------------------------------------ forward

  input(shapeEngine: number[], at: SyntaxNode): Tensor {
    const g = this.graph!;
    const name = g.fresh('input');
    g.add({ kind: 'input', name, className: 'Input', inbound: [], shape: shapeEngine }, at);
    return new Tensor(name, this);
  }

  private tensorArg(v: Py, at: SyntaxNode, what: string): Tensor {
    if (v instanceof Tensor) return v;
    throw this.it.error(at, `${what} needs a tensor, got ${typeName(v)}`);
  }

  private emit(layer: Omit<LayerNode, 'inbound'> & { inbound?: string[] }, inputs: Tensor[], at: SyntaxNode): Tensor {
    const name = this.graph!.add({ ...(layer as LayerNode), inbound: inputs.map((t) => t.layer) }, at);
    return new Tensor(name, this);
  }

  private nameFor(m: TorchModule, fallback: string): string {
    const base = m.path || fallback;
    return this.graph!.has(base) || m.uses > 1 ? this.graph!.fresh(base) : (this.graph!.reserve(base), base);
  }

  applyModule(m: TorchModule, args: Py[], at: SyntaxNode): Py {
    if (m.type === 'ModuleList') throw this.it.unsupported(at, 'calling an nn.ModuleList', 'iterate over it in forward: for layer in self.layers: x = layer(x)');
    if (args.length !== 1) throw this.it.unsupported(at, `calling nn.${m.type} with ${args.length} arguments`, 'pass one tensor');
    let x = this.tensorArg(args[0], at, `nn.${m.type}`);
    if (m.type === 'Sequential') {
      for (const [, c] of m.children) {
        const y = c instanceof TorchModule ? c.call([x], new Map(), at) : this.callObject(c, [x], new Map(), at);
        x = this.tensorArg(y, at, 'the next module of the nn.Sequential');
      }
      return x;
    }
    m.uses++;
    if (m.uses > 1 && PARAMETRIC.has(m.type))
      throw this.it.error(at, `module ${m.path} (nn.${m.type}) is applied twice in forward, which shares its weights; BatchNorm Lens needs one module per use — make a second module`);
    const c = m.cfg;
    const src = () => this.graph!.sourceShape(x.layer);
    const name = () => this.nameFor(m, m.type.toLowerCase());
    switch (m.type) {
      case 'Linear': {
        const inF = int(this.it, c.in_features, at, 'in_features');
        const s = src();
        if (s.length !== 1 || s[0] !== inF)
          throw this.it.error(
            at,
            `nn.Linear ${m.path} expects in_features ${inF} but receives shape [${s.join(', ')}]${s.length > 1 ? '; flatten first (torch.flatten(x, 1))' : '; fix in_features or the input shape (--input-shape)'}`,
          );
        return this.emit(
          {
            kind: 'dense',
            name: name(),
            className: 'Linear',
            units: int(this.it, c.out_features, at, 'out_features'),
            useBias: c.bias !== false && c.bias !== null,
            activation: 'linear',
            kernelInitializer: TORCH_DEFAULT_INIT,
            biasInitializer: TORCH_DEFAULT_INIT,
            range: undefined,
          } as LayerNode,
          [x],
          m.at,
        );
      }
      case 'Conv2d':
        return this.conv(m, x, at, name());
      case 'BatchNorm1d':
      case 'BatchNorm2d': {
        const s = src();
        const want = m.type === 'BatchNorm1d' ? 1 : 3;
        if (s.length !== want) throw this.it.error(at, `nn.${m.type} ${m.path} receives shape [${s.join(', ')}]; it needs ${want === 1 ? '[features] (BatchNorm1d over [N, C, L] is not supported)' : '[C, H, W]'}`);
        const nf = int(this.it, c.num_features, at, 'num_features');
        if (s[0] !== nf) throw this.it.error(at, `nn.${m.type} ${m.path} has num_features ${nf} but receives ${s[0]} channels (shape [${s.join(', ')}])`);
        if (c.momentum === null) throw this.it.unsupported(m.at, 'BatchNorm with momentum=None (a cumulative average)', 'give a number, e.g. momentum=0.1');
        if (c.track_running_stats === false) throw this.it.unsupported(m.at, 'BatchNorm with track_running_stats=False', 'leave it at its default True');
        const affine = c.affine !== false;
        return this.emit(
          {
            kind: 'batchnorm',
            name: name(),
            className: m.type,
            axis: -1,
            epsilon: num(this.it, c.eps, at, 'eps'),
            momentum: momentumFromTorch(num(this.it, c.momentum, at, 'momentum')),
            center: affine,
            scale: affine,
            unbiasedMovingVariance: true,
          } as LayerNode,
          [x],
          m.at,
        );
      }
      case 'ReLU':
        return this.emit({ kind: 'activation', name: name(), className: 'ReLU', activation: 'relu' } as LayerNode, [x], m.at);
      case 'ReLU6':
        return this.emit({ kind: 'relu', name: name(), className: 'ReLU6', maxValue: 6, negativeSlope: 0, threshold: 0 } as LayerNode, [x], m.at);
      case 'LeakyReLU':
        return this.emit({ kind: 'activation', name: name(), className: 'LeakyReLU', activation: 'leaky_relu', alpha: num(this.it, c.negative_slope, at, 'negative_slope') } as LayerNode, [x], m.at);
      case 'ELU':
        if (c.alpha !== 1 && c.alpha !== 1.0) throw this.it.unsupported(m.at, `nn.ELU(alpha=${repr(c.alpha)})`, 'use alpha=1.0');
        return this.emit({ kind: 'activation', name: name(), className: 'ELU', activation: 'elu' } as LayerNode, [x], m.at);
      case 'GELU':
        if (c.approximate !== 'none') throw this.it.unsupported(m.at, "nn.GELU(approximate='tanh')", 'use the exact GELU (approximate="none")');
        return this.emit({ kind: 'activation', name: name(), className: 'GELU', activation: 'gelu' } as LayerNode, [x], m.at);
      case 'Tanh':
      case 'Sigmoid':
      case 'SiLU':
        return this.emit({ kind: 'activation', name: name(), className: m.type, activation: (m.type === 'SiLU' ? 'swish' : m.type.toLowerCase()) as Activation } as LayerNode, [x], m.at);
      case 'Softmax':
      case 'LogSoftmax':
        return this.softmax(x, c.dim, at, name(), m.type, m.at);
      case 'MaxPool2d':
      case 'AvgPool2d':
        return this.pool(m.type === 'MaxPool2d' ? 'max' : 'avg', x, c, at, name(), m.type, m.at);
      case 'AdaptiveAvgPool2d':
      case 'AdaptiveMaxPool2d':
        return this.adaptive(m.type === 'AdaptiveAvgPool2d' ? 'avg' : 'max', x, c.output_size, at, name(), m.type, m.at);
      case 'Flatten': {
        if (c.start_dim !== 1 || c.end_dim !== -1) throw this.it.unsupported(m.at, `nn.Flatten(${repr(c.start_dim)}, ${repr(c.end_dim)})`, 'flatten from dim 1 to the end (the default)');
        return this.emit({ kind: 'flatten', name: name(), className: 'Flatten', channelsFirst: true } as LayerNode, [x], m.at);
      }
      case 'Dropout':
      case 'Dropout2d':
      case 'Dropout1d':
      case 'AlphaDropout':
        return this.emit({ kind: 'dropout', name: name(), className: m.type, rate: num(this.it, c.p, at, 'p') } as LayerNode, [x], m.at);
      case 'Identity':
        return x;
      case 'ZeroPad2d':
        return this.zeroPad(m, x, at, name());
      case 'Upsample':
      case 'UpsamplingNearest2d':
        return this.upsample(m, x, at, name());
    }
    throw this.it.unsupported(at, `nn.${m.type}`, 'use the layers listed in the README’s Python section');
  }

  private conv(m: TorchModule, x: Tensor, at: SyntaxNode, name: string): Tensor {
    const c = m.cfg;
    const s = this.graph!.sourceShape(x.layer);
    const inC = int(this.it, c.in_channels, at, 'in_channels');
    if (s.length !== 3) throw this.it.error(at, `nn.Conv2d ${m.path} receives shape [${s.join(', ')}]; it needs an image [C, H, W] (give --input-shape C,H,W)`);
    if (s[0] !== inC) throw this.it.error(at, `nn.Conv2d ${m.path} has in_channels ${inC} but receives ${s[0]} channels (shape [${s.join(', ')}])`);
    const outC = int(this.it, c.out_channels, at, 'out_channels');
    const groups = int(this.it, c.groups, at, 'groups');
    if (groups < 1 || inC % groups !== 0 || outC % groups !== 0) throw this.it.error(m.at, `nn.Conv2d ${m.path} has groups=${groups}, which must divide both in_channels ${inC} and out_channels ${outC}`);
    if (c.padding_mode !== 'zeros') throw this.it.unsupported(m.at, `padding_mode=${repr(c.padding_mode)}`, "use padding_mode='zeros'");
    const k = pair(this.it, c.kernel_size, at, 'kernel_size');
    const stride = pair(this.it, c.stride, at, 'stride');
    const dilation = pair(this.it, c.dilation, at, 'dilation');
    let padding: 'valid' | 'same' = 'valid';
    let pads: [number, number, number, number] | undefined;
    if (c.padding === 'same') {
      if (stride[0] !== 1 || stride[1] !== 1) throw this.it.error(m.at, "padding='same' needs stride 1 in PyTorch");
      // PyTorch puts the odd extra pad after (bottom/right), as TF's 'same' does.
      padding = 'same';
    } else if (c.padding !== 'valid') {
      const [ph, pw] = pair(this.it, c.padding, at, 'padding');
      if (ph || pw) pads = [ph, ph, pw, pw];
    }
    if (stride.some((v) => v !== 1) && dilation.some((v) => v !== 1)) throw this.it.unsupported(m.at, 'a convolution with both stride and dilation', 'use one of them');
    return this.emit(
      {
        kind: 'conv2d',
        name,
        className: 'Conv2d',
        filters: outC,
        kernelSize: k,
        strides: stride,
        padding,
        ...(pads ? { pads } : {}),
        ...(groups > 1 ? { groups } : {}),
        dilation,
        useBias: c.bias !== false && c.bias !== null,
        activation: 'linear',
        kernelInitializer: TORCH_DEFAULT_INIT,
        biasInitializer: TORCH_DEFAULT_INIT,
      } as LayerNode,
      [x],
      m.at,
    );
  }

  /** nn.ZeroPad2d(p): p, or (left, right, top, bottom) as PyTorch orders them. */
  private zeroPad(m: TorchModule, x: Tensor, at: SyntaxNode, name: string): Tensor {
    const p = m.cfg.padding;
    const lrtb = typeof p === 'number' ? [p, p, p, p] : isSeq(p) && p.items.length === 4 ? p.items : null;
    if (!lrtb) throw this.it.error(m.at, `nn.ZeroPad2d ${m.path} has padding ${repr(p)}; give an integer or (left, right, top, bottom)`);
    return this.padLayer(x, lrtb, { what: `nn.ZeroPad2d ${m.path}`, label: 'nn.ZeroPad2d', cls: 'ZeroPad2d' }, at, m.at, name);
  }

  /** Zero padding of an image [C, H, W] by (left, right, top, bottom), as nn.ZeroPad2d and F.pad order it. */
  private padLayer(x: Tensor, lrtb: Py[], { what, label, cls }: Named, at: SyntaxNode, where: SyntaxNode, name: string): Tensor {
    const s = this.graph!.sourceShape(x.layer);
    if (s.length !== 3) throw this.it.error(at, `${what} receives shape [${s.join(', ')}]; it needs an image [C, H, W]`);
    const [l, r, t, b] = lrtb.map((v) => int(this.it, v, at, 'padding'));
    if ([l, r, t, b].some((v) => v < 0)) throw this.it.unsupported(where, `${label} with negative padding (cropping)`, 'use padding ≥ 0');
    return this.emit(
      {
        kind: 'zeropad',
        name,
        className: cls,
        padding: [
          [t, b],
          [l, r],
        ],
      } as LayerNode,
      [x],
      where,
    );
  }

  /** nn.Upsample / nn.UpsamplingNearest2d: nearest neighbour by whole factors (a scale, or a size that is a multiple of the input). */
  private upsample(m: TorchModule, x: Tensor, at: SyntaxNode, name: string): Tensor {
    return this.upsampleLayer(x, m.cfg, { what: `nn.${m.type} ${m.path}`, label: `nn.${m.type}`, cls: m.type }, at, m.at, name);
  }

  /** Nearest-neighbour upsampling by whole factors, from nn.Upsample's or F.interpolate's size / scale_factor / mode. */
  private upsampleLayer(x: Tensor, c: Record<string, Py>, { what, label, cls }: Named, at: SyntaxNode, where: SyntaxNode, name: string): Tensor {
    const s = this.graph!.sourceShape(x.layer);
    if (s.length !== 3) throw this.it.error(at, `${what} receives shape [${s.join(', ')}]; it needs an image [C, H, W]`);
    if (c.mode !== undefined && c.mode !== 'nearest') throw this.it.unsupported(where, `${label}(mode=${repr(c.mode)})`, "use mode='nearest'");
    let factor: [number, number];
    if (c.scale_factor !== null && c.scale_factor !== undefined) factor = pair(this.it, c.scale_factor, where, 'scale_factor (a whole number)');
    else if (c.size !== null && c.size !== undefined) {
      const [h, w] = pair(this.it, c.size, where, 'size');
      if (h % s[1] !== 0 || w % s[2] !== 0) throw this.it.unsupported(where, `${label} from ${s[1]}×${s[2]} to ${h}×${w}`, 'upsample by whole factors (a size that is a multiple of the input, or scale_factor=2)');
      factor = [h / s[1], w / s[2]];
    } else throw this.it.error(where, `${what} gives neither size nor scale_factor`);
    if (factor.some((f) => f < 1)) throw this.it.unsupported(where, `${label} with scale_factor ${repr(c.scale_factor)}`, 'use a whole factor ≥ 1');
    return this.emit({ kind: 'upsample', name, className: cls, size: factor } as LayerNode, [x], where);
  }

  private pool(op: 'max' | 'avg', x: Tensor, c: Record<string, Py>, at: SyntaxNode, name: string, cls: string, where: SyntaxNode): Tensor {
    const k = pair(this.it, c.kernel_size, at, 'kernel_size');
    const stride = c.stride === null || c.stride === undefined ? k : pair(this.it, c.stride, at, 'stride');
    const pad = pair(this.it, c.padding ?? 0, at, 'padding');
    if (pad[0] || pad[1]) throw this.it.unsupported(where, `${cls} with padding`, 'use padding=0 (pad the convolution before instead)');
    if (c.ceil_mode === true) throw this.it.unsupported(where, `${cls} with ceil_mode=True`, 'use ceil_mode=False');
    if (c.dilation !== undefined && c.dilation !== 1) throw this.it.unsupported(where, `${cls} with dilation`, 'use dilation=1');
    if (this.graph!.sourceShape(x.layer).length !== 3) throw this.it.error(at, `${cls} needs an image [C, H, W], got [${this.graph!.sourceShape(x.layer).join(', ')}]`);
    return this.emit({ kind: 'pool', name, className: cls, op, poolSize: k, strides: stride, padding: 'valid' } as LayerNode, [x], where);
  }

  private adaptive(op: 'max' | 'avg', x: Tensor, size: Py, _at: SyntaxNode, name: string, cls: string, where: SyntaxNode): Tensor {
    const ok = size === 1 || (isSeq(size) && size.items.length === 2 && size.items.every((v) => v === 1));
    if (!ok) throw this.it.unsupported(where, `${cls}(${repr(size)})`, 'use output size 1 or (1, 1) (global pooling)');
    return this.emit({ kind: 'globalpool', name, className: cls, op } as LayerNode, [x], where);
  }

  private softmax(x: Tensor, dim: Py, at: SyntaxNode, name: string, cls: string, where: SyntaxNode): Tensor {
    const rank = this.graph!.sourceShape(x.layer).length;
    if (!(dim === 1 || dim === -1) || rank !== 1) throw this.it.unsupported(at, `${cls} over dim ${repr(dim)} of a rank-${rank + 1} tensor`, 'apply it over dim=1 of the [N, classes] output only');
    return this.emit({ kind: 'activation', name, className: cls, activation: 'softmax' } as LayerNode, [x], where);
  }

  add(ts: Tensor[], at: SyntaxNode): Tensor {
    return this.emit({ kind: 'add', name: this.graph!.fresh('add'), className: 'add' } as LayerNode, ts, at);
  }

  private flatten(x: Tensor, startDim: Py, at: SyntaxNode, endDim: Py = -1): Tensor {
    if (startDim !== 1 || (endDim !== -1 && endDim !== null)) throw this.it.unsupported(at, `flatten from dim ${repr(startDim)}`, 'flatten from dim 1: torch.flatten(x, 1)');
    if (this.graph!.sourceShape(x.layer).length === 1) return x;
    return this.emit({ kind: 'flatten', name: this.graph!.fresh('flatten'), className: 'flatten', channelsFirst: true } as LayerNode, [x], at);
  }

  private reshape(x: Tensor, args: Py[], at: SyntaxNode, how: string): Tensor {
    const dims = args.length === 1 && isSeq(args[0]) ? args[0].items : args;
    const s = this.graph!.sourceShape(x.layer);
    const per = s.reduce((a, b) => a * b, 1);
    const lead = dims[0];
    if (dims.length === 2 && (lead instanceof BatchDim || lead === -1)) {
      const n = dims[1];
      if (n === -1 || n === per || (lead instanceof BatchDim && n === per)) return this.flatten(x, 1, at);
      throw this.it.error(at, `${how}(..., ${repr(n)}) but the tensor has ${per} values per example (shape [${s.join(', ')}]); use x.view(x.size(0), -1)`);
    }
    if (dims.length === s.length + 1 && (lead instanceof BatchDim || lead === -1) && dims.slice(1).every((d, i) => d === s[i])) return x;
    throw this.it.unsupported(at, `${how} to ${repr({ k: 'tuple', items: dims.map((d) => (d instanceof BatchDim ? 'N' : d)) })}`, 'only flattening is supported: x.view(x.size(0), -1) or torch.flatten(x, 1)');
  }

  private concat(list: Py, dim: Py, at: SyntaxNode): Tensor {
    if (!isSeq(list)) throw this.it.error(at, 'torch.cat needs a list of tensors');
    const ts = list.items.map((t) => this.tensorArg(t, at, 'torch.cat'));
    const rank = this.graph!.sourceShape(ts[0].layer).length;
    if (dim !== 1 && !(dim === -1 && rank === 1)) throw this.it.unsupported(at, `torch.cat over dim ${repr(dim)}`, 'concatenate over the channel dimension, dim=1');
    return this.emit({ kind: 'concatenate', name: this.graph!.fresh('cat'), className: 'cat', axis: -1 } as LayerNode, ts, at);
  }

  private activationOp(x: Tensor, act: Activation, at: SyntaxNode, opName: string, alpha?: number): Tensor {
    return this.emit({ kind: 'activation', name: this.graph!.fresh(opName), className: opName, activation: act, ...(alpha !== undefined ? { alpha } : {}) } as LayerNode, [x], at);
  }

  private meanOp(x: Tensor, dim: Py, keepdim: Py, at: SyntaxNode): Tensor {
    const dims = isSeq(dim) ? dim.items : [dim];
    const rank = this.graph!.sourceShape(x.layer).length + 1;
    const norm = dims.map((d) => (typeof d === 'number' && d < 0 ? d + rank : d)).sort();
    if (rank === 4 && norm.length === 2 && norm[0] === 2 && norm[1] === 3 && keepdim !== true)
      return this.emit({ kind: 'globalpool', name: this.graph!.fresh('mean'), className: 'mean', op: 'avg' } as LayerNode, [x], at);
    throw this.it.unsupported(at, `mean over dims ${repr(dim)}`, 'only the global average over H and W is supported: x.mean((2, 3))');
  }

  /** torch.nn.functional.*: functions of tensors. */
  private functional(name: string, at: SyntaxNode): Py | undefined {
    const sigs: Record<string, Sig> = {
      relu: { names: ['input', 'inplace'], defaults: { inplace: false } },
      relu6: { names: ['input', 'inplace'], defaults: { inplace: false } },
      leaky_relu: { names: ['input', 'negative_slope', 'inplace'], defaults: { negative_slope: 0.01, inplace: false } },
      elu: { names: ['input', 'alpha', 'inplace'], defaults: { alpha: 1.0, inplace: false } },
      gelu: { names: ['input', 'approximate'], defaults: { approximate: 'none' } },
      sigmoid: { names: ['input'], defaults: {} },
      tanh: { names: ['input'], defaults: {} },
      silu: { names: ['input', 'inplace'], defaults: { inplace: false } },
      softmax: { names: ['input', 'dim', '_stacklevel', 'dtype'], defaults: { dim: null, _stacklevel: 3, dtype: null } },
      max_pool2d: { names: ['input', 'kernel_size', 'stride', 'padding', 'dilation', 'ceil_mode', 'return_indices'], defaults: { stride: null, padding: 0, dilation: 1, ceil_mode: false, return_indices: false } },
      avg_pool2d: {
        names: ['input', 'kernel_size', 'stride', 'padding', 'ceil_mode', 'count_include_pad', 'divisor_override'],
        defaults: { stride: null, padding: 0, ceil_mode: false, count_include_pad: true, divisor_override: null },
      },
      adaptive_avg_pool2d: { names: ['input', 'output_size'], defaults: {} },
      dropout: { names: ['input', 'p', 'training', 'inplace'], defaults: { p: 0.5, training: true, inplace: false } },
      pad: { names: ['input', 'pad', 'mode', 'value'], defaults: { mode: 'constant', value: null } },
      interpolate: {
        names: ['input', 'size', 'scale_factor', 'mode', 'align_corners', 'recompute_scale_factor', 'antialias'],
        defaults: { size: null, scale_factor: null, mode: 'nearest', align_corners: null, recompute_scale_factor: null, antialias: false },
      },
    };
    sigs.log_softmax = sigs.softmax;
    sigs.adaptive_max_pool2d = sigs.adaptive_avg_pool2d;
    sigs.dropout2d = sigs.dropout;
    const sig = sigs[name];
    if (!sig)
      return nativeFn(`F.${name}`, (_a, _k, callAt) => {
        throw this.it.unsupported(callAt, `F.${name}`, 'use the functional operations listed in the README’s Python section');
      });
    void at;
    return nativeFn(`F.${name}`, (args, kw, callAt) => {
      const c = bindArgs(this.it, `F.${name}`, sig, args, kw, callAt);
      const x = this.tensorArg(c.input, callAt, `F.${name}`);
      switch (name) {
        case 'relu':
          return this.activationOp(x, 'relu', callAt, 'relu');
        case 'relu6':
          return this.emit({ kind: 'relu', name: this.graph!.fresh('relu6'), className: 'relu6', maxValue: 6, negativeSlope: 0, threshold: 0 } as LayerNode, [x], callAt);
        case 'leaky_relu':
          return this.activationOp(x, 'leaky_relu', callAt, 'leaky_relu', num(this.it, c.negative_slope, callAt, 'negative_slope'));
        case 'elu':
          if (c.alpha !== 1) throw this.it.unsupported(callAt, `F.elu(alpha=${repr(c.alpha)})`, 'use alpha=1.0');
          return this.activationOp(x, 'elu', callAt, 'elu');
        case 'gelu':
          if (c.approximate !== 'none') throw this.it.unsupported(callAt, "F.gelu(approximate='tanh')", 'use the exact GELU');
          return this.activationOp(x, 'gelu', callAt, 'gelu');
        case 'sigmoid':
        case 'tanh':
          return this.activationOp(x, name, callAt, name);
        case 'silu':
          return this.activationOp(x, 'swish', callAt, 'silu');
        case 'softmax':
        case 'log_softmax':
          return this.softmax(x, c.dim, callAt, this.graph!.fresh(name), name, callAt);
        case 'max_pool2d':
        case 'avg_pool2d':
          return this.pool(name === 'max_pool2d' ? 'max' : 'avg', x, c, callAt, this.graph!.fresh(name), name, callAt);
        case 'adaptive_avg_pool2d':
        case 'adaptive_max_pool2d':
          return this.adaptive(name === 'adaptive_avg_pool2d' ? 'avg' : 'max', x, c.output_size, callAt, this.graph!.fresh(name), name, callAt);
        case 'dropout':
        case 'dropout2d':
          return this.emit({ kind: 'dropout', name: this.graph!.fresh('dropout'), className: name, rate: num(this.it, c.p, callAt, 'p') } as LayerNode, [x], callAt);
        case 'pad': {
          if (c.mode !== 'constant' || (c.value !== null && c.value !== 0)) throw this.it.unsupported(callAt, `F.pad(mode=${repr(c.mode)}, value=${repr(c.value)})`, "pad with zeros (mode='constant', value=0)");
          // (left, right) pads the width, (left, right, top, bottom) the height too; more would pad the channels.
          const p = isSeq(c.pad) ? c.pad.items : null;
          if (!p || (p.length !== 2 && p.length !== 4)) throw this.it.unsupported(callAt, `F.pad with pad ${repr(c.pad)}`, 'pad width and height only: (left, right) or (left, right, top, bottom)');
          return this.padLayer(x, p.length === 2 ? [...p, 0, 0] : p, { what: 'F.pad', label: 'F.pad', cls: 'pad' }, callAt, callAt, this.graph!.fresh('pad'));
        }
        case 'interpolate':
          if (c.antialias === true) throw this.it.unsupported(callAt, 'F.interpolate(antialias=True)', 'use nearest-neighbour upsampling');
          return this.upsampleLayer(x, c, { what: 'F.interpolate', label: 'F.interpolate', cls: 'interpolate' }, callAt, callAt, this.graph!.fresh('interpolate'));
      }
      throw this.it.unsupported(callAt, `F.${name}`, 'see the README’s Python section');
    });
  }

  private torchOp(name: string, at: SyntaxNode): Py {
    void at;
    return nativeFn(`torch.${name}`, (args, kw, callAt) => {
      switch (name) {
        case 'flatten': {
          const c = bindArgs(this.it, 'torch.flatten', { names: ['input', 'start_dim', 'end_dim'], defaults: { start_dim: 0, end_dim: -1 } }, args, kw, callAt);
          return this.flatten(this.tensorArg(c.input, callAt, 'torch.flatten'), c.start_dim, callAt, c.end_dim);
        }
        case 'cat':
        case 'concat': {
          const c = bindArgs(this.it, 'torch.cat', { names: ['tensors', 'dim'], defaults: { dim: 0 } }, args, kw, callAt);
          return this.concat(c.tensors, c.dim, callAt);
        }
        case 'add': {
          const c = bindArgs(this.it, 'torch.add', { names: ['input', 'other'], defaults: {} }, args, kw, callAt);
          return this.add([this.tensorArg(c.input, callAt, 'torch.add'), this.tensorArg(c.other, callAt, 'torch.add')], callAt);
        }
        case 'mean': {
          const c = bindArgs(this.it, 'torch.mean', { names: ['input', 'dim', 'keepdim'], defaults: { dim: null, keepdim: false } }, args, kw, callAt);
          return this.meanOp(this.tensorArg(c.input, callAt, 'torch.mean'), c.dim, c.keepdim, callAt);
        }
        case 'softmax':
        case 'log_softmax': {
          const c = bindArgs(this.it, `torch.${name}`, { names: ['input', 'dim'], defaults: { dim: null, dtype: null } }, args, kw, callAt);
          const x = this.tensorArg(c.input, callAt, `torch.${name}`);
          return this.softmax(x, c.dim, callAt, this.graph!.fresh(name), name, callAt);
        }
        default: {
          const x = this.tensorArg(args[0], callAt, `torch.${name}`);
          return this.activationOp(x, name as Activation, callAt, name);
        }
      }
    });
  }

  tensorMethod(t: Tensor, name: string, at: SyntaxNode): Py | undefined {
    void at;
    const m = (f: (args: Py[], kw: Kwargs, callAt: SyntaxNode) => Py) => nativeFn(`tensor.${name}`, f);
    switch (name) {
      case 'shape':
        return { k: 'native', describe: 'tensor.shape', index: (key, a) => this.sizeAt(t, key, a), iter: () => (sizeValue(this, t) as { items: Py[] }).items, len: () => this.graph!.sourceShape(t.layer).length + 1 };
      case 'size':
        return m((args, _kw, a) => (args.length ? this.sizeAt(t, args[0], a) : sizeValue(this, t)));
      case 'dim':
        return m(() => this.graph!.sourceShape(t.layer).length + 1);
      case 'view':
      case 'reshape':
        return m((args, _kw, a) => this.reshape(t, args, a, `x.${name}`));
      case 'flatten':
        return m((args, kw, a) => this.flatten(t, args[0] ?? kw.get('start_dim') ?? 0, a, args[1] ?? kw.get('end_dim') ?? -1));
      case 'contiguous':
      case 'clone':
      case 'float':
      case 'double':
        return m(() => t);
      case 'squeeze':
        return m((_args, _kw, a) => {
          if (this.graph!.sourceShape(t.layer).length === 1) return t;
          throw this.it.unsupported(a, 'squeeze of a tensor with more than one dimension per example', 'use torch.flatten(x, 1)');
        });
      case 'relu':
      case 'sigmoid':
      case 'tanh':
        return m((_args, _kw, a) => this.activationOp(t, name, a, name));
      case 'mean':
        return m((args, kw, a) => this.meanOp(t, args[0] ?? kw.get('dim') ?? null, args[1] ?? kw.get('keepdim') ?? false, a));
      case 'softmax':
      case 'log_softmax':
        return m((args, kw, a) => this.softmax(t, args[0] ?? kw.get('dim') ?? null, a, this.graph!.fresh(name), name, a));
      case 'add':
        return m((args, _kw, a) => this.add([t, this.tensorArg(args[0], a, 'add')], a));
    }
    return undefined;
  }

  private sizeAt(t: Tensor, key: Py, at: SyntaxNode): Py {
    const s = this.graph!.sourceShape(t.layer);
    if (typeof key !== 'number') throw this.it.error(at, 'x.size() needs an integer dimension');
    const rank = s.length + 1;
    const d = key < 0 ? key + rank : key;
    if (d === 0) return new BatchDim();
    if (d < 0 || d >= rank) throw this.it.error(at, `dimension ${key} is out of range for a rank-${rank} tensor`);
    return s[d - 1];
  }
}

function bindArgs(it: Interpreter, what: string, sig: Sig, args: Py[], kw: Kwargs, at: SyntaxNode): Record<string, Py> {
  const out: Record<string, Py> = { ...sig.defaults };
  if (args.length > sig.names.length) throw it.error(at, `${what} takes at most ${sig.names.length} positional arguments, got ${args.length}`);
  args.forEach((a, i) => (out[sig.names[i]] = a));
  for (const [k, v] of kw) {
    if (!sig.names.includes(k) && !(k in sig.defaults)) throw it.unsupported(at, `the argument ${k}= of ${what}`, 'leave it out');
    out[k] = v;
  }
  for (const n of sig.names) if (!(n in out)) throw it.error(at, `${what} needs the argument ${n}`);
  return out;
}

export function int(it: Interpreter, v: Py, at: SyntaxNode, what: string): number {
  if (typeof v === 'number' && Number.isInteger(v)) return v;
  throw it.error(at, `${what} must be an integer, got ${repr(v)}`);
}

function num(it: Interpreter, v: Py, at: SyntaxNode, what: string): number {
  if (typeof v === 'number') return v;
  throw it.error(at, `${what} must be a number, got ${repr(v)}`);
}

function pair(it: Interpreter, v: Py, at: SyntaxNode, what: string): [number, number] {
  if (typeof v === 'number') return [int(it, v, at, what), int(it, v, at, what)];
  if (isSeq(v) && v.items.length === 2) return [int(it, v.items[0], at, what), int(it, v.items[1], at, what)];
  throw it.error(at, `${what} must be an integer or a pair, got ${repr(v)}`);
}

function mathModule(front: TorchFront): Native {
  const fns: Record<string, (x: number, y?: number) => number> = {
    sqrt: Math.sqrt,
    ceil: Math.ceil,
    floor: Math.floor,
    log: (x, b) => (b === undefined ? Math.log(x) : Math.log(x) / Math.log(b)),
    log2: Math.log2,
    exp: Math.exp,
    pow: (x, y) => x ** (y ?? 1),
  };
  return {
    k: 'native',
    describe: 'math',
    attr: (name) => {
      if (name === 'pi') return Math.PI;
      const f = fns[name];
      if (!f) return undefined;
      return nativeFn(`math.${name}`, (args, _kw, at) => {
        const xs = args.map((a) => num(front.it, a, at, `math.${name}`));
        return f(xs[0], xs[1]);
      });
    },
  };
}

export { Tensor as TorchTensor, isClass, isNative };
