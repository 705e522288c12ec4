// The Keras front end: `keras.Sequential([...])` (and `.add`), the functional API (`keras.Input`, layers
// called on tensors, `keras.Model(inputs, outputs)`), with the layer types the JSON reader supports —
// each layer call is turned into the same config the JSON reader reads, so both paths agree exactly.

import { UserError } from '../../errors';
import type { LayerNode } from '../ir';
import { readLayer } from '../parse';
import { GraphBuilder } from './graph';
import { Interpreter, opaqueModule, type FrontEnd } from './interp';
import { PythonSourceError, rangeOf, type SyntaxNode } from './parser';
import { checkSoftmaxLast, chooseModel, findCandidates, type PythonNetwork, type PythonReadOptions } from './read';
import { isDict, isNative, isSeq, repr, typeName, type Kwargs, type Native, type Py } from './values';

/** Positional parameters of the Keras layer constructors (the rest must be keywords). */
const POSITIONAL: Record<string, string[]> = {
  Dense: ['units', 'activation', 'use_bias'],
  Conv2D: ['filters', 'kernel_size', 'strides', 'padding', 'data_format', 'dilation_rate', 'groups', 'activation', 'use_bias'],
  MaxPooling2D: ['pool_size', 'strides', 'padding', 'data_format'],
  AveragePooling2D: ['pool_size', 'strides', 'padding', 'data_format'],
  GlobalAveragePooling2D: ['data_format', 'keepdims'],
  GlobalMaxPooling2D: ['data_format', 'keepdims'],
  Flatten: ['data_format'],
  Dropout: ['rate', 'noise_shape', 'seed'],
  Activation: ['activation'],
  BatchNormalization: ['axis', 'momentum', 'epsilon', 'center', 'scale'],
  ReLU: ['max_value', 'negative_slope', 'threshold'],
  LeakyReLU: ['negative_slope'],
  Reshape: ['target_shape'],
  Concatenate: ['axis'],
  Softmax: ['axis'],
  Add: [],
  InputLayer: ['input_shape'],
  ZeroPadding2D: ['padding', 'data_format'],
  Cropping2D: ['cropping', 'data_format'],
  UpSampling2D: ['size', 'data_format', 'interpolation'],
  Rescaling: ['scale', 'offset'],
  DepthwiseConv2D: ['kernel_size', 'strides', 'padding', 'depth_multiplier'],
  SeparableConv2D: ['filters', 'kernel_size', 'strides', 'padding'],
};
POSITIONAL.MaxPool2D = POSITIONAL.MaxPooling2D;
POSITIONAL.AvgPool2D = POSITIONAL.AveragePooling2D;

const snake = (cls: string) =>
  cls
    .replace(/2D$/, '2d')
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .toLowerCase();

class KerasTensor implements Native {
  readonly k = 'native' as const;
  readonly describe = 'a Keras tensor';
  constructor(
    readonly graph: GraphBuilder,
    readonly layer: string,
  ) {}
  binop(op: string, other: Py, _r: boolean, at: SyntaxNode): Py | undefined {
    if (op === '+' && other instanceof KerasTensor) return this.front!.emit('Add', this.front!.autoName('Add'), {}, [this, other], at);
    return undefined;
  }
  front?: KerasFront;
}

class KerasLayer implements Native {
  readonly k = 'native' as const;
  used = false;
  constructor(
    readonly cls: string,
    readonly name: string,
    readonly cfg: Record<string, unknown>,
    readonly at: SyntaxNode,
    private readonly front: KerasFront,
  ) {}
  get describe(): string {
    return `layers.${this.cls}`;
  }
  call(args: Py[], _kw: Kwargs, at: SyntaxNode): Py {
    const input = args[0];
    const ins = isSeq(input) ? input.items : [input];
    const tensors = ins.map((t) => {
      if (!(t instanceof KerasTensor)) throw this.front.it.error(at, `layers.${this.cls} is called on ${typeName(t)}; call it on a tensor (from keras.Input)`);
      return t;
    });
    if (this.used) throw this.front.it.error(at, `layer ${this.name} is called twice, which shares its weights; make a second layer`);
    this.used = true;
    return this.front.emit(this.cls, this.name, this.cfg, tensors, this.at);
  }
}

class KerasSequential implements Native {
  readonly k = 'native' as const;
  readonly describe = 'keras.Sequential';
  readonly layers: (KerasLayer | KerasTensor)[] = [];
  constructor(
    readonly name: string,
    readonly at: SyntaxNode,
    private readonly front: KerasFront,
  ) {}
  attr(name: string): Py | undefined {
    if (name === 'add')
      return {
        k: 'native',
        describe: 'Sequential.add',
        call: (args, _kw, at) => {
          const l = args[0];
          if (!(l instanceof KerasLayer) && !(l instanceof KerasTensor)) throw this.front.it.error(at, `Sequential.add needs a layer, got ${typeName(l)}`);
          this.layers.push(l);
          return null;
        },
      };
    if (['compile', 'summary', 'build', 'fit', 'evaluate', 'save', 'predict'].includes(name)) return { k: 'native', describe: `model.${name}`, call: () => null };
    return undefined;
  }
}

class KerasModel implements Native {
  readonly k = 'native' as const;
  readonly describe = 'keras.Model';
  constructor(
    readonly output: KerasTensor,
    readonly name: string,
    readonly at: SyntaxNode,
  ) {}
  attr(name: string): Py | undefined {
    if (['compile', 'summary', 'build', 'fit', 'evaluate', 'save', 'predict'].includes(name)) return { k: 'native', describe: `model.${name}`, call: () => null };
    return undefined;
  }
}

export class KerasFront implements FrontEnd {
  it: Interpreter;
  private counters = new Map<string, number>();
  private readonly keras: Native;
  private readonly layersNs: Native;

  constructor(readonly file: string) {
    this.it = new Interpreter(file, this);
    this.layersNs = { k: 'native', describe: 'keras.layers', attr: (name) => this.layerClass(name) };
    const models: Native = { k: 'native', describe: 'keras.models', attr: (name) => (name === 'Sequential' || name === 'Model' ? this.keras.attr!(name, null as never) : undefined) };
    this.keras = {
      k: 'native',
      describe: 'keras',
      attr: (name) => {
        if (name === 'layers') return this.layersNs;
        if (name === 'models') return models;
        if (name === 'Sequential') return this.sequentialCtor();
        if (name === 'Model') return this.modelCtor();
        if (name === 'Input') return this.inputCtor();
        if (name === 'activations') return { k: 'native', describe: 'keras.activations', attr: (a) => activationRef(a) };
        if (name === 'initializers') return { k: 'native', describe: 'keras.initializers', attr: (a) => initializerCtor(a) };
        if (name === 'regularizers' || name === 'optimizers' || name === 'losses' || name === 'metrics' || name === 'callbacks' || name === 'datasets' || name === 'utils' || name === 'backend')
          return opaqueModule(this.it, `keras.${name}`);
        return undefined;
      },
    };
  }

  importModule(path: string): Py | undefined {
    const p = path.replace(/^tensorflow\.(python\.)?keras/, 'keras').replace(/^tf\.keras/, 'keras');
    if (p === 'keras') return this.keras;
    if (p === 'tensorflow')
      return { k: 'native', describe: 'tensorflow', attr: (n) => (n === 'keras' ? this.keras : n === 'nn' ? { k: 'native', describe: 'tf.nn', attr: (a) => activationRef(a) } : opaqueModule(this.it, `tensorflow.${n}`)) };
    if (p === 'keras.layers') return this.layersNs;
    if (p === 'keras.models') return this.keras.attr!('models', null as never);
    if (p === 'keras.activations') return this.keras.attr!('activations', null as never);
    if (p === 'keras.initializers') return this.keras.attr!('initializers', null as never);
    const m = /^keras\.(layers|models)\.(\w+)$/.exec(p);
    if (m) return m[1] === 'layers' ? this.layerClass(m[2]) : this.keras.attr!(m[2], null as never);
    const top = /^keras\.(\w+)$/.exec(p);
    if (top) return this.keras.attr!(top[1], null as never);
    return undefined;
  }

  autoName(cls: string): string {
    const base = snake(cls);
    const n = this.counters.get(base) ?? 0;
    this.counters.set(base, n + 1);
    return n === 0 ? base : `${base}_${n}`;
  }

  private layerClass(cls: string): Py | undefined {
    if (cls === 'Input') return this.inputCtor();
    if (!/^[A-Z]/.test(cls)) return undefined;
    return {
      k: 'native',
      describe: `layers.${cls}`,
      call: (args, kw, at) => {
        const names = POSITIONAL[cls] ?? [];
        if (args.length > names.length) throw this.it.unsupported(at, `${args.length} positional arguments to layers.${cls}`, 'pass the extra ones by keyword');
        const cfg: Record<string, unknown> = {};
        args.forEach((a, i) => (cfg[names[i]] = toJson(this.it, a, at)));
        for (const [k, v] of kw) cfg[k] = toJson(this.it, v, at);
        if (cls === 'InputLayer')
          return this.input(
            cfg.input_shape ?? cfg.shape ?? (Array.isArray(cfg.batch_input_shape) ? (cfg.batch_input_shape as unknown[]).slice(1) : undefined),
            typeof cfg.name === 'string' ? cfg.name : this.autoName('InputLayer'),
            at,
          );
        const name = typeof cfg.name === 'string' ? cfg.name : this.autoName(cls);
        // Fail at the constructor for a type the engine cannot read (before any call needs the shapes).
        probeLayer(cls, name, cfg, this.file, at);
        return new KerasLayer(cls, name, cfg, at, this);
      },
    };
  }

  private inputCtor(): Native {
    return {
      k: 'native',
      describe: 'keras.Input',
      call: (args, kw, at) => {
        const shape = toJson(this.it, args[0] ?? kw.get('shape') ?? null, at);
        const name = kw.get('name');
        return this.input(shape, typeof name === 'string' ? name : this.autoName('input_layer'), at);
      },
    };
  }

  private input(shape: unknown, name: string, at: SyntaxNode): KerasTensor {
    if (!Array.isArray(shape) || shape.some((d) => typeof d !== 'number' || d <= 0))
      throw this.it.error(at, `the input shape ${JSON.stringify(shape)} must be a tuple of positive sizes (no None), e.g. shape=(28, 28, 1)`);
    const graph = new GraphBuilder(this.file, 'NHWC');
    graph.reserve(name);
    graph.add({ kind: 'input', name, className: 'InputLayer', inbound: [], shape: shape as number[] }, at);
    const t = new KerasTensor(graph, name);
    t.front = this;
    return t;
  }

  emit(cls: string, name: string, cfg: Record<string, unknown>, inputs: KerasTensor[], at: SyntaxNode): KerasTensor {
    const graph = inputs[0].graph;
    if (inputs.some((t) => t.graph !== graph)) throw this.it.error(at, 'the inputs of this layer come from different keras.Input tensors of different models');
    const layer = probeLayer(
      cls,
      graph.fresh(name),
      cfg,
      this.file,
      at,
      inputs.map((t) => t.layer),
    );
    graph.add(layer, at);
    const t = new KerasTensor(graph, layer.name);
    t.front = this;
    return t;
  }

  private sequentialCtor(): Native {
    return {
      k: 'native',
      describe: 'keras.Sequential',
      call: (args, kw, at) => {
        const nameV = kw.get('name');
        const seq = new KerasSequential(typeof nameV === 'string' ? nameV : 'sequential', at, this);
        const list = args[0] ?? kw.get('layers') ?? null;
        if (list !== null)
          for (const l of this.it.iterate(list, at)) {
            if (!(l instanceof KerasLayer) && !(l instanceof KerasTensor)) throw this.it.error(at, `keras.Sequential takes layers, got ${typeName(l)}`);
            seq.layers.push(l);
          }
        return seq;
      },
    };
  }

  private modelCtor(): Native {
    return {
      k: 'native',
      describe: 'keras.Model',
      call: (args, kw, at) => {
        const outs = args[1] ?? kw.get('outputs') ?? null;
        const out = isSeq(outs) ? (outs.items.length === 1 ? outs.items[0] : null) : outs;
        if (!(out instanceof KerasTensor)) throw this.it.unsupported(at, `a keras.Model with outputs ${typeName(outs)}`, 'give one output tensor: keras.Model(inputs, outputs)');
        const nameV = kw.get('name');
        return new KerasModel(out, typeof nameV === 'string' ? nameV : 'model', at);
      },
    };
  }

  read(root: SyntaxNode, _text: string, opts: PythonReadOptions): PythonNetwork {
    this.it.runModule(root);
    const isModel = (v: Py | undefined) => v instanceof KerasSequential || v instanceof KerasModel;
    const candidates = findCandidates(this.it, root, () => false, isModel, /\b(Sequential|Model)\s*\(/);
    const { value, chosen } = chooseModel(this.it, candidates, opts.model, this.file, root, 'Keras', (v) => isModel(v));
    let graph: GraphBuilder;
    let output: string;
    let name: string;
    if (value instanceof KerasModel) {
      graph = value.output.graph;
      output = value.output.layer;
      name = value.name;
    } else {
      const seq = value as KerasSequential;
      name = seq.name;
      let x: KerasTensor | null = null;
      for (const l of seq.layers) {
        if (l instanceof KerasTensor) {
          if (x) throw this.it.error(seq.at, 'keras.Input must come first in a Sequential model');
          x = l;
          continue;
        }
        if (!x) {
          const shape = l.cfg.input_shape ?? (Array.isArray(l.cfg.batch_input_shape) ? (l.cfg.batch_input_shape as unknown[]).slice(1) : undefined) ?? opts.inputShape;
          if (!shape)
            throw new PythonSourceError(`the Sequential model does not say its input shape; give input_shape= to its first layer, start it with keras.Input(shape=...), or use --input-shape`, this.file, rangeOf(l.at));
          x = this.input(shape, 'input_layer', l.at);
        }
        x = l.call([x], new Map(), l.at) as KerasTensor;
      }
      if (!x || x.layer === 'input_layer') throw this.it.error(seq.at, 'the Sequential model has no layers');
      graph = x.graph;
      output = x.layer;
    }
    checkSoftmaxLast(graph, output, this.file);
    const layers = ancestors(graph.layers, output);
    return {
      spec: { file: this.file, format: 'keras-python', framework: 'keras', layout: 'NHWC', name, layers, outputs: [output] },
      framework: 'keras',
      modules: [],
      candidates,
      chosen,
    };
  }
}

/** Only the layers the output depends on, in order. */
function ancestors(layers: LayerNode[], output: string): LayerNode[] {
  const keep = new Set<string>([output]);
  for (let i = layers.length - 1; i >= 0; i--) if (keep.has(layers[i].name)) layers[i].inbound.forEach((n) => keep.add(n));
  return layers.filter((l) => keep.has(l.name));
}

/** The IR layer for a Keras class and config, through the JSON reader; its errors become errors at `at`. */
function probeLayer(cls: string, name: string, cfg: Record<string, unknown>, file: string, at: SyntaxNode, inbound: string[] = []): LayerNode {
  try {
    return readLayer(cls, name, cfg, inbound, (msg) => {
      throw new PythonSourceError(msg, file, rangeOf(at));
    });
  } catch (e) {
    if (e instanceof UserError && !(e instanceof PythonSourceError)) throw new PythonSourceError(e.message, file, rangeOf(at));
    throw e;
  }
}

function activationRef(name: string): Native {
  return { k: 'native', describe: name, call: undefined, attr: undefined, ...{ activationName: name } } as Native;
}

function initializerCtor(name: string): Native {
  return { k: 'native', describe: `initializers.${name}`, call: () => ({ k: 'native', describe: name, ...{ initializerName: name } }) as Native } as Native;
}

/** A Python value as the JSON a Keras config holds. */
function toJson(it: Interpreter, v: Py, at: SyntaxNode): unknown {
  if (v === null || typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean') return v;
  if (isSeq(v)) return v.items.map((x) => toJson(it, x, at));
  if (isDict(v)) return Object.fromEntries(v.keys.map((k, i) => [String(k), toJson(it, v.values[i], at)]));
  if (isNative(v)) {
    const a = (v as Native & { activationName?: string }).activationName;
    if (a) return a;
    const i = (v as Native & { initializerName?: string }).initializerName;
    if (i) return i;
  }
  throw it.unsupported(at, `${typeName(v)} as a layer argument (${repr(v)})`, 'give numbers, strings, tuples or activation names');
}
