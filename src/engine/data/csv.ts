// Reader for numeric CSV data: one example per row, features first, label (or targets) last.
// A first row with any non-numeric cell is taken as a header; after that every cell must be a number,
// and a cell that is not is reported with its line and column rather than read as NaN.

import { UserError } from '../errors';
import { readUserFile } from './files';

export interface CsvTable {
  /** Number of data rows. */
  rows: number;
  /** Cells per row. */
  cols: number;
  /** rows × cols values, row-major. */
  values: Float64Array;
  /** Column names when the file has a header row. */
  header?: string[];
  /** 1-based file line of each data row, so later checks can point at the line. */
  lines: Int32Array;
}

export function readCsv(path: string): CsvTable {
  const text = new TextDecoder('utf-8').decode(readUserFile(path));
  return parseCsv(text, path);
}

export function parseCsv(text: string, file: string): CsvTable {
  const src = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text; // a BOM from spreadsheet exports
  const lines = src.split(/\r?\n/);
  const values: number[] = [];
  const lineNos: number[] = [];
  let cols = -1;
  let header: string[] | undefined;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (line === '' || line.startsWith('#')) continue;
    const cells = line.split(',').map((c) => c.trim());
    if (cols < 0) {
      cols = cells.length;
      if (cells.some((c) => !isNumber(c))) {
        header = cells.map((c) => c.replace(/^"(.*)"$/, '$1'));
        continue;
      }
    }
    if (cells.length !== cols) {
      throw new UserError(`row has ${cells.length} columns but the first row has ${cols}; make every row the same width`, file, i + 1);
    }
    for (let j = 0; j < cells.length; j++) {
      const c = cells[j];
      if (!isNumber(c)) {
        const col = lines[i].split(',').slice(0, j).join(',').length + (j > 0 ? 2 : 1);
        throw new UserError(`cell ${j + 1} is '${c}', not a number; the CSV must be all numbers after an optional header row`, file, i + 1, col);
      }
      values.push(toNumber(c));
    }
    lineNos.push(i + 1);
  }
  const rows = lineNos.length;
  if (rows === 0) throw new UserError('no data rows (the file is empty or has only a header); add one example per row, label last', file);
  if (cols < 2) throw new UserError('each row has one column; put the features first and the label in the last column', file);
  return { rows, cols, values: Float64Array.from(values), header, lines: Int32Array.from(lineNos) };
}

function isNumber(cell: string): boolean {
  // Number('') is 0 and Number(' ') is 0: an empty cell is a missing value, not a zero.
  if (cell === '') return false;
  const v = Number(cell);
  if (!Number.isNaN(v)) return true;
  return /^[+-]?(nan|inf|infinity)$/i.test(cell);
}

/** Number() plus numpy's spellings of NaN and infinity, so that they are caught by the finiteness check. */
function toNumber(cell: string): number {
  const v = Number(cell);
  if (!Number.isNaN(v)) return v;
  if (/nan$/i.test(cell)) return NaN;
  return cell.startsWith('-') ? -Infinity : Infinity;
}
