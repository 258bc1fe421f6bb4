/**
 * The error catalog: one place that maps Medley's stable error names to the wire codes of each dialect.
 *
 * Domain code throws `MedleyError` with a catalog key (`fail('NoSuchKey', ...)`); the OSS dialect turns it
 * into the OSS error XML, the IMM dialect into the IMM JSON envelope (`immCode`/`immStatus`), the MNS
 * dialect into the MNS error XML. Nothing else invents codes, and code that needs to know which error it
 * caught branches on `MedleyError.key`, never on a wire code (several entries share one) or an entry object.
 *
 * One entry per kind of failure, its wire form per dialect, where a failure means the same on each door
 * (AccessDenied is OSS AccessDenied and IMM Forbidden.RAM). Dialect-only entries remain where the dialects
 * do not share the failure, or where sharing is not simple:
 * - the IMM RPC gateway (Imm*): codes of the POP gateway that no other door has (InvalidAction.NotFound,
 *   SignatureNonceUsed, InvalidTimeStamp.*, IncompleteSignature, gateway-level MissingParameter and
 *   InvalidParameter, which keep their code whatever the parameter, unlike the API's Missing<Name>);
 * - MNS (`mnsCatalog`): MNS has its own code table for the same ideas (AccessDenied for a bad token,
 *   InvalidDegist, TimeExpired at 408...), its own messages that clients show, and its dialect maps only
 *   its own entries (anything else is its InternalError). Its signature check (auth/mns-signature.ts) and
 *   its service (notify/mns-service.ts) serve only that door, so the entries stay MNS's own.
 */

import { dbUnavailableReason } from './db/errors.js';

export interface CatalogEntry {
  /** HTTP status on the OSS dialect. */
  status: number;
  /** OSS `<Code>`. */
  code: string;
  /** Default message; specific errors pass their own. */
  message: string;
  /** OSS fine-grained error code (`<EC>` and `x-oss-ec`), where the spec gives one. */
  ec?: string;
  /** Code on the IMM dialect and in task records, when it differs from `code`. */
  immCode?: string;
  /** HTTP status on the IMM dialect, when it differs from `status`. */
  immStatus?: number;
}

const mainCatalog = {
  AccessDenied: { status: 403, code: 'AccessDenied', message: 'You have no right to access this object because of bucket acl.', ec: '0003-00000001', immCode: 'Forbidden.RAM' },
  InvalidAccessKeyId: { status: 403, code: 'InvalidAccessKeyId', message: 'The OSS Access Key Id you provided does not exist in our records.', ec: '0002-00000902', immCode: 'InvalidAccessKeyId.NotFound', immStatus: 404 },
  SignatureDoesNotMatch: { status: 403, code: 'SignatureDoesNotMatch', message: 'The request signature we calculated does not match the signature you provided. Check your key and signing method.', ec: '0002-00000040', immStatus: 400 },
  RequestTimeTooSkewed: { status: 403, code: 'RequestTimeTooSkewed', message: 'The difference between the request time and the current time is too large.', ec: '0002-00000504' },
  InvalidSecurityToken: { status: 403, code: 'InvalidAccessKeyId', message: 'The security token you provided is invalid.', ec: '0002-00000903', immCode: 'InvalidSecurityToken.Mismatch', immStatus: 400 },
  NoSuchBucket: { status: 404, code: 'NoSuchBucket', message: 'The specified bucket does not exist.', ec: '0015-00000101', immCode: 'ResourceNotFound', immStatus: 400 },
  NoSuchKey: { status: 404, code: 'NoSuchKey', message: 'The specified key does not exist.', ec: '0026-00000001' },
  NoSuchUpload: { status: 404, code: 'NoSuchUpload', message: 'The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.', ec: '0042-00000002' },
  BucketNotEmpty: { status: 409, code: 'BucketNotEmpty', message: 'The bucket has objects. Please delete them first.', ec: '0015-00000301' },
  InvalidBucketName: { status: 400, code: 'InvalidBucketName', message: 'The specified bucket is not valid.', ec: '0015-00000001' },
  InvalidObjectName: { status: 400, code: 'InvalidObjectName', message: 'The specified object is not valid.', ec: '0016-00000001' },
  InvalidArgument: { status: 400, code: 'InvalidArgument', message: 'Invalid argument.', ec: '0017-00000001' },
  InvalidRequest: { status: 400, code: 'InvalidRequest', message: 'The request is not valid.' },
  MissingArgument: { status: 411, code: 'MissingArgument', message: 'Missing Some Required Arguments.', ec: '0017-00000002' },
  MissingContentLength: { status: 411, code: 'MissingContentLength', message: 'You must provide the Content-Length HTTP header.', ec: '0017-00000003' },
  InvalidDigest: { status: 400, code: 'InvalidDigest', message: 'The Content-MD5 you specified is not valid.', ec: '0016-00000004' },
  MalformedXML: { status: 400, code: 'MalformedXML', message: 'The XML you provided was not well-formed or did not validate against our published schema.', ec: '0017-00000101' },
  EntityTooLarge: { status: 400, code: 'EntityTooLarge', message: 'Your proposed upload exceeds the maximum allowed size.', ec: '0016-00000005' },
  EntityTooSmall: { status: 400, code: 'EntityTooSmall', message: 'Your proposed upload is smaller than the minimum allowed size.', ec: '0042-00000009' },
  InvalidPart: { status: 400, code: 'InvalidPart', message: 'One or more of the specified parts could not be found or the specified entity tag might not have matched the part\'s entity tag.', ec: '0042-00000003' },
  InvalidPartOrder: { status: 400, code: 'InvalidPartOrder', message: 'The list of parts was not in ascending order. Parts list must specified in order by part number.', ec: '0042-00000004' },
  InvalidRange: { status: 416, code: 'InvalidRange', message: 'The requested range cannot be satisfied.', ec: '0024-00000001' },
  MethodNotAllowed: { status: 405, code: 'MethodNotAllowed', message: 'The specified method is not allowed against this resource.', ec: '0031-00000001' },
  PreconditionFailed: { status: 412, code: 'PreconditionFailed', message: 'At least one of the pre-conditions you specified did not hold.', ec: '0025-00000001' },
  NotModified: { status: 304, code: 'NotModified', message: 'Not Modified' },
  FileAlreadyExists: { status: 409, code: 'FileAlreadyExists', message: 'The object you specified already exists and can not be overwritten.', ec: '0026-00000012' },
  ObjectNotAppendable: { status: 409, code: 'ObjectNotAppendable', message: 'The object is not appendable.', ec: '0026-00000015' },
  PositionNotEqualToLength: { status: 409, code: 'PositionNotEqualToLength', message: 'Position is not equal to file length', ec: '0026-00000016' },
  NotImplemented: { status: 400, code: 'NotImplemented', message: 'A header or query you provided implies functionality that is not implemented.' },
  IncompleteBody: { status: 400, code: 'IncompleteBody', message: 'You did not provide the number of bytes specified by the Content-Length HTTP header.' },
  InternalError: { status: 500, code: 'InternalError', message: 'We encountered an internal error. Please try again.' },
  /** The S3-compatible blob store cannot be reached or failed (the message names the blob). */
  BlobStoreUnavailable: { status: 503, code: 'ServiceUnavailable', message: 'The object store is unavailable. Please try again.', immCode: 'ServiceUnavailable', immStatus: 503 },

  // Media requests (both front doors) and media task failures.
  /** A parameter of a process string or IMM request (any IMM action's) is malformed or out of range. */
  InvalidMediaArgument: { status: 400, code: 'InvalidArgument', message: 'The media processing request is not valid.', immCode: 'InvalidArgument' },
  /** A required IMM parameter is absent (the message names it; IMM code Missing<Name> is set per use). */
  MissingMediaParameter: { status: 400, code: 'InvalidArgument', message: 'A required parameter is missing.', immCode: 'MissingParameter' },
  /** An IMM complex parameter (or a JSON value of the IMM gateway's) is not valid JSON. */
  InvalidJson: { status: 400, code: 'InvalidArgument', message: 'A JSON parameter could not be parsed.', immCode: 'InvalidJSON' },
  /** A source of a media task does not exist. */
  MediaSourceNotFound: { status: 404, code: 'NoSuchKey', message: 'A source object of the media task does not exist.', immCode: 'ResourceNotFound', immStatus: 400 },
  /** A source is empty, truncated, corrupt or not media. */
  MediaUnreadable: { status: 400, code: 'InvalidArgument', message: 'A source of the media task could not be decoded.', immCode: 'InvalidFile.Media' },
  /** The request needs an encoder, muxer or filter that no located FFmpeg has. */
  MediaEngineUnsupported: { status: 400, code: 'NotImplemented', message: 'The media engine cannot produce the requested output.', immCode: 'UnsupportedFeature' },
  /** A `fall` option (abopt_2, fpsopt_2, ...) found a source below the target. */
  MediaSourceBelowTarget: { status: 400, code: 'InvalidArgument', message: 'A source is below the requested target and the option says to fail.', immCode: 'InvalidArgument.SourceBelowTarget' },
  /** FFmpeg failed, timed out, or produced an output that does not probe as planned. */
  MediaProcessingFailed: { status: 500, code: 'InternalError', message: 'The media engine failed to process the task.', immCode: 'InternalError' },
  /** The task was cancelled. */
  MediaCancelled: { status: 400, code: 'InvalidArgument', message: 'The media task was cancelled.', immCode: 'Cancelled' },

  // Hostile media (src/media/engine/sniff.ts, src/media/limits.ts): playlists, implausible or truncated files
  // are MediaUnreadable (InvalidFile.Media); sources and outputs beyond the configured limits are this one.
  /** A source or output exceeds a configured limit (MEDLEY_MAX_*; the message names the limit and the setting). */
  MediaLimitExceeded: { status: 400, code: 'InvalidArgument', message: 'A media limit was exceeded.', immCode: 'LimitExceededError' },

  // The IMM RPC gateway and IMM resources (spec/imm.md §2.3-2.4). `status` is the IMM status: these never
  // reach the OSS dialect, except ResourceNotFound-style codes mapped explicitly there. An unknown key, a
  // wrong signature and a bad security token are the shared InvalidAccessKeyId, SignatureDoesNotMatch and
  // InvalidSecurityToken (their immCode/immStatus); a bad argument is InvalidMediaArgument, bad JSON InvalidJson.
  ImmMissingParameter: { status: 400, code: 'MissingParameter', message: 'A mandatory input parameter is not supplied.' },
  ImmInvalidParameter: { status: 400, code: 'InvalidParameter', message: 'The specified parameter is not valid.' },
  ImmInvalidActionNotFound: { status: 404, code: 'InvalidAction.NotFound', message: 'Specified api is not found, please check your url and method.' },
  ImmIncompleteSignature: { status: 400, code: 'IncompleteSignature', message: 'The request signature does not conform to Aliyun standards.' },
  ImmInvalidTimeStampFormat: { status: 400, code: 'InvalidTimeStamp.Format', message: 'Specified time stamp or date value is not well formatted.' },
  ImmInvalidTimeStampExpired: { status: 400, code: 'InvalidTimeStamp.Expired', message: 'Specified time stamp or date value is expired.' },
  ImmSignatureNonceUsed: { status: 400, code: 'SignatureNonceUsed', message: 'Specified signature nonce was used already.' },
  ImmResourceNotFound: { status: 400, code: 'ResourceNotFound', message: 'The specified resource is not found.' },
  ImmResourceAlreadyExists: { status: 400, code: 'ResourceAlreadyExists', message: 'The specified resource already exists.' },
  ImmStatusConflict: { status: 400, code: 'StatusConflict', message: 'Message: cannot delete when sub resoures exist' },
  /** OSS: processing asked of a bucket IMM cannot serve (spec/oss.md §5.2, Java SDK asserts 404 "Imm Client"). */
  ImmClient: { status: 404, code: 'Imm Client', message: 'The bucket is not attached to an IMM project, or IMM cannot run this action.' },
  /** A task was interrupted (worker died) more often than the retry limit allows. */
  TaskInterrupted: { status: 500, code: 'InternalError', message: 'The task was interrupted too many times and was given up.', immCode: 'InternalError' },

  // Tenancy: per-key task caps (src/tasks/service.ts; MEDLEY_MAX_QUEUED_PER_KEY). A quota of the caller, to
  // retry later, not a server fault: OSS documents no code for this Medley cap, so the OSS door answers the
  // HTTP status for a caller's limit (429 TooManyRequests); IMM its quota code LimitExceededError (spec/imm.md §2.4).
  TaskQueueFull: { status: 429, code: 'TooManyRequests', message: 'This access key has too many tasks waiting to run.', immCode: 'LimitExceededError', immStatus: 400 },

  // Disk space (src/storage/disk-space.ts, the free-disk reserve MEDLEY_MIN_FREE_DISK, and a disk that fills
  // mid-write: ENOSPC / SQLITE_FULL). 503 on every front door, so clients retry later instead of giving up.
  /** Free disk space is below the reserve, or the disk filled up during the write: nothing was stored. */
  InsufficientStorage: { status: 503, code: 'ServiceUnavailable', message: 'The server does not have enough free disk space to store this request; nothing was written. Retry later.', immCode: 'ServiceUnavailable', immStatus: 503 },

  // Database outages (src/db/errors.ts): PostgreSQL down, restarting or unreachable. 503 on every front door
  // (MNS: MnsServiceUnavailable with this message), so clients retry instead of giving up.
  /** The database could not be reached; the request was not carried out (or its outcome was not acknowledged). */
  DatabaseUnavailable: { status: 503, code: 'ServiceUnavailable', message: 'The database is unreachable; retry.', immCode: 'ServiceUnavailable', immStatus: 503 },
} as const satisfies Record<string, CatalogEntry>;

/**
 * The message service (MNS dialect, src/http/mns; src/notify/mns-service.ts). `status` and `code` are MNS's own
 * (its error-code table); these only ever reach the MNS dialect, except MnsTopicNotExist, which the outbox reads.
 * Entries of other areas belong in `mainCatalog` above, not here: the MNS dialect answers with every entry here.
 */
const mnsCatalog = {
  MnsAccessDenied: { status: 403, code: 'AccessDenied', message: 'The OwnerId that your Access Key Id associated to is forbidden for this operation.' },
  MnsInvalidAccessKeyId: { status: 403, code: 'InvalidAccessKeyId', message: 'The AccessKey Id you provided is not exist.' },
  MnsSignatureDoesNotMatch: { status: 403, code: 'SignatureDoesNotMatch', message: 'The request signature we calculated does not match the signature you provided. Check your key and signing method.' },
  /** STS: the security-token header is missing, wrong, or the temporary key has expired. */
  MnsInvalidSecurityToken: { status: 403, code: 'AccessDenied', message: 'The security token you provided is invalid or has expired.' },
  MnsInvalidAuthorizationHeader: { status: 400, code: 'InvalidAuthorizationHeader', message: 'The Authorization header format is invalid.' },
  MnsMissingAuthorizationHeader: { status: 400, code: 'MissingAuthorizationHeader', message: 'Authorization header is required.' },
  MnsInvalidDateHeader: { status: 400, code: 'InvalidDateHeader', message: 'The Date header format is invalid.' },
  MnsMissingDateHeader: { status: 400, code: 'MissingDateHeader', message: 'Date header is required.' },
  /** The Date header is more than 15 minutes away from the server's clock. */
  MnsTimeExpired: { status: 408, code: 'TimeExpired', message: 'The http request you sent is expired.' },
  /** MNS's own spelling. */
  MnsInvalidDigest: { status: 400, code: 'InvalidDegist', message: 'The Content-MD5 you specified is invalid.' },
  MnsInvalidArgument: { status: 400, code: 'InvalidArgument', message: 'The argument you provided is invalid.' },
  MnsInvalidQueryString: { status: 400, code: 'InvalidQueryString', message: 'Http request URL contains invalid querystring item.' },
  /** No MNS resource at this path (or not with this method). */
  MnsInvalidRequestURL: { status: 404, code: 'InvalidRequestURL', message: 'Http request URL format invalid.' },
  MnsMalformedXML: { status: 400, code: 'MalformedXML', message: 'The XML you provided was not well-formed.' },
  MnsMissingReceiptHandle: { status: 400, code: 'MissingReceiptHandle', message: 'ReceiptHandle is required.' },
  MnsMissingVisibilityTimeout: { status: 400, code: 'MissingVisibilityTimeout', message: 'VisibilityTimeout is required.' },
  MnsMessageNotExist: { status: 404, code: 'MessageNotExist', message: 'Message not exist.' },
  /** A receipt handle Medley never issued (malformed). A well-formed but outdated handle is MnsMessageNotExist. */
  MnsReceiptHandleError: { status: 400, code: 'ReceiptHandleError', message: 'The receipt handle you provide is not valid.' },
  MnsQueueAlreadyExist: { status: 409, code: 'QueueAlreadyExist', message: 'The queue you want to create is already exist.' },
  MnsQueueNotExist: { status: 404, code: 'QueueNotExist', message: 'The queue name you provided is not exist.' },
  MnsInvalidQueueName: { status: 400, code: 'InvalidQueueName', message: 'The queue name you provided is invalid.' },
  MnsQueueNameLengthError: { status: 400, code: 'QueueNameLengthError', message: 'The length of queue name should be between 1 and 256.' },
  MnsTopicAlreadyExist: { status: 409, code: 'TopicAlreadyExist', message: 'The topic you want to create is already exist.' },
  MnsTopicNotExist: { status: 404, code: 'TopicNotExist', message: 'The topic name you provided is not exist.' },
  MnsTopicNameInvalid: { status: 400, code: 'TopicNameInvalid', message: 'The topic name you provided is invalid.' },
  MnsTopicNameLengthError: { status: 400, code: 'TopicNameLengthError', message: 'The length of topic name should be between 1 and 256.' },
  MnsSubscriptionAlreadyExist: { status: 409, code: 'SubscriptionAlreadyExist', message: 'The subscription you want to create is already exist.' },
  MnsSubscriptionNotExist: { status: 404, code: 'SubscriptionNotExist', message: 'The subscription name you provided is not exist.' },
  MnsSubscriptionNameInvalid: { status: 400, code: 'SubscriptionNameInvalid', message: 'The subscription name you provided is invalid.' },
  MnsSubscriptionNameLengthError: { status: 400, code: 'SubscriptionNameLengthError', message: 'The length of subscription name should be between 1 and 256.' },
  MnsEndpointInvalid: { status: 400, code: 'EndpointInvalid', message: 'The endpoint you provided is invalid.' },
  MnsInternalError: { status: 500, code: 'InternalError', message: 'Internal error.' },

  /**
   * Free disk space is below the reserve, or the disk filled up during the write, or the database is
   * unreachable (MNS port, its own format; the message says which).
   */
  MnsServiceUnavailable: { status: 503, code: 'ServiceUnavailable', message: 'The server does not have enough free disk space to store this request; nothing was written. Retry later.' },
} as const satisfies Record<string, CatalogEntry>;

const catalog = { ...mainCatalog, ...mnsCatalog };

export type ErrorName = keyof typeof catalog;

/** Extra XML elements some codes carry (BucketName, Key, StringToSign, ...); order is kept on the wire. */
export type ErrorDetails = Record<string, string | number | undefined>;

export class MedleyError extends Error {
  override readonly name = 'MedleyError';
  /** Which catalog entry this is: code branches on this, never on wire codes. */
  readonly key: ErrorName;
  readonly entry: CatalogEntry;
  readonly details: ErrorDetails;
  /** Extra response headers (x-oss-next-append-position on PositionNotEqualToLength, ...). */
  readonly headers: Record<string, string>;

  constructor(name: ErrorName, message?: string, details: ErrorDetails = {}, headers: Record<string, string> = {}) {
    const entry = catalog[name];
    super(message ?? entry.message);
    this.key = name;
    this.entry = entry;
    this.details = details;
    this.headers = headers;
  }

  get status(): number {
    return this.entry.status;
  }
  get code(): string {
    return this.entry.code;
  }
  /** The code on the IMM dialect, which is also the Code a failed task records. */
  get immCode(): string {
    return this.entry.immCode ?? this.entry.code;
  }
}

/** `fail('NoSuchKey', undefined, { Key: key })` — throw a catalog error. */
export function fail(name: ErrorName, message?: string, details?: ErrorDetails, headers?: Record<string, string>): never {
  throw new MedleyError(name, message, details, headers);
}

export function isMedleyError(e: unknown): e is MedleyError {
  return e instanceof MedleyError;
}

/** One of the MNS dialect's own errors (`mnsCatalog`), which the MNS dialect sends as they are. */
export function isMnsError(e: unknown): e is MedleyError {
  return e instanceof MedleyError && Object.hasOwn(mnsCatalog, e.key);
}

/** errno / SQLite codes that mean "the disk is full". */
const DISK_FULL_CODES = new Set(['ENOSPC', 'EDQUOT', 'SQLITE_FULL']);

/**
 * An I/O failure because the disk is full (a blob write hit ENOSPC, SQLite answered SQLITE_FULL) as the
 * catalog's InsufficientStorage (503), naming the cause; undefined for any other error. The dialects call
 * this for errors that are not MedleyErrors, so a full disk is never reported as an internal error.
 */
export function diskFullError(e: unknown): MedleyError | undefined {
  for (let cur: unknown = e, depth = 0; cur !== null && typeof cur === 'object' && depth < 5; cur = (cur as { cause?: unknown }).cause, depth++) {
    if (cur instanceof MedleyError) return cur.key === 'InsufficientStorage' ? cur : undefined;
    const code = (cur as { code?: unknown }).code;
    if (typeof code === 'string' && DISK_FULL_CODES.has(code)) {
      const what = code === 'SQLITE_FULL' ? 'the database could not grow (SQLITE_FULL)' : `no space left on the device (${code})`;
      return new MedleyError('InsufficientStorage', `The disk holding the data directory is full: ${what}. Nothing was written; free some space and retry.`);
    }
  }
  return undefined;
}

/**
 * A database that cannot be reached (src/db/errors.ts isDbUnavailable: connection refused, cut by a
 * restart, pool timeout) as the catalog's DatabaseUnavailable (503), naming the cause; undefined for any
 * other error. The dialects call this beside diskFullError, so an outage is never an internal error.
 */
export function databaseUnavailableError(e: unknown): MedleyError | undefined {
  if (e instanceof MedleyError) return e.key === 'DatabaseUnavailable' ? e : undefined;
  const why = dbUnavailableReason(e);
  return why === undefined ? undefined : new MedleyError('DatabaseUnavailable', `The database is unreachable: ${why}; retry.`);
}

export { catalog as errorCatalog };
