// IMM RPC signatures (spec/imm.md §1.5 v1 HMAC-SHA1, §1.6 ACS3-HMAC-SHA256, errors §2.3): the spec's vectors, every
// captured request of the official clients (test/fixtures/vectors/imm-*.jsonl), and the error behaviour.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { IncomingHttpHeaders } from 'node:http';
import {
  acs3CanonicalQuery,
  acs3CanonicalRequest,
  acs3Signature,
  acs3StringToSign,
  parseQueryPairs,
  percentEncode,
  rpcV1Signature,
  rpcV1StringToSign,
  verifyRpcRequest,
  type RpcSignedRequest,
} from '../../src/auth/rpc-signature.js';
import type { Credential, CredentialLookup } from '../../src/auth/credentials.js';
import { MedleyError, type ErrorName } from '../../src/errors.js';
import { toImmWire } from '../../src/http/imm/errors.js';

// ---------------------------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------------------------

const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

function lookupOf(accessKeyId: string, secret: string, extra: Partial<Credential> = {}): CredentialLookup {
  return (id) => (id === accessKeyId ? { accessKeyId, secret, ...extra } : undefined);
}

/** Decoded pairs as a typical HTTP layer would produce them (URLSearchParams: percent-decoding, '+' → space). */
function pairsOf(raw: string): [string, string][] {
  return [...new URLSearchParams(raw)];
}

/** A request whose query/form pairs are derived from the raw URL and body, so mutations happen at the wire level. */
function requestOf(method: string, rawUrl: string, headers: IncomingHttpHeaders, body: Buffer | string = ''): RpcSignedRequest {
  const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
  const q = rawUrl.indexOf('?');
  const isForm = String(headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded');
  return {
    method,
    rawUrl,
    headers,
    body: bytes,
    query: q < 0 ? [] : pairsOf(rawUrl.slice(q + 1)),
    form: isForm ? pairsOf(bytes.toString('utf8')) : [],
  };
}

/** Wire form of decoded pairs (what an SDK sends). */
function encodePairs(params: [string, string][]): string {
  return params.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&');
}

/** Independent v1 signer, written from spec §1.5 step 3's encodeURIComponent recipe (not the verifier's encoder). */
function signV1(method: string, params: [string, string][], secret: string): string {
  const enc = (s: string): string => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  const canonical = [...params]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([k, v]) => `${enc(k)}=${enc(v)}`)
    .join('&');
  return createHmac('sha1', `${secret}&`).update(`${method}&%2F&${enc(canonical)}`).digest('base64');
}

function catchError(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  return undefined;
}

/** Asserts a MedleyError of exactly this catalog entry, whose message matches `message`. */
function assertImm(fn: () => unknown, name: ErrorName, message?: RegExp): MedleyError {
  const e = catchError(fn);
  assert.ok(e instanceof MedleyError, `expected MedleyError ${name}, got ${String(e)}`);
  assert.equal(e.key, name, `expected ${name}, got ${e.key} (${e.code}): ${e.message}`);
  if (message) assert.match(e.message, message);
  return e;
}

// ---------------------------------------------------------------------------------------------------------------
// Spec vectors
// ---------------------------------------------------------------------------------------------------------------

const SPEC_AK = 'testid';
const SPEC_SECRET = 'testsecret';
const SPEC_TIME = new Date('2024-08-20T07:03:07Z');
const specLookup = lookupOf(SPEC_AK, SPEC_SECRET);

/** §1.5 GET GetTask, parameters without Signature. */
const GET_TASK_PARAMS: [string, string][] = [
  ['AccessKeyId', 'testid'],
  ['Action', 'GetTask'],
  ['Format', 'JSON'],
  ['ProjectName', 'test-project'],
  ['SignatureMethod', 'HMAC-SHA1'],
  ['SignatureNonce', '3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf'],
  ['SignatureVersion', '1.0'],
  ['TaskId', 'MediaConvert-db7faf5a-99c5-4afe-8309-d167fe530000'],
  ['TaskType', 'MediaConvert'],
  ['Timestamp', '2024-08-20T07:03:07Z'],
  ['Version', '2020-09-30'],
];
const GET_TASK_STRING_TO_SIGN =
  'GET&%2F&AccessKeyId%3Dtestid%26Action%3DGetTask%26Format%3DJSON%26ProjectName%3Dtest-project%26SignatureMethod%3DHMAC-SHA1%26SignatureNonce%3D3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf%26SignatureVersion%3D1.0%26TaskId%3DMediaConvert-db7faf5a-99c5-4afe-8309-d167fe530000%26TaskType%3DMediaConvert%26Timestamp%3D2024-08-20T07%253A03%253A07Z%26Version%3D2020-09-30';
const GET_TASK_SIGNATURE = 'Syxxklb+bwiAHfIxGWYVPCI/WjM=';

/** §1.5 POST CreateMediaConvertTask: same common parameters, nonce n-0001, compact JSON Sources/Targets. */
const CREATE_PARAMS: [string, string][] = [
  ['AccessKeyId', 'testid'],
  ['Action', 'CreateMediaConvertTask'],
  ['Format', 'JSON'],
  ['ProjectName', 'test-project'],
  ['SignatureMethod', 'HMAC-SHA1'],
  ['SignatureNonce', 'n-0001'],
  ['SignatureVersion', '1.0'],
  ['Sources', JSON.stringify([{ URI: 'oss://in-bucket/a.mp4' }])],
  ['Targets', JSON.stringify([{ URI: 'oss://out-bucket/a', Container: 'mp4', Video: { TranscodeVideo: { Codec: 'h264', Resolution: '1280x720' } } }])],
  ['Timestamp', '2024-08-20T07:03:07Z'],
  ['Version', '2020-09-30'],
];
const CREATE_SIGNATURE = 'zNnLLcxukhavZhFP+MHSJWKzbfs=';

/** §1.6 ACS3 vector. */
const ACS3_URL = '/?ProjectName=test-project&TaskId=MediaConvert-db7faf5a-99c5-4afe-8309-d167fe530000&TaskType=MediaConvert';
const ACS3_SIGNED_HEADERS = ['host', 'x-acs-action', 'x-acs-content-sha256', 'x-acs-date', 'x-acs-signature-nonce', 'x-acs-version'];
const ACS3_HEADERS: IncomingHttpHeaders = {
  host: 'imm.cn-hangzhou.aliyuncs.com',
  'x-acs-action': 'GetTask',
  'x-acs-version': '2020-09-30',
  'x-acs-date': '2024-08-20T07:03:07Z',
  'x-acs-signature-nonce': '3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf',
  'x-acs-content-sha256': EMPTY_SHA256,
};
const ACS3_CANONICAL_HASH = 'be4632c4209f0a8f97bf49d3fb48bc90db06eb0576315f935b47d21f64f4b590';
const ACS3_SIGNATURE = 'fc5045cd70a968838176e5c9e05c1873fdab0f0935471651b67f4763a36a7d1e';
const ACS3_AUTHORIZATION = `ACS3-HMAC-SHA256 Credential=testid,SignedHeaders=${ACS3_SIGNED_HEADERS.join(';')},Signature=${ACS3_SIGNATURE}`;

function getTaskRequest(params: [string, string][] = [...GET_TASK_PARAMS, ['Signature', GET_TASK_SIGNATURE]]): RpcSignedRequest {
  return requestOf('GET', `/?${encodePairs(params)}`, { host: 'imm.cn-hangzhou.aliyuncs.com' });
}

function acs3Request(headers: IncomingHttpHeaders = {}, body: string = '', rawUrl = ACS3_URL): RpcSignedRequest {
  return requestOf('POST', rawUrl, { ...ACS3_HEADERS, authorization: ACS3_AUTHORIZATION, ...headers }, body);
}

describe('percentEncode (spec §1.5 step 3)', () => {
  const cases: Array<[string, string]> = [
    ['AZaz09-_.~', 'AZaz09-_.~'],
    [' ', '%20'],
    ['*', '%2A'],
    ["!'()", '%21%27%28%29'],
    ['/:=&+', '%2F%3A%3D%26%2B'],
    ['é', '%C3%A9'],
    ['{"URI":"oss://b/a"}', '%7B%22URI%22%3A%22oss%3A%2F%2Fb%2Fa%22%7D'],
    ['', ''],
  ];
  for (const [input, expected] of cases) {
    it(`${JSON.stringify(input)} → ${expected}`, () => {
      assert.equal(percentEncode(input), expected);
    });
  }

  it('encodes a lone surrogate as U+FFFD instead of throwing', () => {
    assert.equal(percentEncode('a\ud800b'), 'a%EF%BF%BDb');
  });
});

describe('spec vectors', () => {
  it('Darabonba unit test: {test: ok}, method "" → jHx/oHoHNrbVfhncHEvPdHXZwHU=', () => {
    assert.equal(rpcV1Signature('accessKeySecret', rpcV1StringToSign('', [['test', 'ok']])), 'jHx/oHoHNrbVfhncHEvPdHXZwHU=');
  });

  it('GET GetTask v1: exact StringToSign', () => {
    assert.equal(rpcV1StringToSign('GET', GET_TASK_PARAMS), GET_TASK_STRING_TO_SIGN);
  });

  it('GET GetTask v1: StringToSign does not depend on parameter order', () => {
    assert.equal(rpcV1StringToSign('GET', [...GET_TASK_PARAMS].reverse()), GET_TASK_STRING_TO_SIGN);
  });

  it('GET GetTask v1: signature', () => {
    assert.equal(rpcV1Signature(SPEC_SECRET, GET_TASK_STRING_TO_SIGN), GET_TASK_SIGNATURE);
  });

  it('GET GetTask v1: the request (Signature %-encoded in the URL) verifies', () => {
    const req = getTaskRequest();
    assert.ok(req.rawUrl.includes('Signature=Syxxklb%2BbwiAHfIxGWYVPCI%2FWjM%3D'));
    const auth = verifyRpcRequest(req, { now: SPEC_TIME, lookup: specLookup });
    assert.equal(auth.accessKeyId, SPEC_AK);
    assert.equal(auth.algorithm, 'HMAC-SHA1');
    assert.equal(auth.nonce, '3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf');
    assert.equal(auth.signedAt.getTime(), SPEC_TIME.getTime());
    assert.equal(auth.credential.secret, SPEC_SECRET);
  });

  it('POST CreateMediaConvertTask v1: signature', () => {
    assert.equal(rpcV1Signature(SPEC_SECRET, rpcV1StringToSign('POST', CREATE_PARAMS)), CREATE_SIGNATURE);
  });

  it('POST CreateMediaConvertTask v1: the form-body request verifies', () => {
    const body = encodePairs([...CREATE_PARAMS, ['Signature', CREATE_SIGNATURE]]);
    const req = requestOf('POST', '/', { 'content-type': 'application/x-www-form-urlencoded' }, body);
    const auth = verifyRpcRequest(req, { now: SPEC_TIME, lookup: specLookup });
    assert.equal(auth.nonce, 'n-0001');
  });

  it('POST CreateMediaConvertTask v1: the same parameters split between query and form verify', () => {
    const all = [...CREATE_PARAMS, ['Signature', CREATE_SIGNATURE]] as [string, string][];
    const inQuery = all.filter(([k]) => !['Sources', 'Targets', 'ProjectName'].includes(k));
    const inForm = all.filter(([k]) => ['Sources', 'Targets', 'ProjectName'].includes(k));
    const req = requestOf('POST', `/?${encodePairs(inQuery)}`, { 'content-type': 'application/x-www-form-urlencoded' }, encodePairs(inForm));
    assert.equal(verifyRpcRequest(req, { now: SPEC_TIME, lookup: specLookup }).algorithm, 'HMAC-SHA1');
  });

  it('ACS3: canonical request hash', () => {
    const canonical = acs3CanonicalRequest({
      method: 'POST',
      rawUrl: ACS3_URL,
      headers: ACS3_HEADERS,
      signedHeaders: ACS3_SIGNED_HEADERS,
      hashedPayload: EMPTY_SHA256,
    });
    assert.equal(createHash('sha256').update(canonical).digest('hex'), ACS3_CANONICAL_HASH);
    assert.equal(acs3StringToSign(canonical), `ACS3-HMAC-SHA256\n${ACS3_CANONICAL_HASH}`);
  });

  it('ACS3: signature', () => {
    assert.equal(acs3Signature(SPEC_SECRET, `ACS3-HMAC-SHA256\n${ACS3_CANONICAL_HASH}`), ACS3_SIGNATURE);
  });

  it('ACS3: the request verifies', () => {
    const auth = verifyRpcRequest(acs3Request(), { now: SPEC_TIME, lookup: specLookup });
    assert.equal(auth.accessKeyId, SPEC_AK);
    assert.equal(auth.algorithm, 'ACS3-HMAC-SHA256');
    assert.equal(auth.nonce, '3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf');
    assert.equal(auth.signedAt.getTime(), SPEC_TIME.getTime());
  });

  it('ACS3: canonical query sorts by decoded name and re-encodes values', () => {
    assert.equal(acs3CanonicalQuery('b=x+y&a=%7B%22k%22%3A1%7D&c'), 'a=%7B%22k%22%3A1%7D&b=x%20y&c=');
  });
});

// ---------------------------------------------------------------------------------------------------------------
// Captured requests of the official clients
// ---------------------------------------------------------------------------------------------------------------

const VECTORS = new URL('../fixtures/vectors/', import.meta.url);
const CAPTURE_AK = 'LTAI5tTestKeyId0001';
const CAPTURE_SECRET = 'TestSecret0000000000000000000001';
const captureLookup = lookupOf(CAPTURE_AK, CAPTURE_SECRET);

interface Capture {
  label: string;
  method: string;
  url: string;
  headers: Record<string, string>;
  body_b64: string;
}

function load(file: string): Capture[] {
  return readFileSync(new URL(file, VECTORS), 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as Capture);
}

function captureRequest(c: Capture, over: { method?: string; url?: string; headers?: Record<string, string>; body?: string } = {}): RpcSignedRequest {
  return requestOf(over.method ?? c.method, over.url ?? c.url, { ...c.headers, ...over.headers }, over.body ?? Buffer.from(c.body_b64, 'base64'));
}

function isAcs3(c: Capture): boolean {
  return (c.headers.authorization ?? '').startsWith('ACS3-');
}

/** Param value from the query or the form body, for v1 captures. */
function v1Param(c: Capture, name: string): string {
  const req = captureRequest(c);
  const found = [...req.query, ...req.form].find(([k]) => k === name);
  assert.ok(found, `${c.label}: no ${name}`);
  return found[1];
}

/** "now" = the request's own signing time (fixtures README: replays must not use the wall clock). */
function signingTime(c: Capture): Date {
  return new Date(isAcs3(c) ? (c.headers['x-acs-date'] ?? '') : v1Param(c, 'Timestamp'));
}

/** Replaces `from` by `to` wherever the capture carries it (URL or body); asserts it was there. */
function replaceOnWire(c: Capture, from: string, to: string): { url: string; body: string } {
  const body = Buffer.from(c.body_b64, 'base64').toString('utf8');
  assert.ok(c.url.includes(from) || body.includes(from), `${c.label}: "${from}" not on the wire`);
  return { url: c.url.replace(from, to), body: body.replace(from, to) };
}

function flipChar(s: string, at: number): string {
  const ch = s[at] ?? '';
  return s.slice(0, at) + (ch === 'a' ? 'b' : 'a') + s.slice(at + 1);
}

function bumpSecond(iso: string): string {
  return new Date(Date.parse(iso) + 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** One signed byte changed per entry; each must end in SignatureDoesNotMatch. */
function mutations(c: Capture): Array<{ name: string; req: RpcSignedRequest }> {
  const out: Array<{ name: string; req: RpcSignedRequest }> = [];
  const wire = (from: string, to: string): RpcSignedRequest => captureRequest(c, replaceOnWire(c, from, to));

  out.push({ name: 'a changed ProjectName value', req: wire('ProjectName=test-project', 'ProjectName=test-projecu') });
  out.push({ name: 'a changed method', req: captureRequest(c, { method: c.method === 'GET' ? 'POST' : 'GET' }) });
  out.push({ name: 'an added parameter', req: captureRequest(c, { url: c.url + (c.url.includes('?') ? '&' : '?') + 'Extra=1' }) });

  if (isAcs3(c)) {
    const auth = c.headers.authorization ?? '';
    const date = c.headers['x-acs-date'] ?? '';
    const nonce = c.headers['x-acs-signature-nonce'] ?? '';
    out.push({ name: 'a changed Signature', req: captureRequest(c, { headers: { authorization: flipChar(auth, auth.indexOf('Signature=') + 10) } }) });
    out.push({ name: 'a changed x-acs-action header', req: captureRequest(c, { headers: { 'x-acs-action': 'GetProject' } }) });
    out.push({ name: 'a changed host header', req: captureRequest(c, { headers: { host: 'example.com' } }) });
    out.push({ name: 'a changed x-acs-date header', req: captureRequest(c, { headers: { 'x-acs-date': bumpSecond(date) } }) });
    out.push({ name: 'a changed x-acs-signature-nonce header', req: captureRequest(c, { headers: { 'x-acs-signature-nonce': flipChar(nonce, 0) } }) });
    // A body behind an unchanged x-acs-content-sha256, and a body whose (signed) hash header was updated to match.
    out.push({ name: 'a changed body', req: captureRequest(c, { body: '{}' }) });
    const hash = createHash('sha256').update('{}').digest('hex');
    out.push({ name: 'a changed body and x-acs-content-sha256', req: captureRequest(c, { body: '{}', headers: { 'x-acs-content-sha256': hash } }) });
  } else {
    const signature = encodeURIComponent(v1Param(c, 'Signature'));
    const timestamp = encodeURIComponent(v1Param(c, 'Timestamp'));
    const nonce = v1Param(c, 'SignatureNonce');
    out.push({ name: 'a changed Signature', req: wire(`Signature=${signature}`, `Signature=${flipChar(signature, 0)}`) });
    out.push({ name: 'a changed Timestamp', req: wire(`Timestamp=${timestamp}`, `Timestamp=${encodeURIComponent(bumpSecond(v1Param(c, 'Timestamp')))}`) });
    out.push({ name: 'a changed SignatureNonce', req: wire(`SignatureNonce=${nonce}`, `SignatureNonce=${flipChar(nonce, 0)}`) });
    out.push({ name: 'a changed Version', req: wire('Version=2020-09-30', 'Version=2020-09-31') });
  }
  return out;
}

for (const file of ['imm-popcore.jsonl', 'imm-openapi.jsonl']) {
  describe(`captured requests: ${file}`, () => {
    const captures = load(file);

    it('the file has captures', () => {
      assert.ok(captures.length >= 4, `${file}: only ${captures.length} captures`);
    });

    for (const c of captures) {
      it(`${c.label} verifies as captured`, () => {
        const auth = verifyRpcRequest(captureRequest(c), { now: signingTime(c), lookup: captureLookup });
        assert.equal(auth.accessKeyId, CAPTURE_AK);
        assert.equal(auth.algorithm, isAcs3(c) ? 'ACS3-HMAC-SHA256' : 'HMAC-SHA1');
        assert.equal(auth.nonce, isAcs3(c) ? c.headers['x-acs-signature-nonce'] : v1Param(c, 'SignatureNonce'));
        assert.equal(auth.signedAt.getTime(), signingTime(c).getTime());
      });

      for (const m of mutations(c)) {
        it(`${c.label} with ${m.name} → SignatureDoesNotMatch`, () => {
          const err = assertImm(() => verifyRpcRequest(m.req, { now: signingTime(c), lookup: captureLookup }), 'SignatureDoesNotMatch');
          assert.equal(toImmWire(err).code, 'SignatureDoesNotMatch');
          assert.equal(toImmWire(err).status, 400);
        });
      }

      it(`${c.label} with the wrong secret → SignatureDoesNotMatch`, () => {
        const lookup = lookupOf(CAPTURE_AK, 'WrongSecret');
        assertImm(() => verifyRpcRequest(captureRequest(c), { now: signingTime(c), lookup }), 'SignatureDoesNotMatch', /server string to sign is:/);
      });
    }
  });
}

// ---------------------------------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------------------------------

/** The spec GET vector with `edit` applied to its (signed) parameter list; Signature is appended unless null. */
function v1With(edit: (params: [string, string][]) => [string, string][], signature: string | null = GET_TASK_SIGNATURE): RpcSignedRequest {
  const params = edit([...GET_TASK_PARAMS]);
  return getTaskRequest(signature === null ? params : [...params, ['Signature', signature]]);
}

const without = (name: string) => (params: [string, string][]): [string, string][] => params.filter(([k]) => k !== name);
const setParam = (name: string, value: string) => (params: [string, string][]): [string, string][] =>
  [...params.filter(([k]) => k !== name), [name, value]];

describe('mode detection', () => {
  it('no Authorization and no Signature → MissingParameter naming Signature', () => {
    const err = assertImm(() => verifyRpcRequest(v1With((p) => p, null), { now: SPEC_TIME, lookup: specLookup }), 'ImmMissingParameter');
    assert.equal(err.message, 'The input parameter "Signature" that is mandatory for processing this request is not supplied.');
    assert.equal(toImmWire(err).code, 'MissingParameter');
  });

  it('a non-ACS3 Authorization header without Signature → MissingParameter naming Signature', () => {
    const req = v1With((p) => p, null);
    req.headers.authorization = 'Bearer abc';
    assertImm(() => verifyRpcRequest(req, { now: SPEC_TIME, lookup: specLookup }), 'ImmMissingParameter', /"Signature"/);
  });

  it('a non-ACS3 Authorization header does not stop a v1 signature from verifying', () => {
    const req = getTaskRequest();
    req.headers.authorization = 'Bearer abc';
    assert.equal(verifyRpcRequest(req, { now: SPEC_TIME, lookup: specLookup }).algorithm, 'HMAC-SHA1');
  });
});

describe('RPC v1 errors', () => {
  const verify = (req: RpcSignedRequest, now = SPEC_TIME, lookup = specLookup) => verifyRpcRequest(req, { now, lookup });

  const cases: Array<{ name: string; req: () => RpcSignedRequest; error: ErrorName; code: string; message: RegExp }> = [
    { name: 'empty Signature', req: () => v1With((p) => p, ''), error: 'ImmMissingParameter', code: 'MissingParameter', message: /"Signature"/ },
    { name: 'missing AccessKeyId', req: () => v1With(without('AccessKeyId')), error: 'ImmMissingParameter', code: 'MissingParameter', message: /"AccessKeyId"/ },
    { name: 'missing Timestamp', req: () => v1With(without('Timestamp')), error: 'ImmMissingParameter', code: 'MissingParameter', message: /"Timestamp"/ },
    { name: 'missing SignatureNonce', req: () => v1With(without('SignatureNonce')), error: 'ImmMissingParameter', code: 'MissingParameter', message: /"SignatureNonce"/ },
    { name: 'SignatureMethod HMAC-SHA256', req: () => v1With(setParam('SignatureMethod', 'HMAC-SHA256')), error: 'ImmIncompleteSignature', code: 'IncompleteSignature', message: /SignatureMethod "HMAC-SHA256"/ },
    { name: 'SignatureVersion 2.0', req: () => v1With(setParam('SignatureVersion', '2.0')), error: 'ImmIncompleteSignature', code: 'IncompleteSignature', message: /SignatureVersion "2.0"/ },
    { name: 'repeated Signature', req: () => v1With((p) => [...p, ['Signature', 'x']]), error: 'ImmInvalidParameter', code: 'InvalidParameter', message: /"Signature".*repeated/ },
  ];
  for (const c of cases) {
    it(`${c.name} → ${c.code}`, () => {
      const err = assertImm(() => verify(c.req()), c.error, c.message);
      assert.equal(toImmWire(err).code, c.code);
    });
  }

  const badTimestamps = [
    '2024-08-20 07:03:07',
    '2024-08-20T07:03:07',
    '2024-08-20T07:03:07+08:00',
    '2024-08-20T07:03Z',
    '2024-13-20T07:03:07Z',
    '2024-02-30T07:03:07Z',
    '2024-08-20T24:00:00Z',
    '0024-08-20T07:03:07Z',
    'Tue, 20 Aug 2024 07:03:07 GMT',
    '1724137387',
  ];
  for (const ts of badTimestamps) {
    it(`Timestamp ${JSON.stringify(ts)} → InvalidTimeStamp.Format`, () => {
      const err = assertImm(() => verify(v1With(setParam('Timestamp', ts))), 'ImmInvalidTimeStampFormat', /Timestamp/);
      assert.equal(toImmWire(err).code, 'InvalidTimeStamp.Format');
    });
  }

  it('Timestamp with fractional seconds is accepted', () => {
    const params = setParam('Timestamp', '2024-08-20T07:03:07.250Z')([...GET_TASK_PARAMS]);
    const req = getTaskRequest([...params, ['Signature', signV1('GET', params, SPEC_SECRET)]]);
    assert.equal(verify(req).signedAt.toISOString(), '2024-08-20T07:03:07.250Z');
  });

  for (const [label, deltaMs] of [['16 min behind', 16 * 60_000], ['16 min ahead of', -16 * 60_000]] as const) {
    it(`Timestamp ${label} the server → InvalidTimeStamp.Expired`, () => {
      const err = assertImm(() => verify(getTaskRequest(), new Date(SPEC_TIME.getTime() + deltaMs)), 'ImmInvalidTimeStampExpired', /Timestamp 2024-08-20T07:03:07Z/);
      assert.equal(toImmWire(err).code, 'InvalidTimeStamp.Expired');
    });
  }

  it('Timestamp exactly 15 min away is still accepted', () => {
    assert.equal(verify(getTaskRequest(), new Date(SPEC_TIME.getTime() + 15 * 60_000)).accessKeyId, SPEC_AK);
  });

  it('maxSkewMs narrows the window', () => {
    const now = new Date(SPEC_TIME.getTime() + 61_000);
    assertImm(() => verifyRpcRequest(getTaskRequest(), { now, lookup: specLookup, maxSkewMs: 60_000 }), 'ImmInvalidTimeStampExpired');
  });

  it('unknown AccessKeyId → InvalidAccessKeyId.NotFound', () => {
    const err = assertImm(() => verify(getTaskRequest(), SPEC_TIME, () => undefined), 'InvalidAccessKeyId', /access key is not found/);
    assert.equal(toImmWire(err).code, 'InvalidAccessKeyId.NotFound');
    assert.equal(toImmWire(err).status, 404);
  });

  it('expired temporary credential → InvalidAccessKeyId.NotFound', () => {
    const lookup = lookupOf(SPEC_AK, SPEC_SECRET, { expiresAt: new Date(SPEC_TIME.getTime() - 1) });
    assertImm(() => verify(getTaskRequest(), SPEC_TIME, lookup), 'InvalidAccessKeyId', /expired/);
  });

  it('wrong secret → SignatureDoesNotMatch with the server string to sign', () => {
    const err = assertImm(() => verify(getTaskRequest(), SPEC_TIME, lookupOf(SPEC_AK, 'wrong')), 'SignatureDoesNotMatch');
    assert.equal(toImmWire(err).code, 'SignatureDoesNotMatch');
    assert.equal(err.message, `Specified signature is not matched with our calculation. server string to sign is:${GET_TASK_STRING_TO_SIGN}`);
  });

  it('the signature covers the actual method', () => {
    const req = { ...getTaskRequest(), method: 'POST' };
    assertImm(() => verify(req), 'SignatureDoesNotMatch', /string to sign is:POST&%2F&/);
  });

  it('an unencoded "+" in the Signature (decoded to a space) still verifies', () => {
    const req = getTaskRequest();
    req.rawUrl = req.rawUrl.replace('Signature=Syxxklb%2Bbw', 'Signature=Syxxklb+bw');
    req.query = pairsOf(req.rawUrl.slice(2));
    assert.equal(verify(req).accessKeyId, SPEC_AK);
  });
});

describe('RPC v1 security tokens', () => {
  const TOKEN = 'sts-token-1';
  const stsLookup = lookupOf(SPEC_AK, SPEC_SECRET, { securityToken: TOKEN });

  function signedWithToken(token: string | undefined): RpcSignedRequest {
    const params: [string, string][] = token === undefined ? [...GET_TASK_PARAMS] : [...GET_TASK_PARAMS, ['SecurityToken', token]];
    return getTaskRequest([...params, ['Signature', signV1('GET', params, SPEC_SECRET)]]);
  }

  it('the matching SecurityToken verifies', () => {
    assert.equal(verifyRpcRequest(signedWithToken(TOKEN), { now: SPEC_TIME, lookup: stsLookup }).accessKeyId, SPEC_AK);
  });

  const cases: Array<[string, string | undefined, CredentialLookup]> = [
    ['missing SecurityToken for a temporary key', undefined, stsLookup],
    ['wrong SecurityToken', 'other-token', stsLookup],
    ['SecurityToken on a permanent key', TOKEN, specLookup],
  ];
  for (const [name, token, lookup] of cases) {
    it(`${name} → InvalidSecurityToken`, () => {
      assertImm(() => verifyRpcRequest(signedWithToken(token), { now: SPEC_TIME, lookup }), 'InvalidSecurityToken', /SecurityToken/);
    });
  }
});

describe('ACS3 errors', () => {
  const verify = (req: RpcSignedRequest, now = SPEC_TIME, lookup = specLookup) => verifyRpcRequest(req, { now, lookup });
  const withAuthorization = (authorization: string) => acs3Request({ authorization });

  it('spaces after the commas of Authorization are tolerated', () => {
    const auth = ACS3_AUTHORIZATION.replace(/,/g, ', ');
    assert.equal(verify(withAuthorization(auth)).accessKeyId, SPEC_AK);
  });

  it('an upper-case hex Signature is tolerated', () => {
    assert.equal(verify(withAuthorization(ACS3_AUTHORIZATION.replace(ACS3_SIGNATURE, ACS3_SIGNATURE.toUpperCase()))).accessKeyId, SPEC_AK);
  });

  const malformed: Array<[string, string, RegExp]> = [
    ['ACS3-HMAC-SM3 algorithm', ACS3_AUTHORIZATION.replace('ACS3-HMAC-SHA256', 'ACS3-HMAC-SM3'), /"ACS3-HMAC-SM3"/],
    ['ACS3-RSA-SHA256 algorithm', ACS3_AUTHORIZATION.replace('ACS3-HMAC-SHA256', 'ACS3-RSA-SHA256'), /"ACS3-RSA-SHA256"/],
    ['algorithm only', 'ACS3-HMAC-SHA256', /Credential=/],
    ['no Credential', ACS3_AUTHORIZATION.replace('Credential=testid,', ''), /Credential is missing/],
    ['empty Credential', ACS3_AUTHORIZATION.replace('Credential=testid', 'Credential='), /Credential is missing/],
    ['no SignedHeaders', ACS3_AUTHORIZATION.replace(/SignedHeaders=[^,]*,/, ''), /SignedHeaders is missing/],
    ['no Signature', ACS3_AUTHORIZATION.replace(/,Signature=.*$/, ''), /Signature is missing/],
    ['Signature not hex', ACS3_AUTHORIZATION.replace(ACS3_SIGNATURE, 'zz'.repeat(32)), /64 characters/],
    ['Signature too short', ACS3_AUTHORIZATION.replace(ACS3_SIGNATURE, ACS3_SIGNATURE.slice(2)), /64 characters/],
    ['unknown field', `${ACS3_AUTHORIZATION},Region=cn-hangzhou`, /"Region=cn-hangzhou"/],
    ['repeated field', `${ACS3_AUTHORIZATION},Credential=other`, /"Credential=other"/],
    ['field without "="', ACS3_AUTHORIZATION.replace('Credential=testid', 'Credential testid'), /"Credential testid"/],
    ['empty name in SignedHeaders', ACS3_AUTHORIZATION.replace('SignedHeaders=host;', 'SignedHeaders=host;;'), /SignedHeaders/],
  ];
  for (const [name, authorization, message] of malformed) {
    it(`malformed Authorization (${name}) → IncompleteSignature`, () => {
      const err = assertImm(() => verify(withAuthorization(authorization)), 'ImmIncompleteSignature', message);
      assert.equal(toImmWire(err).code, 'IncompleteSignature');
    });
  }

  for (const header of ['host', 'x-acs-action', 'x-acs-version', 'x-acs-date', 'x-acs-signature-nonce', 'x-acs-content-sha256']) {
    it(`SignedHeaders without ${header} → IncompleteSignature naming it`, () => {
      const signed = ACS3_SIGNED_HEADERS.filter((h) => h !== header).join(';');
      const auth = ACS3_AUTHORIZATION.replace(ACS3_SIGNED_HEADERS.join(';'), signed);
      assertImm(() => verify(withAuthorization(auth)), 'ImmIncompleteSignature', new RegExp(`must include "${header}"`));
    });
  }

  for (const header of ['x-acs-date', 'x-acs-signature-nonce', 'x-acs-content-sha256']) {
    it(`signed but absent ${header} → MissingParameter naming it`, () => {
      assertImm(() => verify(acs3Request({ [header]: undefined })), 'ImmMissingParameter', new RegExp(`"${header}"`));
    });
  }

  it('malformed x-acs-date → InvalidTimeStamp.Format', () => {
    assertImm(() => verify(acs3Request({ 'x-acs-date': '20240820T070307Z' })), 'ImmInvalidTimeStampFormat', /x-acs-date/);
  });

  it('x-acs-date 16 min away → InvalidTimeStamp.Expired', () => {
    assertImm(() => verify(acs3Request(), new Date(SPEC_TIME.getTime() + 16 * 60_000)), 'ImmInvalidTimeStampExpired', /x-acs-date/);
  });

  it('unknown Credential → InvalidAccessKeyId.NotFound', () => {
    assertImm(() => verify(acs3Request(), SPEC_TIME, () => undefined), 'InvalidAccessKeyId');
  });

  it('body that does not hash to x-acs-content-sha256 → SignatureDoesNotMatch naming the header', () => {
    const err = assertImm(() => verify(acs3Request({}, 'x')), 'SignatureDoesNotMatch', /x-acs-content-sha256/);
    assert.equal(toImmWire(err).code, 'SignatureDoesNotMatch');
  });

  it('wrong secret → SignatureDoesNotMatch with the string to sign and the canonical request', () => {
    const err = assertImm(() => verify(acs3Request(), SPEC_TIME, lookupOf(SPEC_AK, 'wrong')), 'SignatureDoesNotMatch');
    assert.equal(err.message, `Specified signature is not matched with our calculation. server string to sign is:ACS3-HMAC-SHA256\n${ACS3_CANONICAL_HASH}`);
    assert.match(String(err.details.CanonicalRequest), /^POST\n\/\nProjectName=test-project&/);
  });

  it('a malformed percent-escape in the query → InvalidParameter, not a URIError', () => {
    assertImm(() => verify(acs3Request({}, '', `${ACS3_URL}&Bad=%E0%A4%A`)), 'ImmInvalidParameter', /percent-encoding/);
  });
});

describe('ACS3 security tokens', () => {
  const TOKEN = 'sts-token-1';
  const stsLookup = lookupOf(SPEC_AK, SPEC_SECRET, { securityToken: TOKEN });

  /** The spec request plus a signed x-acs-security-token, signed with the (vector-checked) canonicalization. */
  function signedWithToken(token: string): RpcSignedRequest {
    const headers = { ...ACS3_HEADERS, 'x-acs-security-token': token };
    const signedHeaders = [...ACS3_SIGNED_HEADERS, 'x-acs-security-token'].sort();
    const canonical = acs3CanonicalRequest({ method: 'POST', rawUrl: ACS3_URL, headers, signedHeaders, hashedPayload: EMPTY_SHA256 });
    const signature = createHmac('sha256', SPEC_SECRET).update(acs3StringToSign(canonical)).digest('hex');
    const authorization = `ACS3-HMAC-SHA256 Credential=${SPEC_AK},SignedHeaders=${signedHeaders.join(';')},Signature=${signature}`;
    return requestOf('POST', ACS3_URL, { ...headers, authorization });
  }

  it('the matching x-acs-security-token verifies', () => {
    assert.equal(verifyRpcRequest(signedWithToken(TOKEN), { now: SPEC_TIME, lookup: stsLookup }).accessKeyId, SPEC_AK);
  });

  it('a wrong x-acs-security-token → InvalidSecurityToken', () => {
    assertImm(() => verifyRpcRequest(signedWithToken('other'), { now: SPEC_TIME, lookup: stsLookup }), 'InvalidSecurityToken', /x-acs-security-token/);
  });

  it('no x-acs-security-token for a temporary key → InvalidSecurityToken', () => {
    assertImm(() => verifyRpcRequest(acs3Request(), { now: SPEC_TIME, lookup: stsLookup }), 'InvalidSecurityToken', /x-acs-security-token/);
  });
});

describe('parseQueryPairs', () => {
  it('decodes names and values, "+" as space, bare names as empty values, skipping empty segments', () => {
    assert.deepEqual(parseQueryPairs('a=1+2&b&&c=%7B%7D&'), [
      ['a', '1 2'],
      ['b', ''],
      ['c', '{}'],
    ]);
  });

  for (const raw of ['a=%', 'a=%zz', 'a=%C3', '%=1']) {
    it(`malformed escape ${JSON.stringify(raw)} → InvalidParameter`, () => {
      assertImm(() => parseQueryPairs(raw), 'ImmInvalidParameter', /malformed percent-encoding/);
    });
  }
});
