/**
 * An RPC v1 call with every parameter — Action, Version, Timestamp, SignatureNonce, Signature — in the
 * form-urlencoded POST body and no x-acs-action header reaches the IMM dialect (it used to be routed to OSS
 * and answered 405 MethodNotAllowed). Only a POST "/" with a form body to the service host is read ahead:
 * the same request to a bucket host, or without an Action, still gets the OSS answer.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac, randomUUID } from 'node:crypto';
import { request } from 'node:http';
import { startServer, type TestServer } from '../support/server.js';

let server: TestServer;
before(async () => {
  server = await startServer({ env: { MEDLEY_WORKERS: '0' } });
});
after(async () => server?.dispose());

/** RFC 3986 encoding as the RPC signers use (spec imm.md §1). */
const percentEncode = (s: string) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

/** The whole signed parameter set as a form body, signed by hand with HMAC-SHA1 over POST&%2F&<canonical>. */
function signedForm(action: string, params: Record<string, string> = {}): string {
  const all: Record<string, string> = {
    Action: action,
    Version: '2020-09-30',
    Format: 'JSON',
    AccessKeyId: server.keyId,
    SignatureMethod: 'HMAC-SHA1',
    SignatureVersion: '1.0',
    SignatureNonce: randomUUID(),
    Timestamp: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
    ...params,
  };
  const canonical = Object.keys(all).sort().map((k) => `${percentEncode(k)}=${percentEncode(all[k]!)}`).join('&');
  const signature = createHmac('sha1', `${server.secret}&`).update(`POST&${percentEncode('/')}&${percentEncode(canonical)}`).digest('base64');
  return Object.entries({ ...all, Signature: signature }).map(([k, v]) => `${percentEncode(k)}=${percentEncode(v)}`).join('&');
}

function post(body: string, host?: string): Promise<{ status: number; type: string; text: string }> {
  const url = new URL(server.url);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: url.hostname,
        port: url.port,
        method: 'POST',
        path: '/',
        headers: { Host: host ?? url.host, 'Content-Type': 'application/x-www-form-urlencoded; charset=UTF-8', 'Content-Length': Buffer.byteLength(body), Accept: 'application/json' },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type']), text: Buffer.concat(chunks).toString('utf8') }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

test('CreateProject and ListProjects with every parameter in the form body and no x-acs-action header', async () => {
  const created = await post(signedForm('CreateProject', { ProjectName: 'form-only' }));
  assert.equal(created.status, 200, created.text);
  assert.match(created.type, /json/);
  assert.equal((JSON.parse(created.text) as { Project?: { ProjectName?: string } }).Project?.ProjectName, 'form-only', created.text);
  const listed = await post(signedForm('ListProjects'));
  assert.equal(listed.status, 200, listed.text);
  const body = JSON.parse(listed.text) as { RequestId: string; Projects: Array<{ ProjectName: string }> };
  assert.ok(body.RequestId);
  assert.ok(body.Projects.some((p) => p.ProjectName === 'form-only'), listed.text);
});

test('a form-body RPC call with a bad signature gets the IMM JSON error, not the OSS XML', async () => {
  const r = await post(signedForm('ListProjects').replace(/Signature=[^&]+$/, 'Signature=AAAAAAAAAAAAAAAAAAAAAAAAAAA%3D'));
  assert.equal(r.status, 400, r.text);
  assert.equal((JSON.parse(r.text) as { Code: string }).Code, 'SignatureDoesNotMatch');
});

test('a form POST / without Action stays OSS: 405 MethodNotAllowed XML', async () => {
  const r = await post('foo=bar&baz=1');
  assert.equal(r.status, 405, r.text);
  assert.match(r.text, /<Code>MethodNotAllowed<\/Code>/);
});

test('a form POST / to a bucket host is OSS even with an Action in the body', async () => {
  const r = await post(signedForm('ListProjects'), `somebucket.localhost:${server.port}`);
  assert.match(r.text, /^<\?xml/, r.text);
  assert.doesNotMatch(r.text, /Projects/);
});
