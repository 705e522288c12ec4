// The run history of a network file: complete and partial reports kept side by side, the complete one
// shown by default (a stopped re-run never replaces it silently), a picked run, pruning, a reload, and the
// one step-count convention every surface uses.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultEntry, HISTORY_LIMIT, prune, reportKey, ReportStore, type RunEntry } from '../../src/host/reportStore';
import { progressText, runProgress } from '../../src/report/progress';
import { report, step, variant } from './host-helpers';
import type { Report } from '../../src/protocol';
import { summarizeVariant } from '../../src/report/summary';

function run(createdAt: string, complete: boolean, stepsDone: number, planned = 4): Report {
  const r = report();
  r.createdAt = createdAt;
  r.complete = complete;
  r.stopReason = complete ? null : 'cancelled';
  r.config.steps = planned;
  for (const v of r.variants) v.steps = Array.from({ length: stepsDone }, (_, i) => step(i, 1));
  r.summary = complete ? r.variants.map((v) => summarizeVariant(v)) : [];
  return r;
}

test('a stopped re-run is kept beside the complete report, which stays the default, also after a reload', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'bnlens-hist-'));
  const a = new ReportStore(dir);
  const full = run('2026-12-01T23:00:00.000Z', true, 4);
  const partial = run('2026-12-01T23:05:00.000Z', false, 2);
  a.set('/w/net.json', full);
  a.set('/w/net.json', partial);
  assert.equal(a.get('/w/net.json'), full, 'the complete report is what the file has');
  assert.deepEqual(
    a.runs('/w/net.json').map((e) => [e.complete, e.step]),
    [
      [false, 2],
      [true, 4],
    ],
  );
  a.select('/w/net.json', a.runs('/w/net.json')[0].id);
  assert.equal(a.get('/w/net.json'), partial, 'a picked run is shown');
  await a.flush();
  const b = new ReportStore(dir);
  assert.equal(b.get('/w/net.json')?.createdAt, full.createdAt, 'after a reload: the complete report again');
  assert.equal(b.runs('/w/net.json').length, 2);
  assert.equal(b.getRun('/w/net.json', b.runs('/w/net.json')[0].id)?.complete, false);
});

test('a live report (not persisted) grows in place and is not written until it ends', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'bnlens-hist-'));
  const s = new ReportStore(dir);
  const live = run('2026-12-01T23:00:00.000Z', false, 1);
  s.set('/w/n.json', live, false);
  live.variants[0].steps.push(step(1, 1));
  s.set('/w/n.json', live, false);
  assert.equal(s.runs('/w/n.json').length, 1, 'the same run, not a new entry');
  await s.flush();
  assert.equal(new ReportStore(dir).runs('/w/n.json').length, 0);
});

test('pruning keeps the newest runs and always the newest complete one', () => {
  const e = (i: number, complete: boolean): RunEntry => ({
    id: String(i),
    createdAt: `2026-12-01T23:${String(i).padStart(2, '0')}:00Z`,
    complete,
    stopReason: null,
    step: 1,
    steps: 4,
    variants: [],
    lr: 0.1,
    batch: 8,
    dataset: 'd',
  });
  const entries = [e(1, true), ...Array.from({ length: 8 }, (_, i) => e(i + 2, false))];
  const kept = prune(entries);
  assert.equal(kept.length, HISTORY_LIMIT);
  assert.ok(
    kept.some((x) => x.id === '1'),
    'the only complete run survives eight partial ones',
  );
  assert.equal(kept[0].id, '9');
  assert.equal(defaultEntry(kept)?.id, '1');
  assert.equal(defaultEntry(prune(entries.slice(1)))?.id, '9', 'no complete run: the newest partial one');
});

test('the single report of earlier versions becomes the first entry of the history', () => {
  const dir = mkdtempSync(join(tmpdir(), 'bnlens-hist-'));
  mkdirSync(join(dir, 'reports'), { recursive: true });
  const old = run('2026-11-30T10:00:00.000Z', true, 4);
  writeFileSync(join(dir, 'reports', `${reportKey('/w/old.json')}.json`), JSON.stringify(old));
  const s = new ReportStore(dir);
  assert.equal(s.get('/w/old.json')?.createdAt, old.createdAt);
  assert.equal(s.runs('/w/old.json').length, 1);
  assert.ok(readdirSync(join(dir, 'reports')).length >= 1);
});

test('step counts: the run is at the step every variant has finished, variants beside it', () => {
  const r = report();
  r.config.steps = 40;
  r.variants = [variant('standard', { steps: Array.from({ length: 10 }, (_, i) => step(i, 1)) }), variant('batchnorm', { steps: Array.from({ length: 9 }, (_, i) => step(i, 1)) })];
  const p = runProgress(r);
  assert.deepEqual([p.step, p.total], [9, 40]);
  assert.equal(progressText(p), 'step 9 of 40 (standard 10, batchnorm 9)');
  r.variants[1].steps.push(step(9, 1));
  assert.equal(progressText(runProgress(r)), 'step 10 of 40');
  r.variants[0].diverged = { step: 3, reason: 'loss became NaN' };
  r.variants[0].steps = r.variants[0].steps.slice(0, 4);
  assert.equal(progressText(runProgress(r)), 'step 10 of 40 (standard diverged at 4, batchnorm 10)');
});

test('the network file the charts followed last is found again by a new store (a window reload)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'bnlens-hist-'));
  const a = new ReportStore(dir);
  assert.equal(a.lastFile(), null);
  a.setLastFile('/w/a.json');
  a.setLastFile('/w/b.json');
  await a.flush();
  assert.equal(new ReportStore(dir).lastFile(), '/w/b.json');
  assert.equal(new ReportStore(null).lastFile(), null);
});

test('the last network file is noted per workspace: two workspaces sharing the storage keep their own', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'bnlens-hist-'));
  const a = new ReportStore(dir, undefined, { workspace: 'file:///w/a' });
  const b = new ReportStore(dir, undefined, { workspace: 'file:///w/b' });
  a.setLastFile('/w/a/net.json');
  b.setLastFile('/w/b/other.json');
  await Promise.all([a.flush(), b.flush()]);
  assert.equal(new ReportStore(dir, undefined, { workspace: 'file:///w/a' }).lastFile(), '/w/a/net.json');
  assert.equal(new ReportStore(dir, undefined, { workspace: 'file:///w/b' }).lastFile(), '/w/b/other.json');
  assert.equal(new ReportStore(dir, undefined, { workspace: 'file:///w/c' }).lastFile(), null);
});

// VS Code gives an extension host that finds the workspace storage locked by another (a reload whose old
// host is still exiting) the folder "<id>-1": histories kept there by earlier versions are moved to the
// shared storage when first asked for, and the last file noted there is still found.
test('a history an earlier version kept in the workspace storage is moved to the shared storage', async () => {
  const workspaceStorage = mkdtempSync(join(tmpdir(), 'bnlens-ws-'));
  const old = new ReportStore(workspaceStorage);
  const full = run('2026-11-30T10:00:00.000Z', true, 4);
  old.set('/w/net.json', full);
  old.setLastFile('/w/net.json');
  await old.flush();
  const global = mkdtempSync(join(tmpdir(), 'bnlens-global-'));
  const s = new ReportStore(global, undefined, { workspace: 'file:///w', earlierDirs: [join(workspaceStorage, 'missing'), workspaceStorage] });
  assert.equal(s.lastFile(), '/w/net.json', 'the last file noted by the earlier version');
  assert.equal(s.get('/w/net.json')?.createdAt, full.createdAt);
  assert.deepEqual(readdirSync(join(global, 'reports')), [reportKey('/w/net.json')]);
  assert.deepEqual(readdirSync(join(workspaceStorage, 'reports')), [], 'moved, not copied');
  assert.equal(new ReportStore(global).runs('/w/net.json').length, 1, 'a later host finds it in the shared storage');
});

test('two windows storing runs of the same file: neither loses the other one, and each sees the other', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'bnlens-hist-'));
  const a = new ReportStore(dir);
  const b = new ReportStore(dir);
  assert.equal(a.runs('/w/net.json').length, 0);
  assert.equal(b.runs('/w/net.json').length, 0, 'both windows read the (empty) history first');
  const first = run('2026-12-01T23:00:00.000Z', true, 4);
  const second = run('2026-12-01T23:10:00.000Z', false, 2);
  a.set('/w/net.json', first);
  await a.flush();
  b.set('/w/net.json', second);
  await b.flush();
  const ids = (s: ReportStore) => s.runs('/w/net.json').map((e) => e.createdAt);
  assert.deepEqual(ids(new ReportStore(dir)), [second.createdAt, first.createdAt], 'the stored history has both');
  assert.deepEqual(ids(b), [second.createdAt, first.createdAt]);
  assert.deepEqual(ids(a), [second.createdAt, first.createdAt], "the first window takes the other's run in");
  assert.equal(a.getRun('/w/net.json', a.runs('/w/net.json')[0].id)?.createdAt, second.createdAt);
  assert.equal(b.get('/w/net.json')?.createdAt, first.createdAt, 'the complete run stays the default');
});

test('pruning across windows removes the pruned reports from disk', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'bnlens-hist-'));
  const a = new ReportStore(dir);
  const b = new ReportStore(dir);
  for (let i = 0; i < HISTORY_LIMIT + 3; i++) {
    const s = i % 2 ? b : a;
    s.set('/w/net.json', run(`2026-12-01T23:0${i}:00.000Z`, i === 0, 1));
    await s.flush();
  }
  const files = readdirSync(join(dir, 'reports', reportKey('/w/net.json'))).filter((f) => f !== 'index.json');
  assert.equal(files.length, HISTORY_LIMIT, files.join(', '));
  const kept = new ReportStore(dir).runs('/w/net.json');
  assert.equal(kept.length, HISTORY_LIMIT);
  assert.ok(
    kept.some((e) => e.complete),
    'the only complete run is kept',
  );
});

test('two windows storing runs at the same moment: the index written last still lists both', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'bnlens-hist-'));
  const a = new ReportStore(dir);
  const b = new ReportStore(dir);
  a.set('/w/net.json', run('2026-12-01T23:00:00.000Z', true, 4));
  b.set('/w/net.json', run('2026-12-01T23:10:00.000Z', true, 4));
  await Promise.all([a.flush(), b.flush()]);
  assert.equal(new ReportStore(dir).runs('/w/net.json').length, 2);
});

test('the single report of the versions before histories, left in the workspace storage, is moved over too', () => {
  const workspaceStorage = mkdtempSync(join(tmpdir(), 'bnlens-ws-'));
  mkdirSync(join(workspaceStorage, 'reports'), { recursive: true });
  const old = run('2026-11-29T10:00:00.000Z', true, 4);
  writeFileSync(join(workspaceStorage, 'reports', `${reportKey('/w/older.json')}.json`), JSON.stringify(old));
  const global = mkdtempSync(join(tmpdir(), 'bnlens-global-'));
  const s = new ReportStore(global, undefined, { earlierDirs: [workspaceStorage] });
  assert.equal(s.get('/w/older.json')?.createdAt, old.createdAt);
  assert.deepEqual(readdirSync(join(workspaceStorage, 'reports')), [], 'moved, not copied');
  assert.equal(new ReportStore(global).runs('/w/older.json').length, 1, 'kept in the shared storage as a history');
});
