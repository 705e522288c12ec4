// Report persistence across a "reload" (a second store on the same directory) and chart export decoding.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { asReport, reportKey, ReportStore } from '../../src/host/reportStore';
import { decodeDataUrl, exportBytes } from '../../src/host/exportData';
import { report } from './host-helpers';

test('a stored report survives a new store on the same directory', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'bnlens-store-'));
  const a = new ReportStore(dir);
  const seen: string[] = [];
  a.onDidChange((f) => seen.push(f));
  const r = report();
  a.set('/w/net.json', r);
  a.set('/w/live.json', report(), false);
  await a.flush();
  assert.deepEqual(seen, ['/w/net.json', '/w/live.json']);
  assert.equal(readdirSync(join(dir, 'reports')).length, 1, 'only persisted reports are written');
  const b = new ReportStore(dir);
  assert.deepEqual(b.get('/w/net.json'), r);
  assert.equal(b.get('/w/live.json'), null);
  assert.equal(b.get('/w/other.json'), null);
  assert.notEqual(reportKey('/w/a.json'), reportKey('/w/b.json'));
});

test('memory-only store and report validation', () => {
  const s = new ReportStore(null);
  s.set('/x.json', report());
  assert.ok(s.get('/x.json'));
  assert.ok(asReport(JSON.parse(JSON.stringify(report()))));
  assert.equal(asReport({ schema: 'other' }), null);
  assert.equal(asReport(null), null);
});

test('export bytes: SVG text, PNG data URL', () => {
  assert.equal(Buffer.from(exportBytes('svg', '<svg>é</svg>')).toString('utf8'), '<svg>é</svg>');
  const png = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 255]);
  assert.deepEqual(Buffer.from(exportBytes('png', `data:image/png;base64,${png.toString('base64')}`)), png);
  assert.equal(Buffer.from(decodeDataUrl('data:image/svg+xml,%3Csvg%3E')).toString(), '<svg>');
  assert.throws(() => decodeDataUrl('nope'));
});
