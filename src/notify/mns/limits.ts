/** Limits and defaults of the MNS API (MNS API reference); the fixed request limits come from src/limits.ts. */
import { LIMITS } from '../../limits.js';

export interface Range {
  min: number;
  max: number;
  unit: 'seconds' | 'bytes';
}

export const QUEUE_RANGES = {
  DelaySeconds: { min: 0, max: 604800, unit: 'seconds' },
  MaximumMessageSize: { min: 1024, max: LIMITS.mnsMaxMessageBytes, unit: 'bytes' },
  MessageRetentionPeriod: { min: 60, max: 604800, unit: 'seconds' },
  VisibilityTimeout: { min: 1, max: 43200, unit: 'seconds' },
  PollingWaitSeconds: { min: 0, max: LIMITS.mnsMaxPollSeconds, unit: 'seconds' },
} as const satisfies Record<string, Range>;

export const TOPIC_RANGES = {
  MaximumMessageSize: { min: 1024, max: LIMITS.mnsMaxMessageBytes, unit: 'bytes' },
} as const satisfies Record<string, Range>;

export const MESSAGE_RANGES = {
  DelaySeconds: { min: 0, max: 604800, unit: 'seconds' },
  /** 1 is the highest priority. */
  Priority: { min: 1, max: 16, unit: 'seconds' },
  /** ChangeMessageVisibility's VisibilityTimeout. */
  VisibilityTimeout: { min: 1, max: 43200, unit: 'seconds' },
  /** ReceiveMessage's waitseconds. */
  WaitSeconds: { min: 0, max: LIMITS.mnsMaxPollSeconds, unit: 'seconds' },
  /** Batch operations' numOfMessages / list length. */
  BatchSize: { min: 1, max: 16, unit: 'seconds' },
} as const satisfies Record<string, Range>;

export const DEFAULT_PRIORITY = 8;
/** BatchSendMessage: at most 16 messages whose bodies add up to at most 64 KiB. */
export const MAX_BATCH = LIMITS.mnsMaxBatch;
export const MAX_BATCH_BODY_BYTES = LIMITS.mnsMaxBatchBodyBytes;
/** ListQueue / ListTopic / ListSubscriptionByTopic: x-mns-ret-number range and default. */
export const MAX_LIST = 1000;
/** MessageTag and FilterTag. */
export const MAX_TAG_LENGTH = 16;
export const MAX_NAME_LENGTH = 256;
/** Topics keep messages one day (reported by GetTopicAttributes; fixed on MNS). */
export const TOPIC_MESSAGE_RETENTION_SECONDS = 86400;
/** Long polling re-reads the database this often (messages from other processes, delays ending). */
export const POLL_MS = 250;

export const NOTIFY_STRATEGIES = ['BACKOFF_RETRY', 'EXPONENTIAL_DECAY_RETRY'] as const;
export const NOTIFY_CONTENT_FORMATS = ['XML', 'JSON', 'SIMPLIFIED'] as const;
export type NotifyStrategy = (typeof NOTIFY_STRATEGIES)[number];
export type NotifyContentFormat = (typeof NOTIFY_CONTENT_FORMATS)[number];

