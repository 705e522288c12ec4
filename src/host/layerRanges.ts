// Where each layer of a network file is written: a small JSON parser that keeps source offsets, and a walk
// that finds the layers' objects and their "name" strings. Pure (no `vscode`), so hover, code lens and
// diagnostics share it and unit tests cover it. Offsets are UTF-16 code-unit offsets, the same unit as
// `TextDocument.positionAt`.

export type JsonNode =
  | { kind: 'object'; start: number; end: number; props: JsonProp[] }
  | { kind: 'array'; start: number; end: number; items: JsonNode[] }
  | { kind: 'string'; start: number; end: number; value: string }
  | { kind: 'number'; start: number; end: number; value: number }
  | { kind: 'literal'; start: number; end: number; value: boolean | null };

export interface JsonProp {
  key: string;
  keyStart: number;
  keyEnd: number;
  value: JsonNode;
}

export class JsonSyntaxError extends Error {
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(message);
    this.name = 'JsonSyntaxError';
  }
}

/** Parses strict JSON (plus // and /* comments, which VS Code's jsonc allows), keeping offsets. */
export function parseJsonWithOffsets(text: string): JsonNode {
  let i = 0;
  const n = text.length;

  const fail = (msg: string, at = i): never => {
    throw new JsonSyntaxError(msg, Math.min(at, n));
  };
  const skip = () => {
    for (;;) {
      while (i < n) {
        const c = text.charCodeAt(i);
        if (c === 32 || c === 9 || c === 10 || c === 13 || c === 0xfeff) i++;
        else break;
      }
      if (text.startsWith('//', i)) {
        const e = text.indexOf('\n', i);
        i = e < 0 ? n : e + 1;
      } else if (text.startsWith('/*', i)) {
        const e = text.indexOf('*/', i + 2);
        if (e < 0) fail('unterminated comment');
        i = e + 2;
      } else return;
    }
  };
  const str = (): { value: string; start: number; end: number } => {
    const start = i;
    i++; // opening quote
    let out = '';
    let runStart = i;
    for (;;) {
      if (i >= n) fail('unterminated string', start);
      const c = text.charCodeAt(i);
      if (c === 34) {
        out += text.slice(runStart, i);
        i++;
        return { value: out, start, end: i };
      }
      if (c === 92) {
        out += text.slice(runStart, i);
        const e = text[i + 1];
        const simple: Record<string, string> = { '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };
        if (e !== undefined && e in simple) {
          out += simple[e];
          i += 2;
        } else if (e === 'u' && /^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) {
          out += String.fromCharCode(parseInt(text.slice(i + 2, i + 6), 16));
          i += 6;
        } else fail('invalid escape in string');
        runStart = i;
        continue;
      }
      if (c < 32) fail('control character in string');
      i++;
    }
  };
  const value = (depth: number): JsonNode => {
    if (depth > 512) fail('nesting too deep');
    skip();
    if (i >= n) fail('unexpected end of file');
    const c = text[i];
    const start = i;
    if (c === '{') {
      i++;
      const props: JsonProp[] = [];
      skip();
      if (text[i] === '}') {
        i++;
        return { kind: 'object', start, end: i, props };
      }
      for (;;) {
        skip();
        if (text[i] !== '"') fail('expected a property name in double quotes');
        const k = str();
        skip();
        if (text[i] !== ':') fail("expected ':' after property name");
        i++;
        const v = value(depth + 1);
        props.push({ key: k.value, keyStart: k.start, keyEnd: k.end, value: v });
        skip();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === '}') {
          i++;
          return { kind: 'object', start, end: i, props };
        }
        fail("expected ',' or '}'");
      }
    }
    if (c === '[') {
      i++;
      const items: JsonNode[] = [];
      skip();
      if (text[i] === ']') {
        i++;
        return { kind: 'array', start, end: i, items };
      }
      for (;;) {
        items.push(value(depth + 1));
        skip();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === ']') {
          i++;
          return { kind: 'array', start, end: i, items };
        }
        fail("expected ',' or ']'");
      }
    }
    if (c === '"') {
      const s = str();
      return { kind: 'string', start: s.start, end: s.end, value: s.value };
    }
    const m = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/.exec(text.slice(i, i + 64));
    if (m) {
      i += m[0].length;
      return { kind: 'number', start, end: i, value: Number(m[0]) };
    }
    for (const [word, v] of [
      ['true', true],
      ['false', false],
      ['null', null],
    ] as const) {
      if (text.startsWith(word, i)) {
        i += word.length;
        return { kind: 'literal', start, end: i, value: v };
      }
    }
    // NaN / Infinity appear in files written by Python's json module; accept them as numbers.
    for (const [word, v] of [
      ['NaN', NaN],
      ['Infinity', Infinity],
      ['-Infinity', -Infinity],
    ] as const) {
      if (text.startsWith(word, i)) {
        i += word.length;
        return { kind: 'number', start, end: i, value: v };
      }
    }
    return fail(`unexpected character '${c}'`);
  };

  const root = value(0);
  skip();
  if (i < n) fail('unexpected content after the end of the JSON value');
  return root;
}

export function prop(node: JsonNode | undefined, key: string): JsonNode | undefined {
  if (!node || node.kind !== 'object') return undefined;
  for (let k = node.props.length - 1; k >= 0; k--) if (node.props[k].key === key) return node.props[k].value;
  return undefined;
}

function strValue(node: JsonNode | undefined): string | undefined {
  return node?.kind === 'string' ? node.value : undefined;
}

/** One layer as written in the file. */
export interface LayerRange {
  name: string;
  className: string;
  /** The layer's JSON object. */
  start: number;
  end: number;
  /** The "name" string (quotes included) or, if absent, the "class_name" string. */
  nameStart: number;
  nameEnd: number;
  /** Nesting depth: a layer inside a nested model has depth 1, and so on. */
  depth: number;
}

/**
 * Finds every layer object: an object inside a "layers" array with a string "class_name" (Keras 2/3, tfjs
 * model.json) or "className" and a name in "config.name" or "name". Works for Sequential and functional
 * models, for topologies nested under "modelTopology" / "model_config", and for nested models.
 */
export function findLayerRanges(root: JsonNode): LayerRange[] {
  const out: LayerRange[] = [];
  const visit = (node: JsonNode, inLayers: boolean, depth: number) => {
    if (node.kind === 'array') {
      for (const it of node.items) visit(it, inLayers, depth);
      return;
    }
    if (node.kind !== 'object') return;
    let childDepth = depth;
    if (inLayers) {
      const clsNode = prop(node, 'class_name') ?? prop(node, 'className');
      const cls = strValue(clsNode);
      if (cls !== undefined && clsNode) {
        const config = prop(node, 'config');
        const nameNode = [prop(config, 'name'), prop(node, 'name')].find((x) => x?.kind === 'string');
        const name = strValue(nameNode) ?? '';
        const at = nameNode ?? clsNode;
        out.push({ name, className: cls, start: node.start, end: node.end, nameStart: at.start, nameEnd: at.end, depth });
        childDepth = depth + 1;
      }
    }
    for (const p of node.props) visit(p.value, p.key === 'layers' && p.value.kind === 'array', childDepth);
  };
  visit(root, false, 0);
  return out;
}

/** Parses `text` and returns its layers, or [] if it is not valid JSON. */
export function layerRangesOfText(text: string): LayerRange[] {
  try {
    return findLayerRanges(parseJsonWithOffsets(text));
  } catch {
    return [];
  }
}

/** The innermost layer whose object contains `offset`, if any. */
export function layerAt(layers: readonly LayerRange[], offset: number): LayerRange | undefined {
  let best: LayerRange | undefined;
  for (const l of layers) {
    if (offset >= l.start && offset < l.end && (!best || l.end - l.start <= best.end - best.start)) best = l;
  }
  return best;
}

/** The node at `offset` (innermost), with its property key if it is a property value; for ranges of errors. */
export function nodeAt(root: JsonNode, offset: number): JsonNode {
  let cur = root;
  for (;;) {
    let next: JsonNode | undefined;
    if (cur.kind === 'object') next = cur.props.find((p) => offset >= p.keyStart && offset < p.value.end)?.value;
    else if (cur.kind === 'array') next = cur.items.find((it) => offset >= it.start && offset < it.end);
    if (!next || !(offset >= next.start && offset < next.end)) return cur;
    cur = next;
  }
}

/**
 * A cheap test run on every editor switch: does this JSON look like a tfjs model.json or a Keras model
 * topology? (Reads at most the first 2 MB; the command itself validates for real.)
 */
export function looksLikeNetworkText(text: string): boolean {
  const head = text.length > 2_000_000 ? text.slice(0, 2_000_000) : text;
  if (!/^\s*[{]/.test(head)) return false;
  if (/"modelTopology"\s*:/.test(head) && /"(class_name|className)"\s*:/.test(head)) return true;
  return /"(class_name|className)"\s*:\s*"[A-Za-z_.]*(Sequential|Functional|Model)"/.test(head) && /"layers"\s*:\s*\[/.test(head);
}
