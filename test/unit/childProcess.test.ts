// The one child-process helper (src/engine/childProcess.ts) against small scripts written here: typed
// request/response with next(), a malformed message dropped with a log line, the end seen on 'close' with the
// last message delivered, a process that ends before answering, a kill of the whole process group.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ChildLink } from '../../src/engine/childProcess';

const dir = mkdtempSync(join(tmpdir(), 'bnlens-child-'));
const script = (name: string, body: string) => {
  const p = join(dir, name);
  writeFileSync(p, body);
  return p;
};

type Ask = { type: 'ask'; n: number } | { type: 'quit' };
type Answer = { type: 'answer'; square: number } | { type: 'ready' };

const echo = script(
  'echo.js',
  `process.send({ type: 'ready' });
   process.send('not a message');
   process.on('message', (m) => {
     if (m.type === 'ask') process.send({ type: 'answer', square: m.n * m.n });
     else process.send({ type: 'answer', square: -1 }, () => process.exit(0));
   });`,
);

test('typed request/response with next(); a malformed message is dropped and logged; the last message arrives before close', async () => {
  const logs: string[] = [];
  const c = new ChildLink<Ask, Answer>({ script: echo, queue: true, log: (_l, m) => logs.push(m) });
  await c.next('ready');
  c.send({ type: 'ask', n: 7 });
  assert.equal((await c.next('answer')).square, 49);
  c.send({ type: 'quit' });
  assert.equal((await c.next('answer')).square, -1);
  const e = await c.closed;
  assert.equal(e.code, 0);
  assert.ok(
    logs.some((m) => m.includes('malformed')),
    logs.join('\n'),
  );
  assert.equal(c.send({ type: 'ask', n: 1 }), false, 'a send after the end reports failure');
});

test('next() names what came instead, and that the process ended before answering', async () => {
  const c = new ChildLink<Ask, Answer>({ script: script('dies.js', `process.send({ type: 'ready' }, () => process.exit(3));`), queue: true });
  await assert.rejects(c.next('answer'), /expected 'answer' from the child process, got 'ready'/);
  await assert.rejects(c.next('answer'), /ended \(exit code 3\) before sending 'answer'/);
});

test('a missing script is a spawn error, not a hang', async () => {
  const c = new ChildLink<Ask, Answer>({ script: join(dir, 'missing.js') });
  const e = await c.closed;
  assert.ok(e.code !== 0 || e.spawnError, JSON.stringify(e));
});

test('kill() with ownProcessGroup ends the processes the child forked too', { skip: process.platform === 'win32', timeout: 60_000 }, async () => {
  const parent = script(
    'parent.js',
    `const g = require('child_process').spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
     process.send({ type: 'ready', square: g.pid });
     setInterval(() => {}, 1000);`,
  );
  const c = new ChildLink<Ask, { type: 'ready'; square: number }>({ script: parent, ownProcessGroup: true, queue: true });
  const grandchild = (await c.next('ready')).square;
  c.kill();
  const e = await c.closed;
  assert.equal(e.signal, 'SIGKILL');
  // The grandchild got the same SIGKILL. A killed orphan may linger as a zombie where PID 1 does not reap
  // (containers): that is dead too. The test's timeout is the bound.
  const alive = () => {
    try {
      process.kill(grandchild, 0);
      return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${grandchild}/stat`, 'utf8'));
    } catch {
      return false;
    }
  };
  while (alive()) await new Promise((r) => setTimeout(r, 50));
});
