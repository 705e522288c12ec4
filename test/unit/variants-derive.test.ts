// The variants `bnlens analyze` derives from a network file (src/engine/variants.ts), checked layer by layer
// against lists written out by hand here from the rules of Santurkar et al. Sec. 2–3 as the project states
// them: standard = no BatchNorm (a Dense/Conv2D whose bias BatchNorm made redundant gets it back);
// batchnorm = BatchNorm after every Dense/Conv2D except the output, before the nonlinearity (a fused
// activation split off), bias dropped; noisy-batchnorm = the same with noise marked; l1/l2/linf = ℓp layers in
// place of BatchNorm. Files: the three examples, and a conv net that already has BatchNorm written as Keras 2
// and as Keras 3 `model.to_json()`. Then through the public run (analyze): the report's layer lists
// (sourceLayer / inserted), 'as-written' dropped only when it equals a derived network, and the layers
// variants share starting from the same initial weights (same seed).
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { analyze } from '../../src/engine/analyze';
import type { LayerNode } from '../../src/engine/network/ir';
import { loadNetwork } from '../../src/engine/network/load';
import { asWrittenIsDistinct, deriveVariants } from '../../src/engine/variants';
import type { EngineToHost } from '../../src/protocol';
import { EXAMPLES, keras2Model, keras3Model, NET_WITH_BN, tempDir, writeNpzData } from './analyze-fixtures';

const dir = tempDir('variants');

/** A compact, comparable view of a layer list: kind, name, inbound, and the fields the rules talk about. */
function view(layers: LayerNode[]): string[] {
  return layers.map((l) => {
    let s = `${l.kind} ${l.name} <- ${l.inbound.join('+') || '∅'}`;
    if (l.kind === 'dense' || l.kind === 'conv2d') s += ` bias=${l.useBias} act=${l.activation}`;
    if (l.kind === 'activation') s += ` act=${l.activation}`;
    if (l.kind === 'batchnorm') s += ` noisy=${l.noisy === true}`;
    if (l.kind === 'lpnorm') s += ` p=${l.p}`;
    if (l.derivedFrom) s += ` from=${l.derivedFrom}`;
    return s;
  });
}

// The network with BatchNorm: conv1 (no bias, linear) → bn1 → Activation relu → pool → flatten →
// fc1 (bias, fused relu, no BN) → fc2 (no bias, linear) → bn2 → ReLU → out (softmax).
function expectedFor(input: string) {
  const standard = [
    `input ${input} <- ∅`,
    `conv2d conv1 <- ${input} bias=true act=linear`, // bias regained: bn1 made it redundant
    'activation act1 <- conv1 act=relu',
    'pool pool <- act1',
    'flatten flatten <- pool',
    'dense fc1 <- flatten bias=true act=relu',
    'dense fc2 <- fc1 bias=true act=linear', // bias regained
    'relu relu2 <- fc2',
    'dense out <- relu2 bias=true act=softmax',
  ];
  const normalized = (kind: 'bn' | 'noisy' | 1 | 2 | 'inf') => {
    const suffix = kind === 'bn' || kind === 'noisy' ? 'bn' : `l${kind}`;
    const norm = (of: string) => (kind === 'bn' || kind === 'noisy' ? `batchnorm ${of}_${suffix} <- ${of} noisy=${kind === 'noisy'} from=${of}` : `lpnorm ${of}_${suffix} <- ${of} p=${kind} from=${of}`);
    return [
      `input ${input} <- ∅`,
      `conv2d conv1 <- ${input} bias=false act=linear`,
      norm('conv1'),
      `activation act1 <- conv1_${suffix} act=relu`,
      'pool pool <- act1',
      'flatten flatten <- pool',
      'dense fc1 <- flatten bias=false act=linear', // fused relu split off
      norm('fc1'),
      `activation fc1_act <- fc1_${suffix} act=relu from=fc1`,
      'dense fc2 <- fc1_act bias=false act=linear',
      norm('fc2'),
      `relu relu2 <- fc2_${suffix}`,
      'dense out <- relu2 bias=true act=softmax', // the output layer is left alone
    ];
  };
  return { standard, batchnorm: normalized('bn'), 'noisy-batchnorm': normalized('noisy'), l1: normalized(1), l2: normalized(2), linf: normalized('inf') };
}

for (const [label, make, input] of [
  ['Keras 2', keras2Model, 'conv1_input'],
  ['Keras 3', keras3Model, 'input_layer'],
] as const) {
  test(`${label} conv net with BatchNorm: every derived layer list`, () => {
    const path = join(dir, `${label.replace(' ', '')}.json`);
    writeFileSync(path, JSON.stringify(make(NET_WITH_BN), null, 1));
    const net = loadNetwork(path);
    assert.equal(net.spec.format, label === 'Keras 2' ? 'keras2' : 'keras3');
    const names = ['standard', 'batchnorm', 'noisy-batchnorm', 'l1', 'l2', 'linf'] as const;
    const variants = deriveVariants(net.spec, [...names]);
    const want = expectedFor(net.spec.layers[0].name);
    assert.equal(net.spec.layers[0].name, input);
    for (const v of variants) assert.deepEqual(view(v.layers), want[v.name as (typeof names)[number]], `variant ${v.name}`);
    // The file itself (BN after conv1 and fc2 only, fc1 without) is none of the derived networks.
    assert.equal(asWrittenIsDistinct(net.spec), true);
    // as-written is the file unchanged.
    assert.deepEqual(view(deriveVariants(net.spec, ['as-written'])[0].layers), view(net.spec.layers));
  });
}

test('examples: standard equals the file (no BatchNorm in it), batchnorm inserts one BN per hidden Dense/Conv2D', () => {
  for (const ex of EXAMPLES) {
    const net = loadNetwork(ex);
    const [std, bn] = deriveVariants(net.spec, ['standard', 'batchnorm']);
    assert.deepEqual(view(std.layers), view(net.spec.layers), ex);
    assert.equal(asWrittenIsDistinct(net.spec), false, `${ex}: as-written should be recognized as the standard variant`);
    const kernels = net.spec.layers.filter((l) => l.kind === 'dense' || l.kind === 'conv2d');
    const hidden = kernels.slice(0, -1);
    const bns = bn.layers.filter((l) => l.kind === 'batchnorm');
    assert.deepEqual(
      bns.map((l) => l.derivedFrom),
      hidden.map((l) => l.name),
      ex,
    );
    // Each BN directly follows its layer; every hidden kernel layer lost bias and activation; the output kept both.
    for (const h of hidden) {
      const i = bn.layers.findIndex((l) => l.name === h.name);
      const l = bn.layers[i];
      assert.ok((l.kind === 'dense' || l.kind === 'conv2d') && !l.useBias && l.activation === 'linear', `${ex} ${h.name}`);
      assert.equal(bn.layers[i + 1].kind, 'batchnorm');
      assert.deepEqual(bn.layers[i + 1].inbound, [h.name]);
      if ((h.kind === 'dense' || h.kind === 'conv2d') && h.activation !== 'linear') {
        const act = bn.layers[i + 2];
        assert.ok(act.kind === 'activation' && act.activation === h.activation && act.derivedFrom === h.name, `${ex} ${h.name}: activation after BN`);
      }
    }
    const out = bn.layers[bn.layers.length - 1];
    const origOut = kernels[kernels.length - 1];
    assert.equal(out.name, origOut.name);
    assert.ok(out.kind === origOut.kind && (out.kind === 'dense' || out.kind === 'conv2d') && origOut.kind === out.kind && out.useBias === origOut.useBias && out.activation === origOut.activation);
  }
});

test('the report: layer lists with sourceLayer/inserted, as-written kept or dropped, shared layers start from identical weights', async () => {
  const path = join(dir, 'k2run.json');
  writeFileSync(path, JSON.stringify(keras2Model(NET_WITH_BN)));
  const data = writeNpzData(dir, 'img', 24, [8, 8, 1], 3);
  const all = ['as-written', 'standard', 'batchnorm', 'noisy-batchnorm', 'l1', 'l2', 'linf'] as const;
  const r = await analyze({ model: path, dataset: data, variants: [...all], steps: 1, batch: 8, icsEvery: 1, evalEvery: 0, backend: 'cpu', seed: 3 });
  assert.deepEqual(
    r.variants.map((v) => v.name),
    [...all],
  );
  const bn = r.variants.find((v) => v.name === 'batchnorm')!;
  assert.deepEqual(
    bn.layers.map((l) => [l.name, l.className, l.sourceLayer, l.inserted]),
    [
      ['conv1_input', 'InputLayer', null, false],
      ['conv1', 'Conv2D', 'conv1', false],
      ['conv1_bn', 'BatchNormalization', 'conv1', true],
      ['act1', 'Activation', 'act1', false],
      ['pool', 'MaxPooling2D', 'pool', false],
      ['flatten', 'Flatten', 'flatten', false],
      ['fc1', 'Dense', 'fc1', false],
      ['fc1_bn', 'BatchNormalization', 'fc1', true],
      ['fc1_act', 'Activation', 'fc1', true],
      ['fc2', 'Dense', 'fc2', false],
      ['fc2_bn', 'BatchNormalization', 'fc2', true],
      ['relu2', 'ReLU', 'relu2', false],
      ['out', 'Dense', 'out', false],
    ],
  );
  // Parameter counts by hand: conv1 3·3·1·4 (no bias), BN 4 per unit (γ, β, moving mean, variance).
  const params = Object.fromEntries(bn.layers.map((l) => [l.name, l.params]));
  assert.deepEqual(params, { conv1_input: 0, conv1: 36, conv1_bn: 16, act1: 0, pool: 0, flatten: 0, fc1: 36 * 8, fc1_bn: 32, fc1_act: 0, fc2: 64, fc2_bn: 32, relu2: 0, out: 8 * 3 + 3 });
  const std = r.variants.find((v) => v.name === 'standard')!;
  assert.deepEqual(Object.fromEntries(std.layers.map((l) => [l.name, l.params])), { conv1_input: 0, conv1: 40, act1: 0, pool: 0, flatten: 0, fc1: 36 * 8 + 8, fc2: 72, relu2: 0, out: 27 });
  for (const v of r.variants.filter((v) => ['l1', 'l2', 'linf'].includes(v.name))) {
    const lp = v.layers.filter((l) => l.inserted && l.className !== 'Activation');
    assert.deepEqual(
      lp.map((l) => l.name),
      ['conv1', 'fc1', 'fc2'].map((n) => `${n}_${v.name === 'linf' ? 'linf' : v.name}`),
    );
    assert.ok(
      lp.every((l) => l.className === `L${v.name === 'linf' ? '∞' : v.name.slice(1)}Normalization`),
      v.name,
    );
  }
  // Same seed ⇒ the kernels variants share start equal: their step-0 weight norms agree exactly.
  for (const layer of ['conv1', 'fc1', 'fc2', 'out']) {
    const norms = r.variants.map((v) => v.layerStats.find((s) => s.step === 0 && s.layer === layer)?.weightNorm);
    assert.ok(
      norms.every((n) => typeof n === 'number' && n > 0),
      `${layer}: ${norms}`,
    );
    assert.ok(
      norms.every((n) => n === norms[0]),
      `${layer} initial weight norm differs across variants: ${norms}`,
    );
  }
  // 'as-written' is left out (and the drop announced) when the file already is a derived network: the example
  // MLP has no BatchNorm, so it is the standard variant.
  const events: EngineToHost[] = [];
  const ex = await analyze({ model: EXAMPLES[0], variants: ['as-written', 'standard'], steps: 1, batch: 4, icsEvery: 0, evalEvery: 0, backend: 'cpu' }, (e) => events.push(e));
  assert.deepEqual(
    ex.variants.map((v) => v.name),
    ['standard'],
  );
  assert.ok(
    events.some((e) => e.type === 'log' && /as-written/.test(e.message)),
    'the drop is announced',
  );
});
