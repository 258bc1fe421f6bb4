/** Validation and mapping of operation parameters: ListTasks filters, project fields, TaskRequestDefinition. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { toImmWire } from '../../../src/http/imm/errors.js';
import { buildParamMap, type ParamMap } from '../../../src/http/imm/params.js';
import { parseProjectInput, parseTags } from '../../../src/http/imm/operations/projects.js';
import { MEDIA_CONVERT_COMPLEX, parseListTasksQuery, parseRfc3339, requestDefinition } from '../../../src/http/imm/operations/tasks.js';

const map = (o: Record<string, string>): ParamMap => buildParamMap(Object.entries(o), []);
const codeOf = (fn: () => unknown): string => {
  try {
    fn();
  } catch (e) {
    return toImmWire(e).code;
  }
  return assert.fail('expected a throw');
};

test('ListTasks defaults: TaskId ascending, 100 per page', () => {
  assert.deepEqual(parseListTasksQuery(map({ ProjectName: 'p' })), { projectName: 'p', sort: 'TaskId', order: 'asc', maxResults: 100 });
});

test('ListTasks without ProjectName is MissingProjectName', () => {
  assert.equal(codeOf(() => parseListTasksQuery(map({}))), 'MissingProjectName');
});

test('ListTasks maps every filter', () => {
  const q = parseListTasksQuery(
    map({
      ProjectName: 'p',
      TaskTypes: '["MediaConvert"]',
      Status: 'failed',
      StartTimeRange: '{"Start":"2024-08-20T15:03:07.123456789+08:00","End":"2024-08-21T00:00:00Z"}',
      EndTimeRange: '{"End":"2024-08-22T00:00:00Z"}',
      TagSelector: 'k=v=w',
      Sort: 'starttime',
      Order: 'DES',
      MaxResults: '5',
      NextToken: 'tok',
    }),
  );
  assert.deepEqual(q, {
    projectName: 'p',
    taskTypes: ['MediaConvert'],
    status: 'Failed',
    startTimeRange: { start: new Date('2024-08-20T07:03:07.123Z'), end: new Date('2024-08-21T00:00:00Z') },
    endTimeRange: { end: new Date('2024-08-22T00:00:00Z') },
    tagSelector: { key: 'k', value: 'v=w' },
    sort: 'StartTime',
    order: 'desc',
    maxResults: 5,
    nextToken: 'tok',
  });
});

test('ListTasks Sort is case-insensitive over TaskId, StartTime, EndTime', () => {
  assert.equal(parseListTasksQuery(map({ ProjectName: 'p', Sort: 'ENDTIME' })).sort, 'EndTime');
  assert.equal(parseListTasksQuery(map({ ProjectName: 'p', Sort: 'taskid' })).sort, 'TaskId');
  assert.equal(codeOf(() => parseListTasksQuery(map({ ProjectName: 'p', Sort: 'Name' }))), 'InvalidArgument');
});

test('ListTasks Order accepts asc, desc and des in any case', () => {
  assert.equal(parseListTasksQuery(map({ ProjectName: 'p', Order: 'ASC' })).order, 'asc');
  assert.equal(parseListTasksQuery(map({ ProjectName: 'p', Order: 'desc' })).order, 'desc');
  assert.equal(parseListTasksQuery(map({ ProjectName: 'p', Order: 'Des' })).order, 'desc');
  assert.equal(codeOf(() => parseListTasksQuery(map({ ProjectName: 'p', Order: 'down' }))), 'InvalidArgument');
});

test('ListTasks MaxResults must be in (0, 100]', () => {
  assert.equal(parseListTasksQuery(map({ ProjectName: 'p', MaxResults: '100' })).maxResults, 100);
  assert.equal(codeOf(() => parseListTasksQuery(map({ ProjectName: 'p', MaxResults: '0' }))), 'InvalidArgument');
  assert.equal(codeOf(() => parseListTasksQuery(map({ ProjectName: 'p', MaxResults: '101' }))), 'InvalidArgument');
  assert.equal(codeOf(() => parseListTasksQuery(map({ ProjectName: 'p', MaxResults: 'ten' }))), 'InvalidMaxResults');
});

test('ListTasks Status must be Running, Succeeded or Failed', () => {
  assert.equal(codeOf(() => parseListTasksQuery(map({ ProjectName: 'p', Status: 'Queued' }))), 'InvalidArgument');
});

test('ListTasks TagSelector must be key=value', () => {
  assert.equal(codeOf(() => parseListTasksQuery(map({ ProjectName: 'p', TagSelector: 'novalue' }))), 'InvalidArgument');
  assert.equal(codeOf(() => parseListTasksQuery(map({ ProjectName: 'p', TagSelector: '=v' }))), 'InvalidArgument');
});

test('ListTasks TaskTypes: invalid JSON is InvalidJSON, the wrong shape InvalidArgument', () => {
  assert.equal(codeOf(() => parseListTasksQuery(map({ ProjectName: 'p', TaskTypes: 'MediaConvert' }))), 'InvalidJSON');
  assert.equal(codeOf(() => parseListTasksQuery(map({ ProjectName: 'p', TaskTypes: '"MediaConvert"' }))), 'InvalidArgument');
  assert.equal(codeOf(() => parseListTasksQuery(map({ ProjectName: 'p', TaskTypes: '[1]' }))), 'InvalidArgument');
});

test('ListTasks time ranges: invalid JSON, non-object and bad times are refused', () => {
  assert.equal(codeOf(() => parseListTasksQuery(map({ ProjectName: 'p', StartTimeRange: '{' }))), 'InvalidJSON');
  assert.equal(codeOf(() => parseListTasksQuery(map({ ProjectName: 'p', EndTimeRange: '[]' }))), 'InvalidArgument');
  assert.equal(codeOf(() => parseListTasksQuery(map({ ProjectName: 'p', EndTimeRange: '{"Start":"yesterday"}' }))), 'InvalidArgument');
});

test('parseRfc3339 takes offsets and nanoseconds, refuses dates without a zone', () => {
  assert.equal(parseRfc3339('X', '2021-12-24T03:01:41.662060377Z').toISOString(), '2021-12-24T03:01:41.662Z');
  assert.equal(parseRfc3339('X', '2016-12-31T00:00:00+08:00').toISOString(), '2016-12-30T16:00:00.000Z');
  assert.equal(codeOf(() => parseRfc3339('X', '2016-12-31T00:00:00')), 'InvalidArgument');
  assert.equal(codeOf(() => parseRfc3339('X', '2016-13-31T00:00:00Z')), 'InvalidArgument');
});

test('project fields: limits within their ranges, strings within their lengths', () => {
  assert.deepEqual(parseProjectInput(map({ Description: 'd', DatasetMaxBindCount: '10', DatasetMaxTotalFileSize: '90000000000000000' })), {
    description: 'd',
    limits: { DatasetMaxBindCount: 10, DatasetMaxTotalFileSize: 90000000000000000 },
  });
  assert.equal(codeOf(() => parseProjectInput(map({ DatasetMaxBindCount: '11' }))), 'InvalidArgument');
  assert.equal(codeOf(() => parseProjectInput(map({ DatasetMaxFileCount: '0' }))), 'InvalidArgument');
  assert.equal(codeOf(() => parseProjectInput(map({ ProjectMaxDatasetCount: 'many' }))), 'InvalidProjectMaxDatasetCount');
  assert.equal(codeOf(() => parseProjectInput(map({ Description: 'x'.repeat(257) }))), 'InvalidArgument');
});

test('project DatasetConfig must be a JSON object', () => {
  assert.deepEqual(parseProjectInput(map({ DatasetConfig: '{"Insights":{}}' })).datasetConfig, { Insights: {} });
  assert.equal(codeOf(() => parseProjectInput(map({ DatasetConfig: '{' }))), 'InvalidJSON');
  assert.equal(codeOf(() => parseProjectInput(map({ DatasetConfig: '[1]' }))), 'InvalidArgument');
});

test('Tag: JSON or flattened [{Key, Value}]; other shapes are InvalidArgument', () => {
  assert.deepEqual(parseTags(map({ Tag: '[{"Key":"a","Value":"b"},{"Key":"c"}]' })), [
    { Key: 'a', Value: 'b' },
    { Key: 'c', Value: '' },
  ]);
  assert.deepEqual(parseTags(map({ 'Tag.1.Key': 'a', 'Tag.1.Value': 'b' })), [{ Key: 'a', Value: 'b' }]);
  assert.equal(codeOf(() => parseTags(map({ Tag: '{"a":"b"}' }))), 'InvalidArgument');
  assert.equal(codeOf(() => parseTags(map({ Tag: '[{"Value":"b"}]' }))), 'InvalidArgument');
  assert.equal(codeOf(() => parseTags(map({ Tag: '[{Key:1}]' }))), 'InvalidJSON');
});

test('TaskRequestDefinition: API parameters with complex ones as JSON, without gateway parameters', () => {
  const def = requestDefinition(
    map({
      AccessKeyId: 'ak',
      Action: 'CreateMediaConvertTask',
      Version: '2020-09-30',
      Format: 'JSON',
      SignatureMethod: 'HMAC-SHA1',
      SignatureNonce: 'n',
      SignatureVersion: '1.0',
      Signature: 's',
      Timestamp: '2024-08-20T07:03:07Z',
      SecurityToken: 't',
      RegionId: 'cn-hangzhou',
      ProjectName: 'p',
      AlignmentIndex: '1',
      UserData: '42',
      Sources: '[{"URI":"oss://b/a.mp4"}]',
      Tags: '{"test":"val1"}',
    }),
    MEDIA_CONVERT_COMPLEX,
    ['AlignmentIndex'],
  );
  assert.deepEqual(def, { ProjectName: 'p', AlignmentIndex: 1, UserData: '42', Sources: [{ URI: 'oss://b/a.mp4' }], Tags: { test: 'val1' } });
});

test('TaskRequestDefinition folds flattened complex parameters back into JSON', () => {
  const def = requestDefinition(map({ ProjectName: 'p', 'Sources.1.URI': 'oss://b/a.mp4', 'Sources.2.URI': 'oss://b/c.mp4' }), MEDIA_CONVERT_COMPLEX);
  assert.deepEqual(def, { ProjectName: 'p', Sources: [{ URI: 'oss://b/a.mp4' }, { URI: 'oss://b/c.mp4' }] });
});
