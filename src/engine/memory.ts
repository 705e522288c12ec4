// How many bytes a run needs, estimated from the shapes alone — before any weight, data or backend memory
// is allocated — so that a configuration that cannot fit is refused in one line (with the flag to change)
// instead of dying inside the backend with "memory access out of bounds" or "Invalid typed array length".
//
// The design limit: the embedded backend (tfjs-backend-wasm) runs on a 32-bit WebAssembly heap. Its module
// declares a maximum of 65,536 pages of 64 KiB = 4 GiB (read from the .wasm's memory section; see
// test/unit/memory.test.ts), and growth can fail before that when the heap is fragmented, so the engine plans
// for WASM_BUDGET_BYTES. The cpu and node backends use ordinary process memory: half the machine's RAM.
//
// The estimate (float32, 4 bytes per value), per engine process:
//   weights   P values for the parameters, ×6: weights, gradient, velocity (momentum), the shifted weights
//             x − η·g of a probe and their gradient, and the update's new weights
//   training  batch × A × 4, where A is the sum of every layer's output size per example: the forward pass
//             keeps each output (and about as much again in pre-activations, BatchNorm's x̂ and the like) for
//             the backward pass, which allocates gradients of the same sizes
//   held-out  chunk × A × 2 for an evaluation chunk (forward only, intermediates kept until the chunk ends)
// It errs on the generous side; its purpose is to keep the run inside the limit, not to predict the peak.

import { totalmem } from 'node:os';
import type { BackendChoice } from '../protocol';
import { UserError } from './errors';
import type { LayerNode } from './network/ir';
import { inferShapes } from './network/shapes';

export const WASM_HEAP_LIMIT_BYTES = 4 * 2 ** 30;
/** What the engine plans to use of the wasm heap: 3 GiB of the 4 GiB the module can grow to. */
export const WASM_BUDGET_BYTES = 3 * 2 ** 30;
/** Largest default held-out chunk (the earlier fixed size). */
export const MAX_EVAL_CHUNK = 1000;

const BYTES = 4;
const WEIGHT_COPIES = 6;
const TRAIN_FACTOR = 4;
const EVAL_FACTOR = 2;

export interface NetworkSize {
  /** Trainable and state values (largest over the variants). */
  params: number;
  /** Sum of every layer's output values per example (largest over the variants). */
  activations: number;
}

const prod = (s: number[]) => s.reduce((a, b) => a * b, 1);

/** Sizes of the variants' networks from their shapes (nothing allocated). */
export function networkSize(variants: LayerNode[][], file: string, text?: string): NetworkSize {
  let params = 0;
  let activations = 0;
  for (const layers of variants) {
    const info = inferShapes(layers, file, text);
    params = Math.max(
      params,
      [...info.params, ...info.state].reduce((a, p) => a + prod(p.shape), 0),
    );
    let a = 0;
    for (const l of layers) if (l.kind !== 'flatten' && l.kind !== 'reshape' && l.kind !== 'dropout') a += prod(info.shapes.get(l.name)!);
    activations = Math.max(activations, a);
  }
  return { params, activations };
}

export function weightBytes(s: NetworkSize): number {
  return BYTES * WEIGHT_COPIES * s.params;
}

export function trainBytes(s: NetworkSize, batch: number): number {
  return weightBytes(s) + BYTES * TRAIN_FACTOR * batch * s.activations;
}

export function evalBytes(s: NetworkSize, chunk: number): number {
  return weightBytes(s) + BYTES * EVAL_FACTOR * chunk * s.activations;
}

/** The budget of one engine process on this backend (auto is taken as wasm unless tfjs-node is installed). */
export function memoryBudget(backend: BackendChoice, processes = 1): { bytes: number; what: string } {
  const node = backend === 'node' || (backend === 'auto' && tfjsNodeInstalled());
  if (backend === 'wasm' || (backend === 'auto' && !node)) return { bytes: WASM_BUDGET_BYTES, what: `the WebAssembly backend's heap (at most 4 GiB; ${gib(WASM_BUDGET_BYTES)} planned)` };
  const bytes = Math.floor(totalmem() / 2 / Math.max(1, processes));
  return { bytes, what: `half of this machine's ${gib(totalmem())} of memory${processes > 1 ? ` shared by ${processes} engine processes` : ''}` };
}

function tfjsNodeInstalled(): boolean {
  try {
    require.resolve('@tensorflow/tfjs-node');
    return true;
  } catch {
    return false;
  }
}

export function gib(bytes: number): string {
  if (bytes >= 2 ** 40) return `${(bytes / 2 ** 40).toFixed(1)} TiB`;
  if (bytes >= 2 ** 30) return `${(bytes / 2 ** 30).toFixed(1)} GiB`;
  return `${Math.max(1, Math.round(bytes / 2 ** 20))} MiB`;
}

export interface MemoryPlan {
  /** Held-out examples per evaluation chunk. */
  evalChunk: number;
  /** Estimated bytes of a training step at the configured batch. */
  stepBytes: number;
  budgetBytes: number;
}

/**
 * Check that the run fits and size the held-out chunks. Throws a UserError (one line: the estimate, the
 * limit and the flag to change) when the weights, a training step at `batch`, or the requested evaluation
 * chunk cannot fit.
 */
export function planMemory(
  size: NetworkSize,
  o: {
    batch: number;
    evalBatch?: number;
    backend: BackendChoice;
    processes?: number;
    file: string;
    /** What to tell the user to change when the batch is too large (default: use --batch N). */
    batchAdvice?: (fits: number) => string;
  },
): MemoryPlan {
  const budget = memoryBudget(o.backend, o.processes);
  const w = weightBytes(size);
  if (w > budget.bytes) throw new UserError(`the network has ${size.params.toExponential(2)} weights: with their gradients and probe copies that is ${gib(w)}, more than ${budget.what}; make the layers smaller`, o.file);
  const step = trainBytes(size, o.batch);
  if (step > budget.bytes) {
    const fits = Math.floor((budget.bytes - w) / (BYTES * TRAIN_FACTOR * size.activations));
    const advice = fits < 1 ? 'even one example does not fit: make the input or the layers smaller' : (o.batchAdvice ?? ((n: number) => `use --batch ${largestPow2(n)} or smaller`))(fits);
    throw new UserError(`a step on ${o.batch} examples needs about ${gib(step)} (${gib(BYTES * size.activations)} of layer outputs per example), more than ${budget.what}; ${advice}`, o.file);
  }
  const fitsEval = Math.max(1, Math.floor((budget.bytes - w) / (BYTES * EVAL_FACTOR * size.activations)));
  if (o.evalBatch !== undefined) {
    const e = evalBytes(size, o.evalBatch);
    if (e > budget.bytes) throw new UserError(`held-out evaluation in chunks of ${o.evalBatch} needs about ${gib(e)}, more than ${budget.what}; use --eval-batch ${largestPow2(fitsEval)} or smaller`, o.file);
    return { evalChunk: o.evalBatch, stepBytes: step, budgetBytes: budget.bytes };
  }
  return { evalChunk: Math.min(MAX_EVAL_CHUNK, fitsEval), stepBytes: step, budgetBytes: budget.bytes };
}

/** The largest power of two up to `batch` whose training step fits the budget (1 when none does: planMemory then refuses). */
export function largestFittingBatch(size: NetworkSize, batch: number, backend: BackendChoice, processes = 1): number {
  const budget = memoryBudget(backend, processes).bytes;
  if (trainBytes(size, batch) <= budget) return batch;
  const fits = Math.floor((budget - weightBytes(size)) / (BYTES * TRAIN_FACTOR * Math.max(1, size.activations)));
  return Math.max(1, largestPow2(Math.min(fits, batch)));
}

function largestPow2(n: number): number {
  let p = 1;
  while (p * 2 <= n) p *= 2;
  return p;
}
