// Spec section 2 vectors ([VEC], AK `ak`, SK `sk`) and the verifier's error behaviour.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, createHmac } from 'node:crypto';
import { verifyOssRequest, type AuthResult, type SignedRequest } from '../../src/auth/oss-signature.js';
import { constantTimeEqual, type Credential } from '../../src/auth/credentials.js';
import { MedleyError } from '../../src/errors.js';

const AK = 'ak';
const SK = 'sk';

function lookupWith(extra: Partial<Credential> = {}) {
  return (id: string): Credential | undefined => (id === AK ? { accessKeyId: AK, secret: SK, ...extra } : undefined);
}

function isoBasic(unixSeconds: number): string {
  return new Date(unixSeconds * 1000).toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
}

function fromIsoBasic(s: string): Date {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(s);
  assert.ok(m);
  const [y, mo, d, h, mi, se] = m.slice(1).map(Number) as [number, number, number, number, number, number];
  return new Date(Date.UTC(y, mo - 1, d, h, mi, se));
}

function catchError(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  return undefined;
}

function assertMedley(fn: () => unknown, code: string, message?: RegExp): MedleyError {
  const e = catchError(fn);
  assert.ok(e instanceof MedleyError, `expected MedleyError ${code}, got ${String(e)}`);
  assert.equal(e.code, code, e.message);
  if (message) assert.match(e.message, message);
  return e;
}

// The Go v2 SDK test request shared by the V4 vectors: key `1234+-/123/1.txt`, six query params (three empty).
const V4_KEY = '1234+-/123/1.txt';
const V4_PATH = '/1234%2B-/123/1.txt';
/** As Go's url.Values.Encode writes it (sorted, `k=` for empty values). */
const V4_QUERY_GO = '%2Bparam1=value3&%2Bparam2=&%7Cparam1=value4&%7Cparam2=&param1=value1&param2=';
/** As spec 2.4 writes it (bare `k`). */
const V4_QUERY_SPEC = 'param1=value1&%2Bparam1=value3&%7Cparam1=value4&%2Bparam2&%7Cparam2&param2';
const V4_CANONICAL_QUERY = '%2Bparam1=value3&%2Bparam2&%7Cparam1=value4&%7Cparam2&param1=value1&param2';
const V4_UNSIGNED_HEADERS = { abc: 'value', zabc: 'value', xyz: 'value', 'x-oss-head1': 'value' };

interface VectorCase {
  name: string;
  req: SignedRequest;
  now: Date;
  credential?: Partial<Credential>;
  expect: AuthResult;
  /** Checked through the SignatureDoesNotMatch details of the same request with a wrong secret. */
  stringToSign?: string;
  canonicalRequestIncludes?: string[];
}

const V1_DATE = 'Wed, 28 Dec 2022 10:27:41 GMT';
const V1_HEADERS = {
  'content-md5': 'eB5eJF1ptWaXm4bijSPyxw==',
  'content-type': 'text/html',
  'x-oss-date': V1_DATE,
  'x-oss-meta-author': 'alice',
  'x-oss-meta-magic': 'abracadabra',
};
const V1_CANON_HEADERS = `x-oss-date:${V1_DATE}\nx-oss-meta-author:alice\nx-oss-meta-magic:abracadabra\n`;

function v4Auth(date: string, signature: string, extra = '', region = 'cn-hangzhou', product = 'oss'): string {
  return `OSS4-HMAC-SHA256 Credential=ak/${date}/${region}/${product}/aliyun_v4_request,${extra}Signature=${signature}`;
}

function v4PresignedUrl(date: string, signature: string, extra = '', scope = 'cn-hangzhou%2Foss'): string {
  return (
    `${V4_PATH}?${V4_QUERY_GO}${extra}&x-oss-credential=ak%2F${date.slice(0, 8)}%2F${scope}%2Faliyun_v4_request` +
    `&x-oss-date=${date}&x-oss-expires=599&x-oss-signature-version=OSS4-HMAC-SHA256&x-oss-signature=${signature}`
  );
}

const vectorCases: VectorCase[] = [
  {
    name: '2.2 V1 header, object',
    req: { method: 'PUT', rawUrl: '/nelson', bucket: 'examplebucket', key: 'nelson', headers: { ...V1_HEADERS, authorization: 'OSS ak:kSHKmLxlyEAKtZPkJhG9bZb5k7M=' } },
    now: new Date(V1_DATE),
    expect: { kind: 'signed', accessKeyId: AK, scheme: 'v1' },
    stringToSign: `PUT\neB5eJF1ptWaXm4bijSPyxw==\ntext/html\n${V1_DATE}\n${V1_CANON_HEADERS}/examplebucket/nelson`,
  },
  {
    name: '2.2 V1 header, ?acl sub-resource',
    req: { method: 'PUT', rawUrl: '/nelson?acl', bucket: 'examplebucket', key: 'nelson', headers: { ...V1_HEADERS, authorization: 'OSS ak:/afkugFbmWDQ967j1vr6zygBLQk=' } },
    now: new Date(V1_DATE),
    expect: { kind: 'signed', accessKeyId: AK, scheme: 'v1' },
    stringToSign: `PUT\neB5eJF1ptWaXm4bijSPyxw==\ntext/html\n${V1_DATE}\n${V1_CANON_HEADERS}/examplebucket/nelson?acl`,
  },
  {
    name: 'V1 header, bucket level, unsigned parameter left out (Go v2 test case 3)',
    req: { method: 'GET', rawUrl: '/?resourceGroup&non-resousce=null', bucket: 'examplebucket', headers: { 'x-oss-date': V1_DATE, authorization: 'OSS ak:vkQmfuUDyi1uDi3bKt67oemssIs=' } },
    now: new Date(V1_DATE),
    expect: { kind: 'signed', accessKeyId: AK, scheme: 'v1' },
    stringToSign: `GET\n\n\n${V1_DATE}\nx-oss-date:${V1_DATE}\n/examplebucket/?resourceGroup`,
  },
  {
    name: 'V1 header, sub-resources sorted (Go v2 test case 4)',
    req: { method: 'GET', rawUrl: '/?resourceGroup&acl', bucket: 'examplebucket', headers: { 'x-oss-date': V1_DATE, authorization: 'OSS ak:x3E5TgOvl/i7PN618s5mEvpJDYk=' } },
    now: new Date(V1_DATE),
    expect: { kind: 'signed', accessKeyId: AK, scheme: 'v1' },
    stringToSign: `GET\n\n\n${V1_DATE}\nx-oss-date:${V1_DATE}\n/examplebucket/?acl&resourceGroup`,
  },
  {
    name: '2.3 V1 presigned',
    req: { method: 'GET', rawUrl: '/key?Expires=1699807420&OSSAccessKeyId=ak&Signature=dcLTea%2BYh9ApirQ8o8dOPqtvJXQ%3D&versionId=versionId', bucket: 'bucket', key: 'key', headers: {} },
    now: new Date(1699807420 * 1000 - 600_000),
    expect: { kind: 'signed', accessKeyId: AK, scheme: 'v1-presigned' },
    stringToSign: 'GET\n\n\n1699807420\n/bucket/key?versionId=versionId',
  },
  {
    name: '2.3 V1 presigned with a literal (unencoded) "+" in Signature',
    req: { method: 'GET', rawUrl: '/key?Expires=1699807420&OSSAccessKeyId=ak&Signature=dcLTea+Yh9ApirQ8o8dOPqtvJXQ=&versionId=versionId', bucket: 'bucket', key: 'key', headers: {} },
    now: new Date(1699807420 * 1000 - 600_000),
    expect: { kind: 'signed', accessKeyId: AK, scheme: 'v1-presigned' },
  },
  {
    name: '2.3 V1 presigned, STS token, decoded key with "+"',
    req: { method: 'GET', rawUrl: '/key%2B123?Expires=1699808204&OSSAccessKeyId=ak&Signature=jzKYRrM5y6Br0dRFPaTGOsbrDhY%3D&security-token=token&versionId=versionId', bucket: 'bucket', key: 'key+123', headers: {} },
    now: new Date(1699808204 * 1000 - 1000),
    credential: { securityToken: 'token' },
    expect: { kind: 'signed', accessKeyId: AK, scheme: 'v1-presigned', securityToken: 'token' },
    stringToSign: 'GET\n\n\n1699808204\n/bucket/key+123?security-token=token&versionId=versionId',
  },
  {
    name: '2.4 V4 header (Go wire query)',
    req: {
      method: 'PUT', rawUrl: `${V4_PATH}?${V4_QUERY_GO}`, bucket: 'bucket', key: V4_KEY,
      headers: { ...V4_UNSIGNED_HEADERS, 'content-type': 'text/plain', 'x-oss-content-sha256': 'UNSIGNED-PAYLOAD', 'x-oss-date': '20231216T162057Z', authorization: v4Auth('20231216', 'e21d18daa82167720f9b1047ae7e7f1ce7cb77a31e8203a7d5f4624fa0284afe') },
    },
    now: fromIsoBasic('20231216T162057Z'),
    expect: { kind: 'signed', accessKeyId: AK, scheme: 'v4' },
    canonicalRequestIncludes: [`PUT\n/bucket/1234%2B-/123/1.txt\n${V4_CANONICAL_QUERY}\n`, 'content-type:text/plain\nx-oss-content-sha256:UNSIGNED-PAYLOAD\nx-oss-date:20231216T162057Z\nx-oss-head1:value\n\n\nUNSIGNED-PAYLOAD'],
  },
  {
    name: '2.4 V4 header (spec wire query, bare empty params)',
    req: {
      method: 'PUT', rawUrl: `${V4_PATH}?${V4_QUERY_SPEC}`, bucket: 'bucket', key: V4_KEY,
      headers: { ...V4_UNSIGNED_HEADERS, 'content-type': 'text/plain', 'x-oss-content-sha256': 'UNSIGNED-PAYLOAD', 'x-oss-date': '20231216T162057Z', authorization: v4Auth('20231216', 'e21d18daa82167720f9b1047ae7e7f1ce7cb77a31e8203a7d5f4624fa0284afe') },
    },
    now: fromIsoBasic('20231216T162057Z'),
    expect: { kind: 'signed', accessKeyId: AK, scheme: 'v4' },
  },
  {
    name: '2.4 V4 header with AdditionalHeaders (ali-oss/Go layout)',
    req: {
      method: 'PUT', rawUrl: `${V4_PATH}?${V4_QUERY_GO}`, bucket: 'bucket', key: V4_KEY,
      headers: { ...V4_UNSIGNED_HEADERS, 'content-type': 'text/plain', 'x-oss-content-sha256': 'UNSIGNED-PAYLOAD', 'x-oss-date': isoBasic(1702747512), authorization: v4Auth('20231216', '4a4183c187c07c8947db7620deb0a6b38d9fbdd34187b6dbaccb316fa251212f', 'AdditionalHeaders=abc;zabc,') },
    },
    now: new Date(1702747512 * 1000),
    expect: { kind: 'signed', accessKeyId: AK, scheme: 'v4' },
    canonicalRequestIncludes: ['abc:value\ncontent-type:text/plain\n', 'x-oss-head1:value\nzabc:value\n\nabc;zabc\nUNSIGNED-PAYLOAD'],
  },
  {
    name: '2.4 V4 header with AdditionalHeaders (oss2 layout: ", " and Signature first)',
    req: {
      method: 'PUT', rawUrl: `${V4_PATH}?${V4_QUERY_GO}`, bucket: 'bucket', key: V4_KEY,
      headers: {
        ...V4_UNSIGNED_HEADERS, 'content-type': 'text/plain', 'x-oss-content-sha256': 'UNSIGNED-PAYLOAD', 'x-oss-date': isoBasic(1702747512),
        authorization: 'OSS4-HMAC-SHA256 Credential=ak/20231216/cn-hangzhou/oss/aliyun_v4_request, Signature=4a4183c187c07c8947db7620deb0a6b38d9fbdd34187b6dbaccb316fa251212f, AdditionalHeaders=ZAbc;abc;x-oss-head1',
      },
    },
    now: new Date(1702747512 * 1000),
    expect: { kind: 'signed', accessKeyId: AK, scheme: 'v4' },
  },
  {
    name: 'V4 header with STS token header (Go v2 TestV4AuthHeaderToken)',
    req: {
      method: 'PUT', rawUrl: `${V4_PATH}?${V4_QUERY_GO}`, bucket: 'bucket', key: V4_KEY,
      headers: { ...V4_UNSIGNED_HEADERS, 'content-type': 'text/plain', 'x-oss-content-sha256': 'UNSIGNED-PAYLOAD', 'x-oss-security-token': 'token', 'x-oss-date': isoBasic(1702784856), authorization: v4Auth('20231217', 'b94a3f999cf85bcdc00d332fbd3734ba03e48382c36fa4d5af5df817395bd9ea') },
    },
    now: new Date(1702784856 * 1000),
    credential: { securityToken: 'token' },
    expect: { kind: 'signed', accessKeyId: AK, scheme: 'v4', securityToken: 'token' },
  },
  {
    name: 'V4 header, cloud box product (Go v2 TestV4AuthHeaderWithCloudBox)',
    req: {
      method: 'PUT', rawUrl: `${V4_PATH}?${V4_QUERY_GO}`, bucket: 'bucket', key: V4_KEY,
      headers: { ...V4_UNSIGNED_HEADERS, 'content-type': 'text/plain', 'x-oss-content-sha256': 'UNSIGNED-PAYLOAD', 'x-oss-date': isoBasic(1702743657), authorization: v4Auth('20231216', '94ce1f12c17d148ea681030275a94449d3357f5b5b21133996eec80af3e08a43', '', 'cb-123', 'oss-cloudbox') },
    },
    now: new Date(1702743657 * 1000),
    expect: { kind: 'signed', accessKeyId: AK, scheme: 'v4' },
  },
  {
    name: '2.5 V4 presigned',
    req: { method: 'PUT', rawUrl: v4PresignedUrl('20231217T025437Z', 'a39966c61718be0d5b14e668088b3fa07601033f6518ac7b523100014269c0fe'), bucket: 'bucket', key: V4_KEY, headers: { ...V4_UNSIGNED_HEADERS, 'content-type': 'application/octet-stream' } },
    now: fromIsoBasic('20231217T025437Z'),
    expect: { kind: 'signed', accessKeyId: AK, scheme: 'v4-presigned' },
  },
  {
    name: 'V4 presigned with STS token (Go v2 TestV4AuthQueryToken)',
    req: { method: 'PUT', rawUrl: v4PresignedUrl('20231217T035628Z', '3817ac9d206cd6dfc90f1c09c00be45005602e55898f26f5ddb06d7892e1f8b5', '&x-oss-security-token=token'), bucket: 'bucket', key: V4_KEY, headers: { ...V4_UNSIGNED_HEADERS, 'content-type': 'application/octet-stream' } },
    now: fromIsoBasic('20231217T035628Z'),
    credential: { securityToken: 'token' },
    expect: { kind: 'signed', accessKeyId: AK, scheme: 'v4-presigned', securityToken: 'token' },
  },
  {
    name: 'V4 presigned with x-oss-additional-headers (Go v2 TestV4AuthQueryWithAdditionalHeaders)',
    req: { method: 'PUT', rawUrl: v4PresignedUrl('20231217T033009Z', '6bd984bfe531afb6db1f7550983a741b103a8c58e5e14f83ea474c2322dfa2b7', '&x-oss-additional-headers=abc%3Bzabc'), bucket: 'bucket', key: V4_KEY, headers: { ...V4_UNSIGNED_HEADERS, 'content-type': 'application/octet-stream' } },
    now: fromIsoBasic('20231217T033009Z'),
    expect: { kind: 'signed', accessKeyId: AK, scheme: 'v4-presigned' },
  },
  {
    name: 'V4 presigned, cloud box product (Go v2 TestV4AuthQueryWithCloudBox)',
    req: { method: 'PUT', rawUrl: v4PresignedUrl('20231217T025437Z', '07284191b9b4978ac3520cd39ee2dea2747eda454089359371ff463a6c7ba20f', '&x-oss-additional-headers=abc%3Bzabc', 'cb-123%2Foss-cloudbox'), bucket: 'bucket', key: V4_KEY, headers: { ...V4_UNSIGNED_HEADERS, 'content-type': 'application/octet-stream' } },
    now: fromIsoBasic('20231217T025437Z'),
    expect: { kind: 'signed', accessKeyId: AK, scheme: 'v4-presigned' },
  },
];

describe('spec vectors', () => {
  for (const v of vectorCases) {
    test(v.name, () => {
      const lookup = lookupWith(v.credential);
      assert.deepEqual(verifyOssRequest(v.req, { now: v.now, lookup }), v.expect);

      const wrongSecret = (id: string) => {
        const c = lookup(id);
        return c && { ...c, secret: 'not-sk' };
      };
      const err = assertMedley(() => verifyOssRequest(v.req, { now: v.now, lookup: wrongSecret }), 'SignatureDoesNotMatch');
      if (v.stringToSign !== undefined) assert.equal(err.details.StringToSign, v.stringToSign);
      for (const part of v.canonicalRequestIncludes ?? []) assert.ok(String(err.details.CanonicalRequest).includes(part), `CanonicalRequest lacks ${JSON.stringify(part)}:\n${err.details.CanonicalRequest}`);
    });
  }
});

// ---------------------------------------------------------------------------------------------------------------
// Hand-signed requests for the rules the vectors do not cover
// ---------------------------------------------------------------------------------------------------------------

function signV1(stringToSign: string, secret = SK): string {
  return createHmac('sha1', secret).update(stringToSign, 'utf8').digest('base64');
}

function signV4(canonicalRequest: string, xOssDate: string, secret = SK): string {
  const scope = `${xOssDate.slice(0, 8)}/cn-hangzhou/oss/aliyun_v4_request`;
  const sts = `OSS4-HMAC-SHA256\n${xOssDate}\n${scope}\n${createHash('sha256').update(canonicalRequest).digest('hex')}`;
  const h = (k: string | Buffer, d: string) => createHmac('sha256', k).update(d).digest();
  const key = h(h(h(h(`aliyun_v4${secret}`, xOssDate.slice(0, 8)), 'cn-hangzhou'), 'oss'), 'aliyun_v4_request');
  return createHmac('sha256', key).update(sts).digest('hex');
}

const NOW = new Date('2026-01-02T03:04:05Z');
const HTTP_NOW = NOW.toUTCString();
const ISO_NOW = isoBasic(NOW.getTime() / 1000);

function v1Request(extraHeaders: Record<string, string>, stringToSign: string, rawUrl = '/k', key = 'k'): SignedRequest {
  return { method: 'GET', rawUrl, bucket: 'b', key, headers: { ...extraHeaders, authorization: `OSS ak:${signV1(stringToSign)}` } };
}

function v4Request(rawUrl: string, canonicalQuery: string, extraHeaders: Record<string, string> = {}): SignedRequest {
  const headerLines = Object.entries({ 'x-oss-content-sha256': 'UNSIGNED-PAYLOAD', 'x-oss-date': ISO_NOW, ...extraHeaders })
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([k, v]) => `${k}:${v}\n`)
    .join('');
  const canonical = `GET\n/b/k\n${canonicalQuery}\n${headerLines}\n\nUNSIGNED-PAYLOAD`;
  return {
    method: 'GET', rawUrl, bucket: 'b', key: 'k',
    headers: { 'x-oss-content-sha256': 'UNSIGNED-PAYLOAD', 'x-oss-date': ISO_NOW, ...extraHeaders, authorization: v4Auth(ISO_NOW.slice(0, 8), signV4(canonical, ISO_NOW)) },
  };
}

describe('classification', () => {
  test('no Authorization and no query signature → anonymous', () => {
    assert.deepEqual(verifyOssRequest({ method: 'GET', rawUrl: '/k?x-oss-process=a', headers: {}, bucket: 'b', key: 'k' }, { now: NOW, lookup: lookupWith() }), { kind: 'anonymous' });
  });

  test('header and query signatures together → InvalidArgument', () => {
    const req = v1Request({ date: HTTP_NOW }, `GET\n\n\n${HTTP_NOW}\n/b/k`, '/k?OSSAccessKeyId=ak&Expires=1&Signature=x');
    assertMedley(() => verifyOssRequest(req, { now: NOW, lookup: lookupWith() }), 'InvalidArgument', /Only one authentication mechanism/);
  });

  const v1Missing = ['/k?OSSAccessKeyId=ak', '/k?Expires=1', '/k?Signature=abc', '/k?OSSAccessKeyId=ak&Expires=1', '/k?OSSAccessKeyId=&Expires=1&Signature=x'];
  for (const rawUrl of v1Missing) {
    test(`V1 query pieces missing (${rawUrl}) → AccessDenied`, () => {
      assertMedley(() => verifyOssRequest({ method: 'GET', rawUrl, headers: {}, bucket: 'b', key: 'k' }, { now: NOW, lookup: lookupWith() }), 'AccessDenied', /^Query-string authentication requires the Signature, Expires and OSSAccessKeyId parameters$/);
    });
  }

  test('V4 query pieces missing → AccessDenied', () => {
    const rawUrl = `/k?x-oss-signature-version=OSS4-HMAC-SHA256&x-oss-credential=ak%2F${ISO_NOW.slice(0, 8)}%2Fcn-hangzhou%2Foss%2Faliyun_v4_request&x-oss-date=${ISO_NOW}`;
    assertMedley(() => verifyOssRequest({ method: 'GET', rawUrl, headers: {}, bucket: 'b', key: 'k' }, { now: NOW, lookup: lookupWith() }), 'AccessDenied', /x-oss-signature/);
  });
});

describe('V1 rules', () => {
  test('a signature that matches is accepted; canonical resource uses the decoded key and x-oss-* sub-resources', () => {
    const sts = `GET\n\n\n${HTTP_NOW}\n/b/dir/ä b?x-oss-custom=a b&x-oss-process=image/resize,w_1`;
    const req = v1Request({ date: HTTP_NOW }, sts, '/dir/%C3%A4%20b?x-oss-process=image%2Fresize%2Cw_1&x-oss-custom=a+b&prefix=unsigned', 'dir/ä b');
    assert.deepEqual(verifyOssRequest(req, { now: NOW, lookup: lookupWith() }), { kind: 'signed', accessKeyId: AK, scheme: 'v1' });
  });

  test('x-oss-date and Date both present: a signature over Date is accepted too (2.8)', () => {
    const other = new Date(NOW.getTime() + 5000).toUTCString();
    const req = v1Request({ date: other, 'x-oss-date': HTTP_NOW }, `GET\n\n\n${other}\nx-oss-date:${HTTP_NOW}\n/b/k`);
    assert.equal(verifyOssRequest(req, { now: NOW, lookup: lookupWith() }).kind, 'signed');
  });

  test('no usable date → AccessDenied', () => {
    const req = v1Request({}, `GET\n\n\n\n/b/k`);
    assertMedley(() => verifyOssRequest(req, { now: NOW, lookup: lookupWith() }), 'AccessDenied', /Date/);
    const bad = v1Request({ date: 'yesterday' }, `GET\n\n\nyesterday\n/b/k`);
    assertMedley(() => verifyOssRequest(bad, { now: NOW, lookup: lookupWith() }), 'AccessDenied', /Date/);
  });

  test('mismatch details: order, StringToSignBytes as spaced uppercase hex, no CanonicalRequest', () => {
    const req = v1Request({ date: HTTP_NOW }, 'something else');
    const err = assertMedley(() => verifyOssRequest(req, { now: NOW, lookup: lookupWith() }), 'SignatureDoesNotMatch');
    const sts = `GET\n\n\n${HTTP_NOW}\n/b/k`;
    assert.deepEqual(err.details, {
      OSSAccessKeyId: AK,
      SignatureProvided: signV1('something else'),
      StringToSign: sts,
      StringToSignBytes: [...Buffer.from(sts)].map((b) => b.toString(16).toUpperCase().padStart(2, '0')).join(' '),
    });
    assert.equal(err.status, 403);
    assert.equal(err.entry.ec, '0002-00000040');
  });

  test('custom skew window', () => {
    const req = v1Request({ date: HTTP_NOW }, `GET\n\n\n${HTTP_NOW}\n/b/k`);
    const later = new Date(NOW.getTime() + 61_000);
    const err = assertMedley(() => verifyOssRequest(req, { now: later, lookup: lookupWith(), maxSkewMs: 60_000 }), 'RequestTimeTooSkewed');
    assert.deepEqual(err.details, { RequestTime: '2026-01-02T03:04:05.000Z', ServerTime: '2026-01-02T03:05:06.000Z', MaxAllowedSkewMilliseconds: 60_000 });
  });

  test('bad Expires → InvalidArgument', () => {
    const rawUrl = '/k?OSSAccessKeyId=ak&Expires=soon&Signature=dcLTea%2BYh9ApirQ8o8dOPqtvJXQ%3D';
    assertMedley(() => verifyOssRequest({ method: 'GET', rawUrl, headers: {}, bucket: 'b', key: 'k' }, { now: NOW, lookup: lookupWith() }), 'InvalidArgument');
  });

  test('malformed percent-encoding in the query → InvalidArgument', () => {
    const req = v1Request({ date: HTTP_NOW }, `GET\n\n\n${HTTP_NOW}\n/b/k`, '/k?x-oss-process=%E0%A4%A');
    assertMedley(() => verifyOssRequest(req, { now: NOW, lookup: lookupWith() }), 'InvalidArgument', /percent-encoding/);
  });
});

describe('V4 rules', () => {
  test('ali-oss style `k=` for empty values is accepted (2.8 retry)', () => {
    const req = v4Request('/k?b=&a=1', 'a=1&b=');
    assert.equal(verifyOssRequest(req, { now: NOW, lookup: lookupWith() }).kind, 'signed');
  });

  test('bare `k` for empty values is the canonical form', () => {
    const req = v4Request('/k?b=&a=1', 'a=1&b');
    assert.equal(verifyOssRequest(req, { now: NOW, lookup: lookupWith() }).kind, 'signed');
  });

  test("'+' in a query value is a space and is signed as %20; %2B stays a plus", () => {
    const req = v4Request('/k?x=a+b&y=c%2Bd', 'x=a%20b&y=c%2Bd');
    assert.equal(verifyOssRequest(req, { now: NOW, lookup: lookupWith() }).kind, 'signed');
  });

  test('scope date differs from x-oss-date → InvalidArgument', () => {
    const req = v4Request('/k', '');
    req.headers.authorization = String(req.headers.authorization).replace(`/${ISO_NOW.slice(0, 8)}/`, '/20260101/');
    assertMedley(() => verifyOssRequest(req, { now: NOW, lookup: lookupWith() }), 'InvalidArgument', /x-oss-date/);
  });

  test('missing x-oss-date → AccessDenied', () => {
    const req = v4Request('/k', '');
    delete req.headers['x-oss-date'];
    assertMedley(() => verifyOssRequest(req, { now: NOW, lookup: lookupWith() }), 'AccessDenied', /x-oss-date/);
  });

  test('mismatch details include CanonicalRequest last', () => {
    const req = v4Request('/k?a=1', 'a=2');
    const err = assertMedley(() => verifyOssRequest(req, { now: NOW, lookup: lookupWith() }), 'SignatureDoesNotMatch');
    assert.deepEqual(Object.keys(err.details), ['OSSAccessKeyId', 'SignatureProvided', 'StringToSign', 'StringToSignBytes', 'CanonicalRequest']);
    assert.equal(err.details.CanonicalRequest, `GET\n/b/k\na=1\nx-oss-content-sha256:UNSIGNED-PAYLOAD\nx-oss-date:${ISO_NOW}\n\n\nUNSIGNED-PAYLOAD`);
  });

  test('x-oss-expires above 604800 → InvalidArgument', () => {
    const rawUrl = `/k?x-oss-signature-version=OSS4-HMAC-SHA256&x-oss-credential=ak%2F${ISO_NOW.slice(0, 8)}%2Fcn-hangzhou%2Foss%2Faliyun_v4_request&x-oss-date=${ISO_NOW}&x-oss-expires=604801&x-oss-signature=${'0'.repeat(64)}`;
    assertMedley(() => verifyOssRequest({ method: 'GET', rawUrl, headers: {}, bucket: 'b', key: 'k' }, { now: NOW, lookup: lookupWith() }), 'InvalidArgument', /604800/);
  });

  test('presigned URL after its window → AccessDenied with Expires and ServerTime', () => {
    const v = vectorCases.find((c) => c.name === '2.5 V4 presigned');
    assert.ok(v);
    const now = new Date(v.now.getTime() + 600_000);
    const err = assertMedley(() => verifyOssRequest(v.req, { now, lookup: lookupWith() }), 'AccessDenied', /^Request has expired\.$/);
    assert.deepEqual(err.details, { Expires: '2023-12-17T03:04:36.000Z', ServerTime: '2023-12-17T03:04:37.000Z' });
  });

  test('unsupported x-oss-signature-version → InvalidArgument', () => {
    const v = vectorCases.find((c) => c.name === '2.5 V4 presigned');
    assert.ok(v);
    const req = { ...v.req, rawUrl: v.req.rawUrl.replace('OSS4-HMAC-SHA256', 'OSS5') };
    assertMedley(() => verifyOssRequest(req, { now: v.now, lookup: lookupWith() }), 'InvalidArgument');
  });
});

describe('STS and credential state', () => {
  const sts = (token: string) => `GET\n\n\n${HTTP_NOW}\nx-oss-security-token:${token}\n/b/k`;

  test('temporary credential without a token in the request → AccessDenied', () => {
    const req = v1Request({ date: HTTP_NOW }, `GET\n\n\n${HTTP_NOW}\n/b/k`);
    assertMedley(() => verifyOssRequest(req, { now: NOW, lookup: lookupWith({ securityToken: 'tok' }) }), 'AccessDenied', /security token/);
  });

  test('signed but wrong token → InvalidAccessKeyId (invalid security token)', () => {
    const req = v1Request({ date: HTTP_NOW, 'x-oss-security-token': 'other' }, sts('other'));
    const err = assertMedley(() => verifyOssRequest(req, { now: NOW, lookup: lookupWith({ securityToken: 'tok' }) }), 'InvalidAccessKeyId', /security token/);
    assert.equal(err.entry.ec, '0002-00000903');
  });

  test('matching token → signed with the token', () => {
    const req = v1Request({ date: HTTP_NOW, 'x-oss-security-token': 'tok' }, sts('tok'));
    assert.deepEqual(verifyOssRequest(req, { now: NOW, lookup: lookupWith({ securityToken: 'tok' }) }), { kind: 'signed', accessKeyId: AK, scheme: 'v1', securityToken: 'tok' });
  });

  test('token presented with a permanent key → InvalidAccessKeyId', () => {
    const req = v1Request({ date: HTTP_NOW, 'x-oss-security-token': 'tok' }, sts('tok'));
    assertMedley(() => verifyOssRequest(req, { now: NOW, lookup: lookupWith() }), 'InvalidAccessKeyId');
  });

  test('expired temporary credential → InvalidAccessKeyId "…has expired."', () => {
    const req = v1Request({ date: HTTP_NOW, 'x-oss-security-token': 'tok' }, sts('tok'));
    const lookup = lookupWith({ securityToken: 'tok', expiresAt: new Date(NOW.getTime() - 1) });
    const err = assertMedley(() => verifyOssRequest(req, { now: NOW, lookup }), 'InvalidAccessKeyId', /expired/);
    assert.deepEqual(err.details, { OSSAccessKeyId: AK });
  });
});

describe('malformed Authorization headers → clean 4xx MedleyError', () => {
  const cred = `ak/${ISO_NOW.slice(0, 8)}/cn-hangzhou/oss/aliyun_v4_request`;
  const hex = 'a'.repeat(64);
  const cases = [
    '',
    ' ',
    'garbage',
    'Bearer abc.def.ghi',
    'OSS',
    'OSS ',
    'OSS ak',
    'OSS :c2lnbmF0dXJlc2lnbmF0dXJlc2lnbmE=',
    'OSS ak:',
    'OSS ak:not base64 at all!',
    'OSS ak:YWJj',
    'OSS ak:%%%%%%%%%%%%%%%%%%%%%%%%%%%=',
    'OSS2 AccessKeyId:ak,AdditionalHeaders:host,Signature:abc',
    'OSS4-HMAC-SHA256',
    'OSS4-HMAC-SHA256 ',
    'OSS4-HMAC-SHA256 ,,,',
    'OSS4-HMAC-SHA256 Credential',
    'OSS4-HMAC-SHA256 =x',
    `OSS4-HMAC-SHA256 Credential=${cred}`,
    `OSS4-HMAC-SHA256 Signature=${hex}`,
    `OSS4-HMAC-SHA256 Credential=,Signature=${hex}`,
    `OSS4-HMAC-SHA256 Credential=ak,Signature=${hex}`,
    `OSS4-HMAC-SHA256 Credential=ak/2026/cn-hangzhou/oss/aliyun_v4_request,Signature=${hex}`,
    `OSS4-HMAC-SHA256 Credential=ak/${ISO_NOW.slice(0, 8)}/cn-hangzhou/s3/aliyun_v4_request,Signature=${hex}`,
    `OSS4-HMAC-SHA256 Credential=ak/${ISO_NOW.slice(0, 8)}/cn-hangzhou/oss/aws4_request,Signature=${hex}`,
    `OSS4-HMAC-SHA256 Credential=ak/${ISO_NOW.slice(0, 8)}//oss/aliyun_v4_request,Signature=${hex}`,
    `OSS4-HMAC-SHA256 Credential=${cred},Signature=xyz`,
    `OSS4-HMAC-SHA256 Credential=${cred},Signature=${'g'.repeat(64)}`,
    `OSS4-HMAC-SHA256 Credential=${cred},AdditionalHeaders=,Signature=${hex}`,
    `OSS4-HMAC-SHA256 Credential=${cred},AdditionalHeaders=host;,Signature=${hex}`,
    `OSS4-HMAC-SHA256 Credential=${cred},AdditionalHeaders=;host,Signature=${hex}`,
    `OSS4-HMAC-SHA256 Credential=${cred},Credential=${cred},Signature=${hex}`,
    '\u0000\uffff\ud800',
  ];
  for (const authorization of cases) {
    test(JSON.stringify(authorization), () => {
      const req: SignedRequest = { method: 'GET', rawUrl: '/k', bucket: 'b', key: 'k', headers: { date: HTTP_NOW, authorization } };
      const e = catchError(() => verifyOssRequest(req, { now: NOW, lookup: lookupWith() }));
      assert.ok(e instanceof MedleyError, `not a MedleyError: ${String(e)}`);
      assert.ok(e.status >= 400 && e.status < 500, `status ${e.status}`);
      assert.ok(['InvalidArgument', 'AccessDenied'].includes(e.code), `${e.code}: ${e.message}`);
    });
  }
});

test('V4 without x-oss-date signs the Date header (Go SDK v3): a wrong signature over it is SignatureDoesNotMatch', () => {
  // Before the Go SDK v3 captures this was refused as "no x-oss-date"; Date is now the date line (spec 2.4).
  const authorization = `OSS4-HMAC-SHA256 Credential=ak/${ISO_NOW.slice(0, 8)}/cn-hangzhou/oss/aliyun_v4_request,Signature=${'a'.repeat(64)}`;
  const req: SignedRequest = { method: 'GET', rawUrl: '/k', bucket: 'b', key: 'k', headers: { date: HTTP_NOW, authorization } };
  const e = catchError(() => verifyOssRequest(req, { now: NOW, lookup: lookupWith() }));
  assert.ok(e instanceof MedleyError && e.code === 'SignatureDoesNotMatch', String(e));
  assert.match(String(e.details.StringToSign), new RegExp(`^OSS4-HMAC-SHA256\n${HTTP_NOW}\n`));
});

describe('constantTimeEqual', () => {
  const cases: Array<[string, string, boolean]> = [
    ['', '', true],
    ['abc', 'abc', true],
    ['abc', 'abd', false],
    ['abc', 'abcd', false],
    ['ä', 'a', false],
    ['ä', 'ä', true],
  ];
  for (const [a, b, expected] of cases) {
    test(`${JSON.stringify(a)} vs ${JSON.stringify(b)}`, () => assert.equal(constantTimeEqual(a, b), expected));
  }
});
