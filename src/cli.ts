// `bnlens` — the command-line face of the engine. Each command is a thin caller of an engine function;
// every user mistake ends as one line on stderr and exit code 2, every bug as one line and exit code 1.

import { reportFailure } from './cli/failure';
import { analyzeMain } from './cli/analyze';
import { probeMain } from './cli/probe';
import { benchMain } from './cli/bench';
import { inspectMain } from './cli/inspect';
import { sliceMain } from './cli/slice';

const COMMANDS: Record<string, { run: (argv: string[]) => Promise<number>; help: string }> = {
  analyze: { run: analyzeMain, help: 'train the network and its normalization variants with the probes at every step; write the report' },
  probe: { run: probeMain, help: "the paper's measurements at the weights in a model file" },
  inspect: { run: inspectMain, help: 'the layers read from a network file: output shapes, parameter counts (Python, JSON, …)' },
  slice: { run: sliceMain, help: 'a 1-D or 2-D random-direction slice of the loss surface (Li et al. 2018), per variant' },
  bench: { run: benchMain, help: 'speed of training and probing per workload and backend (--peer: against the NumPy peer)' },
};

const USAGE = `bnlens — see why BatchNorm helps optimization, in your own network (Santurkar et al., NeurIPS 2018)

Usage: bnlens <command> [options]   (bnlens <command> --help for its options)

Commands:
${Object.entries(COMMANDS)
  .map(([k, c]) => `  ${k.padEnd(10)}${c.help}`)
  .join('\n')}
`;

async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  if (!cmd || cmd === '--help' || cmd === '-h' || cmd === 'help') {
    process.stdout.write(USAGE);
    return cmd ? 0 : 2;
  }
  if (cmd === '--version') {
    process.stdout.write(`${require('../package.json').version}\n`);
    return 0;
  }
  const c = COMMANDS[cmd];
  if (!c) {
    process.stderr.write(`bnlens: unknown command '${cmd}'; the commands are ${Object.keys(COMMANDS).join(', ')} (bnlens --help)\n`);
    return 2;
  }
  return c.run(rest);
}

/** Entry for bin/bnlens.js and `node dist/cli.js`. */
export function runCli(argv = process.argv.slice(2)): void {
  main(argv).then(
    (code) => {
      process.exitCode = code;
    },
    (e) => {
      process.exitCode = reportFailure(e);
    },
  );
}

if (require.main === module) runCli();
