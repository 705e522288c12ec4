// `bnlens slice --html`: one self-contained page (no network) with the slice chart, drawn by the same
// webview bundle as the extension and the analyze report, from a report shell that holds only the slice.

import type { Report, SliceResult } from '../protocol';
import { REPORT_SCHEMA, REPORT_VERSION } from '../protocol';
import { renderReportHtml, type ReportAssets } from './html';

/** A report with no training run and one slice: what the webview draws for `bnlens slice --html`. */
export function sliceReportShell(slice: SliceResult): Report {
  return {
    schema: REPORT_SCHEMA,
    version: REPORT_VERSION,
    createdAt: slice.createdAt,
    complete: true,
    stopReason: null,
    config: {
      model: slice.model,
      dataset: slice.batchSource,
      loss: 'auto',
      variants: slice.variants.map((v) => v.variant),
      steps: 1,
      batch: slice.batch,
      lr: 1,
      momentum: 0,
      probeEvery: 1,
      etaRange: [1, 1],
      etaCount: 1,
      icsEvery: 0,
      evalEvery: 0,
      seed: slice.seed,
      backend: slice.backend,
    },
    model: { path: slice.model, format: 'tfjs-layers', name: slice.model, layers: [] },
    dataset: { name: slice.batchSource, trainSize: slice.batch, testSize: 0, inputShape: [], outputs: 1, loss: 'softmax-ce' },
    run: {
      backend: slice.backend,
      backendReason: slice.backendReason,
      tfjsVersion: slice.tfjsVersion,
      bnlensVersion: '',
      node: process.version,
      platform: `${process.platform}-${process.arch}`,
      wallMs: { total: slice.wallMs },
    },
    eta: [],
    variants: [],
    summary: [],
    slices: [slice],
  };
}

export function renderSliceHtml(slice: SliceResult, assets: ReportAssets): string {
  return renderReportHtml(sliceReportShell(slice), assets);
}
