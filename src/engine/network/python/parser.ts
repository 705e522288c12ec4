// Python source → tree-sitter syntax tree, with the grammar's .wasm embedded in the package (no native
// build, no Python). Loading is asynchronous once per process (initPythonParser); parsing is then
// synchronous, so the readers stay plain functions like the JSON ones.

import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Language as LanguageT, Node, Parser as ParserT, Tree } from 'web-tree-sitter';
import { UserError } from '../../errors';
import type { SourceRange } from '../ir';

export type SyntaxNode = Node;

// Loaded through require so esbuild bundles the package's CommonJS build: its ES build needs import.meta.url,
// which a CommonJS bundle does not have.
const { Language, Parser } = require('web-tree-sitter') as { Language: typeof LanguageT; Parser: typeof ParserT };

let parser: ParserT | null = null;
let loading: Promise<void> | null = null;

/** Where a binary is: beside the bundle (dist/, copied by esbuild.mjs) or in its package (sources, tests). */
function findBinary(file: string, pkg: string): string {
  const candidates = [join(__dirname, file)];
  try {
    candidates.push(join(dirname(require.resolve(pkg)), file));
  } catch {
    // not resolvable from a bundle: the copy beside it is the one
  }
  for (const c of candidates) if (existsSync(c)) return c;
  throw new Error(`cannot find ${file} (looked in ${candidates.join(', ')}); rebuild with \`npm run build\``);
}

export function initPythonParser(): Promise<void> {
  loading ??= (async () => {
    const core = findBinary('tree-sitter.wasm', 'web-tree-sitter');
    await Parser.init({ locateFile: () => core });
    const lang = await Language.load(findBinary('tree-sitter-python.wasm', 'tree-sitter-python/package.json'));
    const p = new Parser();
    p.setLanguage(lang);
    parser = p;
  })();
  return loading;
}

export function pythonParserReady(): boolean {
  return parser !== null;
}

export function parsePython(text: string): Tree {
  if (!parser) throw new Error('the Python parser is not initialized: await initPythonParser() first');
  const tree = parser.parse(text);
  if (!tree) throw new Error('tree-sitter returned no tree');
  return tree;
}

/** 1-based line/column range of a node (tree-sitter's are 0-based; columns count UTF-8 bytes, close enough for ASCII code). */
export function rangeOf(n: SyntaxNode): SourceRange {
  return { line: n.startPosition.row + 1, column: n.startPosition.column + 1, endLine: n.endPosition.row + 1, endColumn: n.endPosition.column + 1 };
}

/** A UserError at an exact place in a Python file, for the CLI line and the editor's diagnostic range. */
export class PythonSourceError extends UserError {
  constructor(
    message: string,
    file: string,
    readonly range: SourceRange,
  ) {
    super(message, file, range.line, range.column);
  }
}

/** The first syntax error of a tree, as a PythonSourceError, or null. */
export function syntaxError(tree: Tree, file: string): PythonSourceError | null {
  if (!tree.rootNode.hasError) return null;
  const find = (n: SyntaxNode): SyntaxNode | null => {
    if (n.isError || n.isMissing) return n;
    for (const c of n.children) if (c && (c.hasError || c.isError || c.isMissing)) return find(c) ?? c;
    return null;
  };
  const bad = find(tree.rootNode) ?? tree.rootNode;
  const what = bad.isMissing ? `missing ${bad.type}` : `unexpected ${JSON.stringify(bad.text.slice(0, 20))}`;
  return new PythonSourceError(`Python syntax error (${what}); fix the syntax here`, file, rangeOf(bad));
}
