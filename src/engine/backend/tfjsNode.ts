// Loading the optional native backend. @tensorflow/tfjs-node is external to the bundle (esbuild.mjs) and
// brings its own copy of the whole tfjs API, bound to libtensorflow; when it loads, the engine must run
// every op through *that* namespace, not through the tfjs-core bundled with us.
import type * as tfc from '@tensorflow/tfjs-core';

export type TfNamespace = typeof tfc;

export type NodeLoad = { ok: true; tf: TfNamespace } | { ok: false; installed: boolean; detail: string };

/** The module loader, replaceable in tests (tfjs-node cannot be installed on the build machines). */
export type NodeLoader = () => unknown;

// `require` with a literal name so esbuild keeps it as a run-time require of the external package.
export const defaultNodeLoader: NodeLoader = () => require('@tensorflow/tfjs-node');

export function loadTfjsNode(loader: NodeLoader = defaultNodeLoader): NodeLoad {
  try {
    const mod = loader() as Partial<TfNamespace> | undefined;
    if (!mod || typeof mod.setBackend !== 'function' || typeof mod.tensor !== 'function') {
      return { ok: false, installed: true, detail: 'the module does not export the tfjs API' };
    }
    return { ok: true, tf: mod as TfNamespace };
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    const msg = firstLine(String(err?.message ?? e));
    // "Cannot find module '@tensorflow/tfjs-node'" means absent; any other failure (a missing native
    // binding, a libtensorflow that does not match the CPU) means installed but broken.
    const absent = err?.code === 'MODULE_NOT_FOUND' && msg.includes("'@tensorflow/tfjs-node'");
    return { ok: false, installed: !absent, detail: msg };
  }
}

function firstLine(s: string): string {
  const line = s.split('\n')[0].trim();
  return line.length > 160 ? line.slice(0, 157) + '...' : line;
}
