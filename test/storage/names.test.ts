// The one bucket/key naming rule (spec oss.md 1.5) and every caller that applies it, table-driven.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { throwsMedley } from '../support/assert-error.js';
import { checkBucketName, checkObjectKey, isValidBucketName, objectKeyProblem, type BucketNameRule } from '../../src/storage/names.js';
import { resolveAddress } from '../../src/http/oss/addressing.js';
import { objectKeyProblem as mediaKeyProblem } from '../../src/media/request/validate.js';
import { checkOutputKey } from '../../src/media/output-name.js';
import { call, startImmTestServer } from '../http/imm/support.js';
import { MedleyError } from '../../src/errors.js';

const rejects = throwsMedley;

/** name, valid for a new bucket, valid for an existing bucket. */
const BUCKETS: Array<[string, boolean, boolean]> = [
  ['abc', true, true],
  ['examplebucket', true, true],
  ['my-bucket-01', true, true],
  ['0ab', true, true],
  ['a'.repeat(63), true, true],
  ['old_bucket', false, true], // '_' tolerated for buckets that may exist (older rules), never on create
  ['a_b', false, true],
  ['ab', false, false],
  ['a'.repeat(64), false, false],
  ['Upper', false, false],
  ['-abc', false, false],
  ['abc-', false, false],
  ['_abc', false, false],
  ['abc_', false, false],
  ['ab.c', false, false],
  ['a b', false, false],
  ['', false, false],
  ['b/x', false, false],
  ['-', false, false],
];

describe('bucket names', () => {
  for (const [name, create, existing] of BUCKETS) {
    for (const [rule, ok] of [['create', create], ['existing', existing]] as Array<[BucketNameRule, boolean]>) {
      test(`${JSON.stringify(name)} is ${ok ? 'valid' : 'invalid'} (${rule})`, () => {
        assert.equal(isValidBucketName(name, rule), ok);
        if (ok) checkBucketName(name, rule);
        else {
          const e = rejects(() => checkBucketName(name, rule), 'InvalidBucketName');
          assert.deepEqual(e.details, { BucketName: name });
        }
      });
    }
  }

  test('the default rule is the one for existing buckets', () => {
    for (const [name, , existing] of BUCKETS) assert.equal(isValidBucketName(name), existing, name);
  });

  test('an aliyuncs Host names a bucket exactly when the name is valid for an existing bucket', () => {
    for (const [name, , existing] of BUCKETS) {
      if (name.includes('.') || name.includes('/') || name.includes(' ') || name === '' || name !== name.toLowerCase()) continue;
      const a = resolveAddress({ host: `${name}.oss-cn-hangzhou.aliyuncs.com`, rawPath: '/k', domain: 'localhost' });
      assert.equal(a.bucket === name, existing, name);
    }
  });

  test('AttachOSSBucket (the real IMM dialect) applies the same rule: "_" accepted, bad names refused', async () => {
    const srv = await startImmTestServer();
    try {
      const made = await call(srv.url, 'CreateProject', { ProjectName: 'names' });
      assert.equal(made.status, 200);
      for (const [name, , existing] of BUCKETS) {
        const r = await call(srv.url, 'AttachOSSBucket', { ProjectName: 'names', OSSBucket: name });
        if (existing) assert.equal(r.status, 200, `${name}: ${JSON.stringify(r.body)}`);
        else if (name !== '') assert.match(String(r.body.Message), /OSSBucket/, `${name}: ${JSON.stringify(r.body)}`);
        else assert.equal(r.status, 400, 'empty OSSBucket');
      }
    } finally {
      await srv.close();
    }
  });
});

/** key, problem. */
const KEYS: Array<[string, ReturnType<typeof objectKeyProblem>]> = [
  ['a', undefined],
  ['dir/a.mp4', undefined],
  ['a+b c', undefined],
  ['中文/🎵.mp3', undefined],
  ['x'.repeat(1023), undefined],
  ['中'.repeat(341), undefined],
  ['trailing/', undefined],
  ['a\\b', undefined],
  ['', 'empty'],
  ['x'.repeat(1024), 'too-long'],
  ['中'.repeat(341) + 'a', 'too-long'],
  ['中'.repeat(342), 'too-long'],
  ['/a', 'leading-slash'],
  ['\\a', 'leading-slash'],
  ['a\0b', 'nul'],
];

const OSS_MESSAGES: Record<string, RegExp> = {
  empty: /empty/,
  'too-long': /^The Length of Object name must be less than 1024$/,
  'leading-slash': /start with/,
  nul: /NUL/,
};

describe('object keys', () => {
  for (const [key, problem] of KEYS) {
    const label = key.length > 40 ? `${key.slice(0, 10)}…(${Buffer.byteLength(key)} bytes)` : key;
    test(`${JSON.stringify(label)}: ${problem ?? 'valid'} — same verdict for OSS, media requests and output names`, () => {
      assert.equal(objectKeyProblem(key), problem);
      assert.equal(mediaKeyProblem(key) === undefined, problem === undefined);
      if (problem === undefined) {
        checkObjectKey(key);
        assert.equal(checkOutputKey(key), key);
      } else {
        rejects(() => checkObjectKey(key), 'InvalidObjectName', OSS_MESSAGES[problem]);
        assert.throws(() => checkOutputKey(key), MedleyError);
      }
    });
  }
});
