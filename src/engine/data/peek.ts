// The per-example shape a data file holds, before the network is read: a Python network file often does
// not say its input shape, and the data (as the user's training code would feed it) does.

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { isCifarDir } from './cifar';
import { isDirectory } from './files';
import { readNpy } from './npy';
import { readNpz } from './npz';

export function peekInputShape(spec: string | undefined): number[] | undefined {
  if (!spec) return undefined;
  const s = spec.trim();
  const lower = s.toLowerCase();
  try {
    if (lower.endsWith('.npz') && existsSync(s)) return exampleShape(readNpz(s).get('x')?.shape);
    const first = s.split(',')[0].trim();
    if (first.toLowerCase().endsWith('.npy') && existsSync(first)) return exampleShape(readNpy(first).shape);
    if (existsSync(s) && isDirectory(s)) {
      if (existsSync(join(s, 'x.npy'))) return exampleShape(readNpy(join(s, 'x.npy')).shape);
      if (isCifarDir(s)) return [3, 32, 32];
    }
  } catch {
    // A bad data file is reported where the data is loaded, with its own message.
  }
  return undefined;
}

function exampleShape(shape: number[] | undefined): number[] | undefined {
  if (!shape || shape.length < 2) return undefined;
  return shape.slice(1);
}
