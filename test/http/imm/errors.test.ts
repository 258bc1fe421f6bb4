/** MedleyError → IMM wire status/Code/Message (spec/imm.md §2.2-2.4, §6 #4). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MedleyError, errorCatalog, type ErrorName } from '../../../src/errors.js';
import { INTERNAL_ERROR_MESSAGE, invalidArgument, invalidParameter, missingParameter, toImmWire, topLevelName } from '../../../src/http/imm/errors.js';
import { parseMediaConvertRequest } from '../../../src/media/request/imm-request.js';

const wire = (name: ErrorName, message?: string, details?: Record<string, string>) => {
  const { status, code, message: m } = toImmWire(new MedleyError(name, message, details));
  return { status, code, message: m };
};
const caught = (fn: () => unknown) => {
  try {
    fn();
  } catch (e) {
    return toImmWire(e);
  }
  return assert.fail('expected a throw');
};

test('gateway entries keep their own code and status; shared entries take their IMM code and status', () => {
  assert.deepEqual(wire('ImmInvalidActionNotFound'), { status: 404, code: 'InvalidAction.NotFound', message: 'Specified api is not found, please check your url and method.' });
  assert.deepEqual(wire('ImmSignatureNonceUsed'), { status: 400, code: 'SignatureNonceUsed', message: 'Specified signature nonce was used already.' });
  assert.deepEqual(wire('InvalidAccessKeyId', 'Specified access key is not found.'), { status: 404, code: 'InvalidAccessKeyId.NotFound', message: 'Specified access key is not found.' });
});

test('entries with immCode/immStatus use them instead of the OSS code and status', () => {
  assert.deepEqual(wire('NoSuchBucket'), { status: 400, code: 'ResourceNotFound', message: errorCatalog.NoSuchBucket.message });
  assert.equal(wire('AccessDenied').code, 'Forbidden.RAM');
  assert.equal(wire('AccessDenied').status, 403);
  assert.equal(wire('InvalidMediaArgument').code, 'InvalidArgument');
  assert.equal(wire('InvalidJson').code, 'InvalidJSON');
});

test('MissingMediaParameter becomes Missing<ArgumentName>', () => {
  assert.equal(wire('MissingMediaParameter', 'x', { ArgumentName: 'ProjectName' }).code, 'MissingProjectName');
});

test('Missing<Name> strips the path below the top-level parameter', () => {
  assert.equal(wire('MissingMediaParameter', 'x', { ArgumentName: 'Sources[0].URI' }).code, 'MissingSources');
  assert.equal(wire('MissingMediaParameter', 'x', { ArgumentName: 'Targets.1.Container' }).code, 'MissingTargets');
  assert.equal(topLevelName('Notification.MNS.TopicName'), 'Notification');
});

test('MissingMediaParameter without an ArgumentName is MissingParameter', () => {
  assert.deepEqual(wire('MissingMediaParameter'), { status: 400, code: 'MissingParameter', message: errorCatalog.MissingMediaParameter.message });
});

test('parseMediaConvertRequest without ProjectName maps to MissingProjectName', () => {
  const w = caught(() => parseMediaConvertRequest({ Sources: '[{"URI":"oss://b/a.mp4"}]' }));
  assert.equal(w.status, 400);
  assert.equal(w.code, 'MissingProjectName');
});

test('parseMediaConvertRequest with unparsable Sources maps to InvalidJSON', () => {
  assert.equal(caught(() => parseMediaConvertRequest({ ProjectName: 'p', Sources: '[{' })).code, 'InvalidJSON');
});

test('a non-MedleyError is a 500 InternalError with the gateway message, flagged unexpected', () => {
  assert.deepEqual(toImmWire(new TypeError('boom')), { status: 500, code: 'InternalError', message: INTERNAL_ERROR_MESSAGE, unexpected: true });
  assert.equal(INTERNAL_ERROR_MESSAGE, 'The request processing has failed due to some unknown error.');
  assert.equal(toImmWire(new MedleyError('AccessDenied')).unexpected, false);
});

test('helpers: missingParameter, invalidParameter, invalidArgument', () => {
  assert.deepEqual({ ...caught(() => missingParameter('OSSBucket')) }, { status: 400, code: 'MissingOSSBucket', message: 'OSSBucket is mandatory for this action.', unexpected: false });
  assert.deepEqual({ ...caught(() => invalidParameter('MaxResults', 'x')) }, { status: 400, code: 'InvalidMaxResults', message: 'Specified parameter MaxResults is not valid.', unexpected: false });
  const w = caught(() => invalidArgument('Prefix', 'must be at most 128 characters'));
  assert.equal(w.code, 'InvalidArgument');
  assert.match(w.message, /Prefix/);
});
