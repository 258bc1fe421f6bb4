/**
 * `medley keys` through the real built CLI against the database of running servers: a key added on the
 * command line is accepted by every node within seconds, refused within seconds of its revocation, and
 * `list` never prints a secret. Two nodes on one database also serve one MNS signing certificate.
 *
 * On the embedded default both nodes share a data dir (one SQLite file); under the scale suite the second
 * node has its own data dir and reaches the first one's PostgreSQL database through MEDLEY_DATABASE_URL.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { backendEnv } from '../support/backend.js';
import { rawRequest, xmlTag, type RawResponse } from '../support/raw-client.js';
import { startServer, TEST_KEY_ID, TEST_SECRET, type TestServer } from '../support/server.js';

const MAIN = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));
const KEY = 'LTAIcliKey0000001';
const BUCKET = 'keys-cli-in';

let dataDir: string;
let otherDir: string;
let env: Record<string, string>;
let a: TestServer;
let b: TestServer;

function cli(...args: string[]) {
  const r = spawnSync(process.execPath, [MAIN, 'keys', ...args, '--data-dir', dataDir], { encoding: 'utf8', timeout: 60_000, env: { ...process.env, ...env, MEDLEY_ACCESS_KEY_ID: TEST_KEY_ID, MEDLEY_ACCESS_KEY_SECRET: TEST_SECRET } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Polls until `ok` holds (the nodes refresh their keys every ~2 s); fails with the last response. */
async function eventually(what: string, probe: () => Promise<RawResponse>, ok: (r: RawResponse) => boolean, ms = 15_000): Promise<number> {
  const start = Date.now();
  let last: RawResponse | undefined;
  while (Date.now() - start < ms) {
    last = await probe();
    if (ok(last)) return Date.now() - start;
    await new Promise((r) => setTimeout(r, 200));
  }
  assert.fail(`${what} not within ${ms} ms: last ${last?.status} ${last?.text.slice(0, 200)}`);
}

before(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'medley-keys-cli-'));
  env = await backendEnv(dataDir);
  a = await startServer({ dataDir, env: { MEDLEY_WORKERS: '0' } });
  if (env.MEDLEY_DATABASE_URL) {
    otherDir = await mkdtemp(join(tmpdir(), 'medley-keys-cli-b-'));
    b = await startServer({ dataDir: otherDir, env: { MEDLEY_WORKERS: '0', MEDLEY_DATABASE_URL: env.MEDLEY_DATABASE_URL } });
  } else {
    b = await startServer({ dataDir, env: { MEDLEY_WORKERS: '0' } });
  }
  const made = await rawRequest(a.url, { method: 'PUT', bucket: BUCKET, auth: { id: a.keyId, secret: a.secret } });
  assert.equal(made.status, 200, made.text);
});

after(async () => {
  await Promise.all([a?.stop(), b?.stop()]);
  await rm(dataDir, { recursive: true, force: true });
  if (otherDir) await rm(otherDir, { recursive: true, force: true });
});

test('a key added with the CLI works on every node within seconds and is refused within seconds of revoke', async () => {
  const added = cli('add', KEY, '--bucket', `${BUCKET}=read`);
  assert.equal(added.status, 0, added.stderr);
  const secret = /AccessKeySecret (\S+)/.exec(added.stdout)?.[1];
  assert.ok(secret && secret.length >= 16, added.stdout);

  const listed = cli('list');
  assert.equal(listed.status, 0, listed.stderr);
  assert.match(listed.stdout, new RegExp(`^${KEY}\\t${BUCKET}=read\\t`, 'm'));
  assert.ok(!listed.stdout.includes(secret), 'list never prints the secret');
  const shown = cli('show', KEY);
  assert.equal(shown.status, 0, shown.stderr);
  assert.ok(!shown.stdout.includes(secret));

  const list = (s: TestServer) => () => rawRequest(s.url, { method: 'GET', bucket: BUCKET, auth: { id: KEY, secret } });
  for (const s of [a, b]) await eventually('the new key is accepted', list(s), (r) => r.status === 200);
  // The grant is read: writing is refused by the policy, not by an unknown key.
  const put = await rawRequest(b.url, { method: 'PUT', bucket: BUCKET, key: 'x', body: 'x', auth: { id: KEY, secret } });
  assert.equal(put.status, 403);
  assert.equal(xmlTag(put.text, 'Code'), 'AccessDenied');

  const revoked = cli('revoke', KEY);
  assert.equal(revoked.status, 0, revoked.stderr);
  for (const s of [a, b]) await eventually('the revoked key is refused', list(s), (r) => r.status === 403 && xmlTag(r.text, 'Code') === 'InvalidAccessKeyId');
});

test('the CLI refuses what is wrong with status 2 and a message naming it', () => {
  const cases: Array<[string[], RegExp]> = [
    [['add', 'short'], /AccessKeyId "short"/],
    [['add', 'LTAIcliKey0000002', '--bucket', 'keys-cli-in=admin'], /must be read or read-write/],
    [['add', 'LTAIcliKey0000002', '--secret', 'tooshort'], /secret must be 16-256/],
    [['add', 'LTAI5tTestKeyId0001'], /is the root AccessKeyId/],
    [['revoke', 'LTAIcliNoSuchKey1'], /no access key LTAIcliNoSuchKey1/],
    [['show', 'LTAIcliNoSuchKey1'], /no access key LTAIcliNoSuchKey1/],
  ];
  for (const [args, message] of cases) {
    const r = cli(...args);
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.stdout}${r.stderr}`);
    assert.match(r.stderr, message);
  }
  // A key of the legacy access-keys file (read by the servers at start) would shadow a database key.
  writeFileSync(join(dataDir, 'access-keys.json'), JSON.stringify({ keys: [{ accessKeyId: 'LTAIcliFile000001', accessKeySecret: 'a-long-file-secret-1', buckets: {} }] }));
  const shadowed = cli('add', 'LTAIcliFile000001');
  assert.equal(shadowed.status, 2);
  assert.match(shadowed.stderr, /already defined in the access-keys file/);
  rmSync(join(dataDir, 'access-keys.json'));
  const given = cli('add', 'LTAIcliKey0000003', '--secret', 'a-chosen-secret-123');
  assert.equal(given.status, 0, given.stderr);
  assert.ok(!given.stdout.includes('a-chosen-secret-123'), 'a given secret is not echoed');
  assert.equal(cli('add', 'LTAIcliKey0000003', '--secret', 'a-chosen-secret-123').status, 2);
});

test('both nodes serve the same MNS signing certificate', async () => {
  const [ca, cb] = await Promise.all([a, b].map(async (s) => (await fetch(`${s.mnsUrl}/-/mns-signing.crt`)).text()));
  assert.match(ca!, /BEGIN CERTIFICATE/);
  assert.equal(ca, cb);
});
