// The values of the model-building subset of Python the readers evaluate. Plain data (None, bool, int,
// float, str, list, tuple, dict), the file's own functions, classes and objects, and "native" values the
// framework front ends supply (torch.nn layers, symbolic tensors, namespaces such as `nn` or `layers`).

import type { SyntaxNode } from './parser';

export type Py = null | boolean | number | string | PyList | PyTuple | PyDict | PyFunc | PyClass | PyObj | Native;

export interface PyList {
  k: 'list';
  items: Py[];
}
export interface PyTuple {
  k: 'tuple';
  items: Py[];
}
export interface PyDict {
  k: 'dict';
  keys: Py[];
  values: Py[];
}
export interface PyFunc {
  k: 'func';
  name: string;
  node: SyntaxNode;
  scope: Scope;
  /** Bound `self` (methods looked up on an object). */
  self?: PyObj;
  /** The class a method belongs to (for `super()`). */
  owner?: PyClass;
}
export interface PyClass {
  k: 'class';
  name: string;
  node: SyntaxNode;
  bases: Py[];
  attrs: Map<string, Py>;
}
export interface PyObj {
  k: 'obj';
  cls: PyClass;
  /** Attributes in assignment order (PyTorch registers submodules in this order). */
  attrs: Map<string, Py>;
  /** Whatever the front end keeps about the object (its module path, its framework kind). */
  meta: Record<string, unknown>;
}

export type Kwargs = Map<string, Py>;

/** A value the front end implements; every hook is optional and its absence is "not supported". */
export interface Native {
  k: 'native';
  /** How the value is named in messages: `nn.Linear(...)`, `a tensor`, `torch.nn`. */
  describe: string;
  attr?(name: string, at: SyntaxNode): Py | undefined;
  setAttr?(name: string, value: Py, at: SyntaxNode): boolean;
  call?(args: Py[], kwargs: Kwargs, at: SyntaxNode): Py;
  /** `this op other` (or `other op this` when reflected); undefined when the operation is not supported. */
  binop?(op: string, other: Py, reflected: boolean, at: SyntaxNode): Py | undefined;
  iter?(at: SyntaxNode): Py[];
  index?(key: Py, at: SyntaxNode): Py;
  len?(at: SyntaxNode): number;
}

export interface Scope {
  vars: Map<string, Py>;
  parent: Scope | null;
  /** Module-level names whose statement could not be evaluated: the error, raised if the name is used. */
  poisoned?: Map<string, Error>;
}

export const isList = (v: Py | undefined): v is PyList => typeof v === 'object' && v !== null && v.k === 'list';
export const isTuple = (v: Py | undefined): v is PyTuple => typeof v === 'object' && v !== null && v.k === 'tuple';
export const isSeq = (v: Py | undefined): v is PyList | PyTuple => isList(v) || isTuple(v);
export const isDict = (v: Py | undefined): v is PyDict => typeof v === 'object' && v !== null && v.k === 'dict';
export const isNative = (v: Py | undefined): v is Native => typeof v === 'object' && v !== null && v.k === 'native';
export const isObj = (v: Py | undefined): v is PyObj => typeof v === 'object' && v !== null && v.k === 'obj';
export const isClass = (v: Py | undefined): v is PyClass => typeof v === 'object' && v !== null && v.k === 'class';
export const isFunc = (v: Py | undefined): v is PyFunc => typeof v === 'object' && v !== null && v.k === 'func';

export function typeName(v: Py): string {
  if (v === null) return 'None';
  if (typeof v === 'boolean') return 'a bool';
  if (typeof v === 'number') return Number.isInteger(v) ? 'an int' : 'a float';
  if (typeof v === 'string') return 'a str';
  switch (v.k) {
    case 'list':
      return 'a list';
    case 'tuple':
      return 'a tuple';
    case 'dict':
      return 'a dict';
    case 'func':
      return `function ${v.name}`;
    case 'class':
      return `class ${v.name}`;
    case 'obj':
      return `a ${v.cls.name} object`;
    case 'native':
      return v.describe;
  }
}

/** Python's repr for messages and dict keys. */
export function repr(v: Py): string {
  if (v === null) return 'None';
  if (typeof v === 'boolean') return v ? 'True' : 'False';
  if (typeof v === 'number') return String(v);
  if (typeof v === 'string') return JSON.stringify(v);
  if (isSeq(v)) return `${isList(v) ? '[' : '('}${v.items.map(repr).join(', ')}${isList(v) ? ']' : ')'}`;
  return typeName(v);
}

/** Find an attribute through a class and its (file-defined) bases. */
export function classAttr(cls: PyClass, name: string): Py | undefined {
  if (cls.attrs.has(name)) return cls.attrs.get(name);
  for (const b of cls.bases) {
    if (isClass(b)) {
      const v = classAttr(b, name);
      if (v !== undefined) return v;
    }
  }
  return undefined;
}

/** The framework bases of a class (natives), through its file-defined bases. */
export function nativeBases(cls: PyClass): Native[] {
  const out: Native[] = [];
  for (const b of cls.bases) {
    if (isNative(b)) out.push(b);
    else if (isClass(b)) out.push(...nativeBases(b));
  }
  return out;
}
