// `bnlens probe` on the command line: flags, then the engine's runProbe (src/engine/probeCommand.ts) and the
// result as JSON on stdout.

import type { BackendChoice, LossName } from '../protocol';
import { UserError } from '../engine/errors';
import { runProbe } from '../engine/probeCommand';
import { precisionWarning } from '../engine/probes/precision';
import { helpText, listFlag, numberFlag, parseArgs, type FlagSpec } from './args';
import { reportFailure } from './failure';

const FLAGS: Record<string, FlagSpec> = {
  data: { value: true, help: 'data file: .npz (arrays x, y), x.npy,y.npy, .csv, mnist, gaussian, dln' },
  loss: { value: true, help: 'softmax-ce | mse (default: from the labels: integers → softmax-ce)' },
  eta: { value: true, help: 'comma-separated step lengths η for L(x − η·g), e.g. 0.05,0.1,0.2' },
  'ics-lr': { value: true, help: 'learning rate of the earlier layers’ step in the ICS measure (default 0.1)' },
  backend: { value: true, help: 'auto | node | wasm | cpu (default auto)' },
  seed: { value: true, help: 'seed for weights a topology-only file does not hold (default 0)' },
  help: { value: false, help: 'this help' },
};

const USAGE = 'Usage: bnlens probe MODEL --data FILE --eta LIST [--loss softmax-ce|mse] [--ics-lr LR] [--backend B] [--seed S]';

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
    if (!['softmax-ce', 'mse', 'auto'].includes(loss)) throw new UserError(`bnlens probe: --loss must be softmax-ce or mse, got '${loss}'`);
    const backend = (args.flags.get('backend') ?? 'auto') as string;
    if (!['auto', 'node', 'wasm', 'cpu'].includes(backend)) throw new UserError(`bnlens probe: --backend must be auto, node, wasm or cpu, got '${backend}'`);
    const result = await runProbe({
      model: args.positional[0],
      data,
      loss: loss as LossName | 'auto',
      eta,
      icsLr: numberFlag(args, 'ics-lr', 'probe', { positive: true }) ?? 0.1,
      backend: backend as BackendChoice,
      seed: numberFlag(args, 'seed', 'probe', { integer: true }) ?? 0,
      onNote: (note) => process.stderr.write(`bnlens: note: ${args.positional[0]}: ${note}\n`),
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
