// Reading a JSON file the user wrote (a network, a --config): JSON.parse for speed, and when it fails, the
// place and the kind of the first syntax error from jsonc-parser (jsonTree.ts), the same on every Node version.
import { UserError } from '../errors';
import { firstJsonError } from './jsonTree';

/** JSON.parse with the error turned into one line `file:line:col: malformed JSON: …`. */
export function parseJsonText(text: string, file: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    const located = firstJsonError(text);
    if (located) {
      const { line, column } = offsetToLineColumn(text, located.offset);
      throw new UserError(`malformed JSON: ${located.message}; fix the syntax at this place (is a comma or bracket missing?)`, file, line, column);
    }
    // jsonc-parser reads what JSON.parse rejects (e.g. a lone surrogate): keep V8's own words and place.
    const msg = (e as Error).message;
    const { line, column } = locateJsonError(text, msg);
    const what = msg
      .replace(/^JSON\.parse: /, '')
      .replace(/ in JSON at position \d+.*$/, '')
      .replace(/ \(line \d+ column \d+\)$/, '')
      .replace(/, "[\s\S]*" is not valid JSON$/, '')
      .replace(/\n/g, '\\n')
      .replace(/\r/g, '\\r')
      .replace(/\t/g, '\\t');
    throw new UserError(`malformed JSON: ${what}; fix the syntax at this place (is a comma or bracket missing?)`, file, line, column);
  }
}

/** V8's line/column or position in its JSON.parse message; the start of the text when it gives neither. */
function locateJsonError(text: string, message: string): { line: number; column: number } {
  const lc = /line (\d+) column (\d+)/.exec(message);
  if (lc) return { line: Number(lc[1]), column: Number(lc[2]) };
  const pos = /at position (\d+)/.exec(message);
  return offsetToLineColumn(text, pos ? Number(pos[1]) : 0);
}

export function offsetToLineColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: offset - lineStart + 1 };
}
