// The Python reader as users meet it: which model it picks, module paths as layer names, the input shape,
// `bnlens inspect` counts (PyTorch: sum(p.numel()) from the PyTorch references; Keras: its own formula
// units·(in+1), 4·C for BatchNorm), one-line errors with file:line:col for constructs outside the subset,
// and the safetensors checks (missing, extra, mis-shaped keys).
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { UserError } from '../../src/engine/errors';
import { inspectNetwork } from '../../src/engine/inspect';
import { initPythonParser } from '../../src/engine/network/python/parser';
import { readPythonNetwork } from '../../src/engine/network/python/read';
import { parseSafetensors } from '../../src/engine/network/safetensors';

const REF = join(__dirname, '..', 'reference', 'pytorch');
const refs = JSON.parse(readFileSync(join(REF, 'references.json'), 'utf8')) as { cases: Record<string, { params: number; inputShape: number[]; model: string }> };
const dir = mkdtempSync(join(tmpdir(), 'bnlens-py-'));

before(async () => {
  await initPythonParser();
});

function errorOf(text: string, opts = {}): UserError {
  try {
    readPythonNetwork(text, 'net.py', opts);
  } catch (e) {
    if (e instanceof UserError) return e;
    throw e;
  }
  assert.fail('expected a UserError');
}

test('inspect parameter counts equal PyTorch’s sum(p.numel()) for every reference model', async () => {
  for (const [name, r] of Object.entries(refs.cases)) {
    const res = await inspectNetwork(join(REF, `${name}.py`), { inputShape: r.inputShape });
    assert.equal(res.totalParams, r.params, name);
    assert.equal(res.trainableParams, r.params, name);
  }
});

test('layers are named by module path and keep their source line; forward order is model order', () => {
  const net = readPythonNetwork(readFileSync(join(REF, 'residual.py'), 'utf8'), 'residual.py', { inputShape: [3, 8, 8] });
  const names = net.spec.layers.map((l) => l.name);
  for (const n of ['conv1', 'bn1', 'layer1.conv1', 'layer1.bn2', 'layer2.shortcut.0', 'layer2.shortcut.1', 'linear']) assert.ok(names.includes(n), n);
  assert.ok(names.indexOf('layer2.conv2') < names.indexOf('layer2.shortcut.0'), 'shortcut applied after conv2 in forward');
  const conv = net.spec.layers.find((l) => l.name === 'layer1.conv1')!;
  assert.equal(conv.range?.line, 11, 'nn.Conv2d(...) of BasicBlock.__init__');
  assert.equal(net.spec.layout, 'NCHW');
});

test('the model: a module-level instance wins; else the one class no other uses; else a one-line list of candidates', () => {
  const two = `import torch.nn as nn\nclass A(nn.Module):\n    def __init__(self):\n        super().__init__()\n        self.fc = nn.Linear(4, 2)\n    def forward(self, x):\n        return self.fc(x)\nclass B(nn.Module):\n    def __init__(self):\n        super().__init__()\n        self.fc = nn.Linear(4, 3)\n    def forward(self, x):\n        return self.fc(x)\n`;
  const e = errorOf(two);
  assert.match(e.format(), /^net\.py:\d+:\d+: this file defines 2 models \(A, B\); pick one with --model NAME/);
  assert.equal(readPythonNetwork(two, 'net.py', { model: 'B' }).chosen, 'B');
  const inst = `${two}model = B()\n`;
  assert.equal(readPythonNetwork(inst, 'net.py').chosen, 'model');
  const sub = `${two}class C(A):\n    pass\n`;
  assert.match(errorOf(sub).message, /defines 2 models \(B, C\)/, 'A is used by C, so it is not a candidate');
  const vgg = `import torch.nn as nn\ncfg = {'S': [4, 'M', 8]}\nclass VGG(nn.Module):\n    def __init__(self, name):\n        super().__init__()\n        layers = []\n        c = 3\n        for v in cfg[name]:\n            if v == 'M':\n                layers += [nn.MaxPool2d(2)]\n            else:\n                layers += [nn.Conv2d(c, v, 3, padding=1), nn.BatchNorm2d(v), nn.ReLU(inplace=True)]\n                c = v\n        self.features = nn.Sequential(*layers)\n        self.classifier = nn.Linear(8 * 16 * 16, 10)\n    def forward(self, x):\n        out = self.features(x)\n        out = out.view(out.size(0), -1)\n        return self.classifier(out)\n`;
  assert.match(errorOf(vgg).format(), /net\.py:3:7: VGG needs constructor arguments; give them with --model "VGG\(\.\.\.\)"/);
  const net = readPythonNetwork(vgg, 'net.py', { model: "VGG('S')" });
  assert.deepEqual(
    net.spec.layers.filter((l) => l.kind === 'conv2d').map((l) => l.name),
    ['features.0', 'features.4'],
  );
});

test('constructs outside the subset: file:line:col, the construct, the fix', () => {
  const lstm = `import torch.nn as nn\nclass R(nn.Module):\n    def __init__(self):\n        super().__init__()\n        self.rnn = nn.LSTM(4, 8)\n    def forward(self, x):\n        return self.rnn(x)\n`;
  assert.match(errorOf(lstm).format(), /^net\.py:5:20: nn\.LSTM is outside the Python subset BatchNorm Lens reads; .*ONNX/);
  const mul = `import torch.nn as nn\nclass R(nn.Module):\n    def __init__(self):\n        super().__init__()\n        self.fc = nn.Linear(4, 4)\n    def forward(self, x):\n        return self.fc(x) * x\n`;
  assert.match(errorOf(mul).format(), /^net\.py:7:16: tensor \* a tensor is outside the Python subset/);
  const wrongIn = `import torch.nn as nn\nmodel = nn.Sequential(nn.Linear(4, 3), nn.Linear(5, 2))\n`;
  assert.match(errorOf(wrongIn).format(), /nn\.Linear 1 expects in_features 5 but receives shape \[3\]/);
  const syntax = `import torch.nn as nn\nmodel = nn.Sequential(nn.Linear(4, 3)\n`;
  assert.match(errorOf(syntax).format(), /^net\.py:\d+:\d+: Python syntax error/);
  assert.match(errorOf('x = 1\n').message, /imports neither torch nor keras/);
});

test('grouped and depthwise Conv2d, ZeroPad2d and Upsample: read with PyTorch’s shapes; what the engine cannot do is one line', () => {
  const net = readPythonNetwork(readFileSync(join(REF, 'mobile_blocks.py'), 'utf8'), 'mobile_blocks.py', { inputShape: [4, 8, 7] });
  const byName = new Map(net.spec.layers.map((l) => [l.name, l]));
  assert.deepEqual(
    byName.get('pad'),
    {
      ...byName.get('pad'),
      kind: 'zeropad',
      padding: [
        [2, 1],
        [1, 0],
      ],
    },
    'ZeroPad2d((left, right, top, bottom))',
  );
  assert.equal((byName.get('dw') as { groups?: number }).groups, 4);
  assert.equal((byName.get('grouped') as { groups?: number }).groups, 3);
  assert.deepEqual((byName.get('up') as { size?: number[] }).size, [2, 2]);
  const mod = (body: string) => `import torch.nn as nn\nclass R(nn.Module):\n    def __init__(self):\n        super().__init__()\n        self.m = ${body}\n    def forward(self, x):\n        return self.m(x)\n`;
  const opts = { inputShape: [6, 4, 4] };
  assert.match(errorOf(mod('nn.Conv2d(6, 4, 3, groups=4)'), opts).format(), /^net\.py:5:\d+: nn\.Conv2d m has groups=4, which must divide both in_channels 6 and out_channels 4$/);
  assert.match(errorOf(mod("nn.Upsample(scale_factor=2, mode='bilinear')"), opts).format(), /^net\.py:5:\d+: nn\.Upsample\(mode=.bilinear.\) is outside the Python subset.*mode='nearest'/);
  assert.match(errorOf(mod('nn.Upsample(size=(6, 8))'), opts).format(), /from 4×4 to 6×8 is outside the Python subset.*whole factors/);
  assert.match(errorOf(mod('nn.ZeroPad2d((1, -1, 0, 0))'), opts).format(), /negative padding \(cropping\).*padding ≥ 0/);
  assert.match(errorOf(mod('nn.ZeroPad2d((1, 1))'), opts).format(), /nn\.ZeroPad2d m has padding \(1, 1\); give an integer or \(left, right, top, bottom\)/);
});

test('F.pad and F.interpolate in forward: zero padding and nearest upsampling with PyTorch’s shapes; the rest is one line', () => {
  const net = readPythonNetwork(readFileSync(join(REF, 'pad_upsample.py'), 'utf8'), 'pad_upsample.py', { inputShape: [2, 6, 7] });
  const pads = net.spec.layers.filter((l) => l.kind === 'zeropad').map((l) => (l as { padding: number[][] }).padding);
  assert.deepEqual(pads, [
    [
      [0, 1],
      [1, 2],
    ],
    [
      [0, 0],
      [1, 1],
    ],
  ]);
  assert.deepEqual(
    net.spec.layers.filter((l) => l.kind === 'upsample').map((l) => (l as { size: number[] }).size),
    [[2, 2]],
  );
  const fwd = (call: string) =>
    `import torch.nn as nn\nimport torch.nn.functional as F\nclass R(nn.Module):\n    def __init__(self):\n        super().__init__()\n        self.c = nn.Conv2d(6, 2, 1)\n    def forward(self, x):\n        return self.c(${call})\n`;
  const opts = { inputShape: [6, 4, 4] };
  assert.match(errorOf(fwd("F.pad(x, (1, 1), mode='reflect')"), opts).format(), /^net\.py:8:\d+: F\.pad\(mode=.reflect., value=None\) is outside the Python subset.*mode='constant'/);
  assert.match(errorOf(fwd('F.pad(x, (1, 1, 1, 1, 1, 1))'), opts).format(), /F\.pad with pad \(1, 1, 1, 1, 1, 1\) is outside the Python subset.*\(left, right, top, bottom\)/);
  assert.match(errorOf(fwd("F.interpolate(x, scale_factor=2, mode='bilinear')"), opts).format(), /F\.interpolate\(mode=.bilinear.\) is outside the Python subset.*mode='nearest'/);
  assert.match(errorOf(fwd('F.interpolate(x, size=(6, 6))'), opts).format(), /F\.interpolate from 4×4 to 6×6 is outside the Python subset.*whole factors/);
});

test('Keras in Python: Sequential and functional models, counts as Keras counts them', () => {
  const seq = `from tensorflow import keras\nfrom tensorflow.keras import layers\nmodel = keras.Sequential([\n    keras.Input(shape=(28, 28, 1)),\n    layers.Conv2D(8, kernel_size=(3, 3), activation="relu"),\n    layers.MaxPooling2D(pool_size=(2, 2)),\n    layers.BatchNormalization(),\n    layers.Flatten(),\n    layers.Dropout(0.5),\n    layers.Dense(10, activation="softmax"),\n])\n`;
  const net = readPythonNetwork(seq, 'k.py');
  assert.deepEqual(
    net.spec.layers.map((l) => l.name),
    ['input_layer', 'conv2d', 'max_pooling2d', 'batch_normalization', 'flatten', 'dropout', 'dense'],
  );
  const fn = `import keras\nfrom keras import layers\ninputs = keras.Input(shape=(784,))\nx = layers.Dense(64, activation="relu")(inputs)\ny = layers.Dense(64, activation="relu")(x)\nx = layers.Add()([x, y])\noutputs = layers.Dense(10)(x)\nmodel = keras.Model(inputs=inputs, outputs=outputs, name="mnist_model")\nmodel.compile(loss="x")\n`;
  const f = readPythonNetwork(fn, 'f.py');
  assert.equal(f.spec.name, 'mnist_model');
  assert.deepEqual(f.spec.layers.find((l) => l.kind === 'add')!.inbound, ['dense', 'dense_1']);
});

test('Keras counts: Dense units·(in+1), BatchNorm 4·C of which 2·C trainable', async () => {
  const file = join(dir, 'k.py');
  writeFileSync(file, `from tensorflow import keras\nfrom tensorflow.keras import layers\nmodel = keras.Sequential([layers.Dense(32, input_shape=(20,)), layers.BatchNormalization(), layers.Dense(5)])\n`);
  const r = await inspectNetwork(file);
  assert.equal(r.trainableParams, 32 * 21 + 2 * 32 + 5 * 33);
  assert.equal(r.totalParams, 32 * 21 + 4 * 32 + 5 * 33);
});

test('safetensors: the format by its specification; missing, extra and mis-shaped keys are one line each', async () => {
  const st = parseSafetensors(readFileSync(join(REF, 'seq_bn1d.safetensors')), 'w');
  assert.deepEqual(st.get('0.weight')!.shape, [32, 20]);
  assert.equal(st.get('1.running_var')!.dtype, 'F32');
  const py = join(dir, 'seq.py');
  copyFileSync(join(REF, 'seq_bn1d.py'), py);
  const write = (entries: Record<string, number[]>) => {
    let off = 0;
    const header: Record<string, unknown> = {};
    for (const [k, shape] of Object.entries(entries)) {
      const n = shape.reduce((a, b) => a * b, 1) * 4;
      header[k] = { dtype: 'F32', shape, data_offsets: [off, off + n] };
      off += n;
    }
    const h = Buffer.from(JSON.stringify(header));
    const len = Buffer.alloc(8);
    len.writeBigUInt64LE(BigInt(h.length));
    writeFileSync(join(dir, 'w.safetensors'), Buffer.concat([len, h, Buffer.alloc(off)]));
    return join(dir, 'w.safetensors');
  };
  const full = { '0.weight': [32, 20], '0.bias': [32], '1.weight': [32], '1.bias': [32], '1.running_mean': [32], '1.running_var': [32], '3.weight': [5, 32], '3.bias': [5] };
  assert.equal((await inspectNetwork(py, { weights: write(full) })).totalParams, 901);
  const { '3.bias': _gone, ...missing } = full;
  await assert.rejects(inspectNetwork(py, { weights: write(missing) }), /has no "3\.bias" \(shape \[5\]\)/);
  await assert.rejects(inspectNetwork(py, { weights: write({ ...full, 'fc9.weight': [2, 2] }) }), /"fc9\.weight" in w\.safetensors is not a parameter of model/);
  await assert.rejects(inspectNetwork(py, { weights: write({ ...full, '3.weight': [5, 31] }) }), /"3\.weight" has shape \[5, 31\] in w\.safetensors but model needs \[5, 32\]/);
});
