/**
 * The MNS request signature against the official Node client's own `sign` and `buildHeaders` (the vectors are
 * what @alicloud/mns computes), and the verifier's failures: missing or malformed Authorization, Date,
 * clock skew, unknown key, STS token, any signed part tampered with.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { createRequire } from 'node:module';
import type { IncomingHttpHeaders } from 'node:http';
import { canonicalizedMnsHeaders, mnsSignature, mnsStringToSign, parseMnsAuthorization, verifyMnsRequest } from '../../src/auth/mns-signature.js';
import type { Credential, CredentialLookup } from '../../src/auth/credentials.js';
import { MedleyError } from '../../src/errors.js';

interface MnsClient {
  sign(verb: string, headers: Record<string, string | number>, resource: string): string;
  buildHeaders(method: string, body: Buffer | string, resource: string, custom?: Record<string, string | number>): Record<string, string | number>;
}
const require = createRequire(import.meta.url);
const MNSClient = require('@alicloud/mns') as new (accountId: string, opts: Record<string, unknown>) => MnsClient;

const KEY_ID = 'LTAI5tMnsTestKey01';
const SECRET = 'MnsTestSecret000000000000000001';
const client = new MNSClient('1000000000000001', { accessKeyId: KEY_ID, accessKeySecret: SECRET, endpoint: 'http://127.0.0.1:1' });

function lookupOf(extra: Partial<Credential> = {}): CredentialLookup {
  return (id) => (id === KEY_ID ? { accessKeyId: KEY_ID, secret: SECRET, ...extra } : undefined);
}

/** What a Node server sees: lowercase names, string values. */
function wire(headers: Record<string, string | number>): IncomingHttpHeaders {
  return Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), String(v)]));
}

function expectError(fn: () => unknown, code: string, status: number): void {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof MedleyError, String(e));
    assert.equal(e.code, code, e.message);
    assert.equal(e.status, status);
    return;
  }
  assert.fail(`expected ${code}`);
}

describe('StringToSign and signature: the client\'s own vectors', () => {
  const date = 'Wed, 08 Mar 2017 12:00:00 GMT';

  test('PUT with body headers and x-mns headers', () => {
    const headers = {
      date,
      host: '1000000000000001.mns.cn-hangzhou.aliyuncs.com',
      'x-mns-version': '2015-06-06',
      'x-mns-date': date,
      'content-type': 'text/xml',
      'content-md5': 'ZDQxZDhjZDk4ZjAwYjIwNGU5ODAwOTk4ZWNmODQyN2U=',
      'content-length': 120,
    };
    const resource = '/queues/q1?metaoverride=true';
    const sts = mnsStringToSign('PUT', headers, resource);
    assert.equal(
      sts,
      `PUT\nZDQxZDhjZDk4ZjAwYjIwNGU5ODAwOTk4ZWNmODQyN2U=\ntext/xml\n${date}\nx-mns-date:${date}\nx-mns-version:2015-06-06\n/queues/q1?metaoverride=true`,
    );
    const expected = client.sign('PUT', headers, resource);
    assert.equal(mnsSignature(SECRET, sts), expected);
    // Independently: base64(HMAC-SHA1).
    assert.equal(createHmac('sha1', SECRET).update(sts).digest('base64'), expected);
  });

  test('GET without body headers; list headers sorted; the query is part of the resource', () => {
    const headers = { date, 'x-mns-version': '2015-06-06', 'x-mns-marker': 'q-0', 'x-mns-ret-number': 10, 'x-mns-prefix': 'q-', 'x-mns-date': date };
    assert.equal(canonicalizedMnsHeaders(headers), `x-mns-date:${date}\nx-mns-marker:q-0\nx-mns-prefix:q-\nx-mns-ret-number:10\nx-mns-version:2015-06-06\n`);
    for (const resource of ['/queues', '/queues/q/messages?waitseconds=3', '/queues/q/messages?numOfMessages=16&waitseconds=30', '/topics/t/subscriptions']) {
      assert.equal(mnsSignature(SECRET, mnsStringToSign('GET', headers, resource)), client.sign('GET', headers, resource), resource);
    }
  });

  test('UTF-8 in the resource and headers', () => {
    const headers = { date, 'x-mns-version': '2015-06-06', 'x-mns-user-request-id': 'ünïcödé' };
    assert.equal(mnsSignature(SECRET, mnsStringToSign('DELETE', headers, '/queues/q/messages?ReceiptHandle=1-abc')), client.sign('DELETE', headers, '/queues/q/messages?ReceiptHandle=1-abc'));
  });

  test('Authorization header parsing', () => {
    assert.deepEqual(parseMnsAuthorization('MNS AK:c2ln+/='), { accessKeyId: 'AK', signature: 'c2ln+/=' });
    expectError(() => parseMnsAuthorization('OSS AK:sig'), 'InvalidAuthorizationHeader', 400);
    expectError(() => parseMnsAuthorization('MNS AK'), 'InvalidAuthorizationHeader', 400);
  });
});

describe('verifyMnsRequest', () => {
  const now = new Date();

  function signed(method: string, resource: string, body = '', custom: Record<string, string | number> = {}): IncomingHttpHeaders {
    return wire(client.buildHeaders(method, body, resource, custom));
  }

  test('accepts what the client sends (GET, PUT with body, custom x-mns headers)', () => {
    const lookup = lookupOf();
    let auth = verifyMnsRequest({ method: 'GET', url: '/queues/q/messages?waitseconds=3', headers: signed('GET', '/queues/q/messages?waitseconds=3') }, { lookup, now });
    assert.equal(auth.accessKeyId, KEY_ID);
    const body = '<?xml version="1.0" encoding="UTF-8"?><Queue xmlns="http://mns.aliyuncs.com/doc/v1/"><VisibilityTimeout>60</VisibilityTimeout></Queue>';
    auth = verifyMnsRequest({ method: 'PUT', url: '/queues/q', headers: signed('PUT', '/queues/q', body) }, { lookup, now });
    assert.equal(auth.credential.secret, SECRET);
    verifyMnsRequest({ method: 'GET', url: '/queues', headers: signed('GET', '/queues', '', { 'x-mns-marker': 'a', 'x-mns-ret-number': 5, 'x-mns-prefix': 'p' }) }, { lookup, now });
  });

  test('any signed part changed: SignatureDoesNotMatch (403)', () => {
    const lookup = lookupOf();
    const base = signed('PUT', '/queues/q', '<Queue/>');
    const cases: [string, string, IncomingHttpHeaders][] = [
      ['POST', '/queues/q', base],
      ['PUT', '/queues/other', base],
      ['PUT', '/queues/q?metaoverride=true', base],
      ['PUT', '/queues/q', { ...base, 'content-md5': 'AAAA' }],
      ['PUT', '/queues/q', { ...base, 'content-type': 'application/xml' }],
      ['PUT', '/queues/q', { ...base, 'x-mns-version': '2014-07-08' }],
      ['PUT', '/queues/q', { ...base, 'x-mns-extra': 'added' }],
    ];
    for (const [method, url, headers] of cases) expectError(() => verifyMnsRequest({ method, url, headers }, { lookup, now }), 'SignatureDoesNotMatch', 403);
    const other = new MNSClient('1', { accessKeyId: KEY_ID, accessKeySecret: 'wrong-secret-0000000000', endpoint: 'http://127.0.0.1:1' });
    expectError(() => verifyMnsRequest({ method: 'GET', url: '/queues', headers: wire(other.buildHeaders('GET', '', '/queues')) }, { lookup, now }), 'SignatureDoesNotMatch', 403);
  });

  test('Authorization and Date problems', () => {
    const lookup = lookupOf();
    const h = signed('GET', '/queues');
    const { authorization: _a, ...noAuth } = h;
    expectError(() => verifyMnsRequest({ method: 'GET', url: '/queues', headers: noAuth }, { lookup, now }), 'MissingAuthorizationHeader', 400);
    expectError(() => verifyMnsRequest({ method: 'GET', url: '/queues', headers: { ...h, authorization: 'Bearer x' } }, { lookup, now }), 'InvalidAuthorizationHeader', 400);
    const { date: _d, ...noDate } = h;
    expectError(() => verifyMnsRequest({ method: 'GET', url: '/queues', headers: noDate }, { lookup, now }), 'MissingDateHeader', 400);
    expectError(() => verifyMnsRequest({ method: 'GET', url: '/queues', headers: { ...h, date: 'yesterday' } }, { lookup, now }), 'InvalidDateHeader', 400);
    expectError(() => verifyMnsRequest({ method: 'GET', url: '/queues', headers: h }, { lookup: () => undefined, now }), 'InvalidAccessKeyId', 403);
  });

  test('clock skew: within 15 minutes passes, beyond is TimeExpired (408)', () => {
    const lookup = lookupOf();
    const h = signed('GET', '/queues');
    const sent = Date.parse(String(h.date));
    verifyMnsRequest({ method: 'GET', url: '/queues', headers: h }, { lookup, now: new Date(sent + 14 * 60_000) });
    verifyMnsRequest({ method: 'GET', url: '/queues', headers: h }, { lookup, now: new Date(sent - 14 * 60_000) });
    expectError(() => verifyMnsRequest({ method: 'GET', url: '/queues', headers: h }, { lookup, now: new Date(sent + 16 * 60_000) }), 'TimeExpired', 408);
    expectError(() => verifyMnsRequest({ method: 'GET', url: '/queues', headers: h }, { lookup, now: new Date(sent - 16 * 60_000) }), 'TimeExpired', 408);
  });

  test('STS: the security-token header must match; expired temporary keys are refused', () => {
    const lookup = lookupOf({ securityToken: 'sts-token-1', expiresAt: new Date(now.getTime() + 3600_000) });
    const sts = new MNSClient('1', { accessKeyId: KEY_ID, accessKeySecret: SECRET, securityToken: 'sts-token-1', endpoint: 'http://127.0.0.1:1' });
    const h = wire(sts.buildHeaders('GET', '', '/queues'));
    assert.equal(h['security-token'], 'sts-token-1');
    verifyMnsRequest({ method: 'GET', url: '/queues', headers: h }, { lookup, now });
    const { 'security-token': _t, ...noToken } = h;
    expectError(() => verifyMnsRequest({ method: 'GET', url: '/queues', headers: noToken }, { lookup, now }), 'AccessDenied', 403);
    expectError(() => verifyMnsRequest({ method: 'GET', url: '/queues', headers: { ...h, 'security-token': 'other' } }, { lookup, now }), 'AccessDenied', 403);
    const expired = lookupOf({ securityToken: 'sts-token-1', expiresAt: new Date(now.getTime() - 1000) });
    expectError(() => verifyMnsRequest({ method: 'GET', url: '/queues', headers: h }, { lookup: expired, now }), 'AccessDenied', 403);
  });
});
