/** The IMM task notification (spec/imm.md §5.2-5.3): exact envelope and content text, key order, JSON types. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildTaskNotification, type TaskNotificationOutcome } from '../../src/tasks/task-message.js';
import type { TaskRecord } from '../../src/tasks/records.js';
import type { MediaJob } from '../../src/media/job.js';

const ctx = { region: 'cn-beijing', accountId: '1023210024670000' };

function clip(bucket: string, key: string): MediaJob['clips'][number] {
  return { source: { bucket, key }, startMs: 0, durationMs: 0, disableAudio: false, disableVideo: false };
}

function task(over: Partial<TaskRecord> = {}): TaskRecord {
  return {
    taskId: 'MediaConvert-db7faf5a-99c5-4afe-8309-d167fe530000',
    taskType: 'MediaConvert',
    projectName: 'test-project',
    eventId: '25E-1uBJUMOshisffTNk8Nr3GIj0000',
    requestId: 'F9F8F37F-3188-5EFE-9292-9F0AF98D0000',
    state: 'running',
    status: 'Running',
    progress: 50,
    code: '',
    message: '',
    userData: '{"k":"v"}',
    tags: {},
    requestDefinition: '{}',
    spec: {
      job: {
        origin: 'imm',
        action: 'audio/concat',
        clips: [clip('your-bucket', 'immtest/test.mp4'), clip('other', 'dir/a b.wav')],
        alignIndex: 0,
        output: {
          container: 'mp4',
          audio: { disabled: false, codec: 'aac', bitrateOption: 'fixed' },
          video: { disabled: true, fpsOption: 'fixed', resolutionOption: 'fixed', scaleType: 'stretch', adaptiveOrientation: false, bitrateOption: 'fixed' },
          dropSubtitles: false,
          destination: { bucket: 'your-bucket', keyTemplate: 'out/{filename}.{autoext}' },
        },
      },
      templateSource: { bucket: 'your-bucket', key: 'immtest/test.mp4' },
      origin: 'imm',
    },
    outputs: [],
    createdAt: new Date('2024-08-20T07:03:07.360Z'),
    attempts: 1,
    expiresAt: new Date('2024-08-27T07:03:07.360Z'),
    ...over,
  };
}

const endedAt = new Date('2024-08-20T07:03:08.570Z');

const cases: { name: string; outcome: TaskNotificationOutcome; expectContent: string }[] = [
  {
    name: 'Succeeded',
    outcome: { status: 'Succeeded', code: '', message: '', outputs: ['oss://your-bucket/out/test.mp4', 'oss://your-bucket/extra.png'], endedAt },
    expectContent:
      '{"ProjectName":"test-project","DatasetName":"","RequestId":"F9F8F37F-3188-5EFE-9292-9F0AF98D0000",' +
      '"StartTime":"2024-08-20T07:03:07.360Z","EndTime":"2024-08-20T07:03:08.570Z","UserData":"{\\"k\\":\\"v\\"}",' +
      '"TaskType":"MediaConvert","TaskId":"MediaConvert-db7faf5a-99c5-4afe-8309-d167fe530000","Status":"Succeeded",' +
      '"Code":"","Message":"","EventSourceId":"",' +
      '"Sources":[{"URI":"oss://your-bucket/immtest/test.mp4","SubtitleSources":null},{"URI":"oss://other/dir/a b.wav","SubtitleSources":null}],' +
      '"Targets":[{"URI":"oss://your-bucket/out/test.mp4","Subtitle":{"Extract":{"URI":""}},"Image":{"Sprites":null,"Snapshots":null,"Animations":null}}]}',
  },
  {
    name: 'Failed',
    // Outputs of a failed task never reach the message, and its Code/Message do.
    outcome: { status: 'Failed', code: 'ResourceNotFound', message: 'The source object does not exist.', outputs: ['oss://your-bucket/ignored.mp4'], endedAt },
    expectContent:
      '{"ProjectName":"test-project","DatasetName":"","RequestId":"F9F8F37F-3188-5EFE-9292-9F0AF98D0000",' +
      '"StartTime":"2024-08-20T07:03:07.360Z","EndTime":"2024-08-20T07:03:08.570Z","UserData":"{\\"k\\":\\"v\\"}",' +
      '"TaskType":"MediaConvert","TaskId":"MediaConvert-db7faf5a-99c5-4afe-8309-d167fe530000","Status":"Failed",' +
      '"Code":"ResourceNotFound","Message":"The source object does not exist.","EventSourceId":"",' +
      '"Sources":[{"URI":"oss://your-bucket/immtest/test.mp4","SubtitleSources":null},{"URI":"oss://other/dir/a b.wav","SubtitleSources":null}],' +
      '"Targets":[{"URI":"","Subtitle":{"Extract":{"URI":""}},"Image":{"Sprites":null,"Snapshots":null,"Animations":null}}]}',
  },
];

const ENVELOPE_KEYS = ['id', 'source', 'type', 'subject', 'time', 'content'];
const CONTENT_KEYS = ['ProjectName', 'DatasetName', 'RequestId', 'StartTime', 'EndTime', 'UserData', 'TaskType', 'TaskId', 'Status', 'Code', 'Message', 'EventSourceId', 'Sources', 'Targets'];

for (const c of cases) {
  test(`${c.name}: envelope text is exact`, () => {
    const text = buildTaskNotification(task(), c.outcome, ctx);
    const expected =
      '{"id":"25E-1uBJUMOshisffTNk8Nr3GIj0000","source":"acs.imm","type":"imm:Task:MediaConvert",' +
      '"subject":"acs:imm:cn-beijing:1023210024670000:test-project/imm:Task:MediaConvert","time":"1724137388570",' +
      `"content":${JSON.stringify(c.expectContent)}}`;
    assert.equal(text, expected);
  });

  test(`${c.name}: key order and JSON types`, () => {
    const env = JSON.parse(buildTaskNotification(task(), c.outcome, ctx)) as Record<string, unknown>;
    assert.deepEqual(Object.keys(env), ENVELOPE_KEYS);
    for (const k of ENVELOPE_KEYS) assert.equal(typeof env[k], 'string', `envelope ${k} is a string`);
    assert.equal(env.time, String(endedAt.getTime()));
    const content = JSON.parse(env.content as string) as Record<string, unknown>;
    assert.deepEqual(Object.keys(content), CONTENT_KEYS);
    for (const k of CONTENT_KEYS.slice(0, 12)) assert.equal(typeof content[k], 'string', `content ${k} is a string`);
    const sources = content.Sources as Record<string, unknown>[];
    assert.equal(sources.length, 2);
    for (const s of sources) {
      assert.deepEqual(Object.keys(s), ['URI', 'SubtitleSources']);
      assert.equal(s.SubtitleSources, null);
    }
    const targets = content.Targets as Record<string, unknown>[];
    assert.equal(targets.length, 1);
    assert.deepEqual(Object.keys(targets[0]!), ['URI', 'Subtitle', 'Image']);
    assert.deepEqual(Object.keys(targets[0]!.Image as object), ['Sprites', 'Snapshots', 'Animations']);
    assert.equal(targets[0]!.URI, c.outcome.status === 'Succeeded' ? 'oss://your-bucket/out/test.mp4' : '');
    assert.equal(content.Status, c.outcome.status);
  });
}

test('a succeeded task with no outputs has an empty target URI; the subject follows region, account and project', () => {
  const text = buildTaskNotification(task({ projectName: 'p2' }), { status: 'Succeeded', code: 'ignored', message: 'ignored', outputs: [], endedAt }, { region: 'cn-hangzhou', accountId: '42' });
  const env = JSON.parse(text) as { subject: string; content: string };
  assert.equal(env.subject, 'acs:imm:cn-hangzhou:42:p2/imm:Task:MediaConvert');
  const content = JSON.parse(env.content) as { Targets: { URI: string }[]; Code: string; Message: string; ProjectName: string };
  assert.equal(content.Targets[0]!.URI, '');
  assert.equal(content.Code, '');
  assert.equal(content.Message, '');
  assert.equal(content.ProjectName, 'p2');
});

test('the same task and outcome always give the same text (pure)', () => {
  const a = buildTaskNotification(task(), cases[0]!.outcome, ctx);
  const b = buildTaskNotification(task(), cases[0]!.outcome, ctx);
  assert.equal(a, b);
});
