// Small hand-built reports and configs for the host unit tests (numbers chosen so results are checkable by eye).
import type { AnalyzeConfig, LayerStatRecord, Report, StepRecord, VariantName, VariantReport } from '../../src/protocol';

export function config(over: Partial<AnalyzeConfig> = {}): AnalyzeConfig {
  return {
    model: '/tmp/net.json',
    dataset: 'gaussian',
    loss: 'auto',
    variants: ['standard', 'batchnorm'],
    steps: 4,
    batch: 8,
    lr: 0.1,
    momentum: 0,
    probeEvery: 1,
    etaRange: [0.5, 4],
    etaCount: 3,
    icsEvery: 2,
    evalEvery: 2,
    seed: 0,
    backend: 'cpu',
    ...over,
  };
}

export function step(stepNo: number, beta: number): StepRecord {
  return { step: stepNo, loss: 2 - stepNo * 0.1, accuracy: 0.1 * stepNo, gradNorm: 1, lossAtEta: [1, 2, 3], gradChange: [0.1, 0.2, 0.3], beta };
}

export function stat(stepNo: number, layer: string, over: Partial<LayerStatRecord> = {}): LayerStatRecord {
  return {
    step: stepNo,
    layer,
    sourceLayer: layer,
    icsL2: 0.5,
    icsCos: 0.9,
    actMean: 0.1,
    actStd: 1,
    hist: { min: -1, max: 1, counts: [1, 2, 1] },
    weightNorm: 3,
    gradNorm: 0.2,
    ...over,
  };
}

export function variant(name: VariantName, over: Partial<VariantReport> = {}): VariantReport {
  return {
    name,
    description: name,
    layers: [
      { name: 'dense_1', className: 'Dense', sourceLayer: 'dense_1', inserted: false, outputShape: [null, 16], params: 12560 },
      { name: 'dense_2', className: 'Dense', sourceLayer: 'dense_2', inserted: false, outputShape: [null, 10], params: 170 },
    ],
    steps: [],
    layerStats: [],
    evals: [],
    diverged: null,
    ...over,
  };
}

export function report(variants: VariantReport[] = [variant('standard'), variant('batchnorm')]): Report {
  return {
    schema: 'bnlens-report',
    version: 1,
    createdAt: '2026-01-01T00:00:00.000Z',
    complete: false,
    stopReason: null,
    config: config(),
    model: {
      path: '/tmp/net.json',
      format: 'tfjs-layers',
      name: 'net',
      layers: [
        { name: 'dense_1', className: 'Dense', outputShape: [null, 16], params: 12560 },
        { name: 'dense_2', className: 'Dense', outputShape: [null, 10], params: 170 },
      ],
    },
    dataset: { name: 'gaussian', trainSize: 64, testSize: 16, inputShape: [784], outputs: 10, loss: 'softmax-ce' },
    run: { backend: 'cpu', backendReason: 'test', tfjsVersion: '4.22.0', bnlensVersion: '0.1.0', node: 'v20', platform: 'linux', wallMs: {} },
    eta: [0.05, 0.225, 0.4], // the grid of config(): lr 0.1 × linspace(0.5, 4, 3)
    variants,
    summary: [],
  };
}
