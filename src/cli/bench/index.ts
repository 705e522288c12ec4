// `bnlens bench`: how fast the engine trains and probes, per workload and backend, and (with --peer) how that
// compares with the hand-written NumPy/OpenBLAS peer (bench/peer/numpy_probe.py) on the same workload.
//
// Every figure goes through the engine's own code path: each variant is a VariantRun (src/engine/train.ts)
// stepped exactly as `bnlens analyze` steps it (probes at probed steps, no ICS/eval steps), in its own engine
// process, and the two variants run concurrently, one process per core — so the two-variant wall time is
// what a user waits for one step of an analysis with two variants.
//
// The parts: workloads.ts (what runs), flops.ts (what a step costs), timing.ts (stepping and kernel timers),
// child.ts (the engine processes and their protocol), pair.ts (both variants of one workload), peer.ts (the
// NumPy peer), report.ts (the JSON line and its rendering).

import type { BackendChoice } from '../../protocol';
import { UserError } from '../../engine/errors';
import { helpText, numberFlag, parseArgs, type FlagSpec } from '../args';
import { reportFailure } from '../failure';
import { childMain, CHILD_ENV, WARMUP_STEPS, type ChildMsg, type ChildSpec } from './child';
import { benchPair } from './pair';
import { findPython, runPeer } from './peer';
import { PEER_TOLERANCE } from './peerCheck';
import { humanLine, round } from './report';
import { repoRoot, WORKLOAD_DEFS, WORKLOADS, workloadDef } from './workloads';

export { WORKLOADS } from './workloads';

const FLAGS: Record<string, FlagSpec> = {
  workload: { value: true, help: `one of ${WORKLOADS.join(', ')} (default: all)` },
  backend: { value: true, help: 'wasm | cpu | node | auto (default auto: the embedded default here)' },
  steps: { value: true, help: 'measured probed steps and plain training steps each (default 20)' },
  peer: { value: false, help: 'also run the NumPy peer (bench/peer/numpy_probe.py) where a workload has one, and print the ratio' },
  'peer-threads': { value: true, help: 'OpenBLAS threads of the peer (default: its own default, all cores); 1 gives a CPU time free of spinning threads on a busy machine' },
  concurrency: { value: true, help: 'engine processes at once: 2 (default, one per variant and core) or 1 (one after the other: the 1-process figure of the scaling)' },
  json: { value: false, help: 'one JSON line per workload and backend' },
  profile: { value: false, help: 'also time every kernel over the probed steps (calls and CPU ms per probed step, per variant)' },
  help: { value: false, help: 'this help' },
};

const USAGE = `Usage: bnlens bench [--workload ${WORKLOADS.join('|')}] [--backend auto|wasm|cpu|node] [--steps N] [--concurrency 1|2] [--peer] [--peer-threads N] [--json] [--profile]`;

export async function benchMain(argv: string[]): Promise<number> {
  const child = process.env[CHILD_ENV];
  if (child) {
    try {
      await childMain(JSON.parse(child) as ChildSpec);
    } catch (e) {
      process.send?.({ type: 'error', message: String((e as Error)?.stack ?? e) } satisfies ChildMsg);
      return reportFailure(e);
    }
    return 0;
  }
  try {
    const args = parseArgs(argv, FLAGS, 'bench');
    if (args.flags.has('help')) {
      process.stdout.write(helpText(USAGE, FLAGS) + `\nWorkloads:\n${WORKLOAD_DEFS.map((w) => `  ${w.name.padEnd(6)}${w.summary}`).join('\n')}\n`);
      return 0;
    }
    if (args.positional.length) throw new UserError(`bnlens bench: unexpected argument '${args.positional[0]}' (${USAGE.replace('Usage: ', '')})`);
    const w = args.flags.get('workload');
    if (w !== undefined) workloadDef(String(w));
    const b = String(args.flags.get('backend') ?? 'auto');
    if (!['auto', 'wasm', 'cpu', 'node'].includes(b)) throw new UserError(`bnlens bench: --backend must be auto, wasm, cpu or node, got '${b}'`);
    const steps = numberFlag(args, 'steps', 'bench', { integer: true, min: 1 }) ?? 20;
    const json = args.flags.has('json');
    const concurrency = numberFlag(args, 'concurrency', 'bench', { integer: true, min: 1 }) ?? 2;
    const peerThreads = numberFlag(args, 'peer-threads', 'bench', { integer: true, min: 1 });
    const root = repoRoot();
    const workloads = w ? [String(w)] : [...WORKLOADS];
    const python = args.flags.has('peer') ? findPython() : null;
    if (!json) {
      process.stdout.write(
        `bnlens bench: ${steps} probed + ${steps} training steps per variant after ${WARMUP_STEPS} warm-up steps; variants standard and batchnorm in two engine processes, ${concurrency >= 2 ? 'concurrently' : 'one after the other'}\n`,
      );
      if (python && 'missing' in python) process.stdout.write(`NumPy peer not run: ${python.missing}\n`);
    }
    for (const wl of workloads) {
      const peer = workloadDef(wl).peer;
      const checkWith = python && peer && 'python' in python ? python.python : undefined;
      const line = await benchPair(wl, b as BackendChoice, steps, root, args.flags.has('profile'), checkWith, concurrency);
      const disagrees = Object.entries(line.peerCheck ?? {}).filter(([, c]) => !c?.ok);
      if (python && peer) {
        if ('missing' in python) line.peerMissing = python.missing;
        else if (disagrees.length) line.peerMissing = `the peer's loss or β differs from the engine's by more than ${PEER_TOLERANCE} on ${disagrees.map(([k]) => k).join(', ')}: no ratio`;
        else {
          const p = runPeer(python.python, root, peer, steps, peerThreads);
          line.peerMsPerProbedStep = round(p.msPerProbedStep);
          line.peerMsPerTrainStep = round(p.msPerTrainStep);
          line.peerCpuMsPerProbedStep = p.cpuMsPerProbedStep === null ? null : round(p.cpuMsPerProbedStep);
          line.ratioToPeer = round(line.twoVariantMsPerProbedStep / p.msPerProbedStep);
          line.cpuRatioToPeer = p.cpuMsPerProbedStep ? round(line.cpuMsPerProbedStep / p.cpuMsPerProbedStep) : null;
        }
      }
      process.stdout.write(json ? `${JSON.stringify(line)}\n` : humanLine(line));
    }
    if (!json)
      process.stdout.write(
        '\nGFLOP/s counts matrix products and convolutions only (Dense 2·B·in·out, Conv2D 2·B·OH·OW·KH·KW·Cin·Cout per forward pass; a gradient evaluation 3F − F(first layer); a probed step 1 + #η gradient evaluations), over the wall time of both variants.\n' +
          (python && 'python' in python ? 'The peer runs its two variants one after the other (NumPy/OpenBLAS on all cores); its figure is their sum.\n' : ''),
      );
    return 0;
  } catch (e) {
    return reportFailure(e);
  }
}
