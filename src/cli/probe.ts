// `bnlens probe` on the command line: flags, then the engine's runProbe (src/engine/probeCommand.ts) and the
// result as JSON on stdout.

import type { BackendChoice, LossName } from '../protocol';
import { UserError } from '../engine/errors';
import { runProbe, type ProbeOptions } from '../engine/probeCommand';
import { precisionWarning } from '../engine/probes/precision';
import { helpText, listFlag, numberFlag, parseArgs, type FlagSpec } from './args';
import { reportFailure } from './failure';
import { readConfigValues } from '../engine/config';

const FLAGS: Record<string, FlagSpec> = {
  data: { value: true, help: 'data file: .npz (arrays x, y), x.npy,y.npy, .csv, mnist, gaussian, dln' },
  loss: { value: true, help: 'softmax-ce | binary-ce | mse (default: from the output layer, then the labels: integers → softmax-ce)' },
  eta: { value: true, help: 'comma-separated step lengths η for L(x − η·g), e.g. 0.05,0.1,0.2' },
  'ics-lr': { value: true, help: 'learning rate of the earlier layers’ step in the ICS measure (default 0.1)' },
  backend: { value: true, help: 'auto | node | wasm | cpu (default auto)' },
  seed: { value: true, help: 'seed for weights a topology-only file does not hold, and of the Hessian measures (default 0)' },
  model: { value: true, help: 'Python files: which model — a class, builder or variable, or a call such as "VGG(\'VGG11\')"' },
  'input-shape': { value: true, help: 'Python files: per-example input shape C,H,W (or F) (default: from the data)' },
  weights: { value: true, help: 'Python files: a .safetensors state_dict (default: FILE.safetensors beside the .py)' },
  hessian: { value: false, help: 'also the Hessian measures: λ_max, λ_min, top k (Lanczos), trace (Hutchinson), density (SLQ), gᵀHg/‖g‖²' },
  'hessian-top': { value: true, help: 'with --hessian: how many of the largest eigenvalues (default 5)' },
  'hessian-bn': { value: true, help: "with --hessian: BatchNorm statistics, train (the batch's, default) or eval (moving, as PyHessian)" },
  'hessian-steps': { value: true, help: 'with --hessian: most Lanczos steps for the extremes (default 60)' },
  'hessian-samples': { value: true, help: 'with --hessian: Rademacher samples for the trace (default 20)' },
  'hessian-runs': { value: true, help: 'with --hessian: Lanczos runs for the density (default 2)' },
  help: { value: false, help: 'this help' },
};

const USAGE =
  'Usage: bnlens probe MODEL --data FILE --eta LIST [--loss softmax-ce|mse] [--ics-lr LR] [--backend B] [--seed S] [--model NAME] [--input-shape C,H,W] [--weights W.safetensors] [--hessian [--hessian-top K] [--hessian-bn train|eval] [--hessian-steps N] [--hessian-samples S] [--hessian-runs R]]';

function hessianFlags(args: ReturnType<typeof parseArgs>): ProbeOptions['hessian'] {
  const given = ['hessian-top', 'hessian-bn', 'hessian-steps', 'hessian-samples', 'hessian-runs'].filter((f) => args.flags.has(f));
  if (!args.flags.has('hessian')) {
    if (given.length) throw new UserError(`bnlens probe: --${given[0]} needs --hessian`);
    return undefined;
  }
  const bn = args.flags.get('hessian-bn') ?? 'train';
  if (bn !== 'train' && bn !== 'eval') throw new UserError(`bnlens probe: --hessian-bn must be train or eval, got '${bn}'`);
  const h: NonNullable<ProbeOptions['hessian']> = { bn };
  const top = numberFlag(args, 'hessian-top', 'probe', { integer: true, min: 1 });
  const steps = numberFlag(args, 'hessian-steps', 'probe', { integer: true, min: 1 });
  const samples = numberFlag(args, 'hessian-samples', 'probe', { integer: true, min: 2 });
  const runs = numberFlag(args, 'hessian-runs', 'probe', { integer: true, min: 1 });
  if (top !== undefined) h.top = top;
  if (steps !== undefined) h.maxSteps = h.slqSteps = steps;
  if (samples !== undefined) h.traceSamples = samples;
  if (runs !== undefined) {
    h.slqRuns = runs;
    if (samples === undefined) h.traceSamples = Math.max(runs, 20);
  }
  return h;
}

export async function probeMain(argv: string[]): Promise<number> {
  try {
    const args = parseArgs(argv, FLAGS, 'probe');
    if (args.flags.has('help')) {
      process.stdout.write(helpText(USAGE, FLAGS));
      return 0;
    }
    if (args.positional.length !== 1) throw new UserError(`bnlens probe: give exactly one model file (${USAGE.replace('Usage: ', '')})`);
    const data = args.flags.get('data');
    if (typeof data !== 'string') throw new UserError('bnlens probe: --data is required, e.g. --data batch.npz');
    const eta = listFlag(args, 'eta', 'probe');
    if (!eta) throw new UserError('bnlens probe: --eta is required, e.g. --eta 0.05,0.1,0.2');
    const loss = (args.flags.get('loss') ?? 'auto') as string;
    if (!['softmax-ce', 'binary-ce', 'mse', 'auto'].includes(loss)) throw new UserError(`bnlens probe: --loss must be softmax-ce, binary-ce or mse, got '${loss}'`);
    const backend = (args.flags.get('backend') ?? 'auto') as string;
    if (!['auto', 'node', 'wasm', 'cpu'].includes(backend)) throw new UserError(`bnlens probe: --backend must be auto, node, wasm or cpu, got '${backend}'`);
    const hessian = hessianFlags(args);
    const result = await runProbe({
      model: args.positional[0],
      data,
      loss: loss as LossName | 'auto',
      eta,
      icsLr: numberFlag(args, 'ics-lr', 'probe', { positive: true }) ?? 0.1,
      backend: backend as BackendChoice,
      seed: numberFlag(args, 'seed', 'probe', { integer: true }) ?? 0,
      onNote: (note) => process.stderr.write(`bnlens: note: ${args.positional[0]}: ${note}\n`),
      hessian,
      ...readConfigValues(Object.fromEntries(['model', 'input-shape', 'weights'].filter((k) => typeof args.flags.get(k) === 'string').map((k) => [k, args.flags.get(k)])), 'bnlens probe'),
    });
    process.stderr.write(`bnlens: backend ${result.backend} — ${result.backendReason}\n`);
    const warning = precisionWarning(result.eta, result.gradChange, result.gradNorm);
    if (warning) process.stderr.write(`bnlens: warning: ${warning}\n`);
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    return 0;
  } catch (e) {
    return reportFailure(e);
  }
}
