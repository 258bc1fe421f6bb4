/**
 * Table types for the typed query builder. Times are epoch milliseconds; JSON columns are TEXT.
 * Keys compare as UTF-8 bytes (SQLite BINARY collation; PostgreSQL needs COLLATE "C"), which is the
 * order OSS lists objects in.
 */
import type { ColumnType, Generated } from 'kysely';

export interface BucketTable {
  name: string;
  acl: string;
  storage_class: string;
  created_at: number;
}

/** One stored byte sequence; `refs` counts the objects and parts that point at it. */
export interface BlobTable {
  id: string;
  size: number;
  refs: number;
  created_at: number;
  /** The bytes of an inline blob (storage/inline-blobs.ts); null for a blob in the blob store. */
  data: ColumnType<Buffer | null, Buffer | null | undefined, never>;
}

export interface ObjectTable {
  id: Generated<number>;
  bucket: string;
  key: string;
  size: number;
  etag: string;
  /** Unsigned decimal CRC-64/XZ of the whole object. */
  crc64: string;
  content_type: string;
  /** JSON: standard content headers (cache-control, content-disposition, content-encoding, expires, content-language). */
  headers: string;
  /** JSON: x-oss-meta-* headers, lowercase names. */
  meta: string;
  acl: string;
  object_type: string;
  storage_class: string;
  last_modified: number;
  /** JSON: [[blobId, length], ...] — the object's bytes are the blobs' bytes in order. */
  segments: string;
}

export interface UploadTable {
  upload_id: string;
  bucket: string;
  key: string;
  initiated: number;
  content_type: string;
  headers: string;
  meta: string;
  acl: string;
  storage_class: string;
}

export interface PartTable {
  upload_id: string;
  part_number: number;
  blob_id: string;
  size: number;
  etag: string;
  crc64: string;
  last_modified: number;
}

/** An IMM project. Limits are stored as given (IMM reports them; Medley enforces none of the dataset ones). */
export interface ProjectTable {
  name: string;
  description: string;
  service_role: string;
  template_id: string;
  /** JSON: the numeric Dataset and Project limits, by their IMM field names. */
  limits: string;
  /** JSON: [{TagKey, TagValue}] */
  tags: string;
  /** JSON object or null text. */
  dataset_config: string | null;
  created_at: number;
  updated_at: number;
}

/** AttachOSSBucket: a bucket served by one project. */
export interface BucketAttachmentTable {
  bucket: string;
  project: string;
  description: string;
  created_at: number;
  updated_at: number;
}

/**
 * A media task: the durable queue row and the record GetTask/ListTasks return.
 * `state` is internal (queued | running | succeeded | failed); the wire shows queued as Running.
 */
export interface TaskTable {
  id: string;
  project: string;
  type: string;
  event_id: string;
  request_id: string;
  state: string;
  progress: number;
  code: string;
  message: string;
  user_data: string;
  /** JSON object (Tags as given). */
  tags: string;
  /** JSON text: TaskRequestDefinition. */
  request_definition: string;
  /** JSON: the normalized MediaJob plus what naming the outputs needs (TaskSpec in tasks/records.ts). */
  spec: string;
  /** JSON: the resolved output URIs once Succeeded ([] before). */
  outputs: string;
  /** Notification topic (MNS), or null. */
  notify_topic: string | null;
  /** Epoch ms: accepted (IMM StartTime), claim, end. */
  created_at: number;
  started_at: number | null;
  ended_at: number | null;
  /** How many times a worker claimed it (retries after crashes count). */
  attempts: number;
  lease_owner: string | null;
  lease_expires_at: number | null;
  /** Purged after this instant (retention). */
  expires_at: number;
  /** AccessKeyId that submitted the task ('' for tasks stored before owners were recorded): fair scheduling and per-key caps. */
  owner_key: ColumnType<string, string | undefined, string>;
}

/** Every bucket a task touches (each source, the output): who may see the task (GetTask/ListTasks) is decided on these. */
export interface TaskBucketTable {
  task_id: string;
  bucket: string;
}

/** RPC signature nonces seen recently (replay protection, shared by every process on the database). */
export interface RequestNonceTable {
  access_key_id: string;
  nonce: string;
  expires_at: number;
}

/** MNS queue (attributes by their MNS names, seconds/bytes as MNS defines them). */
export interface MnsQueueTable {
  name: string;
  delay_seconds: number;
  maximum_message_size: number;
  message_retention_period: number;
  visibility_timeout: number;
  polling_wait_seconds: number;
  logging_enabled: number;
  created_at: number;
  updated_at: number;
}

/** A message in a queue. `next_visible_at` drives visibility (delay, receive, ChangeMessageVisibility). */
export interface MnsMessageTable {
  id: string;
  queue: string;
  body: string;
  body_md5: string;
  priority: number;
  enqueued_at: number;
  first_dequeued_at: number | null;
  dequeue_count: number;
  next_visible_at: number;
  /** The handle of the latest receive (changes every receive; DeleteMessage needs the current one). */
  receipt_handle: string | null;
  expires_at: number;
}

export interface MnsTopicTable {
  name: string;
  maximum_message_size: number;
  logging_enabled: number;
  created_at: number;
  updated_at: number;
}

export interface MnsSubscriptionTable {
  topic: string;
  name: string;
  /** acs:mns:<region>:<account>:queues/<q>, or an http(s):// URL. */
  endpoint: string;
  notify_strategy: string;
  notify_content_format: string;
  filter_tag: string;
  created_at: number;
  updated_at: number;
}

/** One HTTP push of one topic message to one HTTP subscription, retried with backoff until 2xx or the cap. */
export interface MnsPushTable {
  id: Generated<number>;
  topic: string;
  subscription: string;
  endpoint: string;
  notify_strategy: string;
  notify_content_format: string;
  message_id: string;
  message_body: string;
  message_tag: string;
  published_at: number;
  attempts: number;
  next_attempt_at: number;
  /** pending | delivered | failed */
  state: string;
  last_error: string;
  lease_owner: string | null;
  lease_expires_at: number | null;
}

/**
 * Task-completion notifications, written in the same transaction that ends the task, then published to
 * their topic by the outbox dispatcher. `state`: pending | published | undeliverable.
 */
export interface NotificationOutboxTable {
  id: Generated<number>;
  task_id: string;
  topic: string;
  body: string;
  created_at: number;
  state: string;
  /** Why it could not be published (e.g. the topic does not exist). */
  detail: string;
  message_id: string | null;
  published_at: number | null;
}

/** A scoped access key (`medley keys`); `grants` is JSON `{ bucket: "read" | "read-write" }`. */
export interface AccessKeyTable {
  access_key_id: string;
  secret: string;
  grants: string;
  created_at: number;
}

/** The MNS push signing key pair shared by every node (one row, id `default`). */
export interface PushSigningKeyTable {
  id: string;
  private_key_pem: string;
  certificate_pem: string;
  created_at: number;
}

/** A web console session (src/http/console/sessions.ts): the cookie's id is kept only as its sha256. */
export interface ConsoleSessionTable {
  id_hash: string;
  access_key_id: string;
  /** sha256 of the secret the session was opened with. */
  secret_digest: string;
  /** The double-submit CSRF token (the page reads it; it opens nothing without the cookie). */
  csrf: string;
  created_at: number;
  expires_at: number;
}

export interface Database {
  buckets: BucketTable;
  blobs: BlobTable;
  objects: ObjectTable;
  uploads: UploadTable;
  parts: PartTable;
  projects: ProjectTable;
  bucket_attachments: BucketAttachmentTable;
  tasks: TaskTable;
  task_buckets: TaskBucketTable;
  request_nonces: RequestNonceTable;
  mns_queues: MnsQueueTable;
  mns_messages: MnsMessageTable;
  mns_topics: MnsTopicTable;
  mns_subscriptions: MnsSubscriptionTable;
  mns_pushes: MnsPushTable;
  notification_outbox: NotificationOutboxTable;
  access_keys: AccessKeyTable;
  push_signing_keys: PushSigningKeyTable;
  console_sessions: ConsoleSessionTable;
}
