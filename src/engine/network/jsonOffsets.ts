// A small JSON parser that keeps source offsets (UTF-16 code units, the unit of VS Code's
// `TextDocument.positionAt`). The host uses it leniently (comments, NaN) to map layers to ranges while the
// user edits; the engine uses it strictly to find where a file that JSON.parse rejected goes wrong.
// No `vscode`, no tfjs.

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

export interface JsonParseOptions {
  /**
   * Strict JSON, as JSON.parse reads it. Otherwise also // and /* comments (VS Code's jsonc) and the
   * NaN / Infinity that Python's json module writes.
   */
  strict?: boolean;
}

/** Parses JSON keeping offsets; throws JsonSyntaxError at the first place it cannot read. */
export function parseJsonWithOffsets(text: string, opts: JsonParseOptions = {}): JsonNode {
  const strict = opts.strict ?? false;
  let i = 0;
  const n = text.length;

  const fail = (msg: string, at = i): never => {
    throw new JsonSyntaxError(msg, Math.min(at, n));
  };
  const skip = () => {
    for (;;) {
      while (i < n) {
        const c = text.charCodeAt(i);
        if (c === 32 || c === 9 || c === 10 || c === 13 || (c === 0xfeff && !strict)) i++;
        else break;
      }
      if (strict) return;
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
    for (const [word, v] of strict ? [] : [
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
