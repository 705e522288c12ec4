import { isUserError } from '../engine/errors';

/** Print a failure as one line on stderr and return the exit code: 2 for the user's mistakes, 1 for bugs. */
export function reportFailure(e: unknown): number {
  if (isUserError(e)) {
    process.stderr.write(`${e.message.startsWith('bnlens') ? '' : 'bnlens: '}${e.format()}\n`);
    return 2;
  }
  const msg = String((e as Error)?.message ?? e).split('\n')[0];
  process.stderr.write(`bnlens: internal error: ${msg} (please report it; set BNLENS_DEBUG=1 to see where it happened)\n`);
  if (process.env.BNLENS_DEBUG) process.stderr.write(`${(e as Error)?.stack ?? ''}\n`);
  return 1;
}
