/**
 * Every fixed request limit Medley enforces, in one table, so operators can find them (README "Limits")
 * and the code reads them from one place. Values follow the cloud where the cloud documents one (OSS 5 GiB
 * objects, 10 000 parts, MNS 64 KiB messages, 30 s long polls); the rest bound memory and idle sockets.
 *
 * Changing a value here changes the behaviour everywhere it is enforced; the configurable resource limits
 * (free-disk reserve, task timeout, workers) live in `config.ts` instead.
 */

const KiB = 1024;
const MiB = 1024 * KiB;
const GiB = 1024 * MiB;

export const LIMITS = {
  // --- HTTP listeners (src/http/server.ts: OSS + IMM port; src/http/mns/server.ts: MNS port) ---
  /** Request line + headers, both ports (Node's own default, stated explicitly). Over it: 431. */
  maxHeaderBytes: 16 * KiB,
  /** OSS/IMM port: the request headers must arrive within this (ms). */
  ossHeadersTimeoutMs: 60_000,
  /** OSS/IMM port: no bound on a whole request, since a 5 GiB upload may legitimately take long (0 = none). */
  ossRequestTimeoutMs: 0,
  /** OSS/IMM port: a socket idle (no byte either way) this long is closed (ms). */
  ossSocketIdleTimeoutMs: 120_000,
  /** Both ports: an idle keep-alive connection is closed after this (ms). */
  keepAliveTimeoutMs: 5_000,
  /** MNS port: the request headers must arrive within this (ms). */
  mnsHeadersTimeoutMs: 30_000,
  /** MNS port: the whole request (headers and body) must arrive within this (ms); responses may still wait for a long poll. */
  mnsRequestTimeoutMs: 60_000,

  // --- OSS bodies ---
  /** One PutObject / AppendObject / UploadPart body, and a CopyObject source (OSS: 5 GiB). */
  maxObjectBytes: 5 * GiB,
  /** XML documents: CompleteMultipartUpload, PutBucket (CreateBucketConfiguration). */
  maxXmlBodyBytes: 1 * MiB,
  /** DeleteMultipleObjects' <Delete> document (up to 1000 keys of 1023 bytes, escaped). */
  maxDeleteBodyBytes: 2 * MiB,
  /** Keys in one DeleteMultipleObjects request (OSS: 1000). */
  maxDeleteKeys: 1000,
  /** The body of POST ?x-oss-async-process / ?x-oss-process (the process string). */
  maxProcessBodyBytes: 64 * KiB,
  /** Multipart: part numbers 1..this (OSS: 10 000). */
  maxPartNumber: 10_000,
  /** Multipart: every part but the last must be at least this (OSS: 100 KB). */
  minPartBytes: 100 * KiB,

  // --- IMM RPC ---
  /** An RPC request body (form parameters or JSON) is read up to this; bigger is 400 InvalidArgument. */
  immMaxBodyBytes: 1 * MiB,
  /** An oversized RPC body is drained (to answer on a kept-alive connection) up to this, then the connection is closed. */
  immMaxDrainedBytes: 8 * MiB,

  // --- MNS ---
  /** A request body read by the MNS port (room for XML escaping of 64 KiB messages). */
  mnsMaxRequestBodyBytes: 512 * KiB,
  /** MaximumMessageSize of a queue or topic: at most this (MNS: 64 KiB), at least 1 KiB. */
  mnsMaxMessageBytes: 64 * KiB,
  /** Messages in one BatchSendMessage / BatchReceiveMessage / BatchDeleteMessage (MNS: 16). */
  mnsMaxBatch: 16,
  /** Total message bodies in one BatchSendMessage (MNS: 64 KiB). */
  mnsMaxBatchBodyBytes: 64 * KiB,
  /** Long poll: waitseconds / PollingWaitSeconds at most this (MNS: 30 s). */
  mnsMaxPollSeconds: 30,
} as const;

export type LimitName = keyof typeof LIMITS;
