/**
 * The input rules of the MNS API, one function per rule, with MNS's own error wording: names, integer
 * ranges, tags, the enumerated subscription settings and message bodies. Queues, topics, subscriptions,
 * messages and publishing all validate through here, so a rule (and its message) is written once.
 */
import { fail } from '../../errors.js';
import { MAX_NAME_LENGTH, MAX_TAG_LENGTH, type Range } from './limits.js';

const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9-]*$/;

/** Queue, topic and subscription names: 1-256 letters, digits and hyphens, not starting with a hyphen. */
export function checkName(kind: 'queue' | 'topic' | 'subscription', name: string): void {
  const length = { queue: 'MnsQueueNameLengthError', topic: 'MnsTopicNameLengthError', subscription: 'MnsSubscriptionNameLengthError' } as const;
  const invalid = { queue: 'MnsInvalidQueueName', topic: 'MnsTopicNameInvalid', subscription: 'MnsSubscriptionNameInvalid' } as const;
  if (name.length < 1 || name.length > MAX_NAME_LENGTH) fail(length[kind]);
  if (!NAME_RE.test(name)) fail(invalid[kind], `The ${kind} name "${name}" is invalid: use letters, digits and hyphens, starting with a letter or digit.`);
}

/** InvalidArgument in MNS's words unless `value` is an integer in range. */
export function checkRange(element: string, value: number, range: Range): void {
  if (!Number.isInteger(value) || value < range.min || value > range.max) {
    const unit = element === 'Priority' || element === 'numOfMessages' ? '' : ` ${range.unit}`;
    fail('MnsInvalidArgument', `The value of ${element} should between ${range.min} and ${range.max}${unit}.`);
  }
}

/**
 * Range-checks the attributes given, in the order of `ranges` (the first bad one is the error). The
 * ranges are keyed by MNS element name (`DelaySeconds`); the attribute is its camelCase (`delaySeconds`).
 */
export function checkAttributes<R extends Record<string, Range>>(attrs: Partial<Record<Uncapitalize<keyof R & string>, unknown>>, ranges: R): void {
  for (const [element, range] of Object.entries(ranges)) {
    const value = (attrs as Record<string, unknown>)[element.charAt(0).toLowerCase() + element.slice(1)];
    if (value !== undefined) checkRange(element, value as number, range);
  }
}

export function checkTag(element: 'MessageTag' | 'FilterTag', tag: string): void {
  if (tag.length > MAX_TAG_LENGTH) fail('MnsInvalidArgument', `The length of ${element} should be between 1 and ${MAX_TAG_LENGTH}.`);
}

/** One of `allowed`; `fallback` when the value is absent or empty (as MNS treats an empty element). */
export function checkChoice<T extends string>(element: string, value: string | undefined, fallback: T, allowed: readonly T[]): T {
  const v = value === undefined || value === '' ? fallback : value;
  if (!(allowed as readonly string[]).includes(v)) fail('MnsInvalidArgument', `The ${element} should be one of ${allowed.join(', ')}.`);
  return v as T;
}

export function byteLength(s: string): number {
  return Buffer.byteLength(s, 'utf8');
}

/** SendMessage and PublishMessage: a message has a body. */
export function checkBodyPresent(body: string): void {
  if (body.length === 0) fail('MnsInvalidArgument', 'The MessageBody should not be empty.');
}

/** The body fits the queue's or topic's MaximumMessageSize (UTF-8 bytes). */
export function checkBodySize(body: string, maximumMessageSize: number): void {
  if (byteLength(body) > maximumMessageSize) {
    fail('MnsInvalidArgument', `The length of message should not be larger than MaximumMessageSize (${maximumMessageSize} bytes).`);
  }
}
