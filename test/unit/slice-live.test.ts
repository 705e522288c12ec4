// A slice fills in live: while a process evaluates its share of the grid it sends snapshots (finished
// variants, the one under way with the points done), the host merges the processes' latest snapshots, and
// the charts draw them until the finished slice replaces them. Checked here: every snapshot's evaluated
// points are exactly the finished slice's values there (the finished values are checked against the float64
// reference in slice-vs-reference.test.ts), the number of points grows chunk by chunk, `pending` counts what
// is left of every requested variant, and the last snapshots merge to the finished slice.
import assert from 'node:assert/strict';

import { test } from 'node:test';
import { runSlice, type SlicePart } from '../../src/engine/sliceCommand';
import { mergeLiveParts, mergeSliceParts } from '../../src/engine/sliceMerge';
import { applyEvent } from '../../src/report/applyEvent';
import type { Report, SliceResult } from '../../src/protocol';
import { tempDir, writeTinyMlp } from './analyze-fixtures';

const dir = tempDir('slice-live');
const { model, data } = writeTinyMlp(dir, { inputs: 5, hidden: 6, n: 40, tag: 'd' });

const flat = (s: SliceResult, k: number) => (s.variants[k].loss as (number | null)[][]).flat();

test('snapshots while a share is evaluated: a growing subset of the finished values, merged with pending counted', async () => {
  const request = { model, data, variants: ['standard' as const, 'batchnorm' as const], dims: 2 as const, points: 7, seed: 3, backend: 'cpu' as const };
  const total = 7 * 7;
  const snapshots: SlicePart[][] = [[], []];
  const finals: SlicePart[] = [];
  for (const k of [0, 1]) finals.push(await runSlice(request, { share: { k, of: 2 }, onPartial: (p) => snapshots[k].push(structuredClone(p)) }));
  const finished = mergeSliceParts(finals);
  assert.equal(finished.pending, undefined, 'a finished slice has no pending count');

  for (const k of [0, 1]) {
    const mine = Math.ceil((total - k) / 2);
    // Chunks of 16 points per variant: ceil(mine/16) snapshots for each of the two variants.
    assert.equal(snapshots[k].length, 2 * Math.ceil(mine / 16), `share ${k}: one snapshot per chunk`);
    let before = 0;
    for (const snap of snapshots[k]) {
      const count = snap.points.reduce((a, p) => a + p.length, 0);
      assert.ok(count > before, 'every snapshot has more points than the one before');
      before = count;
      snap.result.variants.forEach((v, vi) => {
        for (const [index, loss] of snap.points[vi]) {
          assert.ok(index % 2 === k, `share ${k} evaluates only its own points`);
          assert.equal(loss, flat(finished, vi)[index], `${v.variant} point ${index}: the snapshot's value is the finished one`);
        }
      });
    }
    assert.equal(before, 2 * mine, `share ${k}: the last snapshot has all its points of both variants`);
  }

  // The host's merge of the latest snapshots: process 0 has finished the first variant, process 1 not yet begun.
  const early = mergeLiveParts([snapshots[0][Math.ceil(Math.ceil(total / 2) / 16)]], 2);
  const evaluated = early.variants.reduce((a, _v, vi) => a + flat(early, vi).filter((x) => x !== null).length, 0);
  assert.equal(early.pending, 2 * total - evaluated);
  assert.ok(early.pending! > 0 && evaluated > 0);
  for (const [vi] of early.variants.entries()) flat(early, vi).forEach((x, i) => x !== null && assert.equal(x, flat(finished, vi)[i]));
  // Both processes' last snapshots hold every point: nothing pending, the finished values everywhere.
  const last = mergeLiveParts([snapshots[0].at(-1)!, snapshots[1].at(-1)!], 2);
  assert.equal(last.pending, 0);
  for (const vi of [0, 1]) assert.deepEqual(flat(last, vi), flat(finished, vi));

  // In a report: the live slice is replaced by the next live one, and by the finished slice.
  const report = { slices: [] } as unknown as Report;
  applyEvent(report, { type: 'slice', slice: early });
  applyEvent(report, { type: 'slice', slice: last });
  assert.equal(report.slices!.length, 1, 'one live slice at a time');
  applyEvent(report, { type: 'slice', slice: finished });
  assert.equal(report.slices!.length, 1);
  assert.equal(report.slices![0].pending, undefined, 'the finished slice replaced the live one');
});
