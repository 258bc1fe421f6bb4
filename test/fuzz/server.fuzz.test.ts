/**
 * Server-level fuzzing (Medley issue 9): a bounded number of seeded, mutated requests through the real
 * `medley serve`, signed so that they reach the parsers — x-oss-async-process and x-oss-process on an object,
 * CompleteMultipartUpload / DeleteMultipleObjects / PutBucket XML bodies, MNS queue/topic/subscription/message
 * XML on the MNS port, IMM RPC calls (CreateMediaConvertTask, ListTasks, GetTask, projects) with complex
 * parameters as JSON text or flattened.
 *
 * Asserted: no response is 5xx (the first offending request is printed in full), none hangs, the server is
 * alive afterwards and logged no error, and invalid requests created nothing: every task row belongs to a
 * 2xx submit, every object to the setup or a 2xx CompleteMultipartUpload, every bucket to the setup or a 2xx
 * PutBucket. Workers are off (MEDLEY_WORKERS=0), so accepted tasks stay queued and nothing runs FFmpeg.
 *
 * Replay: MEDLEY_FUZZ_SEED=<seed> (printed in the test name); MEDLEY_FUZZ_CASES=<n> or x<factor> scales the
 * request counts (default 1540 in all).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { startServer, type TestServer } from '../support/server.js';
import { rawRequest, xmlTag, type RawRequest, type RawResponse } from '../support/raw-client.js';
import { mnsClient, rawMns, type MnsClient } from '../support/mns.js';
import { queryRows } from '../support/backend.js';
import { percentEncode as rpcEncode, signV1 as rpcSign } from '../http/imm/support.js';
import { Rng, fuzzCases, fuzzSeed } from './prng.js';
import { immInput, processInput, syncProcessInput, wellFormed, xmlInput } from './corpus.js';
import { GENERIC, mutate } from './mutators.js';

const SEED = fuzzSeed();
const PROJECT = 'fuzz-project';
const BUCKET = 'in-bucket';
const DEL_BUCKET = 'del-bucket';
const SOURCE_KEY = 'in/src.mp4';
const MP_KEY = 'fuzz/multipart.bin';
/** Objects the corpora name as sources (/pre, /sur, IMM Sources): present, so valid requests get as far as a task. */
const SOURCE_KEYS = [
  SOURCE_KEY, 'a.mp3', 'b.wav', 'c.mp3', 'intro.mp4', 'outro.mp4', 'a.mkv', 'b.mkv', 'a/ü?>~.mp3', 'pre1.mp3\n', 'pre2.wav\n', 'sur1.aac\n', 'sur2.wma\n',
  'src1.mp3', 'src2.mp3', 'pre.mov\n', 'video-demo/head.mp3', 'video-demo/test.mp3', 'video-demo/tail.mp3', 'in/src.webm', 'in/a.flac',
].map((k) => k.replace(/\n$/, ''));
const SETUP_BUCKETS = [BUCKET, DEL_BUCKET, 'outbucket', 'examplebucket', 'out-bucket'];

/** Requests per kind (before MEDLEY_FUZZ_CASES scaling). */
const PLAN = {
  asyncProcess: 450,
  syncProcess: 150,
  complete: 120,
  deleteMultiple: 120,
  putBucket: 100,
  mns: 300,
  imm: 300,
} as const;
type Kind = keyof typeof PLAN;

interface Sent {
  kind: Kind;
  index: number;
  status: number;
  describe: () => string;
  body: string;
}

let server: TestServer;
let mns: MnsClient;
const auth = () => ({ id: server.keyId, secret: server.secret });
const oss = (r: RawRequest) => rawRequest(server.url, { auth: auth(), ...r });

async function ok(p: Promise<RawResponse | { status: number; body: string }>, what: string): Promise<RawResponse | { status: number; body: string }> {
  const r = await p;
  assert.ok(r.status >= 200 && r.status < 300, `${what}: ${r.status} ${'text' in r ? r.text : r.body}`);
  return r;
}

// ---------------------------------------------------------------------------------------------------------
// Multipart: one upload with two parts; a 2xx Complete consumes it and a new one is started.

let upload = { id: '', etags: ['', ''] };
let uploadBusy: Promise<void> = Promise.resolve();

async function newUpload(): Promise<void> {
  const init = await ok(oss({ method: 'POST', bucket: BUCKET, key: MP_KEY, query: { uploads: '' } }), 'InitiateMultipartUpload');
  const id = xmlTag((init as RawResponse).text, 'UploadId')!;
  const etags: string[] = [];
  for (const [n, size] of [[1, 100 * 1024], [2, 10]] as const) {
    const r = (await ok(oss({ method: 'PUT', bucket: BUCKET, key: MP_KEY, query: { partNumber: String(n), uploadId: id }, body: Buffer.alloc(size, n) }), 'UploadPart')) as RawResponse;
    etags.push(String(r.headers.etag).replace(/"/g, ''));
  }
  upload = { id, etags };
}

// ---------------------------------------------------------------------------------------------------------
// One request per kind and case index.

type Request = { send: () => Promise<{ status: number; body: string }>; describe: () => string; after?: (status: number) => Promise<void> | void };

const completedKeys = new Set<string>();
const createdBuckets = new Set<string>();
let acceptedTasks = 0;

function ossDescribe(r: RawRequest): () => string {
  return () => `${r.method} /${r.bucket ?? ''}/${r.key ?? ''} query=${JSON.stringify(r.query ?? {})} headers=${JSON.stringify(r.headers ?? {})}\nbody=${JSON.stringify(Buffer.isBuffer(r.body) ? r.body.toString('latin1') : (r.body ?? ''))}`;
}

function ossRequest(r: RawRequest, after?: (status: number) => void): Request {
  return { send: () => oss(r).then((x) => ({ status: x.status, body: x.text })), describe: ossDescribe(r), after };
}

function build(kind: Kind, i: number): Request {
  const rng = Rng.forCase(SEED, `server:${kind}`, i);
  switch (kind) {
    case 'asyncProcess': {
      const { body } = processInput(rng);
      // Now and then the body is not UTF-8 at all (latin1 bytes of a string with non-ASCII characters).
      const bytes = rng.chance(0.05) ? Buffer.from(body, 'latin1') : Buffer.from(body, 'utf8');
      // Or, with an empty body, as the query value (which the handler also reads).
      const inQuery = rng.chance(0.15);
      const query = { 'x-oss-async-process': inQuery ? wellFormed(body.replace(/^x-oss-async-process=/, '')).slice(0, 6000) : '' };
      return ossRequest({ method: 'POST', bucket: BUCKET, key: SOURCE_KEY, query, body: inQuery ? Buffer.alloc(0) : bytes }, (s) => {
        if (s >= 200 && s < 300) acceptedTasks++;
      });
    }
    case 'syncProcess': {
      const { process, post } = syncProcessInput(rng);
      const value = wellFormed(process);
      return post
        ? ossRequest({ method: 'POST', bucket: BUCKET, key: SOURCE_KEY, query: { 'x-oss-process': '' }, body: `x-oss-process=${value}` })
        : ossRequest({ method: 'GET', bucket: BUCKET, key: SOURCE_KEY, query: { 'x-oss-process': value.slice(0, 6000) } });
    }
    case 'complete': {
      // Bodies are built when sent: they name the current upload's ETags.
      let r: RawRequest | undefined;
      return {
        send: async () => {
          await uploadBusy;
          const { body } = xmlInput(rng, (t) => t === 'oss:CompleteMultipartUpload', { etag1: upload.etags[0]!, etag2: upload.etags[1]! });
          r = { method: 'POST', bucket: BUCKET, key: MP_KEY, query: { uploadId: upload.id }, body };
          const x = await oss(r);
          return { status: x.status, body: x.text };
        },
        describe: () => (r ? ossDescribe(r)() : '(not sent)'),
        after: (s) => {
          if (s >= 200 && s < 300) {
            completedKeys.add(MP_KEY);
            uploadBusy = newUpload();
          }
        },
      };
    }
    case 'deleteMultiple': {
      const { body } = xmlInput(rng, (t) => t === 'oss:DeleteMultipleObjects');
      const query: Record<string, string> = { delete: '' };
      if (rng.chance(0.2)) query['encoding-type'] = 'url';
      return ossRequest({ method: 'POST', bucket: DEL_BUCKET, query, body });
    }
    case 'putBucket': {
      const { body } = xmlInput(rng, (t) => t === 'oss:PutBucket');
      const name = `fz-${SEED.toString(36)}-${i}`;
      return ossRequest({ method: 'PUT', bucket: name, body }, (s) => {
        if (s >= 200 && s < 300) createdBuckets.add(name);
      });
    }
    case 'mns': {
      const { target, body } = xmlInput(rng, (t) => t.startsWith('mns:'), { handle: '1-MTAwMA==' });
      // Now and then the resource name itself is damaged too (percent-encoded into the path).
      const name = (n: string) => (rng.chance(0.15) ? encodeURIComponent(wellFormed(mutate(n, rng, GENERIC, 1))) : n);
      const [method, path] = ((): [string, string] => {
        switch (target) {
          case 'mns:CreateQueue':
            return ['PUT', `/queues/${name(`fz-q-${i}`)}`];
          case 'mns:SetQueueAttributes':
            return ['PUT', `/queues/${name('fuzz-q')}?metaoverride=${rng.pick(['true', 'TRUE', 'false', '', '1'])}`];
          case 'mns:SendMessage':
          case 'mns:BatchSendMessage':
            return ['POST', `/queues/${name('fuzz-q')}/messages`];
          case 'mns:BatchDeleteMessage':
            return ['DELETE', `/queues/${name('fuzz-q')}/messages`];
          case 'mns:CreateTopic':
            return ['PUT', `/topics/${name(`fz-t-${i}`)}`];
          case 'mns:Subscribe':
            return ['PUT', `/topics/fuzz-t/subscriptions/${name(`fz-s-${i}`)}`];
          default:
            return ['POST', `/topics/${name('fuzz-t')}/messages`];
        }
      })();
      return {
        send: () => rawMns(server, mns, method, path, { body: Buffer.from(body, 'utf8') }),
        describe: () => `MNS ${method} ${path}\nbody=${JSON.stringify(body)}`,
      };
    }
    case 'imm': {
      const input = immInput(rng, { bucket: BUCKET, project: PROJECT });
      const pairs = input.pairs.map(([k, v]): [string, string] => [wellFormed(k), wellFormed(v)]);
      const common: [string, string][] = [
        ['Action', input.action],
        ['Version', '2020-09-30'],
        ['Format', 'JSON'],
        ['AccessKeyId', server.keyId],
        ['SignatureMethod', 'HMAC-SHA1'],
        ['SignatureVersion', '1.0'],
        ['SignatureNonce', randomUUID()],
        ['Timestamp', new Date().toISOString().replace(/\.\d+Z$/, 'Z')],
      ];
      const all = [...common, ...pairs];
      // pop-core posts a form; the generated SDKs (and GET callers) put everything in the query.
      const method = rng.chance(0.25) ? 'GET' : 'POST';
      let text = '';
      const body = () => {
        const signed: [string, string][] = [...all, ['Signature', rpcSign(method, all, server.secret)]];
        return signed.map(([k, v]) => `${rpcEncode(k)}=${rpcEncode(v)}`).join('&');
      };
      return {
        send: async () => {
          text = body();
          const headers: Record<string, string> = { 'x-acs-action': input.action, 'x-acs-version': '2020-09-30' };
          if (method === 'POST') headers['content-type'] = 'application/x-www-form-urlencoded';
          const url = method === 'GET' ? `${server.url}/?${text}` : `${server.url}/`;
          const res = await fetch(url, { method, headers, body: method === 'POST' ? text : undefined, signal: AbortSignal.timeout(30_000) });
          return { status: res.status, body: await res.text() };
        },
        describe: () => `IMM ${method} ${input.action}\n${method === 'GET' ? 'query' : 'form'}=${text}`,
        after: (s) => {
          if (input.action === 'CreateMediaConvertTask' && s >= 200 && s < 300) acceptedTasks++;
        },
      };
    }
  }
}

// ---------------------------------------------------------------------------------------------------------

const counts = Object.fromEntries(Object.entries(PLAN).map(([k, n]) => [k, fuzzCases(n)])) as Record<Kind, number>;
const total = Object.values(counts).reduce((a, b) => a + b, 0);
let initialTasks = 0;

before(async () => {
  server = await startServer({ env: { MEDLEY_WORKERS: '0', MEDLEY_FSYNC: 'false' } });
  mns = mnsClient(server);
  for (const b of SETUP_BUCKETS) await ok(oss({ method: 'PUT', bucket: b }), `PutBucket ${b}`);
  for (const key of SOURCE_KEYS) await ok(oss({ method: 'PUT', bucket: BUCKET, key, body: 'not media' }), `PutObject ${key}`);
  for (const key of ['fuzz/a.txt', 'fuzz/b & c.txt', "fuzz/'q'.txt"]) await ok(oss({ method: 'PUT', bucket: DEL_BUCKET, key, body: 'x' }), `PutObject ${key}`);
  await newUpload();
  await ok(rawMns(server, mns, 'PUT', '/queues/fuzz-q'), 'CreateQueue');
  await ok(rawMns(server, mns, 'PUT', '/topics/fuzz-t'), 'CreateTopic');
  const project = await fetch(`${server.url}/`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-acs-action': 'CreateProject', 'x-acs-version': '2020-09-30' },
    body: (() => {
      const p: [string, string][] = [
        ['Action', 'CreateProject'], ['Version', '2020-09-30'], ['Format', 'JSON'], ['AccessKeyId', server.keyId], ['SignatureMethod', 'HMAC-SHA1'],
        ['SignatureVersion', '1.0'], ['SignatureNonce', randomUUID()], ['Timestamp', new Date().toISOString().replace(/\.\d+Z$/, 'Z')], ['ProjectName', PROJECT],
      ];
      return [...p, ['Signature', rpcSign('POST', p, server.secret)]].map(([k, v]) => `${rpcEncode(k!)}=${rpcEncode(v!)}`).join('&');
    })(),
  });
  assert.equal(project.status, 200, await project.text());
  initialTasks = Number((await queryRows<{ n: number }>(server.dataDir, 'select count(*) as n from tasks'))[0]!.n);
});

after(async () => {
  await server?.dispose();
});

test(`fuzz the server: ${total} mutated requests, seed ${SEED} — no 5xx, no hang, nothing created by invalid requests`, { timeout: 240_000 }, async (t) => {
  const kinds = (Object.keys(PLAN) as Kind[]).flatMap((k) => Array.from({ length: counts[k] }, (_, i) => [k, i] as const));
  // Interleave the kinds deterministically (a fixed shuffle of the seed), so one kind's damage meets another's state.
  const order = Rng.forCase(SEED, 'server:order', 0);
  for (let i = kinds.length - 1; i > 0; i--) {
    const j = order.int(i + 1);
    [kinds[i], kinds[j]] = [kinds[j]!, kinds[i]!];
  }

  const sent: Sent[] = [];
  const t0 = Date.now();
  const CONCURRENCY = 4;
  let next = 0;
  const worker = async () => {
    while (next < kinds.length) {
      const [kind, index] = kinds[next++]!;
      const req = build(kind, index);
      let res: { status: number; body: string };
      try {
        res = await req.send();
      } catch (e) {
        throw new Error(`fuzz server seed ${SEED}: ${kind} case ${index} got no response (${(e as Error).message}). Request:\n${req.describe()}`);
      }
      sent.push({ kind, index, status: res.status, describe: req.describe, body: res.body });
      await req.after?.(res.status);
      if (res.status >= 500) {
        assert.fail(`fuzz server seed ${SEED}: ${kind} case ${index} answered ${res.status}.\nRequest:\n${req.describe()}\nResponse:\n${res.body.slice(0, 2000)}`);
      }
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  await uploadBusy;
  const ms = Date.now() - t0;

  const byKind: Record<string, Record<number, number>> = {};
  for (const s of sent) {
    const h = (byKind[s.kind] ??= {});
    h[s.status] = (h[s.status] ?? 0) + 1;
  }
  t.diagnostic(`seed ${SEED}: ${sent.length} requests in ${ms} ms; statuses by kind ${JSON.stringify(byKind)}`);
  assert.equal(sent.length, total);

  // The requests reached the parsers: few were refused by authentication (403 / IMM signature errors).
  const authRefused = sent.filter((s) => /SignatureDoesNotMatch|InvalidAccessKeyId|IncompleteSignature/.test(s.body));
  assert.ok(authRefused.length < total * 0.05, `${authRefused.length} requests were refused by authentication, e.g.:\n${authRefused[0]?.describe()}\n${authRefused[0]?.body}`);

  // Alive and quiet.
  const health = await fetch(`${server.url}/-/health`);
  assert.equal(health.status, 200);
  assert.equal(server.process.exitCode, null);
  const errors = server.output().split('\n').filter((l) => /"level":(50|60)/.test(l));
  assert.deepEqual(errors.slice(0, 3), [], 'the server logged errors');

  // Nothing was created by a refused request.
  const tasks = Number((await queryRows<{ n: number }>(server.dataDir, 'select count(*) as n from tasks'))[0]!.n);
  assert.equal(tasks - initialTasks, acceptedTasks, 'task rows beyond the accepted submits');
  const objects = await queryRows<{ bucket: string; key: string }>(server.dataDir, 'select bucket, key from objects');
  const expected = new Set([...SOURCE_KEYS.map((k) => `${BUCKET}/${k}`), ...[...completedKeys].map((k) => `${BUCKET}/${k}`)]);
  const unexpected = objects.filter((o) => o.bucket !== DEL_BUCKET && !expected.has(`${o.bucket}/${o.key}`));
  assert.deepEqual(unexpected, [], 'objects written by the fuzzed requests');
  const buckets = (await queryRows<{ name: string }>(server.dataDir, 'select name from buckets')).map((b) => b.name);
  const strayBuckets = buckets.filter((b) => !SETUP_BUCKETS.includes(b) && !createdBuckets.has(b));
  assert.deepEqual(strayBuckets, [], 'buckets created by refused PutBucket requests');
});
