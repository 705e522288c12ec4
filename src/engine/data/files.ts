// Reading a user's data file, with the two failures users actually hit (wrong path, unreadable file)
// turned into one-line messages instead of raw ENOENT stack traces.

import { readFileSync, statSync } from 'node:fs';
import { UserError } from '../errors';

export function readUserFile(path: string): Uint8Array {
  try {
    return readFileSync(path);
  } catch (e) {
    throw fileError(e, path);
  }
}

export function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch (e) {
    throw fileError(e, path);
  }
}

function fileError(e: unknown, path: string): UserError {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return new UserError('data file not found; check the path given as the data set', path);
  if (code === 'EACCES') return new UserError('data file is not readable (permission denied); fix its permissions', path);
  if (code === 'EISDIR') return new UserError('expected a file but this is a folder; give the path of the data file', path);
  return new UserError(`cannot read the data file (${code ?? String(e)}); check the path`, path);
}
