// The fixture writers round-trip: model.json + weights.bin decode (in manifest order) to exactly the values
// the reference net holds, and numpy's np.load reads back exactly the data the reference uses.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildFixture, CNN_BN, MLP_BN, MLP_FUNCTIONAL } from '../reference/fixtures';
import { getParams, paramRefs } from '../reference/net64';

for (const [spec, data] of [
  [MLP_BN, { n: 12, loss: 'softmax-ce', classes: 5 }],
  [CNN_BN, { n: 4, loss: 'softmax-ce', classes: 5, labelDtype: 'int32' }],
  [MLP_FUNCTIONAL, { n: 6, loss: 'mse', targetDim: 5 }],
] as const) {
  test(`fixture ${spec.name}: model.json/weights.bin and data.npz round-trip`, () => {
    const f = buildFixture(spec, data, 11);
    const model = JSON.parse(readFileSync(f.modelPath, 'utf8'));
    assert.equal(model.format, 'layers-model');
    assert.equal(model.modelTopology.class_name, spec.functional ? 'Model' : 'Sequential');
    const layers = model.modelTopology.config.layers;
    if (!spec.functional) assert.deepEqual(layers[0].config.batch_input_shape, [null, ...spec.inputShape]);
    else {
      assert.equal(layers[0].class_name, 'InputLayer');
      assert.deepEqual(model.modelTopology.config.output_layers, [[spec.layers[spec.layers.length - 1].name, 0, 0]]);
    }
    const bin = readFileSync(join(f.dir, 'weights.bin'));
    const manifest: { name: string; shape: number[] }[] = model.weightsManifest[0].weights;
    const decoded = new Map<string, Float64Array>();
    let off = 0;
    for (const w of manifest) {
      const n = w.shape.reduce((a, b) => a * b, 1);
      decoded.set(
        w.name,
        Float64Array.from({ length: n }, (_, i) => bin.readFloatLE(off + 4 * i)),
      );
      off += 4 * n;
    }
    assert.equal(off, bin.length);
    const refs = paramRefs(f.net);
    const params = getParams(f.net);
    refs.forEach((r, k) => assert.deepEqual(decoded.get(`${r.layerName}/${r.role}`), params[k], `${r.layerName}/${r.role}`));
    // BN moving statistics are stored too (and differ from the batch statistics on purpose).
    assert.ok(manifest.some((w) => w.name.endsWith('/moving_variance')));

    const back = JSON.parse(
      execFileSync(
        'python3',
        ['-c', 'import json,sys,numpy as np; d=np.load(sys.argv[1]); print(json.dumps({k:{"shape":list(d[k].shape),"dtype":str(d[k].dtype),"data":d[k].ravel().tolist()} for k in d.files}))', f.dataPath],
        { encoding: 'utf8' },
      ),
    );
    assert.deepEqual(back.x.shape, f.x.shape);
    assert.equal(back.x.dtype, 'float32');
    assert.deepEqual(Float64Array.from(back.x.data), f.x.data);
    assert.deepEqual(back.y.data, f.y);
    assert.equal(back.y.dtype, data.loss === 'mse' ? 'float32' : 'labelDtype' in data ? data.labelDtype : 'int64');
  });
}
