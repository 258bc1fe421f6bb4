/**
 * The IMM dialect over real HTTP: signed RPC v1 calls (own signer, spec/imm.md §1.5) against createImmDialect
 * with a real ProjectService/NonceStore and a TaskService stand-in.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { DEFAULT_LIMITS } from '../../../src/projects/service.js';
import type { TaskRecord } from '../../../src/tasks/records.js';
import { isImmRequest } from '../../../src/http/imm/dialect.js';
import { SCOPED_KEY, call, startImmTestServer, type CallResult, type ImmTestServer } from './support.js';

let srv: ImmTestServer;
before(async () => {
  srv = await startImmTestServer();
});
after(async () => {
  await srv.close();
});

const UPPER_UUID = /^[0-9A-F]{8}-[0-9A-F]{4}-4[0-9A-F]{3}-[89AB][0-9A-F]{3}-[0-9A-F]{12}$/;
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

function assertSuccess(r: CallResult): void {
  assert.equal(r.status, 200, r.text);
  assert.equal(r.headers.get('content-type'), 'application/json;charset=utf-8');
  assert.match(String(r.body.RequestId), UPPER_UUID);
  assert.equal(r.headers.get('x-acs-request-id'), r.body.RequestId);
  assert.equal(r.headers.get('x-oss-request-id'), null);
  assert.equal(r.headers.get('server'), null);
  assert.ok(!r.body.Code, 'a success body must not carry a non-empty Code (pop-core would raise)');
}

function assertError(r: CallResult, status: number, code: string, message?: string | RegExp): void {
  assert.equal(r.status, status, r.text);
  assert.equal(r.headers.get('content-type'), 'application/json;charset=utf-8');
  assert.deepEqual(Object.keys(r.body), ['RequestId', 'HostId', 'Code', 'Message', 'Recommend']);
  assert.equal(r.body.Code, code, r.text);
  assert.match(String(r.body.RequestId), UPPER_UUID);
  assert.equal(r.headers.get('x-acs-request-id'), r.body.RequestId);
  assert.equal(r.body.HostId, `127.0.0.1:${srv.port}`);
  assert.equal(r.body.Recommend, `https://next.api.aliyun.com/troubleshoot?q=${encodeURIComponent(code)}&product=imm`);
  assert.equal(r.headers.get('x-oss-request-id'), null);
  if (typeof message === 'string') assert.equal(r.body.Message, message);
  else if (message) assert.match(String(r.body.Message), message);
}

function assertProjectShape(p: unknown, name: string): void {
  const o = p as Record<string, unknown>;
  assert.equal(o.ProjectName, name);
  for (const k of ['Description', 'ServiceRole', 'TemplateId']) assert.equal(typeof o[k], 'string', k);
  for (const k of ['CreateTime', 'UpdateTime']) assert.match(String(o[k]), ISO, k);
  for (const k of ['DatasetCount', 'FileCount', 'TotalFileSize', ...Object.keys(DEFAULT_LIMITS), 'ProjectQueriesPerSecond', 'EngineConcurrency']) {
    assert.equal(typeof o[k], 'number', k);
    assert.ok(Number.isInteger(o[k]), k);
  }
  assert.ok(Array.isArray(o.Tags));
}

const create = (name: string, params: Record<string, string> = {}) => call(srv.url, 'CreateProject', { ProjectName: name, ...params });

// ---------------------------------------------------------------------------------------------------------
// Routing

test('isImmRequest: path / with an Action parameter or an x-acs-action header', () => {
  const req = (url: string, headers: Record<string, string> = {}) => ({ url, headers }) as unknown as IncomingMessage;
  assert.equal(isImmRequest(req('/?Action=GetTask')), true);
  assert.equal(isImmRequest(req('/?Format=JSON&Action=GetTask')), true);
  assert.equal(isImmRequest(req('/?ProjectName=p', { 'x-acs-action': 'GetTask' })), true);
  assert.equal(isImmRequest(req('/', { 'x-acs-action': 'GetTask' })), true);
  assert.equal(isImmRequest(req('/')), false);
  assert.equal(isImmRequest(req('/?prefix=a')), false);
  assert.equal(isImmRequest(req('/?ActionX=1')), false);
  assert.equal(isImmRequest(req('/bucket?Action=GetTask')), false);
  assert.equal(isImmRequest(req('/bucket/key', { 'x-acs-action': 'GetTask' })), false);
});

// ---------------------------------------------------------------------------------------------------------
// Project operations

test('CreateProject returns the Project with the defaults and JSON types of spec §3.1', async () => {
  const r = await create('c-defaults');
  assertSuccess(r);
  assert.deepEqual(Object.keys(r.body), ['RequestId', 'Project']);
  assertProjectShape(r.body.Project, 'c-defaults');
  const p = r.body.Project as Record<string, unknown>;
  assert.equal(p.ServiceRole, 'AliyunIMMDefaultRole');
  assert.equal(p.DatasetMaxFileCount, 100000000);
  assert.equal(p.CreateTime, p.UpdateTime);
  assert.match(r.text, /"DatasetMaxTotalFileSize":90000000000000000[,}]/);
});

test('CreateProject stores Description, limits and Tag ({Key,Value} in, {TagKey,TagValue} out)', async () => {
  const r = await create('c-fields', { Description: 'media', DatasetMaxBindCount: '3', Tag: JSON.stringify([{ Key: 'env', Value: 'prod' }]) });
  assertSuccess(r);
  const p = r.body.Project as Record<string, unknown>;
  assert.equal(p.Description, 'media');
  assert.equal(p.DatasetMaxBindCount, 3);
  assert.deepEqual(p.Tags, [{ TagKey: 'env', TagValue: 'prod' }]);
});

test('CreateProject of an existing name is 400 ResourceAlreadyExists', async () => {
  assertSuccess(await create('c-dup'));
  assertError(await create('c-dup'), 400, 'ResourceAlreadyExists', 'The specified resource project already exists.');
});

test('CreateProject without ProjectName is 400 MissingProjectName', async () => {
  assertError(await call(srv.url, 'CreateProject', {}), 400, 'MissingProjectName', 'ProjectName is mandatory for this action.');
});

test('CreateProject with an invalid name is 400 InvalidArgument naming ProjectName', async () => {
  assertError(await create('9starts-with-digit'), 400, 'InvalidArgument', /ProjectName/);
});

test('CreateProject with a non-integer limit is 400 Invalid<Name>', async () => {
  assertError(await create('c-badint', { DatasetMaxBindCount: 'ten' }), 400, 'InvalidDatasetMaxBindCount');
});

test('CreateProject with Tag that is not JSON is 400 InvalidJSON', async () => {
  assertError(await create('c-badjson', { Tag: '[{"Key":' }), 400, 'InvalidJSON', 'Array parsing error, Tag');
});

test('GetProject returns the project; WithStatistics is accepted', async () => {
  assertSuccess(await create('g-one'));
  const r = await call(srv.url, 'GetProject', { ProjectName: 'g-one', WithStatistics: 'true' });
  assertSuccess(r);
  assertProjectShape(r.body.Project, 'g-one');
});

test('GetProject of an unknown project is 400 ResourceNotFound', async () => {
  assertError(await call(srv.url, 'GetProject', { ProjectName: 'g-none' }), 400, 'ResourceNotFound', 'The specified resource project is not found.');
});

test('ListProjects pages by MaxResults with NextToken, "" on the last page', async () => {
  for (const n of ['l-a', 'l-b', 'l-c']) assertSuccess(await create(n));
  const first = await call(srv.url, 'ListProjects', { Prefix: 'l-', MaxResults: '2' });
  assertSuccess(first);
  assert.deepEqual(Object.keys(first.body), ['RequestId', 'NextToken', 'Projects']);
  const names = (r: CallResult) => (r.body.Projects as { ProjectName: string }[]).map((p) => p.ProjectName);
  assert.deepEqual(names(first), ['l-a', 'l-b']);
  assert.equal(typeof first.body.NextToken, 'string');
  assert.notEqual(first.body.NextToken, '');
  const second = await call(srv.url, 'ListProjects', { Prefix: 'l-', MaxResults: '2', NextToken: String(first.body.NextToken) });
  assertSuccess(second);
  assert.deepEqual(names(second), ['l-c']);
  assert.equal(second.body.NextToken, '');
  assertProjectShape((second.body.Projects as unknown[])[0], 'l-c');
});

test('ListProjects filters by Tag', async () => {
  assertSuccess(await create('lt-yes', { Tag: JSON.stringify([{ Key: 'k', Value: 'v' }]) }));
  assertSuccess(await create('lt-no'));
  const r = await call(srv.url, 'ListProjects', { Prefix: 'lt-', Tag: JSON.stringify([{ Key: 'k', Value: 'v' }]) });
  assertSuccess(r);
  assert.deepEqual((r.body.Projects as { ProjectName: string }[]).map((p) => p.ProjectName), ['lt-yes']);
});

test('ListProjects MaxResults above 200 is 400 InvalidArgument', async () => {
  assertError(await call(srv.url, 'ListProjects', { MaxResults: '201' }), 400, 'InvalidArgument', /MaxResults/);
});

test('UpdateProject changes the given fields only and returns the Project', async () => {
  assertSuccess(await create('u-one', { Description: 'before', TemplateId: 't1' }));
  const r = await call(srv.url, 'UpdateProject', { ProjectName: 'u-one', Description: 'after' });
  assertSuccess(r);
  assertProjectShape(r.body.Project, 'u-one');
  const p = r.body.Project as Record<string, unknown>;
  assert.equal(p.Description, 'after');
  assert.equal(p.TemplateId, 't1');
});

test('UpdateProject of an unknown project is 400 ResourceNotFound', async () => {
  assertError(await call(srv.url, 'UpdateProject', { ProjectName: 'u-none', Description: 'x' }), 400, 'ResourceNotFound');
});

test('DeleteProject answers just RequestId, and the project is gone', async () => {
  assertSuccess(await create('d-one'));
  const r = await call(srv.url, 'DeleteProject', { ProjectName: 'd-one' });
  assertSuccess(r);
  assert.deepEqual(Object.keys(r.body), ['RequestId']);
  assertError(await call(srv.url, 'GetProject', { ProjectName: 'd-one' }), 400, 'ResourceNotFound');
});

test('DeleteProject while tasks run is 400 StatusConflict', async () => {
  assertSuccess(await create('d-busy'));
  srv.tasks.busy.add('d-busy');
  assertError(await call(srv.url, 'DeleteProject', { ProjectName: 'd-busy' }), 400, 'StatusConflict', 'Message: cannot delete when sub resoures exist');
  assertSuccess(await call(srv.url, 'GetProject', { ProjectName: 'd-busy' }));
});

test('DeleteProject of an unknown project is 400 ResourceNotFound', async () => {
  assertError(await call(srv.url, 'DeleteProject', { ProjectName: 'd-none' }), 400, 'ResourceNotFound');
});

test('AttachOSSBucket, GetOSSBucketAttachment, DetachOSSBucket', async () => {
  assertSuccess(await create('a-one'));
  const attach = await call(srv.url, 'AttachOSSBucket', { ProjectName: 'a-one', OSSBucket: 'a-bucket', Description: 'media' });
  assertSuccess(attach);
  assert.deepEqual(Object.keys(attach.body), ['RequestId']);
  const got = await call(srv.url, 'GetOSSBucketAttachment', { OSSBucket: 'a-bucket' });
  assertSuccess(got);
  assert.deepEqual(Object.keys(got.body), ['RequestId', 'ProjectName', 'Description', 'CreateTime', 'UpdateTime']);
  assert.equal(got.body.ProjectName, 'a-one');
  assert.equal(got.body.Description, 'media');
  assert.match(String(got.body.CreateTime), ISO);
  assert.match(String(got.body.UpdateTime), ISO);
  const detach = await call(srv.url, 'DetachOSSBucket', { OSSBucket: 'a-bucket' });
  assertSuccess(detach);
  assert.deepEqual(Object.keys(detach.body), ['RequestId']);
  assertError(await call(srv.url, 'GetOSSBucketAttachment', { OSSBucket: 'a-bucket' }), 400, 'ResourceNotFound');
});

test('AttachOSSBucket of an attached bucket is 400 ResourceAlreadyExists', async () => {
  assertSuccess(await create('a-twice'));
  assertSuccess(await call(srv.url, 'AttachOSSBucket', { ProjectName: 'a-twice', OSSBucket: 'twice-bucket' }));
  assertError(await call(srv.url, 'AttachOSSBucket', { ProjectName: 'a-twice', OSSBucket: 'twice-bucket' }), 400, 'ResourceAlreadyExists');
});

test('AttachOSSBucket to an unknown project is 400 ResourceNotFound', async () => {
  assertError(await call(srv.url, 'AttachOSSBucket', { ProjectName: 'a-none', OSSBucket: 'x-bucket' }), 400, 'ResourceNotFound', 'The specified resource project is not found.');
});

test('AttachOSSBucket without OSSBucket is 400 MissingOSSBucket', async () => {
  assertError(await call(srv.url, 'AttachOSSBucket', { ProjectName: 'a-one' }), 400, 'MissingOSSBucket');
});

test('DetachOSSBucket of a bucket that is not attached is 400 ResourceNotFound', async () => {
  assertError(await call(srv.url, 'DetachOSSBucket', { OSSBucket: 'never-attached' }), 400, 'ResourceNotFound');
});

test('project operations need the root key: a scoped key is 403 Forbidden.RAM', async () => {
  assertError(await call(srv.url, 'ListProjects', {}, { key: SCOPED_KEY }), 403, 'Forbidden.RAM');
  assertError(await call(srv.url, 'CreateProject', { ProjectName: 'scoped-p' }, { key: SCOPED_KEY }), 403, 'Forbidden.RAM');
});

// ---------------------------------------------------------------------------------------------------------
// Transport variants

test('GET with every parameter in the query', async () => {
  assertSuccess(await create('v-get'));
  const r = await call(srv.url, 'GetProject', { ProjectName: 'v-get' }, { method: 'GET' });
  assertSuccess(r);
  assertProjectShape(r.body.Project, 'v-get');
});

test('POST with parameters in the query and an empty body (newer SDKs in v2 mode)', async () => {
  const r = await call(srv.url, 'CreateProject', { ProjectName: 'v-postquery' }, { method: 'POST', placement: 'query' });
  assertSuccess(r);
});

test('POST form body: a parameter value with spaces, plus signs and non-ASCII text', async () => {
  const r = await create('v-form', { Description: 'a b+c 中文 *~' });
  assertSuccess(r);
  assert.equal((r.body.Project as Record<string, unknown>).Description, 'a b+c 中文 *~');
});

test('Action only in the x-acs-action header', async () => {
  const r = await call(srv.url, 'CreateProject', { ProjectName: 'v-header' }, { actionHeaderOnly: true });
  assertSuccess(r);
});

test('no Action anywhere is 400 MissingParameter', async () => {
  const r = await call(srv.url, 'CreateProject', { ProjectName: 'v-noaction' }, { actionHeaderOnly: true, headers: { 'x-acs-action': '' } });
  assertError(r, 400, 'MissingParameter', /Action/);
});

test('a Version other than 2020-09-30 is 400 InvalidParameter', async () => {
  const r = await call(srv.url, 'GetProject', { ProjectName: 'x' }, { version: '2017-09-06' });
  assertError(r, 400, 'InvalidParameter', 'The specified parameter "Action or Version" is not valid.');
});

test('an unknown Action is 404 InvalidAction.NotFound', async () => {
  assertError(await call(srv.url, 'DeleteVideoTask', {}), 404, 'InvalidAction.NotFound', 'Specified api is not found, please check your url and method.');
});

test('a method other than GET or POST is 404 InvalidAction.NotFound', async () => {
  const r = await fetch(`${srv.url}/?Action=GetProject`, { method: 'PUT' });
  assert.equal(r.status, 404);
  assert.equal(((await r.json()) as Record<string, unknown>).Code, 'InvalidAction.NotFound');
});

// ---------------------------------------------------------------------------------------------------------
// Authentication and request hygiene

test('a wrong signature is 400 SignatureDoesNotMatch', async () => {
  assertError(await call(srv.url, 'ListProjects', {}, { badSignature: true }), 400, 'SignatureDoesNotMatch');
});

test('an unsigned parameter added to a signed request is 400 SignatureDoesNotMatch', async () => {
  assertError(await call(srv.url, 'ListProjects', {}, { method: 'GET', extraQuery: 'Prefix=x' }), 400, 'SignatureDoesNotMatch');
});

test('an unknown AccessKeyId is 404 InvalidAccessKeyId.NotFound', async () => {
  assertError(await call(srv.url, 'ListProjects', {}, { key: { id: 'nobody', secret: 'x' } }), 404, 'InvalidAccessKeyId.NotFound');
});

test('a replayed SignatureNonce is 400 SignatureNonceUsed', async () => {
  assertSuccess(await call(srv.url, 'ListProjects', {}, { nonce: 'replay-nonce-1' }));
  assertError(await call(srv.url, 'ListProjects', {}, { nonce: 'replay-nonce-1' }), 400, 'SignatureNonceUsed', 'Specified signature nonce was used already.');
});

test('a Timestamp far from the server time is 400 InvalidTimeStamp.Expired', async () => {
  assertError(await call(srv.url, 'ListProjects', {}, { timestamp: '2020-01-01T00:00:00Z' }), 400, 'InvalidTimeStamp.Expired');
});

test('the same parameter in query and form is 400 InvalidParameter', async () => {
  const r = await call(srv.url, 'GetProject', { ProjectName: 'x' }, { extraQuery: 'ProjectName=x' });
  assertError(r, 400, 'InvalidParameter', /ProjectName/);
});

test('a body over 1 MiB is a 400 error, and the server keeps serving', async () => {
  const big = `ProjectName=x&Description=${'a'.repeat(1024 * 1024)}`;
  const r = await call(srv.url, 'CreateProject', {}, { body: big });
  assertError(r, 400, 'InvalidArgument', /body/);
  assertSuccess(await call(srv.url, 'ListProjects', {}));
});

// ---------------------------------------------------------------------------------------------------------
// Task operations (TaskService stand-in)

const SOURCES = JSON.stringify([{ URI: 'oss://in-bucket/a.mp4' }]);
const TARGETS = JSON.stringify([{ URI: 'oss://out-bucket/a', Container: 'mp4', Video: { TranscodeVideo: { Codec: 'h264', Resolution: '1280x720' } } }]);

test('CreateMediaConvertTask submits the parsed job and answers RequestId, TaskId, EventId', async () => {
  assertSuccess(await create('t-create'));
  const before = srv.tasks.submitted.length;
  const r = await call(srv.url, 'CreateMediaConvertTask', { ProjectName: 't-create', Sources: SOURCES, Targets: TARGETS, UserData: 'ud', Tags: '{"k":"v"}' });
  assertSuccess(r);
  assert.deepEqual(Object.keys(r.body), ['RequestId', 'TaskId', 'EventId']);
  assert.match(String(r.body.TaskId), /^MediaConvert-[0-9a-f-]{36}$/);
  assert.equal(srv.tasks.submitted.length, before + 1);
  const input = srv.tasks.submitted.at(-1)!;
  assert.equal(input.projectName, 't-create');
  assert.equal(input.origin, 'imm');
  assert.equal(input.requestId, r.body.RequestId);
  assert.deepEqual(input.principal, { kind: 'signed', accessKeyId: 'testid', grants: undefined });
  assert.deepEqual(input.templateSource, { bucket: 'in-bucket', key: 'a.mp4' });
  assert.deepEqual(input.job.clips.map((c) => c.source), [{ bucket: 'in-bucket', key: 'a.mp4' }]);
  assert.deepEqual(input.requestDefinition, { ProjectName: 't-create', Sources: JSON.parse(SOURCES), Targets: JSON.parse(TARGETS), UserData: 'ud', Tags: { k: 'v' } });
});

test('CreateMediaConvertTask passes a scoped key\'s grants on as the principal', async () => {
  assertSuccess(await create('t-scoped'));
  const r = await call(srv.url, 'CreateMediaConvertTask', { ProjectName: 't-scoped', Sources: SOURCES, Targets: TARGETS }, { key: SCOPED_KEY });
  assertSuccess(r);
  assert.deepEqual(srv.tasks.submitted.at(-1)!.principal, { kind: 'signed', accessKeyId: SCOPED_KEY.id, grants: { 'in-bucket': 'read-write' } });
});

test('CreateMediaConvertTask for an unknown project is 400 ResourceNotFound', async () => {
  const r = await call(srv.url, 'CreateMediaConvertTask', { ProjectName: 't-none', Sources: SOURCES, Targets: TARGETS });
  assertError(r, 400, 'ResourceNotFound', 'The specified resource project is not found.');
});

test('CreateMediaConvertTask without Sources is 400 MissingSources', async () => {
  assertError(await call(srv.url, 'CreateMediaConvertTask', { ProjectName: 't-create', Targets: TARGETS }), 400, 'MissingSources');
});

test('CreateMediaConvertTask with Sources that are not JSON is 400 InvalidJSON', async () => {
  assertError(await call(srv.url, 'CreateMediaConvertTask', { ProjectName: 't-create', Sources: '[{', Targets: TARGETS }), 400, 'InvalidJSON');
});

test('an unexpected failure inside an operation is 500 InternalError', async () => {
  assertSuccess(await create('t-explode'));
  srv.tasks.explode = new Error('disk on fire');
  try {
    const r = await call(srv.url, 'CreateMediaConvertTask', { ProjectName: 't-explode', Sources: SOURCES, Targets: TARGETS });
    assertError(r, 500, 'InternalError', 'The request processing has failed due to some unknown error.');
  } finally {
    srv.tasks.explode = undefined;
  }
});

function record(over: Partial<TaskRecord>): TaskRecord {
  const created = new Date('2024-08-20T07:03:07.360Z');
  return {
    taskId: 'MediaConvert-00000000-0000-4000-8000-000000000000',
    taskType: 'MediaConvert',
    projectName: 'tg',
    eventId: '25E-1uBJUMOshisffTNk8Nr3GIj0000',
    requestId: 'F9F8F37F-3188-5EFE-9292-9F0AF98D0000',
    state: 'succeeded',
    status: 'Succeeded',
    progress: 100,
    code: '',
    message: '',
    userData: 'ud',
    tags: { k: 'v' },
    requestDefinition: '{"ProjectName":"tg"}',
    spec: { job: {} as TaskRecord['spec']['job'], templateSource: { bucket: 'b', key: 'k' }, origin: 'imm' },
    outputs: [],
    createdAt: created,
    endedAt: new Date('2024-08-20T07:03:08.570Z'),
    attempts: 1,
    expiresAt: new Date(created.getTime() + 7 * 86400_000),
    ...over,
  };
}

test('GetTask returns the task fields with their JSON types', async () => {
  const t = record({ taskId: 'MediaConvert-get-1' });
  srv.tasks.records.set(t.taskId, t);
  const r = await call(srv.url, 'GetTask', { ProjectName: 'tg', TaskId: t.taskId, TaskType: 'MediaConvert' });
  assertSuccess(r);
  assert.deepEqual(r.body, {
    RequestId: r.body.RequestId,
    ProjectName: 'tg',
    TaskId: 'MediaConvert-get-1',
    TaskType: 'MediaConvert',
    EventId: '25E-1uBJUMOshisffTNk8Nr3GIj0000',
    Status: 'Succeeded',
    Code: '',
    Message: '',
    StartTime: '2024-08-20T07:03:07.360Z',
    EndTime: '2024-08-20T07:03:08.570Z',
    Progress: 100,
    Tags: { k: 'v' },
    UserData: 'ud',
  });
});

test('GetTask with RequestDefinition=true adds TaskRequestDefinition as a string', async () => {
  const t = record({ taskId: 'MediaConvert-get-2' });
  srv.tasks.records.set(t.taskId, t);
  const r = await call(srv.url, 'GetTask', { ProjectName: 'tg', TaskId: t.taskId, TaskType: 'MediaConvert', RequestDefinition: 'true' });
  assertSuccess(r);
  assert.equal(r.body.TaskRequestDefinition, '{"ProjectName":"tg"}');
});

test('GetTask: unknown task, wrong TaskType, or another project are all 400 ResourceNotFound', async () => {
  const t = record({ taskId: 'MediaConvert-get-3' });
  srv.tasks.records.set(t.taskId, t);
  const msg = 'The specified resource task is not found.';
  assertError(await call(srv.url, 'GetTask', { ProjectName: 'tg', TaskId: 'MediaConvert-nope', TaskType: 'MediaConvert' }), 400, 'ResourceNotFound', msg);
  assertError(await call(srv.url, 'GetTask', { ProjectName: 'tg', TaskId: t.taskId, TaskType: 'VideoLabelClassification' }), 400, 'ResourceNotFound', msg);
  assertError(await call(srv.url, 'GetTask', { ProjectName: 'other', TaskId: t.taskId, TaskType: 'MediaConvert' }), 400, 'ResourceNotFound', msg);
});

test('GetTask without TaskType is 400 MissingTaskType', async () => {
  assertError(await call(srv.url, 'GetTask', { ProjectName: 'tg', TaskId: 'x' }), 400, 'MissingTaskType');
});

test('ListTasks maps the filters to the task service and answers MaxResults as a string', async () => {
  assertSuccess(await create('tl'));
  srv.tasks.nextPage = { tasks: [record({ projectName: 'tl', taskId: 'MediaConvert-l1' })], nextToken: 'more' };
  try {
    const r = await call(srv.url, 'ListTasks', {
      ProjectName: 'tl',
      TaskTypes: '["MediaConvert"]',
      Status: 'Succeeded',
      Sort: 'StartTime',
      Order: 'desc',
      MaxResults: '1',
      TagSelector: 'k=v',
      RequestDefinition: 'true',
    });
    assertSuccess(r);
    assert.deepEqual(Object.keys(r.body), ['RequestId', 'ProjectName', 'NextToken', 'MaxResults', 'Tasks']);
    assert.equal(r.body.MaxResults, '1');
    assert.equal(r.body.NextToken, 'more');
    const item = (r.body.Tasks as Record<string, unknown>[])[0]!;
    assert.equal(item.TaskId, 'MediaConvert-l1');
    assert.equal(item.TaskRequestDefinition, '{"ProjectName":"tg"}');
    assert.deepEqual(srv.tasks.listed.at(-1), {
      projectName: 'tl',
      taskTypes: ['MediaConvert'],
      status: 'Succeeded',
      tagSelector: { key: 'k', value: 'v' },
      sort: 'StartTime',
      order: 'desc',
      maxResults: 1,
    });
  } finally {
    srv.tasks.nextPage = undefined;
  }
});

test('ListTasks of an unknown project is 400 ResourceNotFound', async () => {
  assertError(await call(srv.url, 'ListTasks', { ProjectName: 'tl-none' }), 400, 'ResourceNotFound', 'The specified resource project is not found.');
});

test('ListTasks with an invalid Sort is 400 InvalidArgument', async () => {
  assertSuccess(await create('tl-sort'));
  assertError(await call(srv.url, 'ListTasks', { ProjectName: 'tl-sort', Sort: 'Size' }), 400, 'InvalidArgument', /Sort/);
});
