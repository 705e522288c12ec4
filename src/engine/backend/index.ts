// Which TensorFlow.js backend the engine runs on, and the tf namespace every engine module calls ops through.
//
//   node  @tensorflow/tfjs-node (libtensorflow, multi-threaded BLAS): optional, installs only with internet.
//   wasm  tfjs-backend-wasm, embedded: XNNPACK with SIMD, one thread in Node; plus our kernels (./wasm).
//   cpu   tfjs-backend-cpu, pure JavaScript: the slowest, the last resort.
//
// Why a namespace and not `import * as tf from '@tensorflow/tfjs-core'`: the bundle carries its own
// tfjs-core, while tfjs-node is external and carries another. With node chosen, only tfjs-node's namespace
// reaches libtensorflow, so engine code gets `tf` from here (type imports from tfjs-core are fine).
import * as tfCore from '@tensorflow/tfjs-core';
import * as cpuBackendModule from '@tensorflow/tfjs-backend-cpu';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { UserError } from '../errors';
import { installCpuKernels } from './cpuKernels';
import { registerGradients } from './gradients';
import { defaultNodeLoader, loadTfjsNode, type NodeLoader, type TfNamespace } from './tfjsNode';
import { findWasmDir } from './wasmPaths';
import { installWasmKernels, type WasmKernelReport } from './wasm/install';

export type BackendChoice = 'auto' | 'node' | 'wasm' | 'cpu';
export type BackendName = 'node' | 'wasm' | 'cpu';
export type { TfNamespace } from './tfjsNode';

export interface ActiveBackend {
  tf: TfNamespace;
  name: BackendName;
  /** One human sentence: what was chosen and why. */
  reason: string;
  tfjsVersion: string;
}

export interface InitOptions {
  /** Replaces `require('@tensorflow/tfjs-node')`; for tests. */
  loadNode?: NodeLoader;
}

let active: ActiveBackend | null = null;

export async function initBackend(choice: BackendChoice, options: InitOptions = {}): Promise<ActiveBackend> {
  const loader = options.loadNode ?? defaultNodeLoader;
  switch (choice) {
    case 'node': {
      const node = loadTfjsNode(loader);
      if (!node.ok) {
        throw new UserError(
          node.installed
            ? `backend 'node': @tensorflow/tfjs-node is installed but does not load (${node.detail}); reinstall it with \`npm rebuild @tensorflow/tfjs-node\` or use backend 'wasm'`
            : `backend 'node': @tensorflow/tfjs-node is not installed; install it with \`npm install @tensorflow/tfjs-node\` (needs internet) or use backend 'wasm'`,
        );
      }
      return activate(await startNode(node.tf), 'node', "backend 'node' requested: @tensorflow/tfjs-node (libtensorflow)");
    }
    case 'wasm':
      return activate(await startWasm(), 'wasm', "backend 'wasm' requested: the embedded WebAssembly backend (XNNPACK, SIMD, one thread)");
    case 'cpu':
      return activate(await startCpu(), 'cpu', "backend 'cpu' requested: the pure-JavaScript backend (slow)");
    case 'auto': {
      const node = loadTfjsNode(loader);
      if (node.ok) {
        try {
          return activate(await startNode(node.tf), 'node', 'auto: @tensorflow/tfjs-node loaded; using libtensorflow');
        } catch (e) {
          return fallBackFromNode(`@tensorflow/tfjs-node loaded but its backend failed to start (${oneLine(e)})`);
        }
      }
      return fallBackFromNode(node.installed ? `@tensorflow/tfjs-node is installed but does not load (${node.detail})` : `@tensorflow/tfjs-node is not installed (${node.detail})`);
    }
  }
}

/** The namespace of the backend chosen by the last initBackend. */
export function getTf(): TfNamespace {
  if (!active) throw new Error('getTf() called before initBackend()');
  return active.tf;
}

/** What we changed on wasm, for logs and the report; null until wasm has been started. */
export function wasmKernelReport(): WasmKernelReport | null {
  return wasmKernels;
}

let wasmKernels: WasmKernelReport | null = null;

async function fallBackFromNode(why: string): Promise<ActiveBackend> {
  try {
    return activate(await startWasm(), 'wasm', `auto: ${why}; using the embedded WebAssembly backend`);
  } catch (e) {
    return activate(await startCpu(), 'cpu', `auto: ${why}, and the WebAssembly backend failed (${oneLine(e)}); using the slow JavaScript backend`);
  }
}

async function startNode(tf: TfNamespace): Promise<TfNamespace> {
  registerGradients(tf);
  if (!(await tf.setBackend('tensorflow'))) throw new Error("tfjs-node did not register the 'tensorflow' backend");
  await tf.ready();
  return tf;
}

let wasmPathsSet = false;

async function startWasm(): Promise<TfNamespace> {
  const tf = tfCore as unknown as TfNamespace;
  if (!wasmPathsSet) {
    // setWasmPaths throws once the backend has initialised, so only the first call sets it.
    setWasmPaths(findWasmDir());
    wasmPathsSet = true;
  }
  registerGradients(tf);
  ensureCpuBackendRegistered();
  installCpuKernels(tf); // the wasm fallback runs cpu kernels
  wasmKernels = installWasmKernels(tf);
  if (!(await tf.setBackend('wasm'))) throw new Error('the wasm backend failed to initialise');
  await tf.ready();
  return tf;
}

async function startCpu(): Promise<TfNamespace> {
  const tf = tfCore as unknown as TfNamespace;
  ensureCpuBackendRegistered();
  registerGradients(tf);
  installCpuKernels(tf);
  if (!(await tf.setBackend('cpu'))) throw new Error('the cpu backend failed to initialise');
  await tf.ready();
  return tf;
}

/**
 * Importing tfjs-backend-cpu registers the backend, but its package.json declares its Node entry free of
 * side effects, so esbuild drops a bare `import '…'`. Using a binding keeps the module in the bundle.
 */
function ensureCpuBackendRegistered(): void {
  if (typeof cpuBackendModule.MathBackendCPU !== 'function') throw new Error('@tensorflow/tfjs-backend-cpu did not load');
}

function activate(tf: TfNamespace, name: BackendName, reason: string): ActiveBackend {
  active = { tf, name, reason, tfjsVersion: tf.version_core };
  return active;
}

function oneLine(e: unknown): string {
  return String((e as Error)?.message ?? e).split('\n')[0];
}
