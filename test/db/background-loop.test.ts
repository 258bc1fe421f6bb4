/**
 * The loop behind the outbox dispatcher, the push deliverer and the worker pool: a kick wakes a sleeping
 * slot (or, during a pass, makes the next pass come at once), a failing pass backs off and the outage is
 * logged once, stop ends every slot promptly.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { BackgroundLoop, type PassNext } from '../../src/db/background-loop.js';

const messages = { unreachable: 'unreachable', failed: 'failed', recovered: 'recovered' };

/** A logger whose lines the test reads back. */
function capturingLog(): { log: pino.Logger; lines: { level: number; msg: string }[] } {
  const lines: { level: number; msg: string }[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const l of chunk.toString('utf8').split('\n')) if (l) lines.push(JSON.parse(l) as { level: number; msg: string });
      cb();
    },
  });
  return { log: pino({ level: 'info' }, sink), lines };
}

/** Resolves once `ok()` holds (polled; bounded). */
async function until(what: string, ok: () => boolean, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!ok()) {
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

test('a kick ends a long sleep at once; a kick during a pass makes the next pass come without sleeping', async () => {
  let passes = 0;
  let release: (() => void) | undefined;
  const loop = new BackgroundLoop({
    pass: async () => {
      passes++;
      if (passes === 2) await new Promise<void>((r) => (release = r));
      return 60_000;
    },
    pollMs: 60_000,
    log: pino({ level: 'silent' }),
    messages,
  });
  loop.start();
  await until('the first pass', () => passes === 1);
  loop.kick(); // asleep: wakes it
  await until('the second pass', () => passes === 2 && release !== undefined);
  loop.kick(); // in a pass: remembered
  release!();
  await until('the third pass', () => passes === 3);
  const t0 = Date.now();
  await loop.stop();
  assert.ok(Date.now() - t0 < 5_000, 'stop while asleep returns promptly');
  assert.equal(loop.running, false);
  assert.equal(passes, 3);
});

test("'again' runs the next pass without sleeping; before runs once ahead of the first pass", async () => {
  const order: string[] = [];
  const loop = new BackgroundLoop({
    pass: async () => {
      order.push('pass');
      return order.length < 4 ? 'again' : 60_000;
    },
    pollMs: 60_000,
    log: pino({ level: 'silent' }),
    messages,
  });
  loop.start(async () => {
    order.push('before');
  });
  await until('three passes', () => order.length === 4);
  await loop.stop();
  assert.deepEqual(order, ['before', 'pass', 'pass', 'pass']);
});

test('a database outage backs off, is logged once over every slot, and its end once; other failures each time', async () => {
  const { log, lines } = capturingLog();
  let down = true;
  let otherFailures = 0;
  const calls: number[] = [];
  const loop = new BackgroundLoop({
    pass: async (slot): Promise<PassNext> => {
      calls.push(slot);
      if (down) throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
      if (otherFailures > 0) {
        otherFailures--;
        throw new Error('something else');
      }
      return 60_000;
    },
    slots: 3,
    pollMs: 5,
    log,
    messages,
  });
  loop.start();
  await until('each slot failing twice', () => [0, 1, 2].every((s) => calls.filter((c) => c === s).length >= 2));
  // Back-off: 250 ms then 500 ms (backoffMs), so a slot tried at most a few times in that time.
  assert.ok(calls.length <= 12, `backed off (${calls.length} passes)`);
  otherFailures = 2;
  down = false;
  await until('the end of the outage', () => lines.some((l) => l.msg === 'recovered'));
  await until('every slot back', () => calls.length >= 3 + 3 + 3);
  await loop.stop();
  const msgs = lines.map((l) => l.msg);
  assert.equal(msgs.filter((m) => m === 'unreachable').length, 1, msgs.join());
  assert.equal(msgs.filter((m) => m === 'recovered').length, 1, msgs.join());
  assert.equal(msgs.filter((m) => m === 'failed').length, 2, msgs.join());
});

test('with several slots a kick wakes one sleeper, not all', async () => {
  const passes = [0, 0, 0];
  const loop = new BackgroundLoop({
    pass: async (slot) => {
      passes[slot]!++;
      return 60_000;
    },
    slots: 3,
    pollMs: 60_000,
    log: pino({ level: 'silent' }),
    messages,
  });
  loop.start();
  await until('every slot asleep', () => passes.every((p) => p === 1));
  await new Promise((r) => setTimeout(r, 20));
  loop.kick();
  await until('one slot woken', () => passes.reduce((a, b) => a + b) === 4);
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(passes.reduce((a, b) => a + b), 4);
  await loop.stop();
});
