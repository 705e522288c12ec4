// JSON with source offsets, read by jsonc-parser (the parser VS Code itself uses), for the two places that
// need more than JSON.parse:
//   - the editor features (hover, code lens, diagnostics) map layers to ranges while the user types. The
//     reading is fault tolerant: a file with a missing comma still yields every layer, and comments and
//     trailing commas (VS Code's jsonc) are fine.
//   - error locations: when JSON.parse rejects a file, the first syntax error as JSON.parse sees it (no
//     comments, no trailing commas), with its offset and what is wrong.
// Offsets are UTF-16 code units, the unit of VS Code's `TextDocument.positionAt`. JSON.parse stays where only
// speed matters (reading a network or report). No `vscode`, no tfjs.

import { type Node, type ParseError, parseTree, printParseErrorCode } from 'jsonc-parser';

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

export interface JsonError {
  offset: number;
  length: number;
  /** What is wrong, in words: "a comma is expected". */
  message: string;
}

export interface JsonTree {
  /** What could be read; undefined only when nothing could. */
  root: JsonNode | undefined;
  /** Syntax errors in text order; the tree is complete when there are none. */
  errors: JsonError[];
}

/** The fault-tolerant reading of the editor: comments and trailing commas allowed, errors collected. */
export function parseJsonTree(text: string): JsonTree {
  const errors: ParseError[] = [];
  const root = parseTree(text, errors, { disallowComments: false, allowTrailingComma: true });
  return { root: root ? convert(root) : undefined, errors: errors.map(describe) };
}

/** The first place where strict JSON (as JSON.parse reads it) goes wrong, or null for valid JSON. */
export function firstJsonError(text: string): JsonError | null {
  const errors: ParseError[] = [];
  parseTree(text, errors, { disallowComments: true, allowTrailingComma: false });
  if (errors.length === 0) return null;
  return describe(errors.reduce((a, b) => (b.offset < a.offset ? b : a)));
}

const WORDS: Record<string, string> = {
  InvalidSymbol: 'an unexpected symbol',
  InvalidNumberFormat: 'a malformed number',
  PropertyNameExpected: 'a property name in double quotes is expected',
  ValueExpected: 'a value is expected',
  ColonExpected: 'a colon is expected',
  CommaExpected: 'a comma is expected',
  CloseBraceExpected: 'a closing brace } is expected',
  CloseBracketExpected: 'a closing bracket ] is expected',
  EndOfFileExpected: 'nothing more is expected after the value',
  InvalidCommentToken: 'a comment (JSON has none)',
  UnexpectedEndOfComment: 'an unterminated comment',
  UnexpectedEndOfString: 'an unterminated string',
  UnexpectedEndOfNumber: 'an unterminated number',
  InvalidUnicode: 'a malformed \\u escape',
  InvalidEscapeCharacter: 'a malformed escape',
  InvalidCharacter: 'a character not allowed in a string',
};

function describe(e: ParseError): JsonError {
  const code = printParseErrorCode(e.error);
  return { offset: e.offset, length: e.length, message: WORDS[code] ?? code };
}

function convert(n: Node): JsonNode {
  const start = n.offset;
  const end = n.offset + n.length;
  switch (n.type) {
    case 'object': {
      const props: JsonProp[] = [];
      for (const p of n.children ?? []) {
        const [k, v] = p.children ?? [];
        // A property cut short by a syntax error (no value yet) is left out.
        if (k?.type === 'string' && v) props.push({ key: k.value as string, keyStart: k.offset, keyEnd: k.offset + k.length, value: convert(v) });
      }
      return { kind: 'object', start, end, props };
    }
    case 'array':
      return { kind: 'array', start, end, items: (n.children ?? []).map(convert) };
    case 'string':
      return { kind: 'string', start, end, value: n.value as string };
    case 'number':
      return { kind: 'number', start, end, value: n.value as number };
    case 'boolean':
    case 'null':
      return { kind: 'literal', start, end, value: n.value as boolean | null };
    default:
      // 'property' nodes only occur as children of objects.
      return { kind: 'literal', start, end, value: null };
  }
}
