// Replays every OSS request captured from the official clients (test/fixtures/vectors, see its README): each must
// verify as captured, and must stop verifying when any signed byte changes.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { verifyOssRequest, type SignedRequest, type VerifyOptions } from '../../src/auth/oss-signature.js';
import type { Credential } from '../../src/auth/credentials.js';
import { resolveAddress } from '../../src/http/oss/addressing.js';
import { MedleyError } from '../../src/errors.js';
import { signV4 } from '../support/oss-v4-sign.js';

const VECTORS = new URL('../fixtures/vectors/', import.meta.url);
const FILES = [
  'alioss-v1.jsonl', 'alioss-v4.jsonl', 'oss2-v1.jsonl', 'oss2-v4.jsonl',
  // Go SDK v3.0.2 (V4 signs the RFC 1123 Date header: no x-oss-date), Go SDK v2 1.5.1, Java SDK 3.18.4.
  'go-v3-v4.jsonl', 'go-v3-v1.jsonl', 'go-v2-v4.jsonl', 'java-v1.jsonl', 'java-v4.jsonl',
];
const ACCESS_KEY_ID = 'LTAI5tTestKeyId0001';
const SECRET = 'TestSecret0000000000000000000001';
const BUCKET = 'examplebucket';

interface Capture {
  label: string;
  method: string;
  url: string;
  headers: Record<string, string>;
}

function load(file: string): Capture[] {
  return readFileSync(new URL(file, VECTORS), 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as Capture);
}

/**
 * path-style/sld captures carry `/examplebucket` in the path; vhost, cname and ip ones address `/<key>` only.
 * The Go and Java captures (labels `go-v3/v4/...`, `java/v1/...`) are path-style unless the Host names the bucket.
 */
function isPathStyle(c: Capture): boolean {
  const variant = c.label.split('/')[0] ?? '';
  if (variant === 'path-style' || variant === 'sld') return true;
  return ['go-v3', 'go-v2', 'java'].includes(variant) && !(c.headers.host ?? '').startsWith(`${BUCKET}.`);
}

function keyOf(c: Capture): string | undefined {
  const path = c.url.split('?')[0] ?? '/';
  const rest = isPathStyle(c) ? path.slice(`/${BUCKET}`.length) : path;
  return rest === '/' || rest === '' ? undefined : decodeURIComponent(rest.slice(1));
}

function requestOf(c: Capture): SignedRequest {
  return { method: c.method, rawUrl: c.url, headers: { ...c.headers }, bucket: BUCKET, key: keyOf(c) };
}

function queryOf(c: Capture): URLSearchParams {
  return new URLSearchParams(c.url.split('?')[1] ?? '');
}

function parseIsoBasic(s: string): Date | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(s);
  if (!m) return undefined;
  const [y, mo, d, h, mi, se] = m.slice(1).map(Number) as [number, number, number, number, number, number];
  return new Date(Date.UTC(y, mo - 1, d, h, mi, se));
}

function formatIsoBasic(d: Date): string {
  return d.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
}

function isPresigned(c: Capture): boolean {
  const q = queryOf(c);
  return q.has('Signature') || q.has('x-oss-signature');
}

/** "now" = the request's own signing time (README: replays must not use the wall clock). */
function signingTime(c: Capture): Date {
  const q = queryOf(c);
  const expires = q.get('Expires');
  if (expires !== null) return new Date((Number(expires) - 1) * 1000);
  const date = q.get('x-oss-date') ?? c.headers['x-oss-date'] ?? c.headers['date'];
  assert.ok(date, `${c.label}: no signing time`);
  return parseIsoBasic(date) ?? new Date(date);
}

function credentials(secret = SECRET): VerifyOptions['lookup'] {
  return (id: string): Credential | undefined => (id === ACCESS_KEY_ID ? { accessKeyId: id, secret } : undefined);
}

function verify(req: SignedRequest, now: Date, lookup = credentials()) {
  return verifyOssRequest(req, { now, lookup });
}

function assertRejects(fn: () => unknown, code: string, what: string): MedleyError {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof MedleyError, `${what}: expected MedleyError ${code}, got ${String(caught)}`);
  assert.equal(caught.code, code, `${what}: ${caught.message}`);
  return caught;
}

/** Changes one character of a signature (base64 or hex) while keeping its shape valid. */
function flipChar(s: string, at: number): string {
  const c = s[at] ?? '';
  const replacement = c === '0' ? '1' : /[0-9a-f]/.test(c) ? '0' : c === 'A' ? 'B' : 'A';
  return s.slice(0, at) + replacement + s.slice(at + 1);
}

/** One signed byte changed in a different place each; all must end in SignatureDoesNotMatch. */
function mutations(c: Capture): Array<{ name: string; req: SignedRequest }> {
  const out: Array<{ name: string; req: SignedRequest }> = [];
  const base = (): SignedRequest => requestOf(c);
  const v4 = (c.headers.authorization ?? '').startsWith('OSS4') || queryOf(c).has('x-oss-signature');

  out.push({ name: 'bucket', req: { ...base(), bucket: 'examplebuckeu' } });
  const key = keyOf(c);
  if (key !== undefined) out.push({ name: 'key', req: { ...base(), key: key.replace(/.$/, (ch) => (ch === '3' ? '4' : '3')) } });
  out.push({ name: 'method', req: { ...base(), method: c.method === 'GET' ? 'PUT' : 'GET' } });

  if (c.headers.authorization !== undefined) {
    const auth = c.headers.authorization;
    const at = auth.startsWith('OSS4') ? auth.indexOf('Signature=') + 'Signature='.length : auth.indexOf(':') + 1;
    out.push({ name: 'signature', req: { ...base(), headers: { ...c.headers, authorization: flipChar(auth, at) } } });
  } else {
    const name = v4 ? 'x-oss-signature=' : 'Signature=';
    out.push({ name: 'signature', req: { ...base(), rawUrl: flipChar(c.url, c.url.indexOf(name) + name.length) } });
  }

  for (const h of ['x-oss-date', 'date'] as const) {
    const value = c.headers[h];
    if (value === undefined || isPresigned(c)) continue;
    // `Date` is signed only when there is no x-oss-date to sign instead (V1, and V4 as Go SDK v3 signs it).
    if (h === 'date' && c.headers['x-oss-date'] !== undefined) continue;
    const iso = parseIsoBasic(value);
    const bumped = iso ? formatIsoBasic(new Date(iso.getTime() + 1000)) : new Date(Date.parse(value) + 1000).toUTCString();
    out.push({ name: `${h} header`, req: { ...base(), headers: { ...c.headers, [h]: bumped } } });
  }
  if (c.headers['content-type'] !== undefined) {
    out.push({ name: 'content-type', req: { ...base(), headers: { ...c.headers, 'content-type': `${c.headers['content-type']}x` } } });
  }
  if (c.headers['content-md5'] !== undefined) {
    out.push({ name: 'content-md5', req: { ...base(), headers: { ...c.headers, 'content-md5': 'AAAAAAAAAAAAAAAAAAAAAA==' } } });
  }
  if (c.headers['x-oss-copy-source'] !== undefined) {
    out.push({ name: 'x-oss-copy-source', req: { ...base(), headers: { ...c.headers, 'x-oss-copy-source': `${c.headers['x-oss-copy-source']}x` } } });
  }
  if (c.headers['x-oss-meta-origin'] !== undefined) {
    out.push({ name: 'x-oss-meta header', req: { ...base(), headers: { ...c.headers, 'x-oss-meta-origin': 'capturf' } } });
  }
  // V4 signs every query parameter; V1 only sub-resources, of which `acl` is one.
  const extra = v4 ? 'extra=1' : 'acl';
  out.push({ name: 'added query parameter', req: { ...base(), rawUrl: c.url + (c.url.includes('?') ? '&' : '?') + extra } });
  if (c.url.includes('prefix=src') && v4) {
    out.push({ name: 'query value', req: { ...base(), rawUrl: c.url.replace('prefix=src', 'prefix=srd') } });
  }
  if (c.url.includes('x-oss-async-process')) {
    out.push({ name: 'sub-resource name', req: { ...base(), rawUrl: c.url.replace('x-oss-async-process', 'x-oss-process') } });
  }
  if (queryOf(c).has('Expires')) {
    const e = queryOf(c).get('Expires') ?? '';
    out.push({ name: 'Expires', req: { ...base(), rawUrl: c.url.replace(`Expires=${e}`, `Expires=${Number(e) + 1}`) } });
  }
  if (queryOf(c).has('x-oss-expires')) {
    out.push({ name: 'x-oss-expires', req: { ...base(), rawUrl: c.url.replace(/x-oss-expires=(\d+)/, (_, n: string) => `x-oss-expires=${Number(n) + 1}`) } });
  }
  return out;
}

const expectedScheme = (c: Capture): string => {
  const v4 = (c.headers.authorization ?? '').startsWith('OSS4') || queryOf(c).has('x-oss-signature');
  return (v4 ? 'v4' : 'v1') + (isPresigned(c) ? '-presigned' : '');
};

for (const file of FILES) {
  describe(file, () => {
    const captures = load(file);

    test('the file has captures', () => {
      assert.ok(captures.length >= 10, `${file}: only ${captures.length} captures`);
    });

    for (const c of captures) {
      test(`${c.label} verifies as captured and rejects every changed byte`, () => {
        const now = signingTime(c);
        const result = verify(requestOf(c), now);
        assert.deepEqual(result, { kind: 'signed', accessKeyId: ACCESS_KEY_ID, scheme: expectedScheme(c) });

        for (const m of mutations(c)) {
          const err = assertRejects(() => verify(m.req, now), 'SignatureDoesNotMatch', `${c.label} with changed ${m.name}`);
          const keys = Object.keys(err.details);
          const expected = ['OSSAccessKeyId', 'SignatureProvided', 'StringToSign', 'StringToSignBytes'];
          assert.deepEqual(keys, expectedScheme(c).startsWith('v4') ? [...expected, 'CanonicalRequest'] : expected);
        }
      });
    }

    test('wrong secret → SignatureDoesNotMatch', () => {
      for (const c of captures) {
        assertRejects(() => verify(requestOf(c), signingTime(c), credentials('WrongSecret')), 'SignatureDoesNotMatch', c.label);
      }
    });

    test('unknown AccessKeyId → InvalidAccessKeyId naming the key', () => {
      for (const c of captures) {
        const err = assertRejects(() => verify(requestOf(c), signingTime(c), () => undefined), 'InvalidAccessKeyId', c.label);
        assert.deepEqual(err.details, { OSSAccessKeyId: ACCESS_KEY_ID });
        assert.equal(err.status, 403);
      }
    });

    test('header-signed requests more than 15 min away from server time → RequestTimeTooSkewed', () => {
      for (const c of captures.filter((x) => !isPresigned(x))) {
        const signedAt = signingTime(c).getTime();
        for (const delta of [16 * 60 * 1000, -16 * 60 * 1000]) {
          const err = assertRejects(() => verify(requestOf(c), new Date(signedAt + delta)), 'RequestTimeTooSkewed', c.label);
          assert.deepEqual(Object.keys(err.details), ['RequestTime', 'ServerTime', 'MaxAllowedSkewMilliseconds']);
          assert.equal(err.details.MaxAllowedSkewMilliseconds, 900000);
          assert.equal(err.details.RequestTime, new Date(signedAt).toISOString());
        }
        // 14 minutes either way is still fine.
        verify(requestOf(c), new Date(signedAt + 14 * 60 * 1000));
        verify(requestOf(c), new Date(signedAt - 14 * 60 * 1000));
      }
    });

    test('presigned URLs used after expiry → AccessDenied "Request has expired."', () => {
      const presigned = captures.filter(isPresigned);
      assert.ok(presigned.length > 0);
      for (const c of presigned) {
        const q = queryOf(c);
        const expiresAt = q.has('Expires')
          ? Number(q.get('Expires')) * 1000
          : (parseIsoBasic(q.get('x-oss-date') ?? '')?.getTime() ?? 0) + Number(q.get('x-oss-expires')) * 1000;
        verify(requestOf(c), new Date(expiresAt)); // the last valid instant
        const err = assertRejects(() => verify(requestOf(c), new Date(expiresAt + 1000)), 'AccessDenied', c.label);
        assert.equal(err.message, 'Request has expired.');
        assert.deepEqual(Object.keys(err.details), ['Expires', 'ServerTime']);
      }
    });

    test('addressing resolves the same bucket and key the clients signed', () => {
      for (const c of captures) {
        // CNAME needs a configured mapping; ali-oss presigned URLs on an IP endpoint carry no bucket at all.
        if (c.label.startsWith('cname/') || (c.label.startsWith('ip/') && isPresigned(c))) continue;
        const address = resolveAddress({ host: c.headers.host, rawPath: c.url.split('?')[0] ?? '/', domain: 'localhost' });
        assert.equal(address.bucket, BUCKET, c.label);
        assert.equal(address.key, keyOf(c), c.label);
      }
    });
  });
}

describe('V4 date line and scope (Go SDK v3 signs Date, not x-oss-date)', () => {
  const goV4 = load('go-v3-v4.jsonl').filter((c) => !isPresigned(c));
  const sample = goV4.find((c) => c.label === 'go-v3/v4/put_object')!;

  test('the independent test signer reproduces every captured Go v3 V4 signature', () => {
    for (const c of goV4) {
      const authorization = signV4({ method: c.method, rawUrl: c.url, headers: c.headers, bucket: BUCKET, key: keyOf(c), accessKeyId: ACCESS_KEY_ID, secret: SECRET, region: 'cn-hangzhou' });
      assert.equal(authorization, c.headers.authorization, c.label);
    }
  });

  test('a scope naming another region is refused by a cn-hangzhou server with 403 SignatureDoesNotMatch', () => {
    const headers = { ...sample.headers };
    headers.authorization = signV4({ method: sample.method, rawUrl: sample.url, headers, bucket: BUCKET, key: keyOf(sample), accessKeyId: ACCESS_KEY_ID, secret: SECRET, region: 'us-west-1' });
    const req = { ...requestOf(sample), headers };
    const now = signingTime(sample);
    // Correctly signed for us-west-1: only the region check can refuse it.
    assert.equal(verifyOssRequest(req, { now, lookup: credentials() }).kind, 'signed');
    const err = assertRejects(() => verifyOssRequest(req, { now, lookup: credentials(), region: 'cn-hangzhou' }), 'SignatureDoesNotMatch', 'us-west-1 scope');
    assert.equal(err.status, 403);
    assert.match(err.message, /Invalid signing region.*us-west-1.*cn-hangzhou/);
    // The captured requests (cn-hangzhou) still verify with the region check on, presigned ones too.
    for (const c of load('go-v3-v4.jsonl')) verifyOssRequest(requestOf(c), { now: signingTime(c), lookup: credentials(), region: 'cn-hangzhou' });
    const presigned = load('go-v3-v4.jsonl').find(isPresigned)!;
    const otherRegion = { ...requestOf(presigned), rawUrl: presigned.url.replace('%2Fcn-hangzhou%2F', '%2Fus-west-1%2F') };
    assertRejects(() => verifyOssRequest(otherRegion, { now: signingTime(presigned), lookup: credentials(), region: 'cn-hangzhou' }), 'SignatureDoesNotMatch', 'presigned us-west-1');
  });

  test('the scope day must be the day of the Date header', () => {
    const headers: Record<string, string> = { ...sample.headers, date: new Date(Date.parse(sample.headers.date!) + 24 * 3600 * 1000).toUTCString() };
    headers.authorization = signV4({ method: sample.method, rawUrl: sample.url, headers, bucket: BUCKET, key: keyOf(sample), accessKeyId: ACCESS_KEY_ID, secret: SECRET, region: 'cn-hangzhou' });
    // A consistent re-sign on the next day verifies on that day...
    const nextDay = new Date(signingTime(sample).getTime() + 24 * 3600 * 1000);
    verify({ ...requestOf(sample), headers }, nextDay);
    // ...but the captured credential (scope 20261202) with a Date of 20261203 does not.
    const mixed = { ...headers, authorization: sample.headers.authorization! };
    const err = assertRejects(() => verify({ ...requestOf(sample), headers: mixed }, nextDay), 'InvalidArgument', 'scope day');
    assert.match(err.message, /Invalid credential date "20261202".*Date/);
  });

  test('without x-oss-date, a missing or non-RFC 1123 Date is refused naming both headers', () => {
    const now = signingTime(sample);
    const { date: _omit, ...noDate } = sample.headers;
    void _omit;
    for (const headers of [noDate, { ...sample.headers, date: '2026-12-02T18:48:21Z' }, { ...sample.headers, date: 'Wed, 32 Dec 2026 18:48:21 GMT' }]) {
      const err = assertRejects(() => verify({ ...requestOf(sample), headers }, now), 'AccessDenied', String(headers.date));
      assert.match(err.message, /x-oss-date header .* Date header/);
    }
  });
});
