/** Who may read /-/metrics and the detailed /-/health: the root key (signed) or the metrics token. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { operatorOf, type OperatorAuthDeps } from '../../src/observability/operator-auth.js';
import type { Credential } from '../../src/auth/credentials.js';
import { signedHeaders } from '../support/raw-client.js';

const ROOT: Credential = { accessKeyId: 'LTAIroot00000001', secret: 'root-secret-0000000000000001' };
const SCOPED: Credential = { accessKeyId: 'LTAIscoped000001', secret: 'scoped-secret-00000000000001', grants: { b: 'read-write' } };
const keys = new Map([ROOT, SCOPED].map((k) => [k.accessKeyId, k]));
const deps: OperatorAuthDeps = { lookup: (id) => keys.get(id), rootAccessKeyId: ROOT.accessKeyId, metricsToken: 'the-metrics-token-0001', domain: 'localhost' };

function req(headers: Record<string, string>, url = '/-/metrics'): IncomingMessage {
  const lower = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
  return { method: 'GET', url, headers: { host: '127.0.0.1:9000', ...lower } } as unknown as IncomingMessage;
}
const signedBy = (k: Credential, key = 'metrics') => signedHeaders({ method: 'GET', bucket: '-', key, auth: { id: k.accessKeyId, secret: k.secret } });

test('the metrics token, compared whole', () => {
  assert.equal(operatorOf(req({ Authorization: 'Bearer the-metrics-token-0001' }), deps), 'token');
  assert.equal(operatorOf(req({ Authorization: 'bearer the-metrics-token-0001' }), deps), 'token');
  assert.equal(operatorOf(req({ Authorization: 'Bearer the-metrics-token-000' }), deps), undefined);
  assert.equal(operatorOf(req({ Authorization: 'Bearer the-metrics-token-00012' }), deps), undefined);
  assert.equal(operatorOf(req({ Authorization: 'Bearer the-metrics-token-0001' }), { ...deps, metricsToken: undefined }), undefined, 'no token configured: no token works');
});

test('a request signed by the root key; not a scoped key, a wrong signature or nothing', () => {
  assert.equal(operatorOf(req(signedBy(ROOT)), deps), 'root');
  assert.equal(operatorOf(req(signedBy(ROOT, 'health'), '/-/health'), deps), 'root');
  assert.equal(operatorOf(req(signedBy(SCOPED)), deps), undefined);
  assert.equal(operatorOf(req(signedBy({ ...ROOT, secret: 'not-the-root-secret-000000001' })), deps), undefined);
  assert.equal(operatorOf(req(signedBy(ROOT, 'health')), deps), undefined, 'a signature for another path');
  assert.equal(operatorOf(req({}), deps), undefined);
});
