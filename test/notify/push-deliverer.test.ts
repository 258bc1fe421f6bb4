/** MNS HTTP push delivery against a real local node:http receiver, over a real SQLite file. */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Insertable } from 'kysely';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { pino } from 'pino';
import { openDatabase, type Db } from '../../src/db/connection.js';
import type { MnsPushTable } from '../../src/db/schema.js';
import { DEFAULT_BACKOFF_RETRY, DEFAULT_EXPONENTIAL, PushDeliverer, retryDelayMs, type PushDelivererOptions } from '../../src/notify/push-deliverer.js';
import { loadOrCreatePushSigningKeys, pushStringToSign, signPush, verifyPush, type PushSigningKeys } from '../../src/notify/push-signing.js';

const log = pino({ level: 'silent' });
const ACCOUNT = '1234567890123456';
const CERT_URL = 'http://127.0.0.1:9100/mns-signing.crt';

let dir: string;
let db: Db;
let keys: PushSigningKeys;

interface Received {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
  status: number;
}

/** Per path: how to answer (status, or 'hang' to never answer). Default 204. */
type Responder = (req: Received, nth: number) => number | 'hang' | Promise<number | 'hang'>;
const responders = new Map<string, Responder>();
const received: Received[] = [];
let server: http.Server;
let base: string;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'medley-push-'));
  db = await openDatabase(join(dir, 'm.db'), { durable: false });
  keys = await loadOrCreatePushSigningKeys(dir);
  server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      void (async () => {
        const r: Received = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), status: 0 };
        const path = r.url.split('?')[0]!;
        const nth = received.filter((x) => x.url.split('?')[0] === path).length;
        received.push(r);
        const answer = await (responders.get(path) ?? (() => 204))(r, nth);
        if (answer === 'hang') return;
        r.status = answer;
        res.writeHead(answer).end();
      })();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
  await db.destroy();
  rmSync(dir, { recursive: true, force: true });
});

let seq = 0;
/** A fresh receiver path per test, so tests never see each other's requests. */
function endpointPath(): string {
  return `/hook-${++seq}`;
}

function pushRow(over: Partial<Insertable<MnsPushTable>> = {}): Insertable<MnsPushTable> {
  const body = over.message_body ?? JSON.stringify({ id: randomBytes(4).toString('hex'), source: 'acs.imm' });
  return {
    topic: 'AudioConvert',
    subscription: 'media-done',
    endpoint: `${base}/default`,
    notify_strategy: 'EXPONENTIAL_DECAY_RETRY',
    notify_content_format: 'JSON',
    message_id: randomBytes(16).toString('hex').toUpperCase(),
    message_body: body,
    message_tag: '',
    published_at: 1724133063161,
    attempts: 0,
    next_attempt_at: Date.now(),
    state: 'pending',
    last_error: '',
    lease_owner: null,
    lease_expires_at: null,
    ...over,
  };
}

async function insert(...rows: Insertable<MnsPushTable>[]): Promise<number[]> {
  const ids: number[] = [];
  for (const r of rows) ids.push(Number((await db.insertInto('mns_pushes').values(r).returning('id').executeTakeFirstOrThrow()).id));
  return ids;
}

async function row(id: number) {
  return db.selectFrom('mns_pushes').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
}

async function waitFor(cond: () => Promise<boolean> | boolean, ms = 8000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 10));
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function deliverer(over: Partial<PushDelivererOptions> = {}): PushDeliverer {
  return new PushDeliverer({
    db,
    log,
    signing: { privateKeyPem: keys.privateKeyPem, certUrl: CERT_URL },
    accountId: ACCOUNT,
    pollMs: 20,
    timeoutMs: 2000,
    backoff: { baseMs: 20, maxMs: 80, maxAttempts: 10 },
    backoffRetry: { minMs: 10, maxMs: 20, maxAttempts: 4 },
    ...over,
  });
}

const md5Upper = (s: string): string => createHash('md5').update(s).digest('hex').toUpperCase();
const at = (path: string): Received[] => received.filter((r) => r.url.split('?')[0] === path);

// ---------------------------------------------------------------------------------------------------

test('signing keys: generated once with a 0600 key file, loaded again unchanged; the certificate matches', async () => {
  assert.equal(statSync(keys.keyFile).mode & 0o777, 0o600);
  assert.match(keys.certificatePem, /^-----BEGIN CERTIFICATE-----/);
  const again = await loadOrCreatePushSigningKeys(dir);
  assert.equal(again.privateKeyPem, keys.privateKeyPem);
  assert.equal(again.certificatePem, keys.certificatePem);
  // A lost certificate is re-made for the same key.
  rmSync(keys.certFile);
  const remade = await loadOrCreatePushSigningKeys(dir);
  assert.equal(remade.privateKeyPem, keys.privateKeyPem);
  const headers = { date: 'Tue, 20 Aug 2024 07:03:09 GMT', 'x-mns-version': '2015-06-06' };
  const signature = signPush('POST', '/n', headers, keys.privateKeyPem);
  assert.ok(verifyPush('POST', '/n', { ...headers, authorization: signature }, remade.certificatePem));
});

test('signing keys: processes starting at once agree on one key', async () => {
  const d = mkdtempSync(join(tmpdir(), 'medley-keys-'));
  try {
    const all = await Promise.all([loadOrCreatePushSigningKeys(d), loadOrCreatePushSigningKeys(d), loadOrCreatePushSigningKeys(d)]);
    assert.equal(new Set(all.map((k) => k.privateKeyPem)).size, 1);
  } finally {
    rmSync(d, { recursive: true, force: true });
  }
});

test('StringToSign layout (spec/oss.md §6.2) and signature round trip', () => {
  const headers = {
    Date: 'Tue, 20 Aug 2024 07:03:09 GMT',
    'Content-Type': 'text/plain;charset=utf-8',
    'Content-MD5': 'ABC',
    'x-mns-version': '2015-06-06',
    'X-MNS-Request-Id': 'R1',
    'x-mns-message-id': 'M1',
    host: 'ignored',
  };
  assert.equal(
    pushStringToSign('POST', '/notifications', headers),
    'POST\nABC\ntext/plain;charset=utf-8\nTue, 20 Aug 2024 07:03:09 GMT\nx-mns-message-id:M1\nx-mns-request-id:R1\nx-mns-version:2015-06-06\n/notifications',
  );
  const authorization = signPush('POST', '/notifications', headers, keys.privateKeyPem);
  assert.match(authorization, /^[A-Za-z0-9+/]+=*$/);
  assert.ok(verifyPush('POST', '/notifications', { ...headers, Authorization: authorization }, keys.certificatePem));
  assert.equal(verifyPush('POST', '/other', { ...headers, Authorization: authorization }, keys.certificatePem), false);
  assert.equal(verifyPush('POST', '/notifications', { ...headers, 'x-mns-message-id': 'M2', Authorization: authorization }, keys.certificatePem), false);
  assert.equal(verifyPush('POST', '/notifications', headers, keys.certificatePem), false);
});

test('retry schedules: EXPONENTIAL_DECAY_RETRY doubles to 512 s over ~a day; BACKOFF_RETRY is 3 retries 10-20 s apart', () => {
  const p = { exponential: DEFAULT_EXPONENTIAL, backoffRetry: DEFAULT_BACKOFF_RETRY };
  const delays: number[] = [];
  for (let a = 1; ; a++) {
    const d = retryDelayMs('EXPONENTIAL_DECAY_RETRY', a, p);
    if (d === undefined) break;
    delays.push(d);
  }
  assert.deepEqual(delays.slice(0, 11), [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 512].map((s) => s * 1000));
  assert.equal(delays.length + 1, 176);
  const total = delays.reduce((a, b) => a + b, 0) / 3600_000;
  assert.ok(total > 23 && total < 25, `total ${total} h`);
  const b = [1, 2, 3].map((a) => retryDelayMs('BACKOFF_RETRY', a, p)!);
  for (const d of b) assert.ok(d >= 10_000 && d <= 20_000);
  assert.equal(retryDelayMs('BACKOFF_RETRY', 4, p), undefined);
  // Unknown strategies follow the MNS default, BACKOFF_RETRY.
  assert.equal(retryDelayMs('WHATEVER', 4, p), undefined);
});

interface Parsed {
  TopicOwner: string;
  TopicName: string;
  Subscriber: string;
  SubscriptionName: string;
  MessageId: string;
  MessageMD5: string;
  MessageTag: string;
  PublishTime: string;
  Message: string;
}

function checkCommonHeaders(r: Received, path: string, messageId: string, subscription: string, contentType: string): void {
  assert.equal(r.method, 'POST');
  assert.equal(r.headers['content-type'], contentType);
  assert.equal(r.headers['content-md5'], md5Upper(r.body));
  assert.match(String(r.headers['content-md5']), /^[0-9A-F]{32}$/);
  assert.match(String(r.headers.date), /^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT$/);
  assert.ok(Math.abs(Date.parse(String(r.headers.date)) - Date.now()) < 60_000);
  assert.equal(r.headers['x-mns-version'], '2015-06-06');
  assert.match(String(r.headers['x-mns-request-id']), /^[0-9A-F]{24}$/);
  assert.equal(r.headers['x-mns-message-id'], messageId);
  assert.equal(r.headers['x-mns-publish-time'], '1724133063161');
  assert.equal(Buffer.from(String(r.headers['x-mns-signing-cert-url']), 'base64').toString('utf8'), CERT_URL);
  assert.equal(r.headers['x-mns-topic-owner'], ACCOUNT);
  assert.equal(r.headers['x-mns-topic-name'], 'AudioConvert');
  assert.equal(r.headers['x-mns-subscriber'], ACCOUNT);
  assert.equal(r.headers['x-mns-subscription-name'], subscription);
  assert.match(String(r.headers.authorization), /^[A-Za-z0-9+/]+=*$/);
  assert.ok(verifyPush(r.method, r.url, r.headers, keys.certificatePem), 'signature verifies with the certificate');
  assert.equal(r.url, path);
}

test('headers and bodies per NotifyContentFormat; the signature verifies with the certificate', async () => {
  const p = endpointPath();
  const message = '{"id":"181-1kZUlN60OH4fWOcOjZEnGnGabcd","content":"{\\"a\\":\\"<&>\\"}"}';
  const [jsonId, xmlId, simpleId] = await insert(
    pushRow({ endpoint: `${base}${p}/json?v=1`, notify_content_format: 'JSON', subscription: 'sub-json', message_body: message, message_tag: 'tagj' }),
    pushRow({ endpoint: `${base}${p}/xml`, notify_content_format: 'XML', subscription: 'sub-xml', message_body: message, message_tag: 't&g' }),
    pushRow({ endpoint: `${base}${p}/simple`, notify_content_format: 'SIMPLIFIED', subscription: 'sub-simple', message_body: message, message_tag: 'tags' }),
  );
  const d = deliverer();
  d.start();
  await waitFor(async () => (await Promise.all([jsonId!, xmlId!, simpleId!].map(row))).every((r) => r.state === 'delivered'));
  await d.stop();

  const json = at(`${p}/json`);
  assert.equal(json.length, 1);
  const j = (await row(jsonId!)).message_id;
  checkCommonHeaders(json[0]!, `${p}/json?v=1`, j, 'sub-json', 'text/plain;charset=utf-8');
  assert.equal(json[0]!.headers['x-mns-message-tag'], undefined);
  const body = JSON.parse(json[0]!.body) as Parsed;
  assert.deepEqual(Object.keys(body), ['TopicOwner', 'TopicName', 'Subscriber', 'SubscriptionName', 'MessageId', 'MessageMD5', 'MessageTag', 'PublishTime', 'Message']);
  assert.deepEqual(body, {
    TopicOwner: ACCOUNT,
    TopicName: 'AudioConvert',
    Subscriber: ACCOUNT,
    SubscriptionName: 'sub-json',
    MessageId: j,
    MessageMD5: md5Upper(message),
    MessageTag: 'tagj',
    PublishTime: '1724133063161',
    Message: message,
  });

  const xml = at(`${p}/xml`);
  assert.equal(xml.length, 1);
  const x = (await row(xmlId!)).message_id;
  checkCommonHeaders(xml[0]!, `${p}/xml`, x, 'sub-xml', 'text/xml;charset=utf-8');
  assert.equal(XMLValidator.validate(xml[0]!.body), true);
  assert.match(xml[0]!.body, /<Notification xmlns="http:\/\/mns\.aliyuncs\.com\/doc\/v1\/">/);
  const parsed = new XMLParser({ parseTagValue: false, ignoreAttributes: true }).parse(xml[0]!.body) as { Notification: Parsed };
  assert.deepEqual(parsed.Notification, {
    TopicOwner: ACCOUNT,
    TopicName: 'AudioConvert',
    Subscriber: ACCOUNT,
    SubscriptionName: 'sub-xml',
    MessageId: x,
    Message: message,
    MessageMD5: md5Upper(message),
    MessageTag: 't&g',
    PublishTime: '1724133063161',
  });

  const simple = at(`${p}/simple`);
  assert.equal(simple.length, 1);
  const s = (await row(simpleId!)).message_id;
  checkCommonHeaders(simple[0]!, `${p}/simple`, s, 'sub-simple', 'text/plain;charset=utf-8');
  assert.equal(simple[0]!.headers['x-mns-message-tag'], 'tags');
  assert.equal(simple[0]!.body, message);

  for (const id of [jsonId!, xmlId!, simpleId!]) {
    const r = await row(id);
    assert.equal(r.attempts, 1);
    assert.equal(r.lease_owner, null);
  }
});

test('an endpoint URL without a path is posted to /notifications', async () => {
  const [id] = await insert(pushRow({ endpoint: base }));
  const before = at('/notifications').length;
  const d = deliverer();
  d.start();
  await waitFor(async () => (await row(id!)).state === 'delivered');
  await d.stop();
  assert.equal(at('/notifications').length, before + 1);
});

test('an endpoint failing 3 times then answering 204 gets exactly one acknowledged delivery after retries', async () => {
  const p = endpointPath();
  responders.set(p, (_r, nth) => (nth < 3 ? 503 : 204));
  const [id] = await insert(pushRow({ endpoint: `${base}${p}` }));
  const d = deliverer();
  d.start();
  await waitFor(async () => (await row(id!)).state === 'delivered');
  // Keep running a while: nothing more is sent.
  await sleep(150);
  await d.stop();
  const got = at(p);
  assert.deepEqual(
    got.map((r) => r.status),
    [503, 503, 503, 204],
  );
  assert.equal(new Set(got.map((r) => r.headers['x-mns-message-id'])).size, 1);
  // Each attempt is a fresh request (its own request id), still signed.
  assert.equal(new Set(got.map((r) => r.headers['x-mns-request-id'])).size, 4);
  for (const r of got) assert.ok(verifyPush(r.method, r.url, r.headers, keys.certificatePem));
  const r = await row(id!);
  assert.equal(r.attempts, 4);
  assert.equal(r.last_error, '');
});

test('retries are spaced by the backoff', async () => {
  const p = endpointPath();
  responders.set(p, () => 500);
  const [id] = await insert(pushRow({ endpoint: `${base}${p}`, notify_strategy: 'EXPONENTIAL_DECAY_RETRY' }));
  const d = deliverer({ backoff: { baseMs: 60, maxMs: 120, maxAttempts: 3 } });
  const t0 = Date.now();
  d.start();
  await waitFor(async () => (await row(id!)).state === 'failed');
  const elapsed = Date.now() - t0;
  await d.stop();
  assert.equal(at(p).length, 3);
  // 60 ms, then 120 ms.
  assert.ok(elapsed >= 170, `elapsed ${elapsed}`);
  const r = await row(id!);
  assert.equal(r.attempts, 3);
  assert.equal(r.last_error, 'HTTP 500');
});

test('BACKOFF_RETRY gives up after 3 retries: failed with the last error', async () => {
  const p = endpointPath();
  responders.set(p, () => 403);
  const [id] = await insert(pushRow({ endpoint: `${base}${p}`, notify_strategy: 'BACKOFF_RETRY' }));
  const d = deliverer();
  d.start();
  await waitFor(async () => (await row(id!)).state === 'failed');
  await sleep(100);
  await d.stop();
  assert.equal(at(p).length, 4);
  const r = await row(id!);
  assert.equal(r.attempts, 4);
  assert.equal(r.last_error, 'HTTP 403');
});

test('a hanging endpoint times out and is retried, without holding up other deliveries', async () => {
  const slow = endpointPath();
  const fast = endpointPath();
  responders.set(slow, (_r, nth) => (nth === 0 ? 'hang' : 204));
  const [slowId] = await insert(pushRow({ endpoint: `${base}${slow}` }));
  const d = deliverer({ timeoutMs: 400 });
  d.start();
  await waitFor(() => at(slow).length === 1);
  // While the first request hangs, another row goes out at once.
  const [fastId] = await insert(pushRow({ endpoint: `${base}${fast}` }));
  const t0 = Date.now();
  d.kick();
  await waitFor(async () => (await row(fastId!)).state === 'delivered');
  assert.ok(Date.now() - t0 < 300, 'not blocked by the hanging request');
  assert.equal((await row(slowId!)).state, 'pending');
  await waitFor(async () => (await row(slowId!)).state === 'delivered');
  await d.stop();
  assert.equal(at(slow).length, 2);
  const r = await row(slowId!);
  assert.equal(r.attempts, 2);
});

test('connection errors are retried and recorded', async () => {
  const closed = http.createServer();
  await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
  const port = (closed.address() as AddressInfo).port;
  await new Promise((r) => closed.close(r));
  const [id] = await insert(pushRow({ endpoint: `http://127.0.0.1:${port}/gone`, notify_strategy: 'BACKOFF_RETRY' }));
  const d = deliverer();
  d.start();
  await waitFor(async () => (await row(id!)).state === 'failed');
  await d.stop();
  const r = await row(id!);
  assert.equal(r.attempts, 4);
  assert.match(r.last_error, /ECONNREFUSED/);
});

test('a row whose endpoint is not an HTTP URL fails at once', async () => {
  const [id] = await insert(pushRow({ endpoint: 'acs:mns:cn-hangzhou:123:queues/q1' }));
  const d = deliverer();
  d.start();
  await waitFor(async () => (await row(id!)).state === 'failed');
  await d.stop();
  const r = await row(id!);
  assert.equal(r.attempts, 1);
  assert.match(r.last_error, /not an HTTP endpoint/);
});

test('delivery survives a restart: a new deliverer on the same database delivers the rest, each once', async () => {
  const p = endpointPath();
  responders.set(p, async () => {
    await sleep(30);
    return 204;
  });
  const ids = await insert(...Array.from({ length: 10 }, () => pushRow({ endpoint: `${base}${p}` })));
  const first = deliverer({ concurrency: 2 });
  first.start();
  await waitFor(() => at(p).filter((r) => r.status === 204).length >= 2);
  await first.stop();
  const afterStop = await db.selectFrom('mns_pushes').select(['state', 'lease_owner']).where('id', 'in', ids).execute();
  assert.ok(afterStop.some((r) => r.state === 'pending'), 'stopped mid-way');
  // Nothing stays leased by the stopped deliverer.
  assert.ok(afterStop.every((r) => r.lease_owner === null));

  const db2 = await openDatabase(join(dir, 'm.db'), { durable: false });
  try {
    const second = deliverer({ db: db2, concurrency: 2 });
    second.start();
    await waitFor(async () => (await db.selectFrom('mns_pushes').select('state').where('id', 'in', ids).execute()).every((r) => r.state === 'delivered'));
    await second.stop();
  } finally {
    await db2.destroy();
  }
  const got = at(p);
  assert.equal(got.length, 10);
  assert.equal(new Set(got.map((r) => r.headers['x-mns-message-id'])).size, 10);
});

test('a row leased by a crashed deliverer is delivered once its lease runs out', async () => {
  const p = endpointPath();
  const [id] = await insert(pushRow({ endpoint: `${base}${p}`, lease_owner: 'push/dead/1/x', lease_expires_at: Date.now() + 300 }));
  const d = deliverer();
  const t0 = Date.now();
  d.start();
  await waitFor(async () => (await row(id!)).state === 'delivered');
  await d.stop();
  assert.ok(Date.now() - t0 >= 250, 'not before the lease ran out');
  assert.equal(at(p).length, 1);
});

test('two deliverers on one database never send the same row (twice)', async () => {
  const p = endpointPath();
  responders.set(p, async () => {
    await sleep(Math.floor(Math.random() * 15));
    return 204;
  });
  const db2 = await openDatabase(join(dir, 'm.db'), { durable: false });
  const a = deliverer({ concurrency: 4, pollMs: 5 });
  const b = deliverer({ db: db2, concurrency: 4, pollMs: 5 });
  a.start();
  b.start();
  try {
    await sleep(30);
    // All rows appear at once while both deliverers poll.
    const ids = await db.transaction().execute(async (tx) => {
      const out: number[] = [];
      for (let i = 0; i < 40; i++) out.push(Number((await tx.insertInto('mns_pushes').values(pushRow({ endpoint: `${base}${p}` })).returning('id').executeTakeFirstOrThrow()).id));
      return out;
    });
    await waitFor(async () => (await db.selectFrom('mns_pushes').select('state').where('id', 'in', ids).execute()).every((r) => r.state === 'delivered'));
    await sleep(100);
  } finally {
    await Promise.all([a.stop(), b.stop()]);
    await db2.destroy();
  }
  const got = at(p);
  assert.equal(got.length, 40);
  assert.equal(new Set(got.map((r) => r.headers['x-mns-message-id'])).size, 40);
});
