// ONNX files as users hand them over, good and bad: damaged protobufs, graphs the engine cannot train, and
// the storage variants of weights (float64, float16, external data, later opsets). Bad files must give one
// line on stderr naming the file, the node, its op type and the fix, with exit code 2; good ones must give
// PyTorch's float64 probe (the variants are written from PyTorch's own exports, test/fixtures/onnx).
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { onnx } from 'onnx-proto';
import { ROOT, runProbe } from '../reference/cli';
import { compareWithTorch, ONNX_DIR, probeArgs, references, type OnnxReference } from './onnx-helpers';

const BIN = join(ROOT, 'bin', 'bnlens.js');
const dir = mkdtempSync(join(tmpdir(), 'bnlens-onnx-'));
const REFS = new Map(references().map((r) => [r.model.replace(/\.onnx$/, ''), r]));

function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((res) => {
    execFile(process.execPath, [BIN, ...args], { cwd: dir, timeout: 120_000 }, (err, stdout, stderr) => {
      res({ code: err ? (((err as NodeJS.ErrnoException & { code?: number }).code as unknown as number) ?? 1) : 0, stdout, stderr });
    });
  });
}

async function expectOneLineError(file: string, pattern: RegExp) {
  const r = await run(['probe', file, '--data', join(ONNX_DIR, 'seq_bn1d.npz'), '--eta', '0.1', '--backend', 'cpu']);
  assert.equal(r.code, 2, `exit code 2 expected, got ${r.code}; stderr: ${r.stderr}`);
  assert.equal(r.stdout, '');
  const lines = r.stderr.trimEnd().split('\n');
  assert.equal(lines.length, 1, `one line expected, got:\n${r.stderr}`);
  assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
  assert.match(lines[0], new RegExp(`^bnlens: ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: `));
  assert.match(lines[0], pattern);
}

interface Graph {
  node: onnx.NodeProto[];
  input: onnx.ValueInfoProto[];
  output: onnx.ValueInfoProto[];
  initializer: onnx.TensorProto[];
}
const g = (m: onnx.ModelProto) => m.graph as unknown as Graph;
const load = (name: string) => onnx.ModelProto.decode(readFileSync(join(ONNX_DIR, `${name}.onnx`)));
const save = (m: onnx.ModelProto, file: string) => {
  const path = join(dir, file);
  writeFileSync(path, onnx.ModelProto.encode(m).finish());
  return path;
};
const node = (m: onnx.ModelProto, op: string) => g(m).node.find((n) => n.opType === op)!;

async function expectTorch(model: string, ref: OnnxReference, backend = 'cpu') {
  const out = await runProbe(probeArgs(ref, backend, model));
  const cmp = compareWithTorch(`${model}/${backend}`, out, ref);
  assert.equal(cmp.failures.length, 0, cmp.report());
}

// ------------------------------------------------------------------ damaged files

test('a truncated .onnx: one line, exit 2, says truncated', async () => {
  const bytes = readFileSync(join(ONNX_DIR, 'conv_pool.onnx'));
  for (const cut of [bytes.length - 7, Math.floor(bytes.length / 2), 40]) {
    writeFileSync(join(dir, 'cut.onnx'), bytes.subarray(0, cut));
    await expectOneLineError('cut.onnx', /truncated/);
  }
});

test('files that are not ONNX (wrong magic): one line naming what they look like', async () => {
  const cases: [string, Buffer, RegExp][] = [
    ['zip.onnx', Buffer.from('PK\x03\x04\x14\x00\x00\x00', 'latin1'), /not an ONNX model: the file is a zip archive/],
    ['pickle.onnx', Buffer.from([0x80, 0x02, 0x63, 0x5f]), /not an ONNX model: the file is a Python pickle/],
    ['json.onnx', Buffer.from('{"modelTopology": {}}'), /not an ONNX model: the file is a JSON file/],
    ['h5.onnx', Buffer.from('\x89HDF\r\n\x1a\n', 'latin1'), /HDF5/],
    ['zeros.onnx', Buffer.alloc(64), /not an ONNX model: byte 0 \(0x00\)/],
    ['empty.onnx', Buffer.alloc(0), /the file is empty/],
  ];
  for (const [file, bytes, pattern] of cases) {
    writeFileSync(join(dir, file), bytes);
    await expectOneLineError(file, pattern);
  }
});

test('a protobuf that is not a model (no graph): one line', async () => {
  // A valid TensorProto message is valid protobuf but has no graph.
  writeFileSync(join(dir, 'tensor.onnx'), onnx.TensorProto.encode(onnx.TensorProto.create({ dims: [2], dataType: 1, floatData: [1, 2], name: 'w' })).finish());
  await expectOneLineError('tensor.onnx', /not an ONNX model|truncated|no graph/);
});

// ------------------------------------------------------------------ graphs the engine cannot train

test('an unsupported op names the node, its op type and what is supported', async () => {
  const m = load('seq_bn1d');
  node(m, 'Relu').opType = 'Mish';
  save(m, 'mish.onnx');
  await expectOneLineError('mish.onnx', /node "\/2\/Relu" \(Mish\): operator Mish is not supported; supported: Gemm, MatMul, Conv/);
});

test('control flow (Loop, If, Scan) is refused with the node and what to do', async () => {
  for (const op of ['Loop', 'If', 'Scan']) {
    const m = load('seq_bn1d');
    node(m, 'Relu').opType = op;
    save(m, `${op}.onnx`);
    await expectOneLineError(`${op}.onnx`, new RegExp(`node "/2/Relu" \\(${op}\\): control flow \\(${op}\\) is not supported.*torch\\.onnx\\.export`));
  }
});

test('several inputs or outputs: one line naming them', async () => {
  const two = load('seq_bn1d');
  g(two).input.push(onnx.ValueInfoProto.create({ name: 'mask', type: g(two).input[0].type }));
  save(two, 'inputs.onnx');
  await expectOneLineError('inputs.onnx', /the graph has 2 inputs \("x", "mask"\); .* exactly one input/);
  const outs = load('seq_bn1d');
  g(outs).output.push(onnx.ValueInfoProto.create({ name: '/2/Relu_output_0' }));
  save(outs, 'outputs.onnx');
  await expectOneLineError('outputs.onnx', /the graph has 2 outputs \("y", "\/2\/Relu_output_0"\); .* exactly one output/);
});

test('a dynamic dimension other than the batch is refused with the fix', async () => {
  const m = load('conv_pool');
  const dim = g(m).input[0].type!.tensorType!.shape!.dim![2];
  dim.dimValue = null;
  dim.dimParam = 'height';
  save(m, 'dynamic.onnx');
  await expectOneLineError('dynamic.onnx', /input "x" has a dynamic dimension 2 \("height"\); export with a fixed example size and dynamic_axes only on the batch/);
});

test('a reshape that does not fold to [batch, features] names the node', async () => {
  const m = load('conv_pool');
  // Reshape to [N, 8, 4] instead of [N, -1]: the second Unsqueeze now feeds 8, and a third dim follows.
  const concat = node(m, 'Concat');
  g(m).initializer.push(onnx.TensorProto.create({ name: 'extra', dims: [2], dataType: 7, int64Data: [8, 4] }));
  concat.input = [concat.input[0], 'extra'];
  save(m, 'reshape.onnx');
  await expectOneLineError('reshape.onnx', /node "\/Reshape" \(Reshape\): reshaping \[N, 8, 2, 2\] to \[N, 8, 4\] is not supported/);
});

test('a reshape to [-1, features] (tf2onnx, Keras) is the flatten it means; one that regroups the batch is refused', async () => {
  // The traced Shape → Gather → Unsqueeze → Concat replaced by a constant target shape with the batch inferred.
  const flat = load('conv_pool');
  const reshape = node(flat, 'Reshape');
  g(flat).initializer.push(onnx.TensorProto.create({ name: 'flat_shape', dims: [2], dataType: 7, int64Data: [-1, 32] }));
  reshape.input = [reshape.input[0], 'flat_shape'];
  await expectTorch(save(flat, 'reshape-minus1.onnx'), REFS.get('conv_pool')!);
  const wrong = load('conv_pool');
  g(wrong).initializer.push(onnx.TensorProto.create({ name: 'half_shape', dims: [2], dataType: 7, int64Data: [-1, 16] }));
  node(wrong, 'Reshape').input = [node(wrong, 'Reshape').input[0], 'half_shape'];
  save(wrong, 'reshape-regroup.onnx');
  await expectOneLineError('reshape-regroup.onnx', /node "\/Reshape" \(Reshape\): target shape \[-1, 16\] regroups the batch \(one example has 32 values \[8, 2, 2\], not 16\); reshape to \[-1, 32\] or \[N, -1\]/);
});

test('a group that does not divide the channels names the node and the group', async () => {
  const m = load('op_pool_concat');
  const conv = node(m, 'Conv');
  conv.attribute.find((a) => a.name === 'group')!.i = 3;
  save(m, 'group.onnx');
  await expectOneLineError('group.onnx', /node "\/a\/Conv" \(Conv\): group = 3 does not divide its 2 input channels and 3 output channels/);
});

test('negative Conv pads (cropping) name the node and the pads', async () => {
  const m = load('conv_pool');
  const conv = node(m, 'Conv');
  conv.attribute.find((a) => a.name === 'pads')!.ints = [-1, 0, 0, 0];
  save(m, 'pads.onnx');
  await expectOneLineError('pads.onnx', /node "\/conv1\/Conv" \(Conv\): pads \[-1, 0, 0, 0\] crop the input/);
});

test('auto_pad SAME_LOWER is padded with the extra cell first: here exactly the padding PyTorch wrote', async () => {
  // down = Conv2d(3, 6, 3, stride=2, padding=1) on 8×8: SAME_LOWER pads [1, 0], whose windows are PyTorch's
  // (its bottom pad of 1 is never read), so the probe is PyTorch's; TF's 'same' ([0, 1]) would not be.
  const m = load('op_conv_pads');
  const conv = node(m, 'Conv');
  conv.attribute = conv.attribute.filter((a) => a.name !== 'pads');
  conv.attribute.push(onnx.AttributeProto.create({ name: 'auto_pad', type: 3, s: Buffer.from('SAME_LOWER') }) as onnx.AttributeProto);
  await expectTorch(save(m, 'same-lower.onnx'), REFS.get('op_conv_pads')!);
});

test('a Pad whose zeros would reach another op than a Conv or AveragePool names the reading node', async () => {
  const m = load('op_pool_pads');
  const pad = node(m, 'Pad');
  const avg = g(m).node.find((n) => n.name === '/smooth/AveragePool')!;
  g(m).node.splice(g(m).node.indexOf(avg), 0, onnx.NodeProto.create({ name: '/smooth/Relu', opType: 'Relu', input: [pad.output[0]], output: ['after_relu'] }) as onnx.NodeProto);
  avg.input = ['after_relu'];
  save(m, 'pad-relu.onnx');
  await expectOneLineError('pad-relu.onnx', /node "\/smooth\/Relu" \(Relu\): its input is zero-padded by a Pad node; .* folds a Pad only into the Conv or AveragePool/);
});

test('average pooling whose ceil_mode adds a partial window is refused; max pooling takes it', async () => {
  const m = load('op_pool_pads');
  const shrink = g(m).node.find((n) => n.name === '/shrink/AveragePool')!;
  shrink.attribute.find((a) => a.name === 'ceil_mode')!.i = 1;
  shrink.attribute.find((a) => a.name === 'kernel_shape')!.ints = [3, 3];
  save(m, 'avg-ceil.onnx');
  await expectOneLineError('avg-ceil.onnx', /node "\/shrink\/AveragePool" \(AveragePool\): ceil_mode = 1 adds a partial last window on this 4×4 input/);
});

test('an opset outside 9–21 is refused with the range', async () => {
  const m = load('seq_bn1d');
  m.opsetImport[0].version = 22;
  save(m, 'opset22.onnx');
  await expectOneLineError('opset22.onnx', /opset 22; BatchNorm Lens reads opsets 9–21/);
});

test('a missing external data file is named', async () => {
  const m = load('seq_bn1d');
  const w = g(m).initializer[0];
  w.rawData = new Uint8Array(0);
  w.dataLocation = 1;
  w.externalData = [onnx.StringStringEntryProto.create({ key: 'location', value: 'weights.data' })];
  save(m, 'external-missing.onnx');
  await expectOneLineError('external-missing.onnx', /initializer "0\.weight" is stored in the external data file "weights\.data", which is missing; copy it next to the model/);
});

// ------------------------------------------------------------------ storage variants give PyTorch's numbers

test('opset 21 (the same ops, relabelled) reads and probes like the opset-17 export', async () => {
  // torch 1.13 writes opsets up to 17; none of the ops in this file changed meaning between 17 and 21.
  const m = load('deep_linear');
  m.opsetImport[0].version = 21;
  m.irVersion = 10;
  await expectTorch(save(m, 'opset21.onnx'), REFS.get('deep_linear')!);
});

test('float64 initializers are converted to float32 and give the same probe', async () => {
  const m = load('residual');
  for (const t of g(m).initializer) {
    const f = new Float32Array(t.rawData.buffer.slice(t.rawData.byteOffset, t.rawData.byteOffset + t.rawData.byteLength));
    t.dataType = 11;
    t.rawData = new Uint8Array(Float64Array.from(f).buffer);
  }
  await expectTorch(save(m, 'float64.onnx'), REFS.get('residual')!);
});

test('float32 weights in float_data (not raw_data) and external data beside the model give the same probe', async () => {
  const m = load('conv_pool');
  const ext: Buffer[] = [];
  let offset = 0;
  g(m).initializer.forEach((t, k) => {
    const raw = Buffer.from(t.rawData);
    if (k % 2 === 0) {
      t.floatData = Array.from(new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength)));
    } else {
      t.dataLocation = 1;
      t.externalData = [
        onnx.StringStringEntryProto.create({ key: 'location', value: 'conv_pool.data' }),
        onnx.StringStringEntryProto.create({ key: 'offset', value: String(offset) }),
        onnx.StringStringEntryProto.create({ key: 'length', value: String(raw.length) }),
      ];
      ext.push(raw);
      offset += raw.length;
    }
    t.rawData = new Uint8Array(0);
  });
  writeFileSync(join(dir, 'conv_pool.data'), Buffer.concat(ext));
  await expectTorch(save(m, 'external.onnx'), REFS.get('conv_pool')!);
});

test('float16 initializers are converted exactly', async () => {
  // Values exactly representable in float16; their bit patterns written by hand (sign, exponent, mantissa).
  const { readOnnxNetwork } = await import('../../src/engine/network/onnx/load');
  const m = load('op_gemm_alpha_beta');
  const b = g(m).initializer.find((t) => t.name === 'b')!;
  const halves = [0x3800, 0xbd00, 0x4200, 0x0001, 0x7bff]; // 0.5, -1.25, 3, 2^-24, 65504
  b.dataType = 10;
  b.rawData = new Uint8Array(Uint16Array.from(halves).buffer);
  const net = readOnnxNetwork(save(m, 'half.onnx'));
  const specs = net.spec.weights!.specs;
  let off = 0;
  for (const s of specs) {
    const n = s.shape.reduce((a, c) => a * c, 1);
    if (s.name === 'w/bias') {
      const got = Array.from(new Float32Array(net.spec.weights!.data, off * 4, n));
      // Gemm beta = 0.5 scales the bias.
      assert.deepEqual(
        got,
        [0.5, -1.25, 3, 2 ** -24, 65504].map((v) => v * 0.5),
      );
    }
    off += n;
  }
});

test('an Identity node between layers is followed through', async () => {
  const m = load('seq_bn1d');
  const drop = node(m, 'Dropout');
  const relu = node(m, 'Relu');
  g(m).node.splice(g(m).node.indexOf(drop), 0, onnx.NodeProto.create({ name: '/id/Identity', opType: 'Identity', input: [relu.output[0]], output: ['after_identity'] }));
  drop.input = ['after_identity'];
  await expectTorch(save(m, 'identity.onnx'), REFS.get('seq_bn1d')!);
});

test('nodes listed out of order are put in topological order', async () => {
  const m = load('residual');
  g(m).node.reverse();
  await expectTorch(save(m, 'reversed.onnx'), REFS.get('residual')!);
});

test('an NHWC input that a Transpose turns into NCHW (as tf2onnx writes Keras models) takes NHWC data', async () => {
  const m = load('op_pool_concat');
  const x = g(m).input[0];
  const [n, c, h, w] = x.type!.tensorType!.shape!.dim!.map((d) => Number(d.dimValue));
  const nhwc = onnx.ValueInfoProto.create({
    name: 'x_nhwc',
    type: { tensorType: { elemType: 1, shape: { dim: [n, h, w, c].map((v) => ({ dimValue: v })) } } },
  });
  g(m).input[0] = nhwc as onnx.ValueInfoProto;
  g(m).node.unshift(onnx.NodeProto.create({ name: '/to_nchw/Transpose', opType: 'Transpose', input: ['x_nhwc'], output: ['x'], attribute: [{ name: 'perm', type: 7, ints: [0, 3, 1, 2] }] }) as onnx.NodeProto);
  const ref = REFS.get('op_pool_concat')!;
  const data = join(dir, 'nhwc.npz');
  execFileSync('python3', ['-c', 'import sys, numpy as np; d = np.load(sys.argv[1]); np.savez(sys.argv[2], x=d["x"].transpose(0, 2, 3, 1), y=d["y"])', join(ONNX_DIR, ref.data), data]);
  const out = await runProbe([
    save(m, 'nhwc.onnx'),
    ...probeArgs(ref, 'cpu')
      .slice(1)
      .map((a) => (a === join(ONNX_DIR, ref.data) ? data : a)),
  ]);
  const cmp = compareWithTorch('nhwc/cpu', out, ref);
  assert.equal(cmp.failures.length, 0, cmp.report());
});

// ------------------------------------------------------------------ folded BatchNorm of an eval-mode export

test('an eval-mode export is detected as folded: one note with the fix, and the probe still runs', async () => {
  const r = await run(['probe', join(ONNX_DIR, 'conv_pool_eval.onnx'), '--data', join(ONNX_DIR, 'conv_pool_eval.npz'), '--eta', '0.1', '--backend', 'cpu']);
  assert.equal(r.code, 0, r.stderr);
  const notes = r.stderr.split('\n').filter((l) => l.startsWith('bnlens: note:'));
  assert.equal(notes.length, 1, r.stderr);
  assert.match(notes[0], /BatchNorm layers were folded away by the export .*"conv1".* variants are derived from the folded network .*training=torch\.onnx\.TrainingMode\.TRAINING, do_constant_folding=False/);
  const out = JSON.parse(r.stdout);
  assert.deepEqual(
    out.ics.map((e: { layer: string }) => e.layer),
    ['conv1', 'conv2', 'fc'],
  );
  // The training-mode export of the same network has no such note.
  const t = await run(['probe', join(ONNX_DIR, 'conv_pool.onnx'), '--data', join(ONNX_DIR, 'conv_pool.npz'), '--eta', '0.1', '--backend', 'cpu']);
  assert.equal(t.code, 0, t.stderr);
  assert.doesNotMatch(t.stderr, /note:/);
});

test('bnlens analyze says it once, also when the variants run in several engine processes', async () => {
  const r = await run(['analyze', join(ONNX_DIR, 'conv_pool_eval.onnx'), '--dataset', join(ONNX_DIR, 'conv_pool_eval.npz'), '--steps', '2', '--batch', '4', '--backend', 'cpu', '--out', join(dir, 'eval-report.json')]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stderr.split('\n').filter((l) => /BatchNorm layers were folded away by the export/.test(l)).length, 1, r.stderr);
  const report = JSON.parse(readFileSync(join(dir, 'eval-report.json'), 'utf8'));
  assert.equal(report.model.format, 'onnx');
  assert.deepEqual(
    report.model.layers.filter((l: { params: number }) => l.params > 0).map((l: { name: string }) => l.name),
    ['conv1', 'conv2', 'fc'],
  );
});
