// Where each layer of a network file is written: a walk over the fault-tolerant JSON tree (jsonc-parser, through
// src/engine/network/jsonTree.ts) that finds the layers' objects and their "name" strings, also while the file
// has a syntax error. Pure (no `vscode`), so hover, code lens and
// diagnostics share it and unit tests cover it. Offsets are UTF-16 code-unit offsets, the same unit as
// `TextDocument.positionAt`.

import { parseJsonTree, type JsonNode } from '../engine/network/jsonTree';

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
  /** The "class_name" (or "className") string, quotes included. */
  classStart: number;
  classEnd: number;
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
        out.push({ name, className: cls, start: node.start, end: node.end, nameStart: at.start, nameEnd: at.end, classStart: clsNode.start, classEnd: clsNode.end, depth });
        childDepth = depth + 1;
      }
    }
    for (const p of node.props) visit(p.value, p.key === 'layers' && p.value.kind === 'array', childDepth);
  };
  visit(root, false, 0);
  return out;
}

/** The layers of `text`, as far as they can be read (a syntax error elsewhere does not hide them). */
export function layerRangesOfText(text: string): LayerRange[] {
  const { root } = parseJsonTree(text);
  return root ? findLayerRanges(root) : [];
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
