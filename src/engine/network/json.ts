import { UserError } from '../errors';
import { JsonSyntaxError, parseJsonWithOffsets } from './jsonOffsets';

/** JSON.parse with the error turned into `file:line:col: …` (V8 reports only an offset, or line/column in newer versions). */
export function parseJsonText(text: string, file: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
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

export function locateJsonError(text: string, message: string): { line: number; column: number } {
  const lc = /line (\d+) column (\d+)/.exec(message);
  if (lc) return { line: Number(lc[1]), column: Number(lc[2]) };
  const pos = /at position (\d+)/.exec(message);
  const offset = pos ? Number(pos[1]) : firstSyntaxErrorOffset(text);
  return offsetToLineColumn(text, offset);
}

/** Where a strict JSON reading first fails: V8 omits the position for some errors ("Unexpected token"). */
export function firstSyntaxErrorOffset(text: string): number {
  try {
    parseJsonWithOffsets(text, { strict: true });
  } catch (e) {
    if (e instanceof JsonSyntaxError) return e.offset;
    throw e;
  }
  return text.length;
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
