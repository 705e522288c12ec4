// The hand-written NumPy/OpenBLAS peer (bench/peer/numpy_probe.py): the same workload computed by a program
// a user might write instead, run in the same bench run so the ratio does not depend on the machine's load at
// two different times. The bench runs without it — and says why — when python3 with numpy is absent.

import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../../engine/errors';

export interface PeerTiming {
  /** Both variants, one after the other (the peer uses all cores for each). */
  msPerProbedStep: number;
  msPerTrainStep: number;
  cpuMsPerProbedStep: number | null;
}

export function peerScript(root: string): string {
  return join(root, 'bench', 'peer', 'numpy_probe.py');
}

/** The interpreter to run the peer with: $BNLENS_PYTHON, else the first of python3 and /usr/bin/python3 that
 * imports numpy; or why there is none. */
export function findPython(): { python: string } | { missing: string } {
  const candidates = process.env.BNLENS_PYTHON ? [process.env.BNLENS_PYTHON] : ['python3', '/usr/bin/python3'];
  for (const python of candidates) {
    const r = spawnSync(python, ['-c', 'import numpy'], { encoding: 'utf8', timeout: 30_000 });
    if (!r.error && r.status === 0) return { python };
  }
  return { missing: `no python3 with numpy found (tried ${candidates.join(', ')}; set BNLENS_PYTHON to choose one)` };
}

/** Runs the peer's `bench` command for both variants of a workload and sums them; `threads` caps OpenBLAS. */
export function runPeer(python: string, root: string, workload: string, steps: number, threads?: number): PeerTiming {
  const script = peerScript(root);
  if (!existsSync(script)) throw new UserError(`bnlens bench: the NumPy peer is missing at ${script}; restore bench/peer from the repository`);
  const sum: PeerTiming = { msPerProbedStep: 0, msPerTrainStep: 0, cpuMsPerProbedStep: 0 };
  for (const bn of [false, true]) {
    const r = spawnSync(python, [script, 'bench', '--workload', workload, ...(bn ? ['--bn'] : []), '--steps', String(steps)], {
      encoding: 'utf8',
      timeout: 1_800_000,
      env: threads ? { ...process.env, OPENBLAS_NUM_THREADS: String(threads), OMP_NUM_THREADS: String(threads) } : process.env,
    });
    if (r.error || r.status !== 0) throw new UserError(`bnlens bench: the NumPy peer failed on ${workload}${bn ? ' --bn' : ''} (${r.error?.message ?? r.stderr.trim().split('\n').pop()})`);
    const line = JSON.parse(r.stdout.trim().split('\n').pop()!) as { ms_per_probed_step: number; ms_per_train_step: number; cpu_ms_per_probed_step?: number };
    sum.msPerProbedStep += line.ms_per_probed_step;
    sum.msPerTrainStep += line.ms_per_train_step;
    sum.cpuMsPerProbedStep = line.cpu_ms_per_probed_step === undefined || sum.cpuMsPerProbedStep === null ? null : sum.cpuMsPerProbedStep + line.cpu_ms_per_probed_step;
  }
  return sum;
}
