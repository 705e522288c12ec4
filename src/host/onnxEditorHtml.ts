// What the read-only .onnx editor shows: the layers BatchNorm Lens made of the graph (name, op, ONNX node,
// output shape, trainable parameters), the file's notes, and after a run each layer's statistics per variant.
// A pure function of (model view, report), unit-tested without VS Code; onnxEditor.ts only hosts it.
import type { LayerStatRecord, Report } from '../protocol';
import type { OnnxNetwork } from '../engine/network/onnx/load';
import { fmt, fmtInt, variantLayerFor } from './hoverContent';

export interface OnnxLayerRow {
  name: string;
  opType: string;
  /** The ONNX node it came from (empty for the input). */
  node: string;
  /** Output shape with the batch as null, in the file's (ONNX) axis order. */
  outputShape: (number | null)[];
  /** Trainable parameters (PyTorch's count: weights, biases, BatchNorm γ and β). */
  params: number;
}

export interface OnnxModelView {
  file: string;
  producer: string;
  opset: number;
  layers: OnnxLayerRow[];
  totalParams: number;
  notes: string[];
}

export type OnnxEditorState = { kind: 'model'; model: OnnxModelView } | { kind: 'error'; file: string; message: string };

export function onnxModelView(net: OnnxNetwork): OnnxModelView {
  const params = new Map<string, number>();
  for (const p of net.info.params) params.set(p.layer, (params.get(p.layer) ?? 0) + p.shape.reduce((a, b) => a * b, 1));
  const layers = net.spec.layers.map((l) => ({
    name: l.name,
    opType: l.kind === 'input' ? 'Input' : l.className,
    node: l.kind === 'input' ? '' : (net.origin.get(l.name) ?? ''),
    outputShape: [null, ...(net.onnxShapes.get(l.name) ?? net.info.shapes.get(l.name) ?? [])],
    params: params.get(l.name) ?? 0,
  }));
  return { file: net.spec.file, producer: net.producer, opset: net.opset, layers, totalParams: layers.reduce((a, l) => a + l.params, 0), notes: net.notes };
}

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

function lastStats(_report: Report, variant: Report['variants'][number], layer: string): LayerStatRecord | null {
  const vl = variantLayerFor(variant, layer);
  if (!vl) return null;
  const recs = variant.layerStats.filter((r) => r.layer === vl.name).sort((a, b) => a.step - b.step);
  return recs[recs.length - 1] ?? null;
}

function statsCell(r: LayerStatRecord | null): string {
  if (!r) return '<td class="muted">—</td>';
  const parts: string[] = [];
  if (r.gradNorm !== null) parts.push(`‖∇W‖ ${fmt(r.gradNorm)}`);
  if (r.icsCos !== null) parts.push(`ICS cos ${fmt(r.icsCos)}`);
  if (r.icsL2 !== null) parts.push(`ICS ℓ2 ${fmt(r.icsL2)}`);
  if (r.actMean !== null) parts.push(`act ${fmt(r.actMean)} ± ${fmt(r.actStd)}`);
  return `<td>${parts.map(esc).join('<br>') || '—'}</td>`;
}

/** The editor's whole page. `nonce` and `cspSource` come from the webview. */
export function onnxEditorHtml(state: OnnxEditorState, report: Report | null, running: boolean, nonce: string, cspSource: string): string {
  const head = `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src ${cspSource} 'nonce-${nonce}'; script-src 'nonce-${nonce}';">
<meta name="viewport" content="width=device-width, initial-scale=1">
<style nonce="${nonce}">
body { font-family: var(--vscode-font-family); font-size: var(--vscode-font-size); color: var(--vscode-foreground); padding: 0 16px 16px; }
table { border-collapse: collapse; margin-top: 8px; }
th, td { text-align: left; padding: 3px 10px; border-bottom: 1px solid var(--vscode-editorWidget-border, #8884); vertical-align: top; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
.muted { color: var(--vscode-descriptionForeground); }
.note { border-left: 3px solid var(--vscode-editorWarning-foreground, #c90); padding: 4px 8px; margin: 8px 0; }
.error { border-left: 3px solid var(--vscode-editorError-foreground, #c33); padding: 4px 8px; margin: 8px 0; }
code { font-family: var(--vscode-editor-font-family); }
button { background: var(--vscode-button-background); color: var(--vscode-button-foreground); border: none; padding: 4px 12px; cursor: pointer; }
button:hover { background: var(--vscode-button-hoverBackground); }
</style></head><body>`;
  const script = `<script nonce="${nonce}">const vscode = acquireVsCodeApi();
for (const b of document.querySelectorAll('button[data-action]')) b.addEventListener('click', () => vscode.postMessage({ type: b.dataset.action }));</script>`;
  if (state.kind === 'error') {
    return `${head}<h2>${esc(basename(state.file))}</h2>
<div class="error" role="alert" id="problem">${esc(state.message)}</div>
<p class="muted">BatchNorm Lens cannot analyze this file as it is. The message names the node and what to change in the export.</p>
<button data-action="reload">Read Again</button>${script}</body></html>`;
  }
  const m = state.model;
  const variants = report?.variants ?? [];
  const runNote = report
    ? `<p class="muted">Statistics: last recorded value of each layer in the ${running ? 'running' : report.complete ? 'last' : 'partial'} run (${esc(report.config.steps + ' steps')}).</p>`
    : '<p class="muted">No analysis yet: "Analyze BatchNorm" trains the network with and without BatchNorm and shows per-layer statistics here.</p>';
  const rows = m.layers
    .map(
      (l) =>
        `<tr data-layer="${esc(l.name)}"><td><code>${esc(l.name)}</code></td><td>${esc(l.opType)}</td><td class="muted">${esc(l.node)}</td><td><code>[${l.outputShape
          .map((d) => (d === null ? 'N' : String(d)))
          .join(', ')}]</code></td><td class="num">${fmtInt(l.params)}</td>${report ? variants.map((v) => statsCell(lastStats(report, v, l.name))).join('') : ''}</tr>`,
    )
    .join('\n');
  return `${head}<h2>${esc(basename(m.file))}</h2>
<p class="muted">ONNX opset ${m.opset}${m.producer ? ` · exported by ${esc(m.producer)}` : ''} · ${m.layers.length - 1} layers · <span id="total">${fmtInt(m.totalParams)}</span> trainable parameters</p>
${m.notes.map((n) => `<div class="note" role="note">${esc(n)}</div>`).join('\n')}
<button data-action="analyze"${running ? ' disabled' : ''}>Analyze BatchNorm</button>
${runNote}
<table id="layers"><thead><tr><th>layer</th><th>op</th><th>ONNX node</th><th>output shape</th><th class="num">parameters</th>${variants.map((v) => `<th>${esc(v.name)}</th>`).join('')}</tr></thead>
<tbody>
${rows}
</tbody></table>${script}</body></html>`;
}

function basename(p: string): string {
  return p.split(/[\\/]/).pop() ?? p;
}
