/**
 * The MNS wire dialect: routing by method and path, authentication, XML in and out, MNS errors.
 *
 *   /queues                                   GET ListQueue
 *   /queues/<q>                               PUT CreateQueue (?metaoverride=true: SetQueueAttributes), GET, DELETE
 *   /queues/<q>/messages                      POST Send/BatchSend, GET Receive/BatchReceive/Peek/BatchPeek,
 *                                             DELETE Delete (?ReceiptHandle=) / BatchDelete (body),
 *                                             PUT ChangeMessageVisibility (?receiptHandle=&visibilityTimeout=)
 *   /topics                                   GET ListTopic
 *   /topics/<t>                               PUT CreateTopic (?metaoverride=true: SetTopicAttributes), GET, DELETE
 *   /topics/<t>/messages                      POST PublishMessage
 *   /topics/<t>/subscriptions                 GET ListSubscriptionByTopic
 *   /topics/<t>/subscriptions/<s>             PUT Subscribe (?metaoverride=true: SetSubscriptionAttributes), GET, DELETE
 *
 * Query parameter names are case-insensitive (the Node SDK sends `receiptHandle`, the Python SDK
 * `ReceiptHandle`). Every failure is an MNS `<Error>` document with its MNS status; nothing here answers 500
 * except a real bug.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { Config } from '../../config.js';
import type { CredentialLookup } from '../../auth/credentials.js';
import { verifyMnsRequest } from '../../auth/mns-signature.js';
import { fail } from '../../errors.js';
import { queueEndpoint, type MnsService, type ListOptions, type QueueAttributes, type SendInput, type TopicAttributes } from '../../notify/mns-service.js';
import { mnsErrorXml, toMnsWireError } from './errors.js';
import { peekedMessageFields, queueFields, receivedMessageFields, subscriptionFields, topicFields } from './wire.js';
import { mnsXml, parseMnsXml, parseMnsXmlAs, xmlBool, xmlInt, xmlList, xmlText, type XmlChildren } from './xml.js';
import { LIMITS } from '../../limits.js';
import type { DiskSpace } from '../../storage/disk-space.js';
import { labelRequest } from '../../observability/metrics.js';
import { requestScheme } from '../listen.js';

export const MNS_API_VERSION = '2015-06-06';
/**
 * Largest request body read. Message bodies are limited to 64 KiB (per message and per batch) after
 * parsing; this leaves room for XML escaping (a body of `&` is 5x longer escaped) and the envelope.
 */
export const MAX_REQUEST_BODY_BYTES = LIMITS.mnsMaxRequestBodyBytes;

/** 24 upper-case hex characters, like MNS request ids. */
export function newMnsRequestId(): string {
  return randomBytes(12).toString('hex').toUpperCase();
}

export interface MnsDialectDeps {
  config: Config;
  lookup: CredentialLookup;
  mns: MnsService;
  log: Logger;
  /** The free-disk reserve: sending and publishing messages is refused (503) below it. */
  disk?: DiskSpace;
}

interface Ctx {
  req: IncomingMessage;
  method: string;
  segments: string[];
  query: Map<string, string>;
  /** `http(s)://<Host>` (the scheme the request came over): Location headers, QueueURL/TopicURL, HostId. */
  base: string;
  body: Buffer;
  signal: AbortSignal;
  mns: MnsService;
  config: Config;
}

interface Reply {
  status: number;
  headers?: Record<string, string>;
  /** Root element and children; none for 204. */
  xml?: string;
}

type Handler = (ctx: Ctx) => Promise<Reply>;

// ---------------------------------------------------------------------------------------------------------------
// Request parsing
// ---------------------------------------------------------------------------------------------------------------

/** Query pairs, names lowercased, values percent-decoded ('+' is kept: receipt handles are sent raw). */
export function parseMnsQuery(raw: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of raw.split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    const k = eq < 0 ? part : part.slice(0, eq);
    const v = eq < 0 ? '' : part.slice(eq + 1);
    let key: string;
    let value: string;
    try {
      key = decodeURIComponent(k).toLowerCase();
      value = decodeURIComponent(v);
    } catch {
      return fail('MnsInvalidQueryString', `Http request URL contains invalid querystring item "${part.slice(0, 100)}".`);
    }
    if (out.has(key)) fail('MnsInvalidQueryString', `Http request URL contains invalid querystring item "${k.slice(0, 100)}": it is repeated.`);
    out.set(key, value);
  }
  return out;
}

function splitPath(rawPath: string): string[] {
  const trimmed = rawPath.length > 1 && rawPath.endsWith('/') ? rawPath.slice(0, -1) : rawPath;
  if (!trimmed.startsWith('/')) fail('MnsInvalidRequestURL');
  try {
    return trimmed
      .slice(1)
      .split('/')
      .map((s) => decodeURIComponent(s));
  } catch {
    return fail('MnsInvalidRequestURL', 'Http request URL format invalid: malformed percent-encoding.');
  }
}

function headerString(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v.join(',') : v;
}

function queryInt(ctx: Ctx, name: string): number | undefined {
  const v = ctx.query.get(name.toLowerCase());
  if (v === undefined) return undefined;
  if (!/^\d{1,9}$/.test(v.trim())) fail('MnsInvalidArgument', `The value of ${name} should be an integer, not "${v.slice(0, 40)}".`);
  return Number(v.trim());
}

function isMetaOverride(ctx: Ctx): boolean {
  return (ctx.query.get('metaoverride') ?? '').toLowerCase() === 'true';
}

function listOptions(req: IncomingMessage): ListOptions {
  const opts: ListOptions = {};
  const prefix = headerString(req, 'x-mns-prefix');
  const marker = headerString(req, 'x-mns-marker');
  const ret = headerString(req, 'x-mns-ret-number');
  if (prefix) opts.prefix = prefix;
  if (marker) opts.marker = marker;
  if (ret !== undefined && ret !== '') {
    if (!/^\d{1,9}$/.test(ret.trim())) fail('MnsInvalidArgument', `The value of x-mns-ret-number should be an integer between 1 and 1000, not "${ret.slice(0, 40)}".`);
    opts.limit = Number(ret.trim());
  }
  return opts;
}

function withMeta(req: IncomingMessage): boolean {
  return (headerString(req, 'x-mns-with-meta') ?? '').toLowerCase() === 'true';
}

/** Accepts the Content-MD5 forms the SDKs send: base64 of the hex digest (Node, Python), base64 of the digest, hex. */
export function checkContentMd5(header: string | undefined, body: Buffer): void {
  if (header === undefined || header.trim() === '') return;
  const raw = createHash('md5').update(body).digest();
  const hex = raw.toString('hex');
  const accepted = [Buffer.from(hex).toString('base64'), Buffer.from(hex.toUpperCase()).toString('base64'), raw.toString('base64'), hex, hex.toUpperCase()];
  if (!accepted.includes(header.trim())) fail('MnsInvalidDigest');
}

async function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = req.headers['content-length'];
  if (declared !== undefined && Number(declared) > limit) fail('MnsInvalidArgument', `The request body is too large: at most ${limit} bytes.`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const b = chunk as Buffer;
    size += b.length;
    if (size > limit) fail('MnsInvalidArgument', `The request body is too large: at most ${limit} bytes.`);
    chunks.push(b);
  }
  return Buffer.concat(chunks);
}

/** A body that may be absent (CreateQueue without attributes): {} then. */
function optionalFields(body: Buffer, root: string): Record<string, unknown> {
  return body.toString('utf8').trim() === '' ? {} : parseMnsXmlAs(body, root);
}

function queueAttributesFrom(f: Record<string, unknown>): Partial<QueueAttributes> {
  return {
    delaySeconds: xmlInt(f, 'DelaySeconds'),
    maximumMessageSize: xmlInt(f, 'MaximumMessageSize'),
    messageRetentionPeriod: xmlInt(f, 'MessageRetentionPeriod'),
    visibilityTimeout: xmlInt(f, 'VisibilityTimeout'),
    pollingWaitSeconds: xmlInt(f, 'PollingWaitSeconds'),
    loggingEnabled: xmlBool(f, 'LoggingEnabled'),
  };
}

function topicAttributesFrom(f: Record<string, unknown>): Partial<TopicAttributes> {
  return { maximumMessageSize: xmlInt(f, 'MaximumMessageSize'), loggingEnabled: xmlBool(f, 'LoggingEnabled') };
}

function sendInputFrom(f: Record<string, unknown>): SendInput {
  const body = xmlText(f, 'MessageBody');
  if (body === undefined || body === '') fail('MnsInvalidArgument', 'The MessageBody is required and should not be empty.');
  return { body, delaySeconds: xmlInt(f, 'DelaySeconds'), priority: xmlInt(f, 'Priority') };
}

const xml = (status: number, root: string, content: XmlChildren, headers?: Record<string, string>): Reply => ({ status, xml: mnsXml(root, content), headers });
const noContent = (headers?: Record<string, string>): Reply => ({ status: 204, headers });

// ---------------------------------------------------------------------------------------------------------------
// Queues
// ---------------------------------------------------------------------------------------------------------------

function queueUrl(ctx: Ctx, name: string): string {
  return `${ctx.base}/queues/${name}`;
}

const createOrSetQueue: Handler = async (ctx) => {
  const name = ctx.segments[1]!;
  const attrs = queueAttributesFrom(optionalFields(ctx.body, 'Queue'));
  if (isMetaOverride(ctx)) {
    await ctx.mns.setQueueAttributes(name, attrs);
    return noContent();
  }
  const { created } = await ctx.mns.createQueue(name, attrs);
  return { status: created ? 201 : 204, headers: { Location: queueUrl(ctx, name) } };
};

const getQueue: Handler = async (ctx) => xml(200, 'Queue', queueFields(await ctx.mns.getQueue(ctx.segments[1]!)));

const deleteQueue: Handler = async (ctx) => {
  await ctx.mns.deleteQueue(ctx.segments[1]!);
  return noContent();
};

const listQueues: Handler = async (ctx) => {
  const meta = withMeta(ctx.req);
  const page = await ctx.mns.listQueues(listOptions(ctx.req), meta);
  const content: XmlChildren = page.items.map((q): [string, XmlChildren] => ['Queue', [['QueueURL', queueUrl(ctx, q.name)], ...(meta ? queueFields(q) : [])]]);
  if (page.nextMarker !== undefined) content.push(['NextMarker', page.nextMarker]);
  return xml(200, 'Queues', content);
};

// ---------------------------------------------------------------------------------------------------------------
// Messages
// ---------------------------------------------------------------------------------------------------------------

const sendMessages: Handler = async (ctx) => {
  const queue = ctx.segments[1]!;
  const doc = parseMnsXml(ctx.body);
  if (doc.root === 'Message') {
    const r = await ctx.mns.sendMessage(queue, sendInputFrom(doc.fields));
    return xml(201, 'Message', [
      ['MessageId', r.messageId],
      ['MessageBodyMD5', r.messageBodyMd5],
      ['ReceiptHandle', r.receiptHandle],
    ]);
  }
  if (doc.root === 'Messages') {
    const items = xmlList(doc.fields, 'Message').map((m) => {
      if (typeof m !== 'object' || m === null) fail('MnsInvalidArgument', 'The XML you provided did not validate against our published schema, cause by Element Message: the MessageBody is required.');
      return sendInputFrom(m as Record<string, unknown>);
    });
    const results = await ctx.mns.sendMessages(queue, items);
    return xml(
      201,
      'Messages',
      results.map((r): [string, XmlChildren] => [
        'Message',
        [
          ['MessageId', r.messageId],
          ['MessageBodyMD5', r.messageBodyMd5],
        ],
      ]),
    );
  }
  return fail('MnsInvalidArgument', `The XML you provided did not validate against our published schema: the root element must be <Message> or <Messages>, not <${doc.root}>.`);
};

const receiveOrPeek: Handler = async (ctx) => {
  const queue = ctx.segments[1]!;
  const batch = ctx.query.has('numofmessages');
  const max = batch ? queryInt(ctx, 'numOfMessages')! : 1;
  if ((ctx.query.get('peekonly') ?? '').toLowerCase() === 'true') {
    const msgs = await ctx.mns.peekMessages(queue, max);
    if (msgs.length === 0) fail('MnsMessageNotExist');
    if (!batch) return xml(200, 'Message', peekedMessageFields(msgs[0]!));
    return xml(200, 'Messages', msgs.map((m): [string, XmlChildren] => ['Message', peekedMessageFields(m)]));
  }
  const msgs = await ctx.mns.receiveMessages(queue, { max, waitSeconds: queryInt(ctx, 'waitseconds'), signal: ctx.signal });
  if (msgs.length === 0) fail('MnsMessageNotExist');
  if (!batch) return xml(200, 'Message', receivedMessageFields(msgs[0]!));
  return xml(200, 'Messages', msgs.map((m): [string, XmlChildren] => ['Message', receivedMessageFields(m)]));
};

const deleteMessages: Handler = async (ctx) => {
  const queue = ctx.segments[1]!;
  const handle = ctx.query.get('receipthandle');
  if (handle !== undefined) {
    if (handle === '') fail('MnsMissingReceiptHandle');
    await ctx.mns.deleteMessage(queue, handle);
    return noContent();
  }
  if (ctx.body.toString('utf8').trim() === '') fail('MnsMissingReceiptHandle');
  const f = parseMnsXmlAs(ctx.body, 'ReceiptHandles');
  const handles = xmlList(f, 'ReceiptHandle').map((h) => {
    if (typeof h !== 'string') fail('MnsInvalidArgument', 'The XML you provided did not validate against our published schema, cause by Element ReceiptHandle: it must contain text only.');
    return h.trim();
  });
  if (handles.length === 0) fail('MnsMissingReceiptHandle');
  const failures = await ctx.mns.deleteMessages(queue, handles);
  if (failures.length === 0) return noContent();
  return xml(
    404,
    'Errors',
    failures.map((e): [string, XmlChildren] => [
      'Error',
      [
        ['ErrorCode', e.errorCode],
        ['ErrorMessage', e.errorMessage],
        ['ReceiptHandle', e.receiptHandle],
      ],
    ]),
  );
};

const changeVisibility: Handler = async (ctx) => {
  const handle = ctx.query.get('receipthandle');
  if (handle === undefined || handle === '') fail('MnsMissingReceiptHandle');
  const vt = queryInt(ctx, 'visibilityTimeout');
  if (vt === undefined) fail('MnsMissingVisibilityTimeout');
  const r = await ctx.mns.changeMessageVisibility(ctx.segments[1]!, handle, vt);
  return xml(200, 'ChangeVisibility', [
    ['ReceiptHandle', r.receiptHandle],
    ['NextVisibleTime', r.nextVisibleTime],
  ]);
};

// ---------------------------------------------------------------------------------------------------------------
// Topics and subscriptions
// ---------------------------------------------------------------------------------------------------------------

function topicUrl(ctx: Ctx, name: string): string {
  return `${ctx.base}/topics/${name}`;
}

const createOrSetTopic: Handler = async (ctx) => {
  const name = ctx.segments[1]!;
  const attrs = topicAttributesFrom(optionalFields(ctx.body, 'Topic'));
  if (isMetaOverride(ctx)) {
    await ctx.mns.setTopicAttributes(name, attrs);
    return noContent();
  }
  const { created } = await ctx.mns.createTopic(name, attrs);
  return { status: created ? 201 : 204, headers: { Location: topicUrl(ctx, name) } };
};

const getTopic: Handler = async (ctx) => xml(200, 'Topic', topicFields(await ctx.mns.getTopic(ctx.segments[1]!)));

const deleteTopic: Handler = async (ctx) => {
  await ctx.mns.deleteTopic(ctx.segments[1]!);
  return noContent();
};

const listTopics: Handler = async (ctx) => {
  const meta = withMeta(ctx.req);
  const page = await ctx.mns.listTopics(listOptions(ctx.req));
  const content: XmlChildren = page.items.map((t): [string, XmlChildren] => ['Topic', [['TopicURL', topicUrl(ctx, t.name)], ...(meta ? topicFields(t) : [])]]);
  if (page.nextMarker !== undefined) content.push(['NextMarker', page.nextMarker]);
  return xml(200, 'Topics', content);
};

const publish: Handler = async (ctx) => {
  const f = parseMnsXmlAs(ctx.body, 'Message');
  const body = xmlText(f, 'MessageBody');
  if (body === undefined || body === '') fail('MnsInvalidArgument', 'The MessageBody is required and should not be empty.');
  const r = await ctx.mns.publish(ctx.segments[1]!, { body, tag: xmlText(f, 'MessageTag')?.trim() ?? '' });
  return xml(201, 'Message', [
    ['MessageId', r.messageId],
    ['MessageBodyMD5', r.messageBodyMd5],
  ]);
};

function subscriptionUrl(ctx: Ctx, topic: string, name: string): string {
  return `${ctx.base}/topics/${topic}/subscriptions/${name}`;
}

/** A queue URL on this very server (`http://<our host>/queues/<q>`) is a queue endpoint: its acs:mns form. */
function normalizeEndpoint(ctx: Ctx, endpoint: string): string {
  const host = (ctx.req.headers.host ?? '').toLowerCase();
  const m = /^https?:\/\/([^/]+)\/queues\/([^/?#]+)\/?$/i.exec(endpoint.trim());
  if (m && host !== '' && m[1]!.toLowerCase() === host) return queueEndpoint(ctx.config.region, ctx.config.accountId, m[2]!);
  return endpoint;
}

const subscribeOrSet: Handler = async (ctx) => {
  const [, topic, , name] = ctx.segments as [string, string, string, string];
  const f = optionalFields(ctx.body, 'Subscription');
  const strategy = xmlText(f, 'NotifyStrategy')?.trim();
  if (isMetaOverride(ctx)) {
    await ctx.mns.setSubscriptionAttributes(topic, name, { notifyStrategy: strategy });
    return noContent();
  }
  const endpoint = xmlText(f, 'Endpoint');
  if (endpoint === undefined || endpoint.trim() === '') fail('MnsEndpointInvalid', 'The Endpoint is required.');
  const { created } = await ctx.mns.subscribe(topic, name, {
    endpoint: normalizeEndpoint(ctx, endpoint),
    notifyStrategy: strategy,
    notifyContentFormat: xmlText(f, 'NotifyContentFormat')?.trim(),
    filterTag: xmlText(f, 'FilterTag')?.trim(),
  });
  return { status: created ? 201 : 204, headers: { Location: subscriptionUrl(ctx, topic, name) } };
};

const getSubscription: Handler = async (ctx) => xml(200, 'Subscription', subscriptionFields(await ctx.mns.getSubscription(ctx.segments[1]!, ctx.segments[3]!), ctx.mns.accountId));

const unsubscribe: Handler = async (ctx) => {
  await ctx.mns.unsubscribe(ctx.segments[1]!, ctx.segments[3]!);
  return noContent();
};

const listSubscriptions: Handler = async (ctx) => {
  const topic = ctx.segments[1]!;
  const page = await ctx.mns.listSubscriptions(topic, listOptions(ctx.req));
  const content: XmlChildren = page.items.map((s): [string, XmlChildren] => ['Subscription', [['SubscriptionURL', subscriptionUrl(ctx, topic, s.name)]]]);
  if (page.nextMarker !== undefined) content.push(['NextMarker', page.nextMarker]);
  return xml(200, 'Subscriptions', content);
};

// ---------------------------------------------------------------------------------------------------------------
// Routing
// ---------------------------------------------------------------------------------------------------------------

/** The operation for a method and path (segments after the leading '/'); undefined when there is none. */
export function mnsRoute(method: string, segments: string[]): Handler | undefined {
  const [a, , c, d] = segments;
  const n = segments.length;
  if (segments.slice(1).some((s) => s === '')) return undefined;
  const pick = (table: Record<string, Handler>): Handler | undefined => table[method];
  if (a === 'queues') {
    if (n === 1) return pick({ GET: listQueues });
    if (n === 2) return pick({ PUT: createOrSetQueue, GET: getQueue, DELETE: deleteQueue });
    if (n === 3 && c === 'messages') return pick({ POST: sendMessages, GET: receiveOrPeek, DELETE: deleteMessages, PUT: changeVisibility });
    return undefined;
  }
  if (a === 'topics') {
    if (n === 1) return pick({ GET: listTopics });
    if (n === 2) return pick({ PUT: createOrSetTopic, GET: getTopic, DELETE: deleteTopic });
    if (n === 3 && c === 'messages') return pick({ POST: publish });
    if (n === 3 && c === 'subscriptions') return pick({ GET: listSubscriptions });
    if (n === 4 && c === 'subscriptions' && d !== undefined) return pick({ PUT: subscribeOrSet, GET: getSubscription, DELETE: unsubscribe });
    return undefined;
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------------------------
// The handler
// ---------------------------------------------------------------------------------------------------------------

export type MnsRequestHandler = (req: IncomingMessage, res: ServerResponse, signal: AbortSignal) => Promise<void>;

export function createMnsDialect(deps: MnsDialectDeps): MnsRequestHandler {
  return async (req, res, signal) => {
    const requestId = newMnsRequestId();
    const host = req.headers.host ?? `${deps.config.host}:${deps.config.mnsPort}`;
    const base = `${requestScheme(req)}://${host}`;
    const log = deps.log.child({ reqId: requestId });
    const t0 = process.hrtime.bigint();
    res.on('finish', () => log.debug({ method: req.method, url: req.url, status: res.statusCode, ms: Number(process.hrtime.bigint() - t0) / 1e6 }, 'mns request'));
    let bodyRead = false;
    let reply: Reply;
    try {
      const method = (req.method ?? 'GET').toUpperCase();
      const rawUrl = req.url ?? '/';
      const q = rawUrl.indexOf('?');
      const segments = splitPath(q < 0 ? rawUrl : rawUrl.slice(0, q));
      const query = parseMnsQuery(q < 0 ? '' : rawUrl.slice(q + 1));
      const auth = verifyMnsRequest({ method, url: rawUrl, headers: req.headers }, { lookup: deps.lookup, now: new Date() });
      // Scoped keys (per-bucket grants) are for OSS; the message service belongs to the account.
      if (auth.credential.grants !== undefined) fail('MnsAccessDenied', 'This access key is scoped to buckets; the message service needs the account key.');
      const handler = mnsRoute(method, segments);
      if (!handler) fail('MnsInvalidRequestURL', `Http request URL format invalid: no MNS operation for ${method} ${(q < 0 ? rawUrl : rawUrl.slice(0, q)).slice(0, 200)}.`);
      // The handler's name (sendMessages, receiveOrPeek, ...) is a bounded operation label.
      labelRequest(res, handler.name || 'unknown', 'mns');
      if (handler === sendMessages || handler === publish) deps.disk?.assertWritable();
      let body: Buffer = Buffer.alloc(0);
      if (method === 'PUT' || method === 'POST' || method === 'DELETE') {
        body = await readBody(req, MAX_REQUEST_BODY_BYTES);
        bodyRead = true;
        checkContentMd5(headerString(req, 'content-md5'), body);
      }
      reply = await handler({ req, method, segments, query, base, body, signal, mns: deps.mns, config: deps.config });
    } catch (e) {
      const wire = toMnsWireError(e);
      if (wire.unexpected) log.error({ err: e, method: req.method, url: req.url }, 'MNS request failed');
      else log.debug({ code: wire.code, message: wire.message }, 'MNS error');
      reply = { status: wire.status, xml: mnsErrorXml(wire, requestId, base) };
      // A body we did not read (rejected before or while reading) must not be taken for the next request.
      const hasBody = req.headers['content-length'] !== undefined ? req.headers['content-length'] !== '0' : req.headers['transfer-encoding'] !== undefined;
      if (!bodyRead && hasBody) reply.headers = { Connection: 'close' };
    }
    if (res.destroyed || res.writableEnded) return;
    const headers: Record<string, string | number> = { 'x-mns-request-id': requestId, 'x-mns-version': MNS_API_VERSION, Date: new Date().toUTCString(), ...reply.headers };
    if (reply.xml !== undefined) {
      const data = Buffer.from(reply.xml, 'utf8');
      headers['Content-Type'] = 'text/xml;charset=utf-8';
      headers['Content-Length'] = data.length;
      res.writeHead(reply.status, headers);
      res.end(data);
    } else {
      if (reply.status !== 204) headers['Content-Length'] = 0;
      res.writeHead(reply.status, headers);
      res.end();
    }
  };
}
