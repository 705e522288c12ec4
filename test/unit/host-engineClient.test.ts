// The engine client against a fake worker that speaks the protocol: a normal run, cancel (polite and
// ignored), a crash, an out-of-memory kill, a failed message, and a missing worker file.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EngineRun, describeCrash, type LogLevel } from '../../src/host/engineClient';
import type { EngineToHost } from '../../src/protocol';
import { config, report } from './host-helpers';

const dir = mkdtempSync(join(tmpdir(), 'bnlens-fake-worker-'));
const workerPath = join(dir, 'fake-worker.js');
const REPORT = JSON.stringify(report());

// Modes (env FAKE_MODE): normal | cancel-ok | cancel-ignore | crash | oom | fail | silent-exit
writeFileSync(
  workerPath,
  `
const mode = process.env.FAKE_MODE;
const base = ${REPORT};
const send = (m) => process.send(m);
let timer;
process.on('message', (m) => {
  if (m.type === 'start') {
    if (mode === 'grandchild') {
      const g = require('child_process').spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
      console.error('grandchild ' + g.pid);
    }
    if (m.config.steps !== 4) { console.error('bad config'); process.exit(3); }
    console.error('engine: starting');
    send({ type: 'log', level: 'info', message: 'backend cpu' });
    send({ type: 'started', report: { ...base, config: m.config } });
    let i = 0;
    const tick = () => {
      i++;
      send({ type: 'step', variant: 'standard', record: { step: i, loss: 1, accuracy: null, gradNorm: 1, lossAtEta: [1], gradChange: [1], beta: i }, progress: { done: i, total: 4, etaMs: 10 } });
      if (mode === 'crash' && i === 2) { console.error('Segmentation fault in kernel'); process.exit(139); }
      if (mode === 'oom' && i === 2) { console.error('FATAL ERROR: Reached heap limit Allocation failed - JavaScript heap out of memory'); process.kill(process.pid, 'SIGKILL'); }
      if (mode === 'fail' && i === 1) { send({ type: 'failed', message: 'layer dense_9: unknown activation', location: { file: '/tmp/net.json', line: 3, column: 5 } }); setTimeout(() => process.exit(1), 10); return; }
      if (mode === 'silent-exit' && i === 2) { process.exit(0); }
      if (i < 4 || mode.startsWith('cancel') || mode === 'grandchild') { timer = setTimeout(tick, mode.startsWith('cancel') || mode === 'grandchild' ? 30 : 5); return; }
      send({ type: 'finished', report: { ...base, config: m.config, complete: true, summary: [] } });
      setTimeout(() => process.exit(0), 10);
    };
    timer = setTimeout(tick, 5);
  } else if (m.type === 'cancel') {
    if (mode === 'cancel-ignore' || mode === 'grandchild') return;
    clearTimeout(timer);
    send({ type: 'finished', report: { ...base, complete: false, stopReason: 'cancelled' } });
    setTimeout(() => process.exit(0), 10);
  }
});
`,
);

function run(mode: string, extra: { cancelGraceMs?: number; workerPath?: string } = {}) {
  const logs: [LogLevel, string][] = [];
  const events: EngineToHost[] = [];
  const r = new EngineRun(config(), {
    workerPath: extra.workerPath ?? workerPath,
    env: { FAKE_MODE: mode },
    cancelGraceMs: extra.cancelGraceMs,
    log: (l, m) => logs.push([l, m]),
  });
  r.onEvent((e) => events.push(e));
  return { r, logs, events };
}

test('a normal run streams events and finishes with the final report', async () => {
  const { r, logs, events } = run('normal');
  const out = await r.done;
  assert.equal(out.status, 'finished');
  assert.equal(out.report?.complete, true);
  assert.deepEqual(
    events.map((e) => e.type),
    ['log', 'started', 'step', 'step', 'step', 'step', 'finished'],
  );
  assert.ok(
    logs.some(([l, m]) => l === 'warn' && m.includes('engine: starting')),
    'stderr lines reach the log',
  );
  assert.ok(
    logs.some(([l, m]) => l === 'info' && m === 'backend cpu'),
    'engine log events reach the log',
  );
});

test('the accumulated report follows the events while the run goes', async () => {
  const { r } = run('normal');
  let seen = 0;
  r.onEvent((e) => {
    if (e.type === 'step') seen = r.report!.variants[0].steps.length;
  });
  await r.done;
  assert.equal(seen, 4);
});

test('cancel: the engine answers with a partial report, which is kept', async () => {
  const { r, events } = run('cancel-ok');
  await new Promise<void>((res) => r.onEvent((e) => e.type === 'step' && e.progress.done === 2 && res()));
  r.cancel();
  const out = await r.done;
  assert.equal(out.status, 'cancelled');
  assert.equal(out.report?.complete, false);
  assert.equal(out.report?.stopReason, 'cancelled');
  assert.equal(events.at(-1)?.type, 'finished');
});

// The timeout turns the one way this test could fail — the kill never comes and it waits forever — into a failure.
test('cancel: an engine that ignores cancel is killed after the grace period, partial report kept', { timeout: 30_000 }, async () => {
  const { r, logs } = run('cancel-ignore', { cancelGraceMs: 150 });
  await new Promise<void>((res) => r.onEvent((e) => e.type === 'step' && e.progress.done === 2 && res()));
  const t0 = Date.now();
  r.cancel();
  const out = await r.done;
  assert.equal(out.status, 'cancelled');
  assert.equal(out.signal, 'SIGKILL');
  assert.ok(Date.now() - t0 >= 140);
  assert.ok((out.report?.variants[0].steps.length ?? 0) >= 2, 'the steps so far are kept');
  assert.equal(out.report?.stopReason, 'cancelled');
  assert.ok(logs.some(([, m]) => m.includes('killing')));
});

test('killing the engine also ends the processes it forked (POSIX)', { skip: process.platform === 'win32' }, async () => {
  const { r, logs } = run('grandchild', { cancelGraceMs: 100 });
  await new Promise<void>((res) => r.onEvent((e) => e.type === 'step' && res()));
  const pid = Number(/grandchild (\d+)/.exec(logs.map(([, m]) => m).join('\n'))?.[1]);
  assert.ok(pid > 0, 'the fake engine reported its child');
  r.cancel();
  await r.done;
  const alive = () => {
    try {
      process.kill(pid, 0);
    } catch {
      return false;
    }
    // A killed orphan may linger as a zombie where PID 1 does not reap (containers): that is dead too.
    try {
      return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
    } catch {
      return true;
    }
  };
  for (let i = 0; i < 50 && alive(); i++) await new Promise((res) => setTimeout(res, 20));
  assert.equal(alive(), false, 'the grandchild is gone');
});

test('a crash becomes a failed outcome with a one-line message and the partial report', async () => {
  const { r } = run('crash');
  const out = await r.done;
  assert.equal(out.status, 'failed');
  assert.equal(out.exitCode, 139);
  assert.match(out.message!, /crashed \(exit code 139\)/);
  assert.equal(out.report?.variants[0].steps.length, 2);
  assert.match(out.report!.stopReason!, /^failed: /);
});

test('an out-of-memory death is named as such', async () => {
  const { r } = run('oom');
  const out = await r.done;
  assert.equal(out.status, 'failed');
  assert.match(out.message!, /out of memory/);
});

test("a 'failed' message carries its source location", async () => {
  const { r } = run('fail');
  const out = await r.done;
  assert.equal(out.status, 'failed');
  assert.equal(out.message, 'layer dense_9: unknown activation');
  assert.deepEqual(out.location, { file: '/tmp/net.json', line: 3, column: 5 });
});

test('an engine that exits without a final message is a failure', async () => {
  const { r } = run('silent-exit');
  const out = await r.done;
  assert.equal(out.status, 'failed');
  assert.match(out.message!, /exited before finishing/);
});

test('a missing worker file fails cleanly', async () => {
  const { r } = run('normal', { workerPath: join(dir, 'nope.js') });
  const out = await r.done;
  assert.equal(out.status, 'failed');
  assert.equal(out.report, null);
});

test('describeCrash', () => {
  assert.match(describeCrash(null, 'SIGKILL'), /killed by SIGKILL.*out of memory/);
  assert.match(describeCrash(134, null, ['<--- JS stacktrace --->', 'FATAL ERROR: JavaScript heap out of memory']), /crashed \(exit code 134\).*out of memory/);
  assert.doesNotMatch(describeCrash(1, null, ['TypeError: x']), /memory/);
});
