/**
 * The error catalog: one place that maps Medley's stable error names to the wire codes of each dialect.
 *
 * Domain code throws `MedleyError` with a catalog entry (`errors.NoSuchKey(...)`); the OSS dialect turns it
 * into the OSS error XML, the IMM dialect (later) into the IMM JSON envelope. Nothing else invents codes.
 */

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

const catalog = {
  AccessDenied: { status: 403, code: 'AccessDenied', message: 'You have no right to access this object because of bucket acl.', ec: '0003-00000001', immCode: 'Forbidden.RAM' },
  InvalidAccessKeyId: { status: 403, code: 'InvalidAccessKeyId', message: 'The OSS Access Key Id you provided does not exist in our records.', ec: '0002-00000902' },
  SignatureDoesNotMatch: { status: 403, code: 'SignatureDoesNotMatch', message: 'The request signature we calculated does not match the signature you provided. Check your key and signing method.', ec: '0002-00000040' },
  RequestTimeTooSkewed: { status: 403, code: 'RequestTimeTooSkewed', message: 'The difference between the request time and the current time is too large.', ec: '0002-00000504' },
  InvalidSecurityToken: { status: 403, code: 'InvalidAccessKeyId', message: 'The security token you provided is invalid.', ec: '0002-00000903' },
  NoSuchBucket: { status: 404, code: 'NoSuchBucket', message: 'The specified bucket does not exist.', ec: '0015-00000101', immCode: 'ResourceNotFound', immStatus: 400 },
  NoSuchKey: { status: 404, code: 'NoSuchKey', message: 'The specified key does not exist.', ec: '0026-00000001' },
  NoSuchUpload: { status: 404, code: 'NoSuchUpload', message: 'The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.', ec: '0042-00000002' },
  BucketAlreadyExists: { status: 409, code: 'BucketAlreadyExists', message: 'The requested bucket name is not available. The bucket namespace is shared by all users of the system. Please select a different name and try again.', ec: '0015-00000104' },
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
  RequestTimeout: { status: 400, code: 'RequestTimeout', message: 'Your socket connection to the server was not read from or written to within the timeout period.' },
  IncompleteBody: { status: 400, code: 'IncompleteBody', message: 'You did not provide the number of bytes specified by the Content-Length HTTP header.' },
  InternalError: { status: 500, code: 'InternalError', message: 'We encountered an internal error. Please try again.' },
  /** The S3-compatible blob store cannot be reached or failed (the message names the blob). */
  BlobStoreUnavailable: { status: 503, code: 'ServiceUnavailable', message: 'The object store is unavailable. Please try again.', immCode: 'ServiceUnavailable', immStatus: 503 },

  // Media requests (both front doors) and media task failures.
  /** A parameter of a process string or IMM request is malformed or out of range. */
  InvalidMediaArgument: { status: 400, code: 'InvalidArgument', message: 'The media processing request is not valid.', immCode: 'InvalidArgument' },
  /** A required IMM parameter is absent (the message names it; IMM code Missing<Name> is set per use). */
  MissingMediaParameter: { status: 400, code: 'InvalidArgument', message: 'A required parameter is missing.', immCode: 'MissingParameter' },
  /** An IMM complex parameter is not valid JSON. */
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

  // The IMM RPC gateway and IMM resources (spec/imm.md §2.3-2.4). `status` is the IMM status: these never
  // reach the OSS dialect, except ResourceNotFound-style codes mapped explicitly there.
  ImmMissingParameter: { status: 400, code: 'MissingParameter', message: 'A mandatory input parameter is not supplied.' },
  ImmInvalidParameter: { status: 400, code: 'InvalidParameter', message: 'The specified parameter is not valid.' },
  ImmInvalidActionNotFound: { status: 404, code: 'InvalidAction.NotFound', message: 'Specified api is not found, please check your url and method.' },
  ImmIncompleteSignature: { status: 400, code: 'IncompleteSignature', message: 'The request signature does not conform to Aliyun standards.' },
  ImmInvalidTimeStampFormat: { status: 400, code: 'InvalidTimeStamp.Format', message: 'Specified time stamp or date value is not well formatted.' },
  ImmInvalidTimeStampExpired: { status: 400, code: 'InvalidTimeStamp.Expired', message: 'Specified time stamp or date value is expired.' },
  ImmSignatureNonceUsed: { status: 400, code: 'SignatureNonceUsed', message: 'Specified signature nonce was used already.' },
  ImmInvalidAccessKeyId: { status: 404, code: 'InvalidAccessKeyId.NotFound', message: 'Specified access key is not found.' },
  ImmSignatureDoesNotMatch: { status: 400, code: 'SignatureDoesNotMatch', message: 'Specified signature is not matched with our calculation.' },
  ImmInvalidSecurityToken: { status: 400, code: 'InvalidSecurityToken.Mismatch', message: 'Specified SecurityToken is not valid.' },
  ImmForbidden: { status: 403, code: 'Forbidden.RAM', message: 'User not authorized to operate on the specified resource.' },
  ImmInvalidArgument: { status: 400, code: 'InvalidArgument', message: 'A parameter is not valid.' },
  ImmInvalidJson: { status: 400, code: 'InvalidJSON', message: 'A JSON parameter could not be parsed.' },
  ImmResourceNotFound: { status: 400, code: 'ResourceNotFound', message: 'The specified resource is not found.' },
  ImmResourceAlreadyExists: { status: 400, code: 'ResourceAlreadyExists', message: 'The specified resource already exists.' },
  ImmStatusConflict: { status: 400, code: 'StatusConflict', message: 'Message: cannot delete when sub resoures exist' },
  ImmLimitExceeded: { status: 400, code: 'LimitExceededError', message: 'Message: input quota exceed the max value' },
  /** OSS: processing asked of a bucket IMM cannot serve (spec/oss.md §5.2, Java SDK asserts 404 "Imm Client"). */
  ImmClient: { status: 404, code: 'Imm Client', message: 'The bucket is not attached to an IMM project, or IMM cannot run this action.' },
  /** A task was interrupted (worker died) more often than the retry limit allows. */
  TaskInterrupted: { status: 500, code: 'InternalError', message: 'The task was interrupted too many times and was given up.', immCode: 'InternalError' },

  // The message service (MNS dialect, src/http/mns; src/notify/mns-service.ts). `status` and `code` are MNS's own
  // (its error-code table); these only ever reach the MNS dialect, except MnsTopicNotExist, which the outbox reads.
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
} as const satisfies Record<string, CatalogEntry>;

export type ErrorName = keyof typeof catalog;

/** Extra XML elements some codes carry (BucketName, Key, StringToSign, ...); order is kept on the wire. */
export type ErrorDetails = Record<string, string | number | undefined>;

export class MedleyError extends Error {
  override readonly name = 'MedleyError';
  readonly entry: CatalogEntry;
  readonly details: ErrorDetails;
  /** Extra response headers (x-oss-next-append-position on PositionNotEqualToLength, ...). */
  readonly headers: Record<string, string>;

  constructor(name: ErrorName, message?: string, details: ErrorDetails = {}, headers: Record<string, string> = {}) {
    const entry = catalog[name];
    super(message ?? entry.message);
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
}

/** `fail('NoSuchKey', undefined, { Key: key })` — throw a catalog error. */
export function fail(name: ErrorName, message?: string, details?: ErrorDetails, headers?: Record<string, string>): never {
  throw new MedleyError(name, message, details, headers);
}

export function isMedleyError(e: unknown): e is MedleyError {
  return e instanceof MedleyError;
}

export { catalog as errorCatalog };
