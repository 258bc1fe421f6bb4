/**
 * The ONE formatter of a topic message as a subscriber receives it, used by queue fan-out
 * (publish.ts) and HTTP push (push-deliverer.ts) alike.
 */
import { md5HexUpper, xmlEscape } from '../../util/text.js';

export const MNS_XML_NAMESPACE = 'http://mns.aliyuncs.com/doc/v1/';

export interface NotificationFields {
  topicOwner: string;
  topicName: string;
  subscriber: string;
  subscriptionName: string;
  messageId: string;
  message: string;
  messageTag: string;
  /** Epoch ms. */
  publishTime: number;
}


/**
 * A topic message as a subscriber receives it (docs/spec/oss.md §6.2-6.3): SIMPLIFIED is the raw body; XML the
 * `<Notification>` document; JSON the same fields as an object (PublishTime a string of epoch ms).
 */
export function formatNotification(format: string, n: NotificationFields): string {
  const md5 = md5HexUpper(n.message);
  if (format === 'SIMPLIFIED') return n.message;
  if (format === 'JSON') {
    return JSON.stringify({
      TopicOwner: n.topicOwner,
      TopicName: n.topicName,
      Subscriber: n.subscriber,
      SubscriptionName: n.subscriptionName,
      MessageId: n.messageId,
      MessageMD5: md5,
      MessageTag: n.messageTag,
      PublishTime: String(n.publishTime),
      Message: n.message,
    });
  }
  const fields: [string, string][] = [
    ['TopicOwner', n.topicOwner],
    ['TopicName', n.topicName],
    ['Subscriber', n.subscriber],
    ['SubscriptionName', n.subscriptionName],
    ['MessageId', n.messageId],
    ['Message', n.message],
    ['MessageMD5', md5],
    ['MessageTag', n.messageTag],
    ['PublishTime', String(n.publishTime)],
  ];
  const inner = fields.map(([k, v]) => `<${k}>${xmlEscape(v)}</${k}>`).join('');
  return `<?xml version="1.0" encoding="UTF-8"?>\n<Notification xmlns="${MNS_XML_NAMESPACE}">${inner}</Notification>`;
}

/** The Content-Type of an HTTP push in this NotifyContentFormat. */
export function notificationContentType(format: string): string {
  return format === 'SIMPLIFIED' || format === 'JSON' ? 'text/plain;charset=utf-8' : 'text/xml;charset=utf-8';
}
