// Shared by the analyze-*, variants-*, science-* and cli-* tests: small networks written the way Keras 2,
// Keras 3 and tfjs write them, data files written by NumPy (an independent writer), temp folders, and a
// runner for the built CLI as a user starts it.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after } from 'node:test';

export const ROOT = resolve(__dirname, '..', '..');
export const EXAMPLES = ['mlp-mnist.json', 'vgg-mnist.json', 'deep-linear.json'].map((f) => join(ROOT, 'examples', f));

export function tempDir(tag: string): string {
  const dir = mkdtempSync(join(tmpdir(), `bnlens-${tag}-`));
  after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Runs Python with numpy as np and D = dir; returns stdout. */
export function py(dir: string, code: string): string {
  const r = spawnSync('python3', ['-c', `import numpy as np, sys, json\nD = ${JSON.stringify(dir)}\n${code}`], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`python failed:\n${r.stderr}`);
  return r.stdout;
}

/** A classification .npz (x float32 [n, ...shape] ~ N(0,1), y int64 in [0, classes)), written by np.savez. */
export function writeNpzData(dir: string, tag: string, n: number, shape: number[], classes: number, seed = 0): string {
  const path = join(dir, `${tag}.npz`);
  py(
    dir,
    `rng = np.random.default_rng(${seed})
x = rng.standard_normal((${n}, ${shape.join(', ')})).astype(np.float32)
y = (np.arange(${n}) % ${classes}).astype(np.int64)
np.savez(${JSON.stringify(path)}, x=x, y=y)`,
  );
  return path;
}

export type LayerDef =
  | { type: 'Dense'; name: string; units: number; activation: string; useBias: boolean }
  | { type: 'Conv2D'; name: string; filters: number; kernel: [number, number]; activation: string; useBias: boolean; padding?: 'valid' | 'same' }
  | { type: 'BatchNormalization'; name: string }
  | { type: 'Activation'; name: string; activation: string }
  | { type: 'ReLU'; name: string }
  | { type: 'MaxPooling2D'; name: string }
  | { type: 'Flatten'; name: string };

export interface NetDef {
  name: string;
  inputShape: number[];
  layers: LayerDef[];
}

/** conv1 (no bias) → bn1 → Activation relu → pool → flatten → fc1 (relu, bias, no BN) → fc2 (no bias) → bn2 → ReLU → out. */
export const NET_WITH_BN: NetDef = {
  name: 'conv_bn',
  inputShape: [8, 8, 1],
  layers: [
    { type: 'Conv2D', name: 'conv1', filters: 4, kernel: [3, 3], activation: 'linear', useBias: false },
    { type: 'BatchNormalization', name: 'bn1' },
    { type: 'Activation', name: 'act1', activation: 'relu' },
    { type: 'MaxPooling2D', name: 'pool' },
    { type: 'Flatten', name: 'flatten' },
    { type: 'Dense', name: 'fc1', units: 8, activation: 'relu', useBias: true },
    { type: 'Dense', name: 'fc2', units: 8, activation: 'linear', useBias: false },
    { type: 'BatchNormalization', name: 'bn2' },
    { type: 'ReLU', name: 'relu2' },
    { type: 'Dense', name: 'out', units: 3, activation: 'softmax', useBias: true },
  ],
};

function config(l: LayerDef, k3: boolean): Record<string, unknown> {
  const init = (c: string) => (k3 ? { module: 'keras.initializers', class_name: c, config: c === 'Zeros' ? {} : { seed: null }, registered_name: null } : { class_name: c, config: c === 'Zeros' ? {} : { seed: null } });
  const base = { name: l.name, trainable: true, dtype: k3 ? { module: 'keras', class_name: 'DTypePolicy', config: { name: 'float32' }, registered_name: null } : 'float32' };
  switch (l.type) {
    case 'Dense':
      return {
        ...base,
        units: l.units,
        activation: l.activation,
        use_bias: l.useBias,
        kernel_initializer: init('GlorotUniform'),
        bias_initializer: init('Zeros'),
        kernel_regularizer: null,
        bias_regularizer: null,
        kernel_constraint: null,
        bias_constraint: null,
      };
    case 'Conv2D':
      return {
        ...base,
        filters: l.filters,
        kernel_size: l.kernel,
        strides: [1, 1],
        padding: l.padding ?? 'valid',
        data_format: 'channels_last',
        dilation_rate: [1, 1],
        groups: 1,
        activation: l.activation,
        use_bias: l.useBias,
        kernel_initializer: init('GlorotUniform'),
        bias_initializer: init('Zeros'),
      };
    case 'BatchNormalization':
      return {
        ...base,
        axis: -1,
        momentum: 0.99,
        epsilon: 0.001,
        center: true,
        scale: true,
        beta_initializer: init('Zeros'),
        gamma_initializer: init('Ones'),
        moving_mean_initializer: init('Zeros'),
        moving_variance_initializer: init('Ones'),
      };
    case 'Activation':
      return { ...base, activation: l.activation };
    case 'ReLU':
      return { ...base, max_value: null, negative_slope: 0, threshold: 0 };
    case 'MaxPooling2D':
      return { ...base, pool_size: [2, 2], strides: [2, 2], padding: 'valid', data_format: 'channels_last' };
    case 'Flatten':
      return { ...base, data_format: 'channels_last' };
  }
}

/** Keras 2 `model.to_json()` of a Sequential model (batch_input_shape on the first layer). */
export function keras2Model(net: NetDef): Record<string, unknown> {
  const layers = net.layers.map((l, i) => ({ class_name: l.type, config: i === 0 ? { ...config(l, false), batch_input_shape: [null, ...net.inputShape] } : config(l, false) }));
  return { class_name: 'Sequential', config: { name: net.name, layers }, keras_version: '2.15.0', backend: 'tensorflow' };
}

/** Keras 3 `model.to_json()` of a Sequential model (InputLayer with batch_shape, module/registered_name). */
export function keras3Model(net: NetDef): Record<string, unknown> {
  const layers = [
    { module: 'keras.layers', class_name: 'InputLayer', config: { batch_shape: [null, ...net.inputShape], dtype: 'float32', sparse: false, name: 'input_layer' }, registered_name: null },
    ...net.layers.map((l) => ({ module: 'keras.layers', class_name: l.type, config: config(l, true), registered_name: null })),
  ];
  return {
    module: 'keras',
    class_name: 'Sequential',
    config: { name: net.name, trainable: true, layers, build_input_shape: [null, ...net.inputShape] },
    registered_name: null,
    build_config: { input_shape: [null, ...net.inputShape] },
  };
}

/** A topology-only tfjs model.json (weights from the layers' initializers, seeded by --seed). */
export function tfjsModel(net: NetDef, metadata?: Record<string, unknown>): Record<string, unknown> {
  const topo = keras2Model(net);
  return {
    format: 'layers-model',
    generatedBy: 'bnlens tests',
    convertedBy: null,
    modelTopology: { ...topo, keras_version: 'tfjs-layers 4.22.0', backend: 'tensor_flow.js' },
    ...(metadata ? { userDefinedMetadata: { bnlens: metadata } } : {}),
  };
}

/**
 * The smallest network the analyze tests train: inputs → Dense(hidden, relu) → Dense(classes, softmax), as a
 * topology-only tfjs model.json in `dir`, and `n` seeded examples to train it on. Returns both paths.
 */
export function writeTinyMlp(dir: string, opts: { inputs?: number; hidden?: number; classes?: number; n?: number; tag?: string } = {}): { model: string; data: string } {
  const { inputs = 6, hidden = 8, classes = 3, n = 60, tag = 'train' } = opts;
  const model = join(dir, 'mlp.json');
  writeFileSync(
    model,
    JSON.stringify(
      tfjsModel({
        name: 'mlp',
        inputShape: [inputs],
        layers: [
          { type: 'Dense', name: 'h1', units: hidden, activation: 'relu', useBias: true },
          { type: 'Dense', name: 'out', units: classes, activation: 'softmax', useBias: true },
        ],
      }),
    ),
  );
  return { model, data: writeNpzData(dir, tag, n, [inputs], classes) };
}

// ---------------------------------------------------------------- the CLI as a user runs it

export function assertBuilt(): void {
  if (!existsSync(join(ROOT, 'dist', 'cli.js'))) throw new Error(`dist/cli.js is missing: build first with \`node esbuild.mjs\` in ${ROOT}`);
}

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/** `node bin/bnlens.js ARGS` with stdout/stderr as pipes (not a TTY). */
export function bnlens(args: string[], opts: { cwd?: string; timeoutMs?: number; onStderr?: (chunk: string, child: import('node:child_process').ChildProcess) => void } = {}): Promise<CliResult> {
  assertBuilt();
  const t0 = Date.now();
  return new Promise((res, rej) => {
    const child = spawn(process.execPath, [join(ROOT, 'bin', 'bnlens.js'), ...args], { cwd: opts.cwd ?? ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      rej(new Error(`bnlens ${args.join(' ')} did not finish within ${opts.timeoutMs ?? 120_000} ms\nstderr:\n${stderr}`));
    }, opts.timeoutMs ?? 120_000);
    child.stdout.on('data', (b) => (stdout += b));
    child.stderr.on('data', (b) => {
      stderr += b;
      opts.onStderr?.(String(b), child);
    });
    child.on('error', rej);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      res({ code, signal, stdout, stderr, ms: Date.now() - t0 });
    });
  });
}
