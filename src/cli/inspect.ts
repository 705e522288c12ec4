// `bnlens inspect MODEL [--json]`: the layers the tool read from a network file, with shapes and
// parameter counts — the quickest check that a file was understood.

import { UserError } from '../engine/errors';
import { readConfigValues } from '../engine/config';
import { inspectNetwork, inspectTable } from '../engine/inspect';
import { helpText, parseArgs, type FlagSpec } from './args';
import { reportFailure } from './failure';

const FLAGS: Record<string, FlagSpec> = {
  json: { value: false, help: 'print the result as JSON' },
  model: { value: true, help: 'Python files: which model — a class, builder or variable, or a call such as "VGG(\'VGG11\')"' },
  'input-shape': { value: true, help: 'Python files: per-example input shape C,H,W (or F)' },
  weights: { value: true, help: 'Python files: a .safetensors state_dict to check against the model' },
  help: { value: false, help: 'this help' },
};

const USAGE = 'Usage: bnlens inspect MODEL [--json] [--model NAME] [--input-shape C,H,W] [--weights W.safetensors]';

export async function inspectMain(argv: string[]): Promise<number> {
  try {
    const args = parseArgs(argv, FLAGS, 'inspect');
    if (args.flags.has('help')) {
      process.stdout.write(helpText(USAGE, FLAGS));
      return 0;
    }
    if (args.positional.length !== 1) throw new UserError(`bnlens inspect: give exactly one network file (${USAGE.replace('Usage: ', '')})`);
    const given = Object.fromEntries(['model', 'input-shape', 'weights'].filter((k) => typeof args.flags.get(k) === 'string').map((k) => [k, args.flags.get(k)]));
    const c = readConfigValues(given, 'bnlens inspect');
    const r = await inspectNetwork(args.positional[0], { pythonModel: c.pythonModel, inputShape: c.inputShape, weights: c.weights });
    process.stdout.write(args.flags.has('json') ? `${JSON.stringify(r, null, 2)}\n` : inspectTable(r));
    return 0;
  } catch (e) {
    return reportFailure(e);
  }
}
