/**
 * The records the message service takes and returns: the vocabulary src/http/mns translates to and from
 * MNS XML. Kept apart from the modules that store them so the dialect, the service front and every role
 * module share one definition. Also the attribute defaults and the one comparison CreateQueue and
 * CreateTopic use to tell "the same resource again" (204) from "another resource by that name" (409).
 */
import type { NotifyContentFormat, NotifyStrategy } from './limits.js';

export interface QueueAttributes {
  delaySeconds: number;
  maximumMessageSize: number;
  messageRetentionPeriod: number;
  visibilityTimeout: number;
  pollingWaitSeconds: number;
  loggingEnabled: boolean;
}

export const QUEUE_DEFAULTS: Readonly<QueueAttributes> = {
  delaySeconds: 0,
  maximumMessageSize: 65536,
  messageRetentionPeriod: 345600,
  visibilityTimeout: 30,
  pollingWaitSeconds: 0,
  loggingEnabled: false,
};

export interface QueueInfo extends QueueAttributes {
  name: string;
  /** Epoch ms. */
  createdAt: number;
  updatedAt: number;
}

export interface QueueStats {
  activeMessages: number;
  inactiveMessages: number;
  delayMessages: number;
}

export interface TopicAttributes {
  maximumMessageSize: number;
  loggingEnabled: boolean;
}

export const TOPIC_DEFAULTS: Readonly<TopicAttributes> = { maximumMessageSize: 65536, loggingEnabled: false };

export interface TopicInfo extends TopicAttributes {
  name: string;
  createdAt: number;
  updatedAt: number;
  /** Messages published but not yet delivered to every HTTP subscriber. */
  messageCount: number;
}

export interface SubscriptionInput {
  endpoint: string;
  notifyStrategy?: string;
  notifyContentFormat?: string;
  filterTag?: string;
}

export interface SubscriptionInfo {
  topic: string;
  name: string;
  endpoint: string;
  notifyStrategy: NotifyStrategy;
  notifyContentFormat: NotifyContentFormat;
  filterTag: string;
  createdAt: number;
  updatedAt: number;
}

export interface SendInput {
  body: string;
  /** Default: the queue's DelaySeconds. */
  delaySeconds?: number;
  /** 1 (highest) .. 16; default 8. */
  priority?: number;
}

export interface SendResult {
  messageId: string;
  messageBodyMd5: string;
  /** Only for a delayed message: lets the sender delete it or change its visibility before it is due. */
  receiptHandle?: string;
}

export interface QueueMessage {
  messageId: string;
  body: string;
  bodyMd5: string;
  priority: number;
  /** Epoch ms. */
  enqueueTime: number;
  /** Epoch ms; 0 when never received. */
  firstDequeueTime: number;
  dequeueCount: number;
  nextVisibleTime: number;
  /** Set by receive (the handle of this receive). */
  receiptHandle?: string;
}

export interface BatchDeleteFailure {
  receiptHandle: string;
  errorCode: string;
  errorMessage: string;
}

export interface ListOptions {
  prefix?: string;
  marker?: string;
  /** 1..1000, default 1000. */
  limit?: number;
}

export interface Page<T> {
  items: T[];
  /** The marker of the next page (the first name not returned); undefined on the last page. */
  nextMarker?: string;
}

export interface ReceiveOptions {
  /** 1..16 (default 1). */
  max?: number;
  /** 0..30; default the queue's PollingWaitSeconds. */
  waitSeconds?: number;
  /** Ends the wait early (the client went away, the server is closing). */
  signal?: AbortSignal;
}

/** The attributes a Create* asks for: what is given, the defaults for the rest. */
export function withDefaults<A extends object>(defaults: Readonly<A>, given: Partial<A>): A {
  const out = { ...defaults };
  for (const [k, v] of Object.entries(given)) if (v !== undefined) (out as Record<string, unknown>)[k] = v;
  return out;
}

/** Whether `have` has every attribute of `want` (the attributes are the keys of `defaults`). */
export function sameAttributes<A extends object>(defaults: Readonly<A>, have: A, want: A): boolean {
  return (Object.keys(defaults) as (keyof A)[]).every((k) => have[k] === want[k]);
}
