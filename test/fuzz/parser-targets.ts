/**
 * Parser-level fuzz targets: each generates one damaged input from a case Rng and feeds it to the pure
 * parsers the server runs on it, in the server's order. The contract under test: a parser returns, or
 * throws a MedleyError whose status (on every dialect it can reach) is 4xx — never another exception.
 */
import { MedleyError } from '../../src/errors.js';
import { checkAsyncAction, decodeProcessBody, parseSyncProcess } from '../../src/media/request/process-actions.js';
import { parseProcessString } from '../../src/media/request/process-string.js';
import { parseMediaConvertRequest } from '../../src/media/request/imm-request.js';
import { parseXml } from '../../src/http/oss/xml.js';
import { parseMnsXml, parseMnsXmlAs, xmlBool, xmlInt, xmlList, xmlText } from '../../src/http/mns/xml.js';
import { buildParamMap, decodePairs, optionalBool, optionalInt, parseInt64, type ParamMap } from '../../src/http/imm/params.js';
import { MEDIA_CONVERT_COMPLEX, parseListTasksQuery, requestDefinition } from '../../src/http/imm/operations/tasks.js';
import { parseProjectInput } from '../../src/http/imm/operations/projects.js';
import { immFormText, immInput, processInput, syncProcessInput, xmlInput } from './corpus.js';
import { BOUNDARY_NUMBERS } from './mutators.js';
import type { Rng } from './prng.js';

export interface Target {
  name: string;
  /** Cases per run before MEDLEY_FUZZ_CASES scaling. */
  cases: number;
  /** The input of one case (structured-cloneable, printed on failure). */
  input(rng: Rng): unknown;
  /** Runs the parsers on it; returns normally or throws. */
  run(input: unknown): void;
}

const CTX = { bucket: 'in-bucket', key: 'in/src.mp4' };
const IMM_VARS = { bucket: 'in-bucket', project: 'fuzz-project' };

const MNS_INT_FIELDS = ['DelaySeconds', 'MaximumMessageSize', 'MessageRetentionPeriod', 'VisibilityTimeout', 'PollingWaitSeconds', 'Priority'];
const MNS_BOOL_FIELDS = ['LoggingEnabled'];
const MNS_TEXT_FIELDS = ['MessageBody', 'MessageTag', 'Endpoint', 'NotifyStrategy', 'NotifyContentFormat', 'FilterTag'];
const MNS_ROOTS: Record<string, string> = {
  'mns:CreateQueue': 'Queue',
  'mns:SetQueueAttributes': 'Queue',
  'mns:CreateTopic': 'Topic',
  'mns:Subscribe': 'Subscription',
  'mns:PublishMessage': 'Message',
  'mns:BatchDeleteMessage': 'ReceiptHandles',
};
const OSS_ROOTS: Record<string, [string, string[]]> = {
  'oss:CompleteMultipartUpload': ['CompleteMultipartUpload', ['Part']],
  'oss:DeleteMultipleObjects': ['Delete', ['Object']],
  'oss:PutBucket': ['CreateBucketConfiguration', []],
};

/** What the MNS handlers read of a parsed body: every known field through the typed readers. */
function readMnsFields(fields: Record<string, unknown>): void {
  for (const f of MNS_INT_FIELDS) xmlInt(fields, f);
  for (const f of MNS_BOOL_FIELDS) xmlBool(fields, f);
  for (const f of MNS_TEXT_FIELDS) xmlText(fields, f)?.trim();
  for (const item of xmlList(fields, 'Message')) if (typeof item === 'object' && item !== null) readMnsFields(item as Record<string, unknown>);
  xmlList(fields, 'ReceiptHandle');
}

export const TARGETS: readonly Target[] = [
  {
    name: 'x-oss-async-process',
    cases: 4000,
    input: processInput,
    run(input) {
      const { body } = input as { body: string };
      const process = decodeProcessBody(Buffer.from(body, 'utf8'), 'x-oss-async-process');
      checkAsyncAction(process);
      parseProcessString(process, CTX, { requireSaveAs: true });
    },
  },
  {
    name: 'process-string-direct',
    cases: 2000,
    input: (rng) => processInput(rng).body.replace(/^x-oss-async-process=/, ''),
    run(input) {
      parseProcessString(input as string, CTX, { requireSaveAs: false });
    },
  },
  {
    name: 'x-oss-process',
    cases: 1500,
    input: syncProcessInput,
    run(input) {
      const { process, post } = input as { process: string; post: boolean };
      parseSyncProcess(post ? decodeProcessBody(Buffer.from(`x-oss-process=${process}`, 'utf8'), 'x-oss-process') : process, { allowSaveAs: post });
    },
  },
  {
    name: 'oss-xml',
    cases: 2500,
    input: (rng) => xmlInput(rng, (t) => t.startsWith('oss:'), { etag1: 'D41D8CD98F00B204E9800998ECF8427E', etag2: '0CC175B9C0F1B6A831C399E269772661' }),
    run(input) {
      const { target, body } = input as { target: string; body: string };
      const [root, arrays] = OSS_ROOTS[target]!;
      parseXml(Buffer.from(body, 'utf8'), root, arrays);
    },
  },
  {
    name: 'mns-xml',
    cases: 2500,
    input: (rng) => xmlInput(rng, (t) => t.startsWith('mns:'), { handle: '1-MTAwMA==' }),
    run(input) {
      const { target, body } = input as { target: string; body: string };
      const buf = Buffer.from(body, 'utf8');
      const root = MNS_ROOTS[target];
      readMnsFields(root ? parseMnsXmlAs(buf, root) : parseMnsXml(buf).fields);
    },
  },
  {
    name: 'imm-create-media-convert-task',
    cases: 3000,
    input: (rng) => {
      const i = immInput(rng, IMM_VARS, ['CreateMediaConvertTask']);
      return { form: immFormText(i.pairs, rng) };
    },
    run(input) {
      const params = buildParamMap([], decodePairs((input as { form: string }).form, 'form body'));
      parseMediaConvertRequest(params);
      requestDefinition(params, MEDIA_CONVERT_COMPLEX, ['AlignmentIndex']);
    },
  },
  {
    name: 'imm-params',
    cases: 2000,
    input: (rng) => {
      const i = immInput(rng, IMM_VARS, ['ListTasks', 'GetTask', 'CreateProject', 'GetProject', 'ListProjects', 'UpdateProject']);
      return { action: i.action, form: immFormText(i.pairs, rng), n: rng.pick(BOUNDARY_NUMBERS) };
    },
    run(input) {
      const { action, form, n } = input as { action: string; form: string; n: string };
      const p: ParamMap = buildParamMap([], decodePairs(form, 'form body'));
      parseInt64('N', n, { min: 0, max: 200 });
      if (action === 'ListTasks') parseListTasksQuery(p);
      else if (action === 'CreateProject' || action === 'UpdateProject') parseProjectInput(p);
      else {
        optionalBool(p, 'RequestDefinition');
        optionalBool(p, 'WithStatistics');
        optionalInt(p, 'MaxResults', { min: 0, max: 200 });
      }
    },
  },
];

export type Verdict = { kind: 'ok' } | { kind: 'rejected'; status: number } | { kind: 'bad'; error: string };

/** Runs one case: ok, a 4xx MedleyError, or anything else ("bad", with the error as text). */
export function judge(target: Target, input: unknown): Verdict {
  try {
    target.run(input);
    return { kind: 'ok' };
  } catch (e) {
    if (e instanceof MedleyError) {
      const statuses = [e.entry.status, e.entry.immStatus ?? e.entry.status];
      if (statuses.every((s) => s >= 400 && s <= 499)) return { kind: 'rejected', status: e.status };
      return { kind: 'bad', error: `MedleyError with status ${statuses.join('/')}: ${e.code}: ${e.message}` };
    }
    return { kind: 'bad', error: e instanceof Error ? `${e.name}: ${e.message}\n${e.stack ?? ''}` : `non-error thrown: ${String(e)}` };
  }
}
