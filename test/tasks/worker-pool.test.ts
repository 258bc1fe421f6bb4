/** The worker pool's pure helpers: owner ids and the dead-owner test. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hostname } from 'node:os';
import { isDeadLocalOwner, ownerId } from '../../src/tasks/worker-pool.js';

// ----------------------------------------------------------------------------------- isDeadLocalOwner

const HOST = hostname();
const never = (): boolean => {
  throw new Error('alive() must not be asked');
};

test('ownerId: host, pid, boot nonce and slot', () => {
  const parts = ownerId(3).split(':');
  assert.equal(parts.length, 4);
  assert.equal(parts[0], HOST);
  assert.equal(parts[1], String(process.pid));
  assert.match(parts[2]!, /^[0-9a-f]{12}$/);
  assert.equal(parts[3], '3');
  assert.equal(ownerId(0).split(':')[2], parts[2], 'one boot nonce per process');
});

test('isDeadLocalOwner: an owner on another host is never dead here', () => {
  assert.equal(isDeadLocalOwner(`not-${HOST}:${process.pid}:abcdef012345:0`, () => false), false);
  assert.equal(isDeadLocalOwner(`not-${HOST}:999999:abcdef012345:0`, () => false), false);
});

test('isDeadLocalOwner: this pid with this boot is alive', () => {
  assert.equal(isDeadLocalOwner(ownerId(0), never), false);
  assert.equal(isDeadLocalOwner(ownerId(7)), false);
});

test('isDeadLocalOwner: this pid with another boot id is a previous process that reused the pid: dead', () => {
  const [host, pid] = ownerId(0).split(':');
  const boot = ownerId(0).split(':')[2] === 'ffffffffffff' ? '000000000000' : 'ffffffffffff';
  assert.equal(isDeadLocalOwner(`${host}:${pid}:${boot}:0`, never), true);
});

test('isDeadLocalOwner: another local pid is judged by alive()', () => {
  const other = process.pid + 1;
  const asked: number[] = [];
  assert.equal(
    isDeadLocalOwner(`${HOST}:${other}:abcdef012345:0`, (pid) => {
      asked.push(pid);
      return false;
    }),
    true,
    'a pid that does not exist',
  );
  assert.deepEqual(asked, [other]);
  assert.equal(isDeadLocalOwner(`${HOST}:${other}:abcdef012345:0`, () => true), false, 'a live process');
});

test('isDeadLocalOwner: the default alive() check finds a pid that does not exist', () => {
  // Far above any pid_max (4194304 on Linux).
  assert.equal(isDeadLocalOwner(`${HOST}:2147483646:abcdef012345:0`), true);
  assert.equal(isDeadLocalOwner(`${HOST}:${process.ppid}:abcdef012345:0`), false, 'the parent process exists');
});

test('isDeadLocalOwner: an unparsable pid is never called dead', () => {
  for (const owner of [`${HOST}:abc:x:0`, `${HOST}:0:x:0`, `${HOST}:-5:x:0`, `${HOST}`, `${HOST}:1.5:x:0`]) {
    assert.equal(isDeadLocalOwner(owner, never), false, owner);
  }
});

test('ownerId / isDeadLocalOwner with a node name (MEDLEY_NODE_NAME): the name is the first part and decides locality', () => {
  const owner = ownerId(2, 'node-a');
  assert.equal(owner.split(':')[0], 'node-a');
  assert.equal(isDeadLocalOwner(owner, () => false, 'node-a'), false, 'this process is alive');
  const [, pid] = owner.split(':');
  assert.equal(isDeadLocalOwner(`node-a:${pid}:000000000000:0`, () => false, 'node-a'), owner.split(':')[2] !== '000000000000', 'a previous process of this node');
  assert.equal(isDeadLocalOwner('node-a:999999:abcdef012345:0', () => false, 'node-a'), true, 'a dead pid of this node');
  assert.equal(isDeadLocalOwner('node-b:999999:abcdef012345:0', () => false, 'node-a'), false, 'another node is never dead here');
});
