// Everything the editor features need to know about a network file's text, computed once per document
// version: is it a network, where are its layers, what does the engine's parser say (shapes, parameter
// counts, or the located error). Pure: no `vscode`, no tfjs.
import { isUserError } from '../engine/errors';
import { parseNetworkText } from '../engine/network/parse';
import { inferShapes, paramCount } from '../engine/network/shapes';
import type { LayerFacts } from './hoverContent';
import { analyzePythonText, pythonModelChoices } from './pythonDoc';
import { parseJsonTree } from '../engine/network/jsonTree';
import { layerRangesOfText, looksLikeNetworkText, nodeAt, type LayerRange } from './layerRanges';

export interface NetworkProblem {
  message: string;
  /** Offsets in the text of the range to underline. */
  start: number;
  end: number;
  /**
   * The text is not valid JSON. VS Code's own JSON support already underlines that place ("Expected
   * comma"), so it is not repeated in the Problems panel; Analyze still refuses with this message.
   */
  syntax?: boolean;
  /** The short form for a notification (no list of every supported layer type). */
  short?: string;
}

const UNSUPPORTED_LAYER = /^layer "((?:[^"\\]|\\.)*)" has type (\S+), which BatchNorm Lens does not support/;

/** Where the README lists what is supported, for messages that would otherwise list it inline. */
export const SUPPORTED_LAYERS_HELP = 'see "Network files" in the README for the supported layers';

/**
 * The problem as the editor shows it: an unsupported layer is underlined at its class name (the engine
 * locates the layer by its name), and gets a short form without the list of supported types.
 */
export function placeProblem(message: string, offset: number, text: string, layers: readonly LayerRange[]): NetworkProblem {
  if (/^malformed JSON/i.test(message)) return { message, ...problemRange(text, offset), syntax: true };
  const m = UNSUPPORTED_LAYER.exec(message);
  if (m) {
    const layer = layers.find((l) => l.name === m[1] && l.className === m[2]) ?? layers.find((l) => l.className === m[2]);
    const short = `${m[0]}; ${SUPPORTED_LAYERS_HELP}.`;
    if (layer) return { message, start: layer.classStart, end: layer.classEnd, short };
    return { message, ...problemRange(text, offset), short };
  }
  return { message, ...problemRange(text, offset) };
}

export interface NetworkDocInfo {
  /** The text looks like a tfjs model.json or a Keras topology. */
  isNetwork: boolean;
  layers: LayerRange[];
  /** By layer name: class, output shape (batch dim first) and parameter count, as far as they are known. */
  facts: Map<string, LayerFacts>;
  /** The network's input shape without the batch dimension, when the parse succeeded. */
  inputShape: number[] | null;
  problem: NetworkProblem | null;
}

/** 1-based line/column → offset (clamped to the text). */
export function lineColumnToOffset(text: string, line: number, column: number): number {
  let off = 0;
  for (let l = 1; l < line; l++) {
    const nl = text.indexOf('\n', off);
    if (nl < 0) return text.length;
    off = nl + 1;
  }
  const eol = text.indexOf('\n', off);
  const lineEnd = eol < 0 ? text.length : eol;
  return Math.min(off + Math.max(column - 1, 0), lineEnd);
}

/**
 * The range to underline for an error at `offset`: the JSON value (string, number, literal) or property
 * key there when the text is valid JSON, else the token at the offset, else one character.
 */
export function problemRange(text: string, offset: number): { start: number; end: number } {
  const { root, errors } = parseJsonTree(text);
  if (root && errors.length === 0) {
    const n = nodeAt(root, offset);
    if (n.kind !== 'object' && n.kind !== 'array' && n.start === offset) return { start: n.start, end: n.end };
    if (n.kind === 'object') {
      const p = n.props.find((q) => offset >= q.keyStart && offset < q.keyEnd);
      if (p) return { start: p.keyStart, end: p.keyEnd };
    }
    if (n.kind !== 'object' && n.kind !== 'array') return { start: n.start, end: n.end };
  }
  // not valid JSON: a token range
  const m = /^("(?:[^"\\\n]|\\.)*"?|[\w.+-]+)/.exec(text.slice(offset, offset + 200));
  const len = m ? m[0].length : 1;
  return { start: offset, end: Math.min(offset + Math.max(len, 1), Math.max(text.length, offset + 1)) };
}

function facts(layers: LayerRange[]): Map<string, LayerFacts> {
  const m = new Map<string, LayerFacts>();
  for (const l of layers) if (!m.has(l.name)) m.set(l.name, { name: l.name, className: l.className, outputShape: null, params: null });
  return m;
}

export function analyzeNetworkText(text: string, file: string): NetworkDocInfo {
  if (/\.py$/i.test(file)) return analyzePythonText(text, file, pythonModelChoices.get(file));
  if (!looksLikeNetworkText(text)) {
    return { isNetwork: false, layers: [], facts: new Map(), inputShape: null, problem: null };
  }
  const layers = layerRangesOfText(text);
  const info: NetworkDocInfo = { isNetwork: true, layers, facts: facts(layers), inputShape: null, problem: null };
  try {
    const { spec } = parseNetworkText(text, file);
    const input = spec.layers.find((l) => l.kind === 'input');
    if (input?.kind === 'input') info.inputShape = input.shape.slice();
    // Class names as the parser read them (Keras 3 module prefixes removed etc.) for layers found in the text.
    for (const l of spec.layers) {
      const f = info.facts.get(l.name);
      if (f) f.className = l.className || f.className;
    }
    const shapes = inferShapes(spec.layers, file, text);
    for (const l of spec.layers) {
      const f = info.facts.get(l.name);
      const s = shapes.shapes.get(l.name);
      if (f) {
        f.outputShape = s ? [null, ...s] : null;
        f.params = paramCount(shapes, l.name);
      }
    }
  } catch (e) {
    if (isUserError(e)) {
      const at = e.line !== undefined ? lineColumnToOffset(text, e.line, e.column ?? 1) : 0;
      info.problem = placeProblem(e.message, at, text, layers);
    } else {
      info.problem = { message: `BatchNorm Lens could not read this network: ${(e as Error)?.message ?? e}`, start: 0, end: Math.min(1, text.length) };
    }
  }
  return info;
}
