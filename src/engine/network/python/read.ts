// A Python network file → the IR. Parse with tree-sitter, evaluate the top level, find the model (a
// module-level instance; else the one model class or builder no other one uses; else --model), evaluate
// it and its forward pass (PyTorch) or its layer calls (Keras) into layers named by module path.

import { UserError } from '../../errors';
import { shapeInEngineLayout } from '../layout';
import type { NetworkSpec } from '../ir';
import { GraphBuilder } from './graph';
import { Interpreter } from './interp';
import { KerasFront } from './keras';
import { parsePython, PythonSourceError, rangeOf, syntaxError, type SyntaxNode } from './parser';
import { TorchFront, TorchModule, TorchTensor, type ModuleValue } from './torch';
import { isClass, isFunc, isObj, typeName, type Py, type PyClass, type PyFunc } from './values';

export interface PythonReadOptions {
  /** --model: a name (class, builder function, variable) or a call in the Python subset, `VGG('VGG11')`. */
  model?: string;
  /** Per-example input shape in the file's layout (C,H,W for PyTorch), from --input-shape or the data. */
  inputShape?: number[];
  /** Image side to assume for a first Conv2d when nothing else says (from the data set: 28 MNIST, 32 CIFAR). */
  imageSide?: number;
}

export interface Candidate {
  name: string;
  kind: 'instance' | 'class' | 'builder';
  /** Whether it can be made without arguments. */
  needsArgs: boolean;
  range: ReturnType<typeof rangeOf>;
}

export interface PythonNetwork {
  spec: Omit<NetworkSpec, 'weights'>;
  framework: 'pytorch' | 'keras';
  /** PyTorch: the leaf modules with their state_dict paths (also those forward does not use). */
  modules: TorchModule[];
  candidates: Candidate[];
  /** What was chosen, as the user would write it for --model. */
  chosen: string;
}

/** Which framework a file uses, from its imports; null when neither. */
export function pythonFramework(text: string): 'pytorch' | 'keras' | null {
  const torch = /^\s*(import\s+torch|from\s+torch[\s.])/m.test(text);
  const keras = /^\s*(import\s+(keras|tensorflow)|from\s+(keras|tensorflow)[\s.])/m.test(text);
  if (torch && !keras) return 'pytorch';
  if (keras && !torch) return 'keras';
  if (torch && keras) return /\bnn\.Module\b/.test(text) ? 'pytorch' : 'keras';
  return null;
}

export function readPythonNetwork(text: string, file: string, opts: PythonReadOptions = {}): PythonNetwork {
  const tree = parsePython(text);
  try {
    const bad = syntaxError(tree, file);
    if (bad) throw bad;
    const framework = pythonFramework(text);
    if (!framework) throw new UserError('this Python file imports neither torch nor keras/tensorflow, so it holds no model BatchNorm Lens can read; open the file that defines the model', file, 1, 1);
    return framework === 'pytorch' ? readTorch(tree.rootNode, text, file, opts) : new KerasFront(file).read(tree.rootNode, text, opts);
  } finally {
    tree.delete();
  }
}

function readTorch(root: SyntaxNode, _text: string, file: string, opts: PythonReadOptions): PythonNetwork {
  const front = new TorchFront();
  const it = new Interpreter(file, front);
  front.it = it;
  it.runModule(root);
  const candidates = torchCandidates(it, root, front);
  const { value, chosen, at } = chooseModel(it, candidates, opts.model, file, root, 'PyTorch', (v) => v instanceof TorchModule || (isObj(v) && v.meta.torchModule === true));
  const model = value as ModuleValue;
  const modules = front.assignPaths(model);
  const name = model instanceof TorchModule ? model.type : model.cls.name;

  const inputShape = opts.inputShape ?? guessTorchInput(modules, opts.imageSide, file, at, name);
  const graph = new GraphBuilder(file, 'NCHW');
  front.graph = graph;
  const reserveAll = (m: ModuleValue) => {
    if (m instanceof TorchModule) {
      if (m.path) graph.reserve(m.path);
      m.children.forEach(([, c]) => reserveAll(c));
    } else for (const v of m.attrs.values()) if (v instanceof TorchModule || (isObj(v) && v.meta.torchModule)) reserveAll(v as ModuleValue);
  };
  reserveAll(model);
  const x = front.input(shapeInEngineLayout(inputShape, 'NCHW'), at);
  const y = model instanceof TorchModule ? model.call([x], new Map(), at) : front.callObject(model, [x], new Map(), at);
  if (!(y instanceof TorchTensor)) throw it.error(at, `forward of ${name} returns ${typeName(y)}; it must return one tensor (the logits)`);
  checkSoftmaxLast(graph, y.layer, file);
  if (graph.layers.length < 2) throw it.error(at, `${name} applies no layer to its input`);
  return {
    spec: { file, format: 'pytorch', framework: 'pytorch', layout: 'NCHW', name, layers: graph.layers, outputs: [y.layer] },
    framework: 'pytorch',
    modules,
    candidates,
    chosen,
  };
}

export function checkSoftmaxLast(graph: GraphBuilder, output: string, file: string): void {
  for (const l of graph.layers) {
    if (l.kind === 'activation' && l.activation === 'softmax' && l.name !== output && l.range)
      throw new PythonSourceError(`${l.className} is applied before the end of the network; BatchNorm Lens reads softmax / log_softmax only as the last operation (its input are the logits)`, file, l.range);
  }
}

function guessTorchInput(modules: TorchModule[], side: number | undefined, file: string, at: SyntaxNode, name: string): number[] {
  const first = modules[0];
  const fail = (why: string) => new PythonSourceError(`cannot tell the input shape of ${name} (${why}); give it with --input-shape C,H,W (or F for vectors)`, file, rangeOf(at));
  if (!first) throw fail('it has no layers');
  const c = first.cfg;
  if (first.type === 'Linear' && typeof c.in_features === 'number') return [c.in_features];
  if (first.type === 'BatchNorm1d' && typeof c.num_features === 'number') return [c.num_features];
  if (first.type === 'Conv2d' && typeof c.in_channels === 'number') {
    const s = side ?? (c.in_channels === 1 ? 28 : c.in_channels === 3 ? 32 : undefined);
    if (!s) throw fail(`its first layer ${first.path} takes ${c.in_channels} channels of unknown size`);
    return [c.in_channels, s, s];
  }
  throw fail(`its first layer ${first.path} (nn.${first.type}) does not say`);
}

/** Model classes, builder functions and module-level instances; those another one uses are not candidates. */
function torchCandidates(it: Interpreter, root: SyntaxNode, front: TorchFront): Candidate[] {
  const isModel = (v: Py | undefined) => v instanceof TorchModule || (isObj(v) && v.meta.torchModule === true);
  return findCandidates(it, root, (v) => isClass(v) && front.isModuleClass(v), isModel, /\bnn\.|Sequential|Module/);
}

export function findCandidates(it: Interpreter, root: SyntaxNode, isModelClass: (v: Py) => boolean, isModel: (v: Py | undefined) => boolean, builderHint: RegExp): Candidate[] {
  const instances: Candidate[] = [];
  const defs: { c: Candidate; node: SyntaxNode }[] = [];
  const maybe: { c: Candidate; node: SyntaxNode }[] = [];
  for (const stmt of root.namedChildren) {
    if (!stmt) continue;
    const def = stmt.type === 'decorated_definition' ? stmt.childForFieldName('definition')! : stmt;
    if (def.type === 'class_definition') {
      const name = def.childForFieldName('name')!.text;
      const v = it.globals.vars.get(name);
      if (v && isModelClass(v)) defs.push({ c: { name, kind: 'class', needsArgs: needsArgs(v as PyClass), range: rangeOf(def.childForFieldName('name')!) }, node: def });
    } else if (def.type === 'function_definition') {
      const name = def.childForFieldName('name')!.text;
      const v = it.globals.vars.get(name);
      const body = def.childForFieldName('body')!;
      if (isFunc(v) && /\breturn\b/.test(body.text) && !name.startsWith('_') && !/^(test|main|train|evaluate)\b/.test(name))
        maybe.push({ c: { name, kind: 'builder', needsArgs: needsArgs(v), range: rangeOf(def.childForFieldName('name')!) }, node: def });
    } else if (def.type === 'expression_statement' && def.namedChildren[0]?.type === 'assignment') {
      const left = def.namedChildren[0].childForFieldName('left')!;
      if (left.type === 'identifier' && isModel(it.globals.vars.get(left.text)) && !instances.some((c) => c.name === left.text))
        instances.push({ name: left.text, kind: 'instance', needsArgs: false, range: rangeOf(left) });
    }
  }
  if (instances.length) {
    const preferred = instances.find((c) => c.name === 'model');
    return preferred ? [preferred] : instances;
  }
  // A builder function returns a model: its body uses the framework's layers, a model class or another builder.
  for (let changed = true; changed;) {
    changed = false;
    for (const m of maybe.slice()) {
      const body = m.node.childForFieldName('body')!.text;
      const names = defs.map((d) => d.c.name);
      if (builderHint.test(body) || names.some((n) => new RegExp(`\\b${n}\\s*\\(`).test(body))) {
        defs.push(m);
        maybe.splice(maybe.indexOf(m), 1);
        changed = true;
      }
    }
  }
  const names = defs.map((d) => d.c.name);
  const used = new Set<string>();
  for (const d of defs) {
    const ids = new Set<string>();
    const walk = (n: SyntaxNode) => {
      if (n.type === 'identifier') ids.add(n.text);
      for (const c of n.namedChildren) if (c) walk(c);
    };
    walk(d.node.childForFieldName('body')!);
    if (d.node.type === 'class_definition') for (const b of d.node.childForFieldName('superclasses')?.namedChildren ?? []) if (b) walk(b);
    for (const n of names) if (n !== d.c.name && ids.has(n)) used.add(n);
  }
  return defs.filter((d) => !used.has(d.c.name)).map((d) => d.c);
}

function needsArgs(v: PyClass | PyFunc): boolean {
  const fn = isClass(v) ? (v.attrs.get('__init__') as PyFunc | undefined) : v;
  if (!fn || !isFunc(fn)) return false;
  const params = fn.node.childForFieldName('parameters')?.namedChildren ?? [];
  const plain = params.filter((p) => p && (p.type === 'identifier' || p.type === 'typed_parameter'));
  return plain.length > (isClass(v) ? 1 : 0);
}

export function chooseModel(it: Interpreter, candidates: Candidate[], pick: string | undefined, file: string, root: SyntaxNode, what: string, isModel: (v: Py) => boolean): { value: Py; chosen: string; at: SyntaxNode } {
  let expr: string;
  if (pick !== undefined && pick.trim() !== '') expr = pick.trim();
  else if (candidates.length === 1 && !candidates[0].needsArgs) expr = candidates[0].name;
  else if (candidates.length === 1)
    throw new UserError(
      `${candidates[0].name} needs constructor arguments; give them with --model "${candidates[0].name}(...)" (in the editor: Analyze BatchNorm offers them in a quick pick)`,
      file,
      candidates[0].range.line,
      candidates[0].range.column,
    );
  else if (candidates.length === 0) throw new UserError(`no ${what} model found: define a model class, a builder function that returns a model, or a module-level model = ...; or name one with --model NAME`, file, 1, 1);
  else {
    const list = candidates.map((c) => (c.needsArgs ? `${c.name}(…)` : c.name)).join(', ');
    throw new UserError(
      `this file defines ${candidates.length} models (${list}); pick one with --model NAME or a call such as --model "${candidates[0].name}(${candidates[0].needsArgs ? '...' : ''})" (in the editor: Analyze BatchNorm offers them in a quick pick)`,
      file,
      candidates[0].range.line,
      candidates[0].range.column,
    );
  }
  // The choice is itself evaluated as Python (a name or a call with literal arguments) in the file's scope.
  const tree = parsePython(expr);
  try {
    const stmt = tree.rootNode.namedChildren[0];
    if (tree.rootNode.hasError || tree.rootNode.namedChildren.length !== 1 || stmt?.type !== 'expression_statement')
      throw new UserError(`--model "${expr}" is not a Python name or call; write it as NAME or NAME(args)`, file);
    const node = stmt.namedChildren[0]!;
    const known = candidates.find((c) => c.name === expr);
    let value: Py;
    try {
      value = it.eval(node, it.globals);
      if (isClass(value) || isFunc(value)) value = it.call(value, [], new Map(), node);
    } catch (e) {
      if (e instanceof PythonSourceError && e.range.line === 1 && e.message.includes(`name '`))
        throw new UserError(`--model ${expr}: ${e.message.replace(/ in this file.*$/, '')}; the candidates are ${candidates.map((c) => c.name).join(', ') || 'none'}`, file);
      throw e;
    }
    if (!isModel(value)) throw new UserError(`--model ${expr} gives ${typeName(value)}, not a ${what} model`, file);
    const at = known ? (findNode(root, known.range) ?? root) : root;
    return { value, chosen: expr, at };
  } finally {
    tree.delete();
  }
}

function findNode(root: SyntaxNode, r: ReturnType<typeof rangeOf>): SyntaxNode | null {
  return root.descendantForPosition({ row: r.line - 1, column: r.column - 1 }, { row: r.endLine - 1, column: r.endColumn - 1 });
}
