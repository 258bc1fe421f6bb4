/** Records → IMM JSON with the exact field types of spec/imm.md §3 and §4.8-4.11. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_LIMITS } from '../../../src/projects/service.js';
import type { ProjectRecord } from '../../../src/projects/types.js';
import type { TaskRecord } from '../../../src/tasks/records.js';
import { attachmentToWire, getTaskToWire, listTasksToWire, projectToWire, taskInfoToWire } from '../../../src/http/imm/wire.js';

const created = new Date('2024-08-20T07:03:07.360Z');
const ended = new Date('2024-08-20T07:03:08.570Z');

const project: ProjectRecord = {
  name: 'p',
  description: 'd',
  serviceRole: 'AliyunIMMDefaultRole',
  templateId: '',
  limits: { ...DEFAULT_LIMITS },
  tags: [{ TagKey: 'k', TagValue: 'v' }],
  createdAt: created,
  updatedAt: ended,
};

function task(over: Partial<TaskRecord> = {}): TaskRecord {
  return {
    taskId: 'MediaConvert-db7faf5a-99c5-4afe-8309-d167fe530000',
    taskType: 'MediaConvert',
    projectName: 'p',
    eventId: '25E-1uBJUMOshisffTNk8Nr3GIj0000',
    requestId: 'F9F8F37F-3188-5EFE-9292-9F0AF98D0000',
    state: 'running',
    status: 'Running',
    progress: 42.4,
    code: 'SomeCode',
    message: 'some message',
    userData: 'ud',
    tags: { test: 'val1' },
    requestDefinition: '{"ProjectName":"p"}',
    spec: { job: {} as TaskRecord['spec']['job'], templateSource: { bucket: 'b', key: 'k' }, origin: 'imm' },
    outputs: [],
    createdAt: created,
    attempts: 1,
    expiresAt: new Date(created.getTime() + 7 * 86400_000),
    ...over,
  };
}

test('Project: every field of spec §3.1 with its JSON type', () => {
  const w = projectToWire(project);
  assert.deepEqual(w, {
    ProjectName: 'p',
    Description: 'd',
    ServiceRole: 'AliyunIMMDefaultRole',
    TemplateId: '',
    CreateTime: '2024-08-20T07:03:07.360Z',
    UpdateTime: '2024-08-20T07:03:08.570Z',
    DatasetCount: 0,
    FileCount: 0,
    TotalFileSize: 0,
    DatasetMaxBindCount: 10,
    DatasetMaxFileCount: 100000000,
    DatasetMaxEntityCount: 10000000000,
    DatasetMaxRelationCount: 100000000000,
    DatasetMaxTotalFileSize: 90000000000000000,
    ProjectMaxDatasetCount: 1000000000,
    ProjectQueriesPerSecond: 100,
    EngineConcurrency: 100,
    Tags: [{ TagKey: 'k', TagValue: 'v' }],
  });
  // int64 fields are JSON numbers (Go clients decode into int64), not strings.
  assert.match(JSON.stringify(w), /"DatasetMaxTotalFileSize":90000000000000000[,}]/);
});

test('attachment: ProjectName, Description and plain ISO times', () => {
  assert.deepEqual(attachmentToWire({ bucket: 'b', projectName: 'p', description: '', createdAt: created, updatedAt: created }), {
    ProjectName: 'p',
    Description: '',
    CreateTime: '2024-08-20T07:03:07.360Z',
    UpdateTime: '2024-08-20T07:03:07.360Z',
  });
});

test('GetTask of a running task: empty Code/Message, no EndTime, integer Progress', () => {
  const w = getTaskToWire(task(), false);
  assert.deepEqual(w, {
    ProjectName: 'p',
    TaskId: 'MediaConvert-db7faf5a-99c5-4afe-8309-d167fe530000',
    TaskType: 'MediaConvert',
    EventId: '25E-1uBJUMOshisffTNk8Nr3GIj0000',
    Status: 'Running',
    Code: '',
    Message: '',
    StartTime: '2024-08-20T07:03:07.360Z',
    Progress: 42,
    Tags: { test: 'val1' },
    UserData: 'ud',
  });
  assert.equal('EndTime' in w, false);
});

test('GetTask of a failed task carries its Code, Message, EndTime and Progress 100', () => {
  const w = getTaskToWire(task({ state: 'failed', status: 'Failed', endedAt: ended, progress: 30, code: 'InvalidFile.Media', message: 'bad' }), false);
  assert.equal(w.Code, 'InvalidFile.Media');
  assert.equal(w.Message, 'bad');
  assert.equal(w.EndTime, '2024-08-20T07:03:08.570Z');
  assert.equal(w.Progress, 100);
});

test('a succeeded task has empty Code and Message even if the record holds some', () => {
  const w = getTaskToWire(task({ state: 'succeeded', status: 'Succeeded', endedAt: ended }), false);
  assert.equal(w.Code, '');
  assert.equal(w.Message, '');
  assert.equal(w.EndTime, '2024-08-20T07:03:08.570Z');
});

test('TaskRequestDefinition is a JSON string, only when asked', () => {
  assert.equal(getTaskToWire(task(), true).TaskRequestDefinition, '{"ProjectName":"p"}');
  assert.equal('TaskRequestDefinition' in taskInfoToWire(task(), false), false);
  assert.equal(taskInfoToWire(task(), true).TaskRequestDefinition, '{"ProjectName":"p"}');
});

test('TaskInfo (ListTasks item) has no ProjectName or EventId', () => {
  const w = taskInfoToWire(task(), false);
  assert.deepEqual(Object.keys(w), ['TaskId', 'TaskType', 'Status', 'Code', 'Message', 'StartTime', 'Progress', 'Tags', 'UserData']);
});

test('ListTasks: MaxResults is the page length as a string, NextToken passes through', () => {
  const w = listTasksToWire('p', { tasks: [task(), task()], nextToken: '' }, false);
  assert.equal(w.MaxResults, '2');
  assert.equal(typeof w.MaxResults, 'string');
  assert.equal(w.NextToken, '');
  assert.equal(w.ProjectName, 'p');
  assert.equal((w.Tasks as unknown[]).length, 2);
  assert.equal(listTasksToWire('p', { tasks: [], nextToken: 'abc' }, false).NextToken, 'abc');
});
