// What the editor features know about a Python network file (the counterpart of the JSON part of
// networkDoc.ts): is it a model file, where each layer is defined (the line of `self.fc1 = nn.Linear(...)`
// or of the functional call in forward), its shape and parameter count, and the reader's error with its
// exact range. Pure: no `vscode`; the grammar must have been loaded (initPythonParser) — until then a file
// counts as not (yet) a network.
import { isUserError } from '../engine/errors';
import { inspectLoaded } from '../engine/inspect';
import { inferShapes } from '../engine/network/shapes';
import { pythonParserReady, PythonSourceError } from '../engine/network/python/parser';
import { pythonFramework, readPythonNetwork } from '../engine/network/python/read';
import type { LayerFacts } from './hoverContent';
import type { LayerRange } from './layerRanges';
import { lineColumnToOffset, type NetworkDocInfo } from './networkDoc';

/** A cheap look at the text: imports a framework and defines or builds a model. */
export function looksLikePythonNetwork(text: string): boolean {
  return pythonFramework(text) !== null && /\bnn\.(Module|Sequential)\b|\bSequential\s*\(|\bkeras\.Model\b|\bModel\s*\(|\bkeras\.Input\b/.test(text);
}

export interface PythonDocInfo extends NetworkDocInfo {
  /** The file holds several models and none was chosen: the names to offer. */
  candidates: string[];
  needsChoice: boolean;
}

export function analyzePythonText(text: string, file: string, model?: string): PythonDocInfo {
  const empty = { layers: [], facts: new Map<string, LayerFacts>(), inputShape: null, problem: null, candidates: [], needsChoice: false };
  if (!looksLikePythonNetwork(text) || !pythonParserReady()) return { isNetwork: false, ...empty };
  try {
    const net = readPythonNetwork(text, file, { model });
    const spec = { ...net.spec, weights: null };
    const info = inferShapes(spec.layers, file);
    const facts = new Map<string, LayerFacts>();
    const rows = inspectLoaded({ spec, info, text, defaults: null, weightsFromFile: false });
    const layers: LayerRange[] = [];
    for (const l of spec.layers) {
      const row = rows.layers.find((r) => r.name === l.name)!;
      facts.set(l.name, { name: l.name, className: l.className, outputShape: [null, ...row.outputShape], params: row.params });
      if (!l.range || l.kind === 'input') continue;
      // The whole line from its first character is the layer's place (hover on `self.fc1 = ...`); the call is its name.
      const callStart = lineColumnToOffset(text, l.range.line, l.range.column);
      const callEnd = lineColumnToOffset(text, l.range.endLine, l.range.endColumn);
      const lineStart = lineColumnToOffset(text, l.range.line, 1);
      const indent = /^[ \t]*/.exec(text.slice(lineStart))![0].length;
      layers.push({
        name: l.name,
        className: l.className,
        start: lineStart + indent,
        end: Math.max(callEnd, lineStart + indent + 1),
        nameStart: callStart,
        nameEnd: callEnd,
        classStart: callStart,
        classEnd: callEnd,
        depth: 0,
      });
    }
    return { isNetwork: true, ...empty, layers, facts, candidates: net.candidates.map((c) => c.name) };
  } catch (e) {
    if (e instanceof PythonSourceError) {
      const r = e.range;
      return { isNetwork: true, ...empty, problem: { message: e.message, start: lineColumnToOffset(text, r.line, r.column), end: lineColumnToOffset(text, r.endLine, r.endColumn) } };
    }
    if (isUserError(e)) {
      // Several models and no choice: not a problem of the file; Analyze asks which one.
      const many = /this file defines \d+ models \(([^)]*)\)|^(\w+) needs constructor arguments/.exec(e.message);
      if (many && !model) {
        const names = many[1] ? many[1].split(', ').map((s) => s.replace(/\(…\)$/, '')) : [many[2]];
        return { isNetwork: true, ...empty, candidates: names, needsChoice: true };
      }
      const at = e.line !== undefined ? lineColumnToOffset(text, e.line, e.column ?? 1) : 0;
      const eol = text.indexOf('\n', at);
      return { isNetwork: true, ...empty, problem: { message: e.message, start: at, end: eol < 0 ? text.length : Math.max(eol, at + 1) } };
    }
    return { isNetwork: true, ...empty, problem: { message: `BatchNorm Lens could not read this network: ${(e as Error)?.message ?? e}`, start: 0, end: Math.min(1, text.length) } };
  }
}

/** The model chosen per file in the editor (remembered in the workspace state by the extension). */
export const pythonModelChoices = {
  store: null as { get<T>(key: string): T | undefined; update(key: string, value: unknown): Thenable<void> } | null,
  get(file: string): string | undefined {
    return this.store?.get<string>(`bnlens.pythonModel:${file}`);
  },
  set(file: string, model: string): void {
    void this.store?.update(`bnlens.pythonModel:${file}`, model);
  },
};
