// Shared by the ONNX tests: the PyTorch float64 references of test/fixtures/onnx (written by generate.py there)
// and the comparison of a probe's output with them.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Comparison, ROOT, type runProbe } from '../reference/cli';

export const ONNX_DIR = join(ROOT, 'test', 'fixtures', 'onnx');

export interface OnnxReference {
  model: string;
  data: string;
  loss_name: 'softmax-ce' | 'mse';
  opset: number;
  parameters: number;
  loss: number;
  gradNorm: number;
  eta: number[];
  lossAtEta: number[];
  gradChange: number[];
  betaAtEta: number[];
  beta: number;
  icsLr: number;
  ics: { layer: string; l2: number; cos: number; gNorm: number }[];
}

export function references(): OnnxReference[] {
  return readdirSync(ONNX_DIR)
    .filter((f) => f.endsWith('.ref.json'))
    .sort()
    .map((f) => JSON.parse(readFileSync(join(ONNX_DIR, f), 'utf8')));
}

/** Compares a probe's JSON with PyTorch's float64 numbers, every field. */
export function compareWithTorch(label: string, out: Awaited<ReturnType<typeof runProbe>>, ref: OnnxReference): Comparison {
  const cmp = new Comparison(label);
  cmp.check('loss', out.loss, ref.loss);
  cmp.check('gradNorm', out.gradNorm, ref.gradNorm);
  for (const field of ['lossAtEta', 'gradChange', 'betaAtEta'] as const) ref.eta.forEach((eta, k) => cmp.check(`${field}[η=${eta}]`, out[field]?.[k], ref[field][k]));
  cmp.check('beta', out.beta, ref.beta);
  const names = (out.ics ?? []).map((e) => e.layer);
  const want = ref.ics.map((e) => e.layer);
  if (JSON.stringify(names) !== JSON.stringify(want)) cmp.fail(`ics layers ${JSON.stringify(names)}, PyTorch's layers with a kernel in model order are ${JSON.stringify(want)}`);
  else
    ref.ics.forEach((r, k) => {
      cmp.check(`ics[${r.layer}].l2`, out.ics[k].l2, r.l2, r.gNorm);
      cmp.checkCos(`ics[${r.layer}].cos`, out.ics[k].cos, r.cos);
    });
  return cmp;
}

export const probeArgs = (ref: OnnxReference, backend: string, model = join(ONNX_DIR, ref.model)) => [
  model,
  '--data',
  join(ONNX_DIR, ref.data),
  '--loss',
  ref.loss_name,
  '--eta',
  ref.eta.join(','),
  '--ics-lr',
  String(ref.icsLr),
  '--backend',
  backend,
];
