/**
 * The shared pure rules of the message service (src/notify/mns/): attribute range checks in element order,
 * the enumerated settings with their defaults, attribute defaults and comparison, and the receipt handle
 * format whose two builders (one handle, or a batch in SQL from prefix and suffix) must agree.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { MedleyError } from '../../../src/errors.js';
import { newReceiptHandle, receiptHandleAffixes, receiptHandleMessageId } from '../../../src/notify/mns/ids.js';
import { NOTIFY_STRATEGIES, QUEUE_RANGES, TOPIC_RANGES } from '../../../src/notify/mns/limits.js';
import { QUEUE_DEFAULTS, TOPIC_DEFAULTS, sameAttributes, withDefaults } from '../../../src/notify/mns/records.js';
import { checkAttributes, checkBodyPresent, checkBodySize, checkChoice } from '../../../src/notify/mns/validate.js';

/** The MedleyError `fn` throws (key and message), or undefined when it does not throw. */
function thrown(fn: () => unknown): { key: string; message: string } | undefined {
  try {
    fn();
    return undefined;
  } catch (e) {
    assert.ok(e instanceof MedleyError, String(e));
    return { key: e.key, message: e.message };
  }
}

describe('checkAttributes', () => {
  const cases: [string, Record<string, unknown>, Record<string, typeof QUEUE_RANGES[keyof typeof QUEUE_RANGES]>, string | undefined][] = [
    ['all in range', { delaySeconds: 0, maximumMessageSize: 1024, messageRetentionPeriod: 60, visibilityTimeout: 1, pollingWaitSeconds: 30 }, QUEUE_RANGES, undefined],
    ['nothing given', {}, QUEUE_RANGES, undefined],
    ['loggingEnabled is not range-checked', { loggingEnabled: true }, QUEUE_RANGES, undefined],
    ['one out of range', { visibilityTimeout: 43201 }, QUEUE_RANGES, 'The value of VisibilityTimeout should between 1 and 43200 seconds.'],
    ['not an integer', { delaySeconds: 1.5 }, QUEUE_RANGES, 'The value of DelaySeconds should between 0 and 604800 seconds.'],
    ['two bad: the first in element order is the error', { pollingWaitSeconds: 31, delaySeconds: -1 }, QUEUE_RANGES, 'The value of DelaySeconds should between 0 and 604800 seconds.'],
    ['topic size in bytes', { maximumMessageSize: 1023 }, TOPIC_RANGES, 'The value of MaximumMessageSize should between 1024 and 65536 bytes.'],
  ];
  for (const [name, attrs, ranges, message] of cases) {
    test(name, () => {
      const e = thrown(() => checkAttributes(attrs, ranges));
      assert.deepEqual(e, message === undefined ? undefined : { key: 'MnsInvalidArgument', message });
    });
  }
});

describe('checkChoice', () => {
  const cases: [string | undefined, string | undefined][] = [
    [undefined, 'BACKOFF_RETRY'],
    ['', 'BACKOFF_RETRY'],
    ['EXPONENTIAL_DECAY_RETRY', 'EXPONENTIAL_DECAY_RETRY'],
    ['backoff_retry', undefined],
    ['SOMETIMES', undefined],
  ];
  for (const [value, want] of cases) {
    test(`NotifyStrategy ${JSON.stringify(value)}`, () => {
      if (want !== undefined) assert.equal(checkChoice('NotifyStrategy', value, 'BACKOFF_RETRY', NOTIFY_STRATEGIES), want);
      else {
        assert.deepEqual(thrown(() => checkChoice('NotifyStrategy', value, 'BACKOFF_RETRY', NOTIFY_STRATEGIES)), {
          key: 'MnsInvalidArgument',
          message: 'The NotifyStrategy should be one of BACKOFF_RETRY, EXPONENTIAL_DECAY_RETRY.',
        });
      }
    });
  }
});

describe('message bodies', () => {
  test('empty is InvalidArgument; the size limit counts UTF-8 bytes', () => {
    assert.equal(thrown(() => checkBodyPresent(''))?.message, 'The MessageBody should not be empty.');
    assert.equal(thrown(() => checkBodyPresent('x')), undefined);
    assert.equal(thrown(() => checkBodySize('é'.repeat(512), 1024)), undefined);
    assert.equal(thrown(() => checkBodySize('é'.repeat(513), 1024))?.message, 'The length of message should not be larger than MaximumMessageSize (1024 bytes).');
  });
});

describe('attribute records', () => {
  test('withDefaults keeps what is given and fills the rest; undefined is not given', () => {
    assert.deepEqual(withDefaults(QUEUE_DEFAULTS, { visibilityTimeout: 60, delaySeconds: undefined }), { ...QUEUE_DEFAULTS, visibilityTimeout: 60 });
    assert.deepEqual(withDefaults(TOPIC_DEFAULTS, {}), TOPIC_DEFAULTS);
  });

  test('sameAttributes compares exactly the attributes (not names or times)', () => {
    const have = { ...QUEUE_DEFAULTS, name: 'q', createdAt: 1, updatedAt: 2 };
    assert.equal(sameAttributes(QUEUE_DEFAULTS, have, { ...QUEUE_DEFAULTS }), true);
    assert.equal(sameAttributes(QUEUE_DEFAULTS, have, { ...QUEUE_DEFAULTS, loggingEnabled: true }), false);
    assert.equal(sameAttributes(TOPIC_DEFAULTS, { maximumMessageSize: 65536, loggingEnabled: false }, { maximumMessageSize: 2048, loggingEnabled: false }), false);
  });
});

describe('receipt handles', () => {
  const id = '0123456789ABCDEF0123456789ABCDEF';
  test('a handle built from the affixes (as receive does in SQL) is one Medley issued', () => {
    const { prefix, suffix } = receiptHandleAffixes();
    const batch = `${prefix}${id}${suffix}`;
    assert.equal(receiptHandleMessageId(batch), id);
    assert.equal(receiptHandleMessageId(newReceiptHandle(id)), id);
    assert.equal(batch.length, newReceiptHandle(id).length);
    assert.notEqual(newReceiptHandle(id), newReceiptHandle(id));
  });
});
