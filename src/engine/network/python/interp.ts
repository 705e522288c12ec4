// An evaluator of the model-building subset of Python over a tree-sitter syntax tree. It never runs the
// user's program: it walks the tree, computes plain values (numbers, strings, lists, dicts), calls the
// file's own functions and classes, and hands framework calls (torch.nn, keras) to the front ends through
// Native values. Anything else stops with a PythonSourceError at the construct's exact range, naming it and
// the smallest rewrite.

import { PythonSourceError, rangeOf, type SyntaxNode } from './parser';
import { classAttr, isClass, isDict, isFunc, isList, isNative, isObj, isSeq, isTuple, repr, typeName, type Kwargs, type Native, type Py, type PyClass, type PyFunc, type PyObj, type Scope } from './values';

class ReturnSignal {
  constructor(readonly value: Py) {}
}
class BreakSignal {}
class ContinueSignal {}

export interface FrontEnd {
  /** `import a.b` / `from a import b`: the value of a module path, or undefined for an unknown module. */
  importModule(path: string): Py | undefined;
  /** Calling an object of a file-defined class whose framework base makes it callable (nn.Module → forward). */
  callObject?(obj: PyObj, args: Py[], kwargs: Kwargs, at: SyntaxNode): Py;
  /** A new object of a file-defined class is being made (before __init__ runs). */
  onNewObject?(obj: PyObj, at: SyntaxNode): void;
  /** Attribute assignment on an object of a file-defined class (PyTorch registers submodules here). */
  onSetAttr?(obj: PyObj, name: string, value: Py, at: SyntaxNode): void;
}

const MAX_STEPS = 2_000_000;

export class Interpreter {
  readonly globals: Scope = { vars: new Map(), parent: null, poisoned: new Map() };
  private steps = 0;
  private depth = 0;

  constructor(
    readonly file: string,
    readonly front: FrontEnd,
  ) {
    for (const [k, v] of Object.entries(builtins(this))) this.globals.vars.set(k, v);
    this.globals.vars.set('__name__', 'bnlens_model');
  }

  error(at: SyntaxNode, message: string): PythonSourceError {
    return new PythonSourceError(message, this.file, rangeOf(at));
  }

  unsupported(at: SyntaxNode, construct: string, fix: string): PythonSourceError {
    return this.error(at, `${construct} is outside the Python subset BatchNorm Lens reads; ${fix}`);
  }

  // ------------------------------------------------------------------ module level

  /**
   * Run a module's top level leniently: definitions and imports always, other statements as far as they go.
   * A statement that fails poisons the names it assigns, so the error surfaces only if the model uses them.
   */
  runModule(root: SyntaxNode): void {
    for (const stmt of root.namedChildren) {
      if (!stmt || stmt.type === 'comment') continue;
      try {
        this.exec(stmt, this.globals);
      } catch (e) {
        if (!(e instanceof PythonSourceError)) throw e;
        for (const name of assignedNames(stmt)) {
          this.globals.poisoned!.set(name, e);
          this.globals.vars.delete(name);
        }
      }
    }
  }

  // ------------------------------------------------------------------ statements

  execBlock(block: SyntaxNode, scope: Scope): void {
    for (const s of block.namedChildren) if (s && s.type !== 'comment') this.exec(s, scope);
  }

  exec(n: SyntaxNode, scope: Scope): void {
    if (++this.steps > MAX_STEPS) throw this.error(n, 'the model-building code runs too long (a loop that does not end?); simplify it');
    switch (n.type) {
      case 'expression_statement': {
        const e = n.namedChildren[0]!;
        if (e.type === 'assignment') return this.assign(e, scope);
        if (e.type === 'augmented_assignment') return this.augAssign(e, scope);
        if (e.type === 'string') return; // docstring
        this.eval(e, scope);
        return;
      }
      case 'import_statement':
      case 'import_from_statement':
      case 'future_import_statement':
        return this.importStmt(n, scope);
      case 'function_definition':
        scope.vars.set(n.childForFieldName('name')!.text, { k: 'func', name: n.childForFieldName('name')!.text, node: n, scope });
        return;
      case 'class_definition':
        return this.classDef(n, scope);
      case 'decorated_definition': {
        const def = n.childForFieldName('definition')!;
        const decos = n.namedChildren.filter((c) => c?.type === 'decorator').map((d) => d!.text);
        if (decos.some((d) => !/^@(staticmethod|classmethod|torch\.no_grad|property)/.test(d)) && def.type === 'class_definition') throw this.unsupported(n, `the decorator ${decos[0]}`, 'remove it from the model class');
        return this.exec(def, scope);
      }
      case 'return_statement': {
        const v = n.namedChildren[0];
        throw new ReturnSignal(v ? this.eval(v, scope) : null);
      }
      case 'if_statement':
        return this.ifStmt(n, scope);
      case 'for_statement':
        return this.forStmt(n, scope);
      case 'while_statement': {
        const cond = n.childForFieldName('condition')!;
        while (truthy(this.eval(cond, scope))) {
          if (++this.steps > MAX_STEPS) throw this.error(n, 'the while loop does not end; simplify it');
          try {
            this.execBlock(n.childForFieldName('body')!, scope);
          } catch (e) {
            if (e instanceof BreakSignal) break;
            if (e instanceof ContinueSignal) continue;
            throw e;
          }
        }
        return;
      }
      case 'pass_statement':
      case 'global_statement':
      case 'nonlocal_statement':
        return;
      case 'break_statement':
        throw new BreakSignal();
      case 'continue_statement':
        throw new ContinueSignal();
      case 'assert_statement':
        return; // an assert cannot change the model
      case 'delete_statement':
        return;
      case 'raise_statement':
        throw this.error(n, `the model code raises here (${n.text.slice(0, 60)}); pick a model or arguments that do not reach this line`);
      default:
        throw this.unsupported(n, `a ${n.type.replace(/_/g, ' ')}`, 'build the model with assignments, calls, if and for loops only');
    }
  }

  private importStmt(n: SyntaxNode, scope: Scope): void {
    if (n.type === 'future_import_statement') return;
    if (n.type === 'import_statement') {
      for (const c of n.namedChildren) {
        if (!c) continue;
        if (c.type === 'dotted_name') {
          const path = c.text;
          const top = path.split('.')[0];
          scope.vars.set(top, this.front.importModule(top) ?? opaqueModule(this, top));
        } else if (c.type === 'aliased_import') {
          const path = c.childForFieldName('name')!.text;
          scope.vars.set(c.childForFieldName('alias')!.text, this.front.importModule(path) ?? opaqueModule(this, path));
        }
      }
      return;
    }
    const modNode = n.childForFieldName('module_name')!;
    const mod = modNode.text;
    for (const c of n.namedChildren) {
      if (!c || c === modNode || c.id === modNode.id) continue;
      if (c.type === 'wildcard_import') {
        const m = this.front.importModule(mod);
        if (isNative(m) && m.attr) {
          // `from torch.nn import *`: names resolve lazily through the module on lookup.
          (scope as Scope & { star?: Native[] }).star = [...((scope as Scope & { star?: Native[] }).star ?? []), m];
        }
        continue;
      }
      const nameNode = c.type === 'aliased_import' ? c.childForFieldName('name')! : c;
      const alias = c.type === 'aliased_import' ? c.childForFieldName('alias')!.text : nameNode.text;
      const full = `${mod}.${nameNode.text}`;
      let v = this.front.importModule(full);
      if (v === undefined) {
        const parent = this.front.importModule(mod);
        if (isNative(parent) && parent.attr) v = parent.attr(nameNode.text, c);
      }
      scope.vars.set(alias, v ?? opaqueModule(this, full));
    }
  }

  private classDef(n: SyntaxNode, scope: Scope): void {
    const name = n.childForFieldName('name')!.text;
    const supers = n.childForFieldName('superclasses');
    const bases: Py[] = [];
    if (supers)
      for (const b of supers.namedChildren) {
        if (!b || b.type === 'keyword_argument') continue;
        bases.push(this.eval(b, scope));
      }
    const cls: PyClass = { k: 'class', name, node: n, bases, attrs: new Map() };
    const body = n.childForFieldName('body')!;
    const classScope: Scope = { vars: new Map(), parent: scope };
    for (const s of body.namedChildren) {
      if (!s || s.type === 'comment') continue;
      if (s.type === 'function_definition' || (s.type === 'decorated_definition' && s.childForFieldName('definition')!.type === 'function_definition')) {
        const def = s.type === 'function_definition' ? s : s.childForFieldName('definition')!;
        const fname = def.childForFieldName('name')!.text;
        const isStatic = s.type === 'decorated_definition' && /@staticmethod/.test(s.text);
        const f: PyFunc = { k: 'func', name: fname, node: def, scope, owner: cls };
        if (isStatic) (f as PyFunc & { isStatic?: boolean }).isStatic = true;
        cls.attrs.set(fname, f);
        continue;
      }
      try {
        this.exec(s, classScope);
      } catch (e) {
        if (!(e instanceof PythonSourceError)) throw e;
        // Class-level statements that are not plain constants are not part of the model.
      }
    }
    for (const [k, v] of classScope.vars) cls.attrs.set(k, v);
    scope.vars.set(name, cls);
  }

  private ifStmt(n: SyntaxNode, scope: Scope): void {
    if (truthy(this.eval(n.childForFieldName('condition')!, scope))) return this.execBlock(n.childForFieldName('consequence')!, scope);
    for (const alt of n.childrenForFieldName('alternative')) {
      if (!alt) continue;
      if (alt.type === 'elif_clause') {
        if (truthy(this.eval(alt.childForFieldName('condition')!, scope))) return this.execBlock(alt.childForFieldName('consequence')!, scope);
      } else if (alt.type === 'else_clause') {
        return this.execBlock(alt.childForFieldName('body')!, scope);
      }
    }
  }

  private forStmt(n: SyntaxNode, scope: Scope): void {
    const items = this.iterate(this.eval(n.childForFieldName('right')!, scope), n.childForFieldName('right')!);
    const left = n.childForFieldName('left')!;
    let broke = false;
    for (const item of items) {
      this.bind(left, item, scope);
      try {
        this.execBlock(n.childForFieldName('body')!, scope);
      } catch (e) {
        if (e instanceof BreakSignal) {
          broke = true;
          break;
        }
        if (e instanceof ContinueSignal) continue;
        throw e;
      }
    }
    const alt = n.childForFieldName('alternative');
    if (alt && !broke) this.execBlock(alt.childForFieldName('body')!, scope);
  }

  private assign(n: SyntaxNode, scope: Scope): void {
    const right = n.childForFieldName('right');
    if (!right) return; // a bare annotation
    let value = this.eval(right, scope);
    // a = b = value: tree-sitter nests the chain in `right`.
    if (right.type === 'assignment') value = this.lastAssigned;
    this.bind(n.childForFieldName('left')!, value, scope);
    this.lastAssigned = value;
  }

  private lastAssigned: Py = null;

  private augAssign(n: SyntaxNode, scope: Scope): void {
    const left = n.childForFieldName('left')!;
    const op = n.childForFieldName('operator')!.text.slice(0, -1);
    const cur = this.eval(left, scope);
    const rhs = this.eval(n.childForFieldName('right')!, scope);
    if (isList(cur) && op === '+') {
      cur.items.push(...this.iterate(rhs, n));
      return;
    }
    this.bind(left, this.binop(op, cur, rhs, n), scope);
  }

  bind(target: SyntaxNode, value: Py, scope: Scope): void {
    switch (target.type) {
      case 'identifier':
        scope.vars.set(target.text, value);
        return;
      case 'attribute': {
        const obj = this.eval(target.childForFieldName('object')!, scope);
        const name = target.childForFieldName('attribute')!.text;
        if (isObj(obj)) {
          this.front.onSetAttr?.(obj, name, value, target);
          obj.attrs.set(name, value);
          return;
        }
        if (isNative(obj) && obj.setAttr?.(name, value, target)) return;
        throw this.unsupported(target, `setting ${name} on ${typeName(obj)}`, 'assign attributes only on self in __init__');
      }
      case 'subscript': {
        const obj = this.eval(target.childForFieldName('value')!, scope);
        const key = this.eval(target.childForFieldName('subscript')!, scope);
        if (isList(obj) && typeof key === 'number') {
          obj.items[key < 0 ? obj.items.length + key : key] = value;
          return;
        }
        if (isDict(obj)) {
          const i = obj.keys.findIndex((k) => k === key);
          if (i >= 0) obj.values[i] = value;
          else {
            obj.keys.push(key);
            obj.values.push(value);
          }
          return;
        }
        throw this.unsupported(target, `item assignment on ${typeName(obj)}`, 'build lists with append');
      }
      case 'pattern_list':
      case 'tuple_pattern':
      case 'list_pattern':
      case 'expression_list':
      case 'tuple':
      case 'list': {
        const targets = target.namedChildren.filter((c): c is SyntaxNode => !!c && c.type !== 'comment');
        const items = this.iterate(value, target);
        if (items.length !== targets.length) throw this.error(target, `cannot unpack ${items.length} values into ${targets.length} names`);
        targets.forEach((t, i) => this.bind(t, items[i], scope));
        return;
      }
      case 'parenthesized_expression':
        return this.bind(target.namedChildren[0]!, value, scope);
      default:
        throw this.unsupported(target, `assignment to ${target.type.replace(/_/g, ' ')}`, 'assign to names, self.name or list items');
    }
  }

  // ------------------------------------------------------------------ expressions

  lookup(name: string, scope: Scope, at: SyntaxNode): Py {
    for (let s: Scope | null = scope; s; s = s.parent) {
      if (s.vars.has(name)) return s.vars.get(name)!;
      if (s.poisoned?.has(name)) {
        const e = s.poisoned.get(name)!;
        throw e;
      }
      const star = (s as Scope & { star?: Native[] }).star;
      if (star)
        for (const m of star) {
          const v = m.attr!(name, at);
          if (v !== undefined) return v;
        }
    }
    throw this.error(at, `name '${name}' is not defined in this file (or is made by code outside the subset); define it above or give the value literally`);
  }

  eval(n: SyntaxNode, scope: Scope): Py {
    if (++this.steps > MAX_STEPS) throw this.error(n, 'the model-building code runs too long; simplify it');
    switch (n.type) {
      case 'identifier':
        return this.lookup(n.text, scope, n);
      case 'integer': {
        const t = n.text.replace(/_/g, '').toLowerCase();
        return t.startsWith('0x') ? parseInt(t, 16) : t.startsWith('0o') ? parseInt(t.slice(2), 8) : t.startsWith('0b') ? parseInt(t.slice(2), 2) : Number(t.replace(/l$/, ''));
      }
      case 'float':
        return Number(n.text.replace(/_/g, ''));
      case 'true':
        return true;
      case 'false':
        return false;
      case 'none':
        return null;
      case 'string':
        return this.stringValue(n, scope);
      case 'concatenated_string':
        return n.namedChildren.map((c) => this.stringValue(c!, scope)).join('');
      case 'parenthesized_expression':
        return this.eval(
          n.namedChildren.find((c) => c && c.type !== 'comment')!,
          scope,
        );
      case 'list':
        return { k: 'list', items: this.evalItems(n, scope) };
      case 'tuple':
      case 'expression_list':
        return { k: 'tuple', items: this.evalItems(n, scope) };
      case 'dictionary': {
        const d: Py = { k: 'dict', keys: [], values: [] };
        for (const p of n.namedChildren) {
          if (!p || p.type === 'comment') continue;
          if (p.type !== 'pair') throw this.unsupported(p, 'dict unpacking', 'write the entries out');
          d.keys.push(this.eval(p.childForFieldName('key')!, scope));
          d.values.push(this.eval(p.childForFieldName('value')!, scope));
        }
        return d;
      }
      case 'attribute':
        return this.getattr(this.eval(n.childForFieldName('object')!, scope), n.childForFieldName('attribute')!.text, n);
      case 'subscript':
        return this.subscript(n, scope);
      case 'call':
        return this.callExpr(n, scope);
      case 'binary_operator':
        return this.binop(n.childForFieldName('operator')!.text, this.eval(n.childForFieldName('left')!, scope), this.eval(n.childForFieldName('right')!, scope), n);
      case 'unary_operator': {
        const v = this.eval(n.childForFieldName('argument')!, scope);
        const op = n.childForFieldName('operator')!.text;
        if (typeof v !== 'number' && typeof v !== 'boolean') throw this.unsupported(n, `unary ${op} on ${typeName(v)}`, 'use it on numbers only');
        return op === '-' ? -v : op === '+' ? +v : ~v;
      }
      case 'not_operator':
        return !truthy(this.eval(n.childForFieldName('argument')!, scope));
      case 'boolean_operator': {
        const l = this.eval(n.childForFieldName('left')!, scope);
        const op = n.childForFieldName('operator')!.text;
        if (op === 'and') return truthy(l) ? this.eval(n.childForFieldName('right')!, scope) : l;
        return truthy(l) ? l : this.eval(n.childForFieldName('right')!, scope);
      }
      case 'comparison_operator':
        return this.compare(n, scope);
      case 'conditional_expression': {
        const [a, cond, b] = n.namedChildren as SyntaxNode[];
        return truthy(this.eval(cond, scope)) ? this.eval(a, scope) : this.eval(b, scope);
      }
      case 'list_comprehension':
      case 'generator_expression':
        return { k: 'list', items: this.comprehension(n, scope) };
      case 'lambda':
        return { k: 'func', name: '<lambda>', node: n, scope };
      case 'keyword_argument':
        throw this.error(n, 'a keyword argument outside a call');
      default:
        throw this.unsupported(n, `a ${n.type.replace(/_/g, ' ')}`, 'write the value as a number, string, list, tuple, dict or a call');
    }
  }

  private stringValue(n: SyntaxNode, scope: Scope): string {
    let s = '';
    for (const c of n.namedChildren) {
      if (!c) continue;
      if (c.type === 'string_content')
        s += c.text
          .replace(/\\n/g, '\n')
          .replace(/\\t/g, '\t')
          .replace(/\\(['"\\])/g, '$1');
      else if (c.type === 'interpolation') {
        const v = this.eval(c.childForFieldName('expression')!, scope);
        s += typeof v === 'string' ? v : repr(v);
      } else if (c.type === 'escape_sequence') s += JSON.parse(`"${c.text.replace(/^\\'/, "'")}"`);
    }
    return s;
  }

  private evalItems(n: SyntaxNode, scope: Scope): Py[] {
    const out: Py[] = [];
    for (const c of n.namedChildren) {
      if (!c || c.type === 'comment') continue;
      if (c.type === 'list_splat') out.push(...this.iterate(this.eval(c.namedChildren[0]!, scope), c));
      else out.push(this.eval(c, scope));
    }
    return out;
  }

  private comprehension(n: SyntaxNode, scope: Scope): Py[] {
    const body = n.childForFieldName('body')!;
    const clauses = n.namedChildren.filter((c): c is SyntaxNode => !!c && (c.type === 'for_in_clause' || c.type === 'if_clause'));
    const inner: Scope = { vars: new Map(), parent: scope };
    const out: Py[] = [];
    const run = (i: number) => {
      if (i === clauses.length) {
        out.push(this.eval(body, inner));
        return;
      }
      const c = clauses[i];
      if (c.type === 'if_clause') {
        if (truthy(this.eval(c.namedChildren[0]!, inner))) run(i + 1);
        return;
      }
      for (const item of this.iterate(this.eval(c.childForFieldName('right')!, inner), c)) {
        this.bind(c.childForFieldName('left')!, item, inner);
        run(i + 1);
      }
    };
    run(0);
    return out;
  }

  iterate(v: Py, at: SyntaxNode): Py[] {
    if (isSeq(v)) return v.items.slice();
    if (typeof v === 'string') return [...v];
    if (isDict(v)) return v.keys.slice();
    if (isNative(v) && v.iter) return v.iter(at);
    throw this.unsupported(at, `iterating over ${typeName(v)}`, 'loop over range(...), a list or a tuple');
  }

  private subscript(n: SyntaxNode, scope: Scope): Py {
    const obj = this.eval(n.childForFieldName('value')!, scope);
    const subs = n.childrenForFieldName('subscript').filter((c): c is SyntaxNode => !!c);
    if (subs.length === 1 && subs[0].type === 'slice') {
      const parts: (number | null)[] = [null, null, null];
      let i = 0;
      for (const c of subs[0].children) {
        if (!c) continue;
        if (c.type === ':') i++;
        else if (c.type !== 'comment') {
          const v = this.eval(c, scope);
          if (v !== null && typeof v !== 'number') throw this.error(c, 'slice bounds must be integers');
          parts[i] = v;
        }
      }
      if (isSeq(obj) || typeof obj === 'string') {
        const items = typeof obj === 'string' ? [...obj] : obj.items;
        const sliced = pySlice(items, parts[0], parts[1], parts[2]);
        return typeof obj === 'string' ? sliced.join('') : { k: isList(obj) ? 'list' : 'tuple', items: sliced };
      }
      if (isNative(obj) && obj.index) return obj.index({ k: 'tuple', items: [] }, n);
      throw this.unsupported(n, `slicing ${typeName(obj)}`, 'slice lists and tuples only');
    }
    const key = subs.length === 1 ? this.eval(subs[0], scope) : { k: 'tuple' as const, items: subs.map((s) => this.eval(s, scope)) };
    if ((isSeq(obj) || typeof obj === 'string') && typeof key === 'number') {
      const items = typeof obj === 'string' ? [...obj] : obj.items;
      const i = key < 0 ? items.length + key : key;
      if (i < 0 || i >= items.length) throw this.error(n, `index ${key} is out of range (length ${items.length})`);
      return items[i];
    }
    if (isDict(obj)) {
      const i = obj.keys.findIndex((k) => k === key);
      if (i < 0) throw this.error(n, `key ${repr(key)} is not in the dict`);
      return obj.values[i];
    }
    if (isNative(obj) && obj.index) return obj.index(key, n);
    throw this.unsupported(n, `indexing ${typeName(obj)}`, 'index lists, tuples and dicts only');
  }

  getattr(obj: Py, name: string, at: SyntaxNode): Py {
    if (isObj(obj)) {
      if (obj.attrs.has(name)) return obj.attrs.get(name)!;
      const v = classAttr(obj.cls, name);
      if (v !== undefined) return isFunc(v) && !(v as PyFunc & { isStatic?: boolean }).isStatic ? { ...v, self: obj } : v;
      if (name === 'training') return true;
      if (name === '__setattr__' || name === 'add_module' || name === 'register_module')
        return native(`${obj.cls.name}.${name}`, (args, _kw, callAt) => {
          if (typeof args[0] !== 'string') throw this.error(callAt, `${name} needs a literal name`);
          this.front.onSetAttr?.(obj, args[0], args[1], callAt);
          obj.attrs.set(args[0], args[1]);
          return null;
        });
      for (const b of obj.cls.bases) {
        const nb = isNative(b) ? b : null;
        const inherited = nb?.attr?.(`instance.${name}`, at);
        if (inherited !== undefined) return inherited;
      }
      throw this.error(at, `${obj.cls.name} has no attribute '${name}' (set it in __init__ before it is used)`);
    }
    if (isClass(obj)) {
      const v = classAttr(obj, name);
      if (v !== undefined) return v;
      throw this.error(at, `class ${obj.name} has no attribute '${name}'`);
    }
    if (isNative(obj)) {
      const v = obj.attr?.(name, at);
      if (v !== undefined) return v;
      throw this.unsupported(at, `${obj.describe}.${name}`, 'use the layers and operations listed in the README’s Python section');
    }
    if (isList(obj) && (name === 'append' || name === 'extend' || name === 'insert' || name === 'pop')) return listMethod(this, obj.items, name);
    if (isDict(obj) && (name === 'items' || name === 'keys' || name === 'values' || name === 'get')) return dictMethod(this, obj, name);
    if (typeof obj === 'string' && (name === 'format' || name === 'lower' || name === 'upper' || name === 'startswith' || name === 'split')) return stringMethod(this, obj, name);
    throw this.unsupported(at, `the attribute .${name} of ${typeName(obj)}`, 'use plain values here');
  }

  private callExpr(n: SyntaxNode, scope: Scope): Py {
    const fnNode = n.childForFieldName('function')!;
    const argsNode = n.childForFieldName('arguments')!;
    const fn = this.eval(fnNode, scope);
    const args: Py[] = [];
    const kwargs: Kwargs = new Map();
    if (argsNode.type === 'generator_expression') args.push({ k: 'list', items: this.comprehension(argsNode, scope) });
    else
      for (const a of argsNode.namedChildren) {
        if (!a || a.type === 'comment') continue;
        if (a.type === 'keyword_argument') kwargs.set(a.childForFieldName('name')!.text, this.eval(a.childForFieldName('value')!, scope));
        else if (a.type === 'list_splat') args.push(...this.iterate(this.eval(a.namedChildren[0]!, scope), a));
        else if (a.type === 'dictionary_splat') {
          const d = this.eval(a.namedChildren[0]!, scope);
          if (!isDict(d)) throw this.error(a, `** needs a dict, got ${typeName(d)}`);
          d.keys.forEach((k, i) => kwargs.set(String(k), d.values[i]));
        } else args.push(this.eval(a, scope));
      }
    return this.call(fn, args, kwargs, n);
  }

  call(fn: Py, args: Py[], kwargs: Kwargs, at: SyntaxNode): Py {
    if (isFunc(fn)) return this.callFunction(fn, args, kwargs, at);
    if (isClass(fn)) return this.instantiate(fn, args, kwargs, at);
    if (isNative(fn) && fn.call) return fn.call(args, kwargs, at);
    if (isObj(fn) && this.front.callObject) return this.front.callObject(fn, args, kwargs, at);
    throw this.unsupported(at, `calling ${typeName(fn)}`, 'call the file’s functions, classes and the framework’s layers');
  }

  instantiate(cls: PyClass, args: Py[], kwargs: Kwargs, at: SyntaxNode): PyObj {
    const obj: PyObj = { k: 'obj', cls, attrs: new Map(), meta: {} };
    this.front.onNewObject?.(obj, at);
    const init = classAttr(cls, '__init__');
    if (isFunc(init)) this.callFunction({ ...init, self: obj }, args, kwargs, at);
    return obj;
  }

  callFunction(fn: PyFunc, args: Py[], kwargs: Kwargs, at: SyntaxNode): Py {
    if (++this.depth > 200) throw this.error(at, 'the model code recurses too deeply; simplify it');
    try {
      const local: Scope = { vars: new Map(), parent: fn.scope };
      if (fn.owner) (local as Scope & { owner?: PyClass; self?: PyObj }).owner = fn.owner;
      if (fn.self) (local as Scope & { owner?: PyClass; self?: PyObj }).self = fn.self;
      const params = fn.node.childForFieldName('parameters');
      const all = fn.self ? [fn.self as Py, ...args] : args.slice();
      this.bindParams(params, all, new Map(kwargs), local, fn, at);
      if (fn.node.type === 'lambda') return this.eval(fn.node.childForFieldName('body')!, local);
      try {
        this.execBlock(fn.node.childForFieldName('body')!, local);
      } catch (e) {
        if (e instanceof ReturnSignal) return e.value;
        throw e;
      }
      return null;
    } finally {
      this.depth--;
    }
  }

  private bindParams(params: SyntaxNode | null, args: Py[], kwargs: Kwargs, local: Scope, fn: PyFunc, at: SyntaxNode): void {
    let i = 0;
    let kwOnly = false;
    for (const p of params?.namedChildren ?? []) {
      if (!p || p.type === 'comment') continue;
      switch (p.type) {
        case 'identifier':
        case 'typed_parameter':
        case 'default_parameter':
        case 'typed_default_parameter': {
          const nameNode = p.type === 'identifier' ? p : p.type === 'typed_parameter' ? p.namedChildren[0]! : p.childForFieldName('name')!;
          const name = nameNode.text;
          if (!kwOnly && i < args.length) local.vars.set(name, args[i++]);
          else if (kwargs.has(name)) {
            local.vars.set(name, kwargs.get(name)!);
            kwargs.delete(name);
          } else if (p.type === 'default_parameter' || p.type === 'typed_default_parameter') local.vars.set(name, this.eval(p.childForFieldName('value')!, fn.scope));
          else throw this.error(at, `${fn.owner && fn.name === '__init__' ? fn.owner.name : fn.name}() needs the argument '${name}'; pass it`);
          break;
        }
        case 'list_splat_pattern':
          local.vars.set(p.namedChildren[0]!.text, { k: 'tuple', items: args.slice(i) });
          i = args.length;
          kwOnly = true;
          break;
        case 'dictionary_splat_pattern': {
          const d: Py = { k: 'dict', keys: [...kwargs.keys()], values: [...kwargs.values()] };
          local.vars.set(p.namedChildren[0]!.text, d);
          kwargs.clear();
          break;
        }
        case 'keyword_separator':
          kwOnly = true;
          break;
        case 'positional_separator':
          break;
        default:
          throw this.unsupported(p, `the parameter form ${p.text}`, 'use plain and default parameters');
      }
    }
    if (i < args.length) throw this.error(at, `${fn.name}() takes ${i} positional arguments but ${args.length} were given`);
    if (kwargs.size) throw this.error(at, `${fn.name}() got an unexpected keyword argument '${[...kwargs.keys()][0]}'`);
  }

  binop(op: string, a: Py, b: Py, at: SyntaxNode): Py {
    if (isNative(a) && a.binop) {
      const r = a.binop(op, b, false, at);
      if (r !== undefined) return r;
    }
    if (isNative(b) && b.binop) {
      const r = b.binop(op, a, true, at);
      if (r !== undefined) return r;
    }
    const num = (v: Py) => typeof v === 'number' || typeof v === 'boolean';
    if (num(a) && num(b)) {
      const x = Number(a);
      const y = Number(b);
      switch (op) {
        case '+':
          return x + y;
        case '-':
          return x - y;
        case '*':
          return x * y;
        case '/':
          return x / y;
        case '//':
          return Math.floor(x / y);
        case '%':
          return ((x % y) + y) % y;
        case '**':
          return x ** y;
        case '<<':
          return x << y;
        case '>>':
          return x >> y;
        case '&':
          return x & y;
        case '|':
          return x | y;
      }
    }
    if (op === '+' && typeof a === 'string' && typeof b === 'string') return a + b;
    if (op === '+' && isSeq(a) && isSeq(b) && a.k === b.k) return { k: a.k, items: [...a.items, ...b.items] };
    if (op === '*' && isSeq(a) && typeof b === 'number') return { k: a.k, items: Array.from({ length: Math.max(0, b) }, () => a.items).flat() };
    if (op === '*' && isSeq(b) && typeof a === 'number') return { k: b.k, items: Array.from({ length: Math.max(0, a) }, () => b.items).flat() };
    if (op === '%' && typeof a === 'string') return a.replace(/%[sd]/, typeof b === 'string' ? b : repr(b));
    throw this.unsupported(at, `${typeName(a)} ${op} ${typeName(b)}`, 'use arithmetic on numbers, + on lists and tensors');
  }

  private compare(n: SyntaxNode, scope: Scope): boolean {
    const operands = n.namedChildren.filter((c): c is SyntaxNode => !!c && c.type !== 'comment');
    const ops = n.children.filter((c) => c && !c.isNamed).map((c) => c!.text);
    // `not in` / `is not` arrive as two tokens.
    const merged: string[] = [];
    for (let i = 0; i < ops.length; i++) {
      if ((ops[i] === 'not' && ops[i + 1] === 'in') || (ops[i] === 'is' && ops[i + 1] === 'not')) {
        merged.push(`${ops[i]} ${ops[i + 1]}`);
        i++;
      } else merged.push(ops[i]);
    }
    let left = this.eval(operands[0], scope);
    for (let i = 0; i < merged.length; i++) {
      const right = this.eval(operands[i + 1], scope);
      if (!compareOp(this, merged[i], left, right, n)) return false;
      left = right;
    }
    return true;
  }
}

export function truthy(v: Py): boolean {
  if (v === null || v === false || v === 0 || v === '') return false;
  if (isSeq(v)) return v.items.length > 0;
  if (isDict(v)) return v.keys.length > 0;
  return true;
}

export function pyEqual(a: Py, b: Py): boolean {
  if (isSeq(a) && isSeq(b)) return a.items.length === b.items.length && a.items.every((x, i) => pyEqual(x, b.items[i]));
  if (typeof a === 'boolean' || typeof b === 'boolean') return Number(a) === Number(b);
  return a === b;
}

function compareOp(it: Interpreter, op: string, a: Py, b: Py, at: SyntaxNode): boolean {
  switch (op) {
    case '==':
      return pyEqual(a, b);
    case '!=':
      return !pyEqual(a, b);
    case 'is':
      return a === b || (a === null && b === null);
    case 'is not':
      return !(a === b || (a === null && b === null));
    case 'in':
    case 'not in': {
      let has: boolean;
      if (typeof b === 'string' && typeof a === 'string') has = b.includes(a);
      else if (isSeq(b)) has = b.items.some((x) => pyEqual(x, a));
      else if (isDict(b)) has = b.keys.some((x) => pyEqual(x, a));
      else throw it.unsupported(at, `'in' on ${typeName(b)}`, 'test membership in lists, tuples, dicts and strings');
      return op === 'in' ? has : !has;
    }
  }
  const ok = (typeof a === 'number' && typeof b === 'number') || (typeof a === 'string' && typeof b === 'string');
  if (!ok) throw it.unsupported(at, `comparing ${typeName(a)} ${op} ${typeName(b)}`, 'compare numbers or strings');
  const x = a as number;
  const y = b as number;
  return op === '<' ? x < y : op === '<=' ? x <= y : op === '>' ? x > y : x >= y;
}

function pySlice<T>(items: T[], start: number | null, stop: number | null, step: number | null): T[] {
  const n = items.length;
  const s = step ?? 1;
  const norm = (v: number | null, d: number) => (v === null ? d : v < 0 ? Math.max(n + v, s < 0 ? -1 : 0) : Math.min(v, s < 0 ? n - 1 : n));
  const out: T[] = [];
  if (s > 0) for (let i = norm(start, 0); i < norm(stop, n); i += s) out.push(items[i]);
  else for (let i = norm(start, n - 1); i > norm(stop, -1); i += s) out.push(items[i]);
  return out;
}

/** Names a top-level statement assigns (what a failure poisons). */
function assignedNames(stmt: SyntaxNode): string[] {
  const out: string[] = [];
  const targets = (t: SyntaxNode | null) => {
    if (!t) return;
    if (t.type === 'identifier') out.push(t.text);
    else if (t.type === 'attribute' || t.type === 'subscript') targets(t.childForFieldName('object') ?? t.childForFieldName('value'));
    else for (const c of t.namedChildren) targets(c);
  };
  const walk = (n: SyntaxNode) => {
    if (n.type === 'assignment' || n.type === 'augmented_assignment') {
      targets(n.childForFieldName('left'));
      const r = n.childForFieldName('right');
      if (r && r.type === 'assignment') walk(r);
    } else if (n.type === 'expression_statement') {
      for (const c of n.namedChildren) if (c) walk(c);
    } else if (n.type === 'call') {
      // model.add(...) failing poisons `model`; model.fit(...) failing (data the reader does not have) does not.
      const f = n.childForFieldName('function');
      if (f?.type === 'attribute' && /^(add|append|extend|insert|add_module)$/.test(f.childForFieldName('attribute')!.text)) targets(f.childForFieldName('object'));
    } else if (n.type === 'for_statement' || n.type === 'if_statement' || n.type === 'with_statement' || n.type === 'block' || n.type === 'else_clause' || n.type === 'elif_clause') {
      for (const c of n.namedChildren) if (c) walk(c);
    } else if (n.type === 'class_definition' || n.type === 'function_definition') {
      out.push(n.childForFieldName('name')!.text);
    } else if (n.type === 'import_statement' || n.type === 'import_from_statement') {
      for (const c of n.namedChildren) if (c && c.type !== 'dotted_name') out.push(c.text.split(' as ').pop()!.trim());
    }
  };
  walk(stmt);
  return out;
}

/** A module the front ends do not know (numpy, torchvision, argparse, …): fine until it is used. */
export function opaqueModule(it: Interpreter, path: string): Native {
  return {
    k: 'native',
    describe: path,
    attr: (name) => opaqueModule(it, `${path}.${name}`),
    call: (_a, _k, at) => {
      throw it.unsupported(at, `${path}(...)`, 'build the model from torch.nn / keras layers and the file’s own classes and functions (or export it to ONNX)');
    },
  };
}

function native(describe: string, call: Native['call']): Native {
  return { k: 'native', describe, call };
}

function intArg(it: Interpreter, v: Py, at: SyntaxNode, what: string): number {
  if (typeof v === 'boolean') return Number(v);
  if (typeof v !== 'number' || !Number.isInteger(v)) throw it.error(at, `${what} needs an integer, got ${repr(v)}`);
  return v;
}

function listMethod(it: Interpreter, items: Py[], name: string): Native {
  return native(`list.${name}`, (args, _kw, at) => {
    if (name === 'append') items.push(args[0]);
    else if (name === 'extend') items.push(...it.iterate(args[0], at));
    else if (name === 'insert') items.splice(intArg(it, args[0], at, 'insert'), 0, args[1]);
    else return items.pop() ?? null;
    return null;
  });
}

function dictMethod(it: Interpreter, d: { keys: Py[]; values: Py[] }, name: string): Native {
  return native(`dict.${name}`, (args) => {
    if (name === 'keys') return { k: 'list', items: d.keys.slice() };
    if (name === 'values') return { k: 'list', items: d.values.slice() };
    if (name === 'get') {
      const i = d.keys.findIndex((k) => pyEqual(k, args[0]));
      return i >= 0 ? d.values[i] : (args[1] ?? null);
    }
    void it;
    return { k: 'list', items: d.keys.map((k, i) => ({ k: 'tuple', items: [k, d.values[i]] })) };
  });
}

function stringMethod(it: Interpreter, s: string, name: string): Native {
  return native(`str.${name}`, (args) => {
    if (name === 'lower') return s.toLowerCase();
    if (name === 'upper') return s.toUpperCase();
    if (name === 'startswith') return typeof args[0] === 'string' && s.startsWith(args[0]);
    if (name === 'split') return { k: 'list', items: s.split(typeof args[0] === 'string' ? args[0] : /\s+/).filter((x) => x !== '') };
    let i = 0;
    void it;
    return s.replace(/\{(\d*)\}/g, (_m, k: string) => {
      const v = args[k === '' ? i++ : Number(k)];
      return typeof v === 'string' ? v : repr(v ?? null);
    });
  });
}

function builtins(it: Interpreter): Record<string, Py> {
  const num = (v: Py, at: SyntaxNode, what: string) => {
    if (typeof v === 'number' || typeof v === 'boolean') return Number(v);
    if (isNative(v) && v.binop) {
      const r = v.binop('__int__', null, false, at);
      if (typeof r === 'number') return r;
    }
    throw it.error(at, `${what} needs a number, got ${typeName(v)}`);
  };
  return {
    range: native('range', (args, _kw, at) => {
      const a = args.map((v) => intArg(it, v, at, 'range'));
      const [start, stop, step] = a.length === 1 ? [0, a[0], 1] : [a[0], a[1], a[2] ?? 1];
      if (step === 0) throw it.error(at, 'range() step must not be zero');
      const items: Py[] = [];
      for (let i = start; step > 0 ? i < stop : i > stop; i += step) {
        items.push(i);
        if (items.length > 100000) throw it.error(at, 'range() too long for a model definition');
      }
      return { k: 'list', items };
    }),
    len: native('len', (args, _kw, at) => {
      const v = args[0];
      if (isSeq(v)) return v.items.length;
      if (typeof v === 'string') return v.length;
      if (isDict(v)) return v.keys.length;
      if (isNative(v) && v.len) return v.len(at);
      throw it.unsupported(at, `len() of ${typeName(v)}`, 'take len() of lists, tuples, dicts or strings');
    }),
    int: native('int', (args, _kw, at) => {
      const v = args[0] ?? 0;
      if (typeof v === 'string') return parseInt(v, 10);
      return Math.trunc(num(v, at, 'int()'));
    }),
    float: native('float', (args, _kw, at) => (typeof args[0] === 'string' ? Number(args[0]) : num(args[0] ?? 0, at, 'float()'))),
    bool: native('bool', (args) => truthy(args[0] ?? false)),
    str: native('str', (args) => (typeof args[0] === 'string' ? args[0] : repr(args[0] ?? ''))),
    abs: native('abs', (args, _kw, at) => Math.abs(num(args[0], at, 'abs()'))),
    round: native('round', (args, _kw, at) => {
      const x = num(args[0], at, 'round()');
      const d = args[1] === undefined || args[1] === null ? 0 : num(args[1], at, 'round()');
      const f = 10 ** d;
      const y = x * f;
      // Python rounds half to even.
      const r = Math.abs(y % 1) === 0.5 ? 2 * Math.round(y / 2) : Math.round(y);
      return r / f;
    }),
    min: native('min', (args, _kw, at) => Math.min(...(args.length === 1 ? it.iterate(args[0], at) : args).map((v) => num(v, at, 'min()')))),
    max: native('max', (args, _kw, at) => Math.max(...(args.length === 1 ? it.iterate(args[0], at) : args).map((v) => num(v, at, 'max()')))),
    sum: native('sum', (args, _kw, at) => it.iterate(args[0], at).reduce<number>((a, v) => a + num(v, at, 'sum()'), 0)),
    list: native('list', (args, _kw, at) => ({ k: 'list', items: args.length ? it.iterate(args[0], at) : [] })),
    tuple: native('tuple', (args, _kw, at) => ({ k: 'tuple', items: args.length ? it.iterate(args[0], at) : [] })),
    dict: native('dict', (args, kw, at) => {
      const d: Py = { k: 'dict', keys: [], values: [] };
      if (args.length)
        for (const p of it.iterate(args[0], at)) {
          const [k, v] = it.iterate(p, at);
          d.keys.push(k);
          d.values.push(v);
        }
      for (const [k, v] of kw) {
        d.keys.push(k);
        d.values.push(v);
      }
      return d;
    }),
    enumerate: native('enumerate', (args, kw, at) => {
      const start = Number(args[1] ?? kw.get('start') ?? 0);
      return { k: 'list', items: it.iterate(args[0], at).map((v, i) => ({ k: 'tuple', items: [i + start, v] })) };
    }),
    zip: native('zip', (args, _kw, at) => {
      const lists = args.map((a) => it.iterate(a, at));
      const n = Math.min(...lists.map((l) => l.length));
      return { k: 'list', items: Array.from({ length: n }, (_, i) => ({ k: 'tuple', items: lists.map((l) => l[i]) })) };
    }),
    reversed: native('reversed', (args, _kw, at) => ({ k: 'list', items: it.iterate(args[0], at).reverse() })),
    sorted: native('sorted', (args, _kw, at) => ({
      k: 'list',
      items: it
        .iterate(args[0], at)
        .slice()
        .sort((a, b) => (Number(a) < Number(b) ? -1 : 1)),
    })),
    isinstance: native('isinstance', (args) => {
      const [v, t] = args;
      const types = isSeq(t) ? t.items : [t];
      return types.some(
        (ty) =>
          (isClass(ty) && isObj(v) && (v.cls === ty || v.cls.bases.includes(ty))) ||
          (isNative(ty) && ty.describe === 'int' && typeof v === 'number') ||
          (isNative(ty) && ty.describe === 'list' && isList(v)) ||
          (isNative(ty) && ty.describe === 'tuple' && isTuple(v)) ||
          (isNative(ty) && ty.describe === 'str' && typeof v === 'string'),
      );
    }),
    print: native('print', () => null),
    super: native('super', (args, _kw, at) => {
      void args;
      // super().__init__(...) and super().forward are what model classes use; the framework base does nothing we model.
      return {
        k: 'native',
        describe: 'super()',
        attr: (name) =>
          name === '__init__'
            ? native('super().__init__', () => null)
            : (() => {
                throw it.unsupported(at, `super().${name}`, 'call only super().__init__() in a model class');
              })(),
      };
    }),
    getattr: native('getattr', (args, _kw, at) => {
      if (typeof args[1] !== 'string') throw it.error(at, 'getattr() needs a literal attribute name');
      return it.getattr(args[0], args[1], at);
    }),
    setattr: native('setattr', (args, _kw, at) => {
      if (typeof args[1] !== 'string' || !isObj(args[0])) throw it.error(at, 'setattr() needs self and a name');
      it.front.onSetAttr?.(args[0], args[1], args[2], at);
      args[0].attrs.set(args[1], args[2]);
      return null;
    }),
    hasattr: native('hasattr', (args) => (isObj(args[0]) && typeof args[1] === 'string' ? args[0].attrs.has(args[1]) || classAttr(args[0].cls, args[1]) !== undefined : false)),
    ValueError: native('ValueError', () => null),
    NotImplementedError: native('NotImplementedError', () => null),
  };
}
