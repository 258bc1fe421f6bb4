/**
 * The project operations driven by the real @alicloud/pop-core RPCClient (RPC v1, HMAC-SHA1), POST (form body)
 * and GET (query), against createImmDialect on loopback. pop-core raises exactly when a body carries a Code.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import RPCClient from '@alicloud/pop-core';
import { ROOT_KEY, SCOPED_KEY, startImmTestServer, type ImmTestServer } from './support.js';

let srv: ImmTestServer;
let client: RPCClient;
before(async () => {
  srv = await startImmTestServer();
  client = new RPCClient({ accessKeyId: ROOT_KEY.id, accessKeySecret: ROOT_KEY.secret, endpoint: srv.url, apiVersion: '2020-09-30' });
});
after(async () => {
  await srv.close();
});

type Body = Record<string, unknown>;
type Method = 'POST' | 'GET';
const METHODS: Method[] = ['POST', 'GET'];
const UPPER_UUID = /^[0-9A-F]{8}-[0-9A-F]{4}-4[0-9A-F]{3}-[89AB][0-9A-F]{3}-[0-9A-F]{12}$/;

/** json-bigint builds null-prototype objects; plain ones compare with deepEqual. */
const plain = (v: unknown): unknown => JSON.parse(JSON.stringify(v));
const req = (action: string, params: Body, method: Method) => client.request<Body>(action, params, { method });

/** The error pop-core raised, with the IMM body it parsed. */
async function popError(p: Promise<unknown>): Promise<{ code: string; data: Body }> {
  try {
    await p;
  } catch (e) {
    const err = e as { code?: string; data?: Body };
    assert.ok(err.data, `expected an IMM error body, got ${String(e)}`);
    return { code: String(err.code), data: err.data };
  }
  return assert.fail('expected pop-core to raise');
}

for (const method of METHODS) {
  const m = method.toLowerCase();

  test(`${method}: CreateProject returns RequestId and the Project`, async () => {
    const r = await req('CreateProject', { ProjectName: `${m}-create`, Description: 'made by pop-core' }, method);
    assert.match(String(r.RequestId), UPPER_UUID);
    const p = r.Project as Body;
    assert.equal(p.ProjectName, `${m}-create`);
    assert.equal(p.Description, 'made by pop-core');
    assert.equal(p.ServiceRole, 'AliyunIMMDefaultRole');
    assert.equal(p.DatasetMaxFileCount, 100000000);
    // json-bigint hands back values beyond 2^53 as BigNumber: compare the decimal text.
    assert.equal(String(p.DatasetMaxTotalFileSize), '90000000000000000');
  });

  test(`${method}: GetProject`, async () => {
    await req('CreateProject', { ProjectName: `${m}-get` }, method);
    const r = await req('GetProject', { ProjectName: `${m}-get`, WithStatistics: true }, method);
    assert.equal((r.Project as Body).ProjectName, `${m}-get`);
    assert.equal((r.Project as Body).FileCount, 0);
  });

  test(`${method}: ListProjects pages with NextToken`, async () => {
    for (const n of ['a', 'b', 'c']) await req('CreateProject', { ProjectName: `${m}-list-${n}` }, method);
    const first = await req('ListProjects', { Prefix: `${m}-list-`, MaxResults: 2 }, method);
    assert.deepEqual((first.Projects as Body[]).map((p) => p.ProjectName), [`${m}-list-a`, `${m}-list-b`]);
    const second = await req('ListProjects', { Prefix: `${m}-list-`, MaxResults: 2, NextToken: first.NextToken }, method);
    assert.deepEqual((second.Projects as Body[]).map((p) => p.ProjectName), [`${m}-list-c`]);
    assert.equal(second.NextToken, '');
  });

  test(`${method}: UpdateProject`, async () => {
    await req('CreateProject', { ProjectName: `${m}-update` }, method);
    const r = await req('UpdateProject', { ProjectName: `${m}-update`, Description: 'changed', DatasetMaxBindCount: 5 }, method);
    assert.equal((r.Project as Body).Description, 'changed');
    assert.equal((r.Project as Body).DatasetMaxBindCount, 5);
  });

  test(`${method}: DeleteProject`, async () => {
    await req('CreateProject', { ProjectName: `${m}-delete` }, method);
    const r = await req('DeleteProject', { ProjectName: `${m}-delete` }, method);
    assert.deepEqual(Object.keys(r), ['RequestId']);
    assert.equal((await popError(req('GetProject', { ProjectName: `${m}-delete` }, method))).code, 'ResourceNotFound');
  });

  test(`${method}: AttachOSSBucket, GetOSSBucketAttachment, DetachOSSBucket`, async () => {
    await req('CreateProject', { ProjectName: `${m}-attach` }, method);
    await req('AttachOSSBucket', { ProjectName: `${m}-attach`, OSSBucket: `${m}-bucket`, Description: 'media' }, method);
    const got = await req('GetOSSBucketAttachment', { OSSBucket: `${m}-bucket` }, method);
    assert.equal(got.ProjectName, `${m}-attach`);
    assert.equal(got.Description, 'media');
    assert.equal(typeof got.CreateTime, 'string');
    await req('DetachOSSBucket', { OSSBucket: `${m}-bucket` }, method);
    assert.equal((await popError(req('GetOSSBucketAttachment', { OSSBucket: `${m}-bucket` }, method))).code, 'ResourceNotFound');
  });

  test(`${method}: errors arrive as pop-core errors carrying the IMM body`, async () => {
    await req('CreateProject', { ProjectName: `${m}-dup` }, method);
    const e = await popError(req('CreateProject', { ProjectName: `${m}-dup` }, method));
    assert.equal(e.code, 'ResourceAlreadyExists');
    assert.equal(e.data.Message, 'The specified resource project already exists.');
    assert.match(String(e.data.RequestId), UPPER_UUID);
    assert.equal(e.data.HostId, `127.0.0.1:${srv.port}`);
  });
}

test('pop-core upper-cases the first letter of parameter names: projectName works', async () => {
  const r = await req('CreateProject', { projectName: 'lower-case-name' }, 'POST');
  assert.equal((r.Project as Body).ProjectName, 'lower-case-name');
});

test('Tag passed as a JS array (flattened Tag.1.Key) and as JSON text both work', async () => {
  const flat = await req('CreateProject', { ProjectName: 'tag-flat', Tag: [{ Key: 'env', Value: 'prod' }] }, 'POST');
  assert.deepEqual(plain((flat.Project as Body).Tags), [{ TagKey: 'env', TagValue: 'prod' }]);
  const json = await req('CreateProject', { ProjectName: 'tag-json', Tag: JSON.stringify([{ Key: 'env', Value: 'prod' }]) }, 'GET');
  assert.deepEqual(plain((json.Project as Body).Tags), [{ TagKey: 'env', TagValue: 'prod' }]);
  const listed = await req('ListProjects', { Prefix: 'tag-', Tag: JSON.stringify([{ Key: 'env', Value: 'prod' }]) }, 'POST');
  assert.deepEqual((listed.Projects as Body[]).map((p) => p.ProjectName), ['tag-flat', 'tag-json']);
});

test('a missing required parameter raises MissingProjectName', async () => {
  assert.equal((await popError(req('GetProject', {}, 'POST'))).code, 'MissingProjectName');
});

test('DeleteProject while tasks run raises StatusConflict', async () => {
  await req('CreateProject', { ProjectName: 'pc-busy' }, 'POST');
  srv.tasks.busy.add('pc-busy');
  assert.equal((await popError(req('DeleteProject', { ProjectName: 'pc-busy' }, 'POST'))).code, 'StatusConflict');
});

test('a wrong secret raises SignatureDoesNotMatch', async () => {
  const bad = new RPCClient({ accessKeyId: ROOT_KEY.id, accessKeySecret: 'not-the-secret', endpoint: srv.url, apiVersion: '2020-09-30' });
  const e = await popError(bad.request('ListProjects', {}, { method: 'POST' }));
  assert.equal(e.code, 'SignatureDoesNotMatch');
});

test('a scoped key raises Forbidden.RAM on project management', async () => {
  const scoped = new RPCClient({ accessKeyId: SCOPED_KEY.id, accessKeySecret: SCOPED_KEY.secret, endpoint: srv.url, apiVersion: '2020-09-30' });
  assert.equal((await popError(scoped.request('ListProjects', {}, { method: 'GET' }))).code, 'Forbidden.RAM');
});

test('another apiVersion raises InvalidParameter', async () => {
  const old = new RPCClient({ accessKeyId: ROOT_KEY.id, accessKeySecret: ROOT_KEY.secret, endpoint: srv.url, apiVersion: '2017-09-06' });
  assert.equal((await popError(old.request('ListProjects', {}, { method: 'POST' }))).code, 'InvalidParameter');
});
