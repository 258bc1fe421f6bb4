/**
 * The MNS push signing key pair shared through the database: nodes with their own data directories sign
 * alike and serve one certificate; an existing data-dir key pair becomes the shared one.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Db } from '../../src/db/connection.js';
import { loadOrCreatePushSigningKeys, loadOrCreateSharedPushSigningKeys, signPush, verifyPush } from '../../src/notify/push-signing.js';
import { md5HexUpper } from '../../src/util/text.js';
import { openTestDatabase } from '../support/backend.js';

let root: string;
before(async () => {
  root = await mkdtemp(join(tmpdir(), 'medley-pushshared-'));
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});

async function freshDb(name: string): Promise<Db> {
  return openTestDatabase(await mkdtemp(join(root, `${name}-`)));
}

function samplePush(privateKeyPem: string) {
  const body = '<Notification><Message>hi</Message></Notification>';
  const headers: Record<string, string> = {
    'Content-Type': 'text/xml;charset=utf-8',
    'Content-MD5': md5HexUpper(body),
    Date: new Date().toUTCString(),
    'x-mns-version': '2015-06-06',
    'x-mns-request-id': 'req-1',
  };
  headers.Authorization = signPush('POST', '/notify', headers, privateKeyPem);
  return headers;
}

test('two nodes with their own data dirs, started at once, share one key pair whose pushes verify on either certificate', async () => {
  const db = await freshDb('two');
  try {
    const [a, b] = await Promise.all([loadOrCreateSharedPushSigningKeys(db, await mkdtemp(join(root, 'node-a-'))), loadOrCreateSharedPushSigningKeys(db, await mkdtemp(join(root, 'node-b-')))]);
    assert.equal(a.certificatePem, b.certificatePem);
    assert.equal(a.privateKeyPem, b.privateKeyPem);
    assert.ok(verifyPush('POST', '/notify', samplePush(a.privateKeyPem), b.certificatePem));
    assert.ok(verifyPush('POST', '/notify', samplePush(b.privateKeyPem), a.certificatePem));
    const again = await loadOrCreateSharedPushSigningKeys(db, await mkdtemp(join(root, 'node-c-')));
    assert.equal(again.certificatePem, a.certificatePem);
  } finally {
    await db.destroy();
  }
});

test("an existing install's data-dir key pair and certificate become the shared ones", async () => {
  const legacyDir = await mkdtemp(join(root, 'legacy-'));
  const legacy = await loadOrCreatePushSigningKeys(legacyDir);
  const db = await freshDb('legacy');
  try {
    const shared = await loadOrCreateSharedPushSigningKeys(db, legacyDir);
    assert.equal(shared.privateKeyPem, legacy.privateKeyPem);
    assert.equal(shared.certificatePem, legacy.certificatePem, 'receivers that pinned the certificate keep verifying');
    assert.equal(await readFile(legacy.certFile, 'utf8'), legacy.certificatePem, 'the data-dir files are left as they are');
    // A second node without the files gets the same pair from the database.
    const other = await loadOrCreateSharedPushSigningKeys(db, await mkdtemp(join(root, 'new-node-')));
    assert.equal(other.certificatePem, legacy.certificatePem);
    assert.ok(verifyPush('POST', '/notify', samplePush(other.privateKeyPem), legacy.certificatePem));
  } finally {
    await db.destroy();
  }
});

test('once stored, the database wins over a different data-dir key', async () => {
  const db = await freshDb('wins');
  try {
    const first = await loadOrCreateSharedPushSigningKeys(db, await mkdtemp(join(root, 'first-')));
    const otherDir = await mkdtemp(join(root, 'other-'));
    const local = await loadOrCreatePushSigningKeys(otherDir);
    const shared = await loadOrCreateSharedPushSigningKeys(db, otherDir);
    assert.notEqual(local.certificatePem, first.certificatePem);
    assert.equal(shared.certificatePem, first.certificatePem);
  } finally {
    await db.destroy();
  }
});
