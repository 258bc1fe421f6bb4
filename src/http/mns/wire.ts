/**
 * Domain records → MNS XML children, in the element order of the MNS API reference. Resource times
 * (CreateTime, LastModifyTime) are epoch seconds; message times are epoch milliseconds; booleans are
 * True/False (what the SDKs' decoders expect).
 */
import type { QueueInfo, QueueMessage, QueueStats, SubscriptionInfo, TopicInfo } from '../../notify/mns-service.js';
import { TOPIC_MESSAGE_RETENTION_SECONDS } from '../../notify/mns-service.js';
import type { XmlChildren } from './xml.js';

export const epochSeconds = (ms: number): number => Math.floor(ms / 1000);
export const mnsBool = (b: boolean): string => (b ? 'True' : 'False');

/** GetQueueAttributes / ListQueue with meta. */
export function queueFields(q: QueueInfo & Partial<QueueStats>): XmlChildren {
  return [
    ['QueueName', q.name],
    ['CreateTime', epochSeconds(q.createdAt)],
    ['LastModifyTime', epochSeconds(q.updatedAt)],
    ['DelaySeconds', q.delaySeconds],
    ['MaximumMessageSize', q.maximumMessageSize],
    ['MessageRetentionPeriod', q.messageRetentionPeriod],
    ['VisibilityTimeout', q.visibilityTimeout],
    ['PollingWaitSeconds', q.pollingWaitSeconds],
    ['ActiveMessages', q.activeMessages],
    ['InactiveMessages', q.inactiveMessages],
    ['DelayMessages', q.delayMessages],
    ['LoggingEnabled', mnsBool(q.loggingEnabled)],
  ];
}

/** ReceiveMessage / BatchReceiveMessage. */
export function receivedMessageFields(m: QueueMessage): XmlChildren {
  return [
    ['MessageId', m.messageId],
    ['ReceiptHandle', m.receiptHandle ?? ''],
    ['MessageBodyMD5', m.bodyMd5],
    ['MessageBody', m.body],
    ['EnqueueTime', m.enqueueTime],
    ['NextVisibleTime', m.nextVisibleTime],
    ['FirstDequeueTime', m.firstDequeueTime],
    ['DequeueCount', m.dequeueCount],
    ['Priority', m.priority],
  ];
}

/** PeekMessage / BatchPeekMessage. */
export function peekedMessageFields(m: QueueMessage): XmlChildren {
  return [
    ['MessageId', m.messageId],
    ['MessageBodyMD5', m.bodyMd5],
    ['MessageBody', m.body],
    ['EnqueueTime', m.enqueueTime],
    ['FirstDequeueTime', m.firstDequeueTime],
    ['DequeueCount', m.dequeueCount],
    ['Priority', m.priority],
  ];
}

/** GetTopicAttributes / ListTopic with meta. */
export function topicFields(t: TopicInfo): XmlChildren {
  return [
    ['TopicName', t.name],
    ['CreateTime', epochSeconds(t.createdAt)],
    ['LastModifyTime', epochSeconds(t.updatedAt)],
    ['MaximumMessageSize', t.maximumMessageSize],
    ['MessageRetentionPeriod', TOPIC_MESSAGE_RETENTION_SECONDS],
    ['MessageCount', t.messageCount],
    ['LoggingEnabled', mnsBool(t.loggingEnabled)],
  ];
}

/** GetSubscriptionAttributes. */
export function subscriptionFields(s: SubscriptionInfo, accountId: string): XmlChildren {
  return [
    ['SubscriptionName', s.name],
    ['Subscriber', accountId],
    ['TopicOwner', accountId],
    ['TopicName', s.topic],
    ['Endpoint', s.endpoint],
    ['NotifyStrategy', s.notifyStrategy],
    ['NotifyContentFormat', s.notifyContentFormat],
    ['FilterTag', s.filterTag],
    ['CreateTime', epochSeconds(s.createdAt)],
    ['LastModifyTime', epochSeconds(s.updatedAt)],
  ];
}
