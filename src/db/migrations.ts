/**
 * Schema migrations, run at start in order. Each is written with the query builder's schema API so the
 * same code path serves SQLite and PostgreSQL; the two column types that differ come from `columnTypes`
 * (src/db/dialect.ts). Never edit a shipped migration: add a new one.
 */
import type { Kysely, Migration } from 'kysely';
import { columnTypes, type DialectName } from './dialect.js';

/**
 * The buckets a stored task touches, read from its stored spec (sources, the output destination when it
 * names a literal bucket, else the template source's) and its recorded outputs. Frozen with 0004: later
 * spec changes must not change what this migration did.
 */
function bucketsOfStoredTask(spec: string, outputs: string): string[] {
  const found = new Set<string>();
  try {
    const s = JSON.parse(spec) as { job?: { clips?: { source?: { bucket?: unknown } }[]; output?: { destination?: { bucket?: unknown } } }; templateSource?: { bucket?: unknown } };
    for (const c of s.job?.clips ?? []) if (typeof c.source?.bucket === 'string') found.add(c.source.bucket);
    const dest = s.job?.output?.destination?.bucket;
    if (typeof dest === 'string' && !dest.includes('{')) found.add(dest);
    else if (typeof s.templateSource?.bucket === 'string') found.add(s.templateSource.bucket);
    for (const uri of JSON.parse(outputs) as unknown[]) {
      const m = typeof uri === 'string' ? /^oss:\/\/([^/]+)\//.exec(uri) : null;
      if (m) found.add(m[1]!);
    }
  } catch {
    // An unreadable row keeps no buckets: only the root key sees it.
  }
  return [...found];
}

export function migrationsFor(dialect: DialectName): Record<string, Migration> {
  const T = columnTypes(dialect);
  return {
  '0001_storage': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('buckets')
        .addColumn('name', T.text, (c) => c.primaryKey())
        .addColumn('acl', T.text, (c) => c.notNull())
        .addColumn('storage_class', T.text, (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('blobs')
        .addColumn('id', T.text, (c) => c.primaryKey())
        .addColumn('size', 'bigint', (c) => c.notNull())
        .addColumn('refs', 'integer', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('blobs_unreferenced').on('blobs').column('refs').execute();
      await db.schema
        .createTable('objects')
        .addColumn('id', T.id, T.idColumn)
        .addColumn('bucket', T.text, (c) => c.notNull())
        .addColumn('key', T.text, (c) => c.notNull())
        .addColumn('size', 'bigint', (c) => c.notNull())
        .addColumn('etag', T.text, (c) => c.notNull())
        .addColumn('crc64', T.text, (c) => c.notNull())
        .addColumn('content_type', T.text, (c) => c.notNull())
        .addColumn('headers', T.text, (c) => c.notNull())
        .addColumn('meta', T.text, (c) => c.notNull())
        .addColumn('acl', T.text, (c) => c.notNull())
        .addColumn('object_type', T.text, (c) => c.notNull())
        .addColumn('storage_class', T.text, (c) => c.notNull())
        .addColumn('last_modified', 'bigint', (c) => c.notNull())
        .addColumn('segments', T.text, (c) => c.notNull())
        .addUniqueConstraint('objects_bucket_key', ['bucket', 'key'])
        .execute();
      await db.schema
        .createTable('uploads')
        .addColumn('upload_id', T.text, (c) => c.primaryKey())
        .addColumn('bucket', T.text, (c) => c.notNull())
        .addColumn('key', T.text, (c) => c.notNull())
        .addColumn('initiated', 'bigint', (c) => c.notNull())
        .addColumn('content_type', T.text, (c) => c.notNull())
        .addColumn('headers', T.text, (c) => c.notNull())
        .addColumn('meta', T.text, (c) => c.notNull())
        .addColumn('acl', T.text, (c) => c.notNull())
        .addColumn('storage_class', T.text, (c) => c.notNull())
        .execute();
      await db.schema.createIndex('uploads_bucket_key').on('uploads').columns(['bucket', 'key', 'upload_id']).execute();
      await db.schema
        .createTable('parts')
        .addColumn('upload_id', T.text, (c) => c.notNull())
        .addColumn('part_number', 'integer', (c) => c.notNull())
        .addColumn('blob_id', T.text, (c) => c.notNull())
        .addColumn('size', 'bigint', (c) => c.notNull())
        .addColumn('etag', T.text, (c) => c.notNull())
        .addColumn('crc64', T.text, (c) => c.notNull())
        .addColumn('last_modified', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('parts_pk', ['upload_id', 'part_number'])
        .execute();
    },
  },
  '0002_tasks': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('projects')
        .addColumn('name', T.text, (c) => c.primaryKey())
        .addColumn('description', T.text, (c) => c.notNull())
        .addColumn('service_role', T.text, (c) => c.notNull())
        .addColumn('template_id', T.text, (c) => c.notNull())
        .addColumn('limits', T.text, (c) => c.notNull())
        .addColumn('tags', T.text, (c) => c.notNull())
        .addColumn('dataset_config', T.text)
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('bucket_attachments')
        .addColumn('bucket', T.text, (c) => c.primaryKey())
        .addColumn('project', T.text, (c) => c.notNull())
        .addColumn('description', T.text, (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('bucket_attachments_project').on('bucket_attachments').column('project').execute();
      await db.schema
        .createTable('tasks')
        .addColumn('id', T.text, (c) => c.primaryKey())
        .addColumn('project', T.text, (c) => c.notNull())
        .addColumn('type', T.text, (c) => c.notNull())
        .addColumn('event_id', T.text, (c) => c.notNull())
        .addColumn('request_id', T.text, (c) => c.notNull())
        .addColumn('state', T.text, (c) => c.notNull())
        .addColumn('progress', 'integer', (c) => c.notNull())
        .addColumn('code', T.text, (c) => c.notNull())
        .addColumn('message', T.text, (c) => c.notNull())
        .addColumn('user_data', T.text, (c) => c.notNull())
        .addColumn('tags', T.text, (c) => c.notNull())
        .addColumn('request_definition', T.text, (c) => c.notNull())
        .addColumn('spec', T.text, (c) => c.notNull())
        .addColumn('outputs', T.text, (c) => c.notNull())
        .addColumn('notify_topic', T.text)
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('started_at', 'bigint')
        .addColumn('ended_at', 'bigint')
        .addColumn('attempts', 'integer', (c) => c.notNull())
        .addColumn('lease_owner', T.text)
        .addColumn('lease_expires_at', 'bigint')
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .execute();
      // The claim query: oldest queued task, or a running one whose lease ran out.
      await db.schema.createIndex('tasks_claim').on('tasks').columns(['state', 'lease_expires_at', 'created_at']).execute();
      await db.schema.createIndex('tasks_project_created').on('tasks').columns(['project', 'created_at']).execute();
      await db.schema.createIndex('tasks_expiry').on('tasks').column('expires_at').execute();
      await db.schema
        .createTable('request_nonces')
        .addColumn('access_key_id', T.text, (c) => c.notNull())
        .addColumn('nonce', T.text, (c) => c.notNull())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('request_nonces_pk', ['access_key_id', 'nonce'])
        .execute();
      await db.schema.createIndex('request_nonces_expiry').on('request_nonces').column('expires_at').execute();
    },
  },
  '0003_notify': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('mns_queues')
        .addColumn('name', T.text, (c) => c.primaryKey())
        .addColumn('delay_seconds', 'integer', (c) => c.notNull())
        .addColumn('maximum_message_size', 'integer', (c) => c.notNull())
        .addColumn('message_retention_period', 'integer', (c) => c.notNull())
        .addColumn('visibility_timeout', 'integer', (c) => c.notNull())
        .addColumn('polling_wait_seconds', 'integer', (c) => c.notNull())
        .addColumn('logging_enabled', 'integer', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('mns_messages')
        .addColumn('id', T.text, (c) => c.primaryKey())
        .addColumn('queue', T.text, (c) => c.notNull())
        .addColumn('body', T.text, (c) => c.notNull())
        .addColumn('body_md5', T.text, (c) => c.notNull())
        .addColumn('priority', 'integer', (c) => c.notNull())
        .addColumn('enqueued_at', 'bigint', (c) => c.notNull())
        .addColumn('first_dequeued_at', 'bigint')
        .addColumn('dequeue_count', 'integer', (c) => c.notNull())
        .addColumn('next_visible_at', 'bigint', (c) => c.notNull())
        .addColumn('receipt_handle', T.text)
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('mns_messages_visible').on('mns_messages').columns(['queue', 'next_visible_at', 'priority', 'enqueued_at']).execute();
      await db.schema.createIndex('mns_messages_receipt').on('mns_messages').column('receipt_handle').execute();
      await db.schema
        .createTable('mns_topics')
        .addColumn('name', T.text, (c) => c.primaryKey())
        .addColumn('maximum_message_size', 'integer', (c) => c.notNull())
        .addColumn('logging_enabled', 'integer', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('mns_subscriptions')
        .addColumn('topic', T.text, (c) => c.notNull())
        .addColumn('name', T.text, (c) => c.notNull())
        .addColumn('endpoint', T.text, (c) => c.notNull())
        .addColumn('notify_strategy', T.text, (c) => c.notNull())
        .addColumn('notify_content_format', T.text, (c) => c.notNull())
        .addColumn('filter_tag', T.text, (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('mns_subscriptions_pk', ['topic', 'name'])
        .execute();
      await db.schema
        .createTable('mns_pushes')
        .addColumn('id', T.id, T.idColumn)
        .addColumn('topic', T.text, (c) => c.notNull())
        .addColumn('subscription', T.text, (c) => c.notNull())
        .addColumn('endpoint', T.text, (c) => c.notNull())
        .addColumn('notify_strategy', T.text, (c) => c.notNull())
        .addColumn('notify_content_format', T.text, (c) => c.notNull())
        .addColumn('message_id', T.text, (c) => c.notNull())
        .addColumn('message_body', T.text, (c) => c.notNull())
        .addColumn('message_tag', T.text, (c) => c.notNull())
        .addColumn('published_at', 'bigint', (c) => c.notNull())
        .addColumn('attempts', 'integer', (c) => c.notNull())
        .addColumn('next_attempt_at', 'bigint', (c) => c.notNull())
        .addColumn('state', T.text, (c) => c.notNull())
        .addColumn('last_error', T.text, (c) => c.notNull())
        .addColumn('lease_owner', T.text)
        .addColumn('lease_expires_at', 'bigint')
        .execute();
      await db.schema.createIndex('mns_pushes_due').on('mns_pushes').columns(['state', 'next_attempt_at']).execute();
      await db.schema
        .createTable('notification_outbox')
        .addColumn('id', T.id, T.idColumn)
        .addColumn('task_id', T.text, (c) => c.notNull())
        .addColumn('topic', T.text, (c) => c.notNull())
        .addColumn('body', T.text, (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('state', T.text, (c) => c.notNull())
        .addColumn('detail', T.text, (c) => c.notNull())
        .addColumn('message_id', T.text)
        .addColumn('published_at', 'bigint')
        .execute();
      await db.schema.createIndex('notification_outbox_pending').on('notification_outbox').columns(['state', 'id']).execute();
      await db.schema.createIndex('notification_outbox_task').on('notification_outbox').column('task_id').execute();
    },
  },
  '0004_task_tenancy': {
    async up(db: Kysely<unknown>) {
      // Who submitted the task: claims are shared round-robin between keys, and capped per key.
      await db.schema.alterTable('tasks').addColumn('owner_key', T.text, (c) => c.notNull().defaultTo('')).execute();
      await db.schema.createIndex('tasks_owner_state').on('tasks').columns(['owner_key', 'state']).execute();
      // The buckets a task touches: a scoped key sees a task only when it may read every one of them.
      await db.schema
        .createTable('task_buckets')
        .addColumn('task_id', T.text, (c) => c.notNull())
        .addColumn('bucket', T.text, (c) => c.notNull())
        .addPrimaryKeyConstraint('task_buckets_pk', ['task_id', 'bucket'])
        .execute();
      const typed = db as unknown as Kysely<{ tasks: { id: string; spec: string; outputs: string }; task_buckets: { task_id: string; bucket: string } }>;
      const rows = await typed.selectFrom('tasks').select(['id', 'spec', 'outputs']).execute();
      for (const r of rows) {
        const buckets = bucketsOfStoredTask(r.spec, r.outputs);
        if (buckets.length > 0) await typed.insertInto('task_buckets').values(buckets.map((bucket) => ({ task_id: r.id, bucket }))).execute();
      }
    },
  },
  '0005_access_keys': {
    async up(db: Kysely<unknown>) {
      // Scoped access keys shared by every node on the database (managed by `medley keys`). The secret is
      // kept as is: HMAC verification needs the plaintext (see src/auth/key-store.ts).
      await db.schema
        .createTable('access_keys')
        .addColumn('access_key_id', T.text, (c) => c.primaryKey())
        .addColumn('secret', T.text, (c) => c.notNull())
        .addColumn('grants', T.text, (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();
      // The MNS push signing key pair: one row, so every node signs pushes alike and serves one certificate.
      await db.schema
        .createTable('push_signing_keys')
        .addColumn('id', T.text, (c) => c.primaryKey())
        .addColumn('private_key_pem', T.text, (c) => c.notNull())
        .addColumn('certificate_pem', T.text, (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();
    },
  },
  '0006_console_sessions': {
    async up(db: Kysely<unknown>) {
      // Web console sessions, shared by every node on the database. Only a hash of the session id (the
      // cookie) is kept, so a copy of the table opens no session; secret_digest ties a session to the
      // secret it was opened with (a rotated or removed key ends it).
      await db.schema
        .createTable('console_sessions')
        .addColumn('id_hash', T.text, (c) => c.primaryKey())
        .addColumn('access_key_id', T.text, (c) => c.notNull())
        .addColumn('secret_digest', T.text, (c) => c.notNull())
        .addColumn('csrf', T.text, (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('console_sessions_expiry').on('console_sessions').column('expires_at').execute();
      await db.schema.createIndex('console_sessions_key').on('console_sessions').column('access_key_id').execute();
    },
  },
  '0007_inline_blobs': {
    async up(db: Kysely<unknown>) {
      // Small blobs live in the index itself (storage/inline-blobs.ts): their bytes are committed with the
      // object row in one transaction, and read with no file open.
      await db.schema.alterTable('blobs').addColumn('data', T.bytes).execute();
      // Never read (a blob row goes in the transaction that drops its last reference), yet written by every
      // blob insert and reference change: one index page less in each write's commit.
      await db.schema.dropIndex('blobs_unreferenced').execute();
    },
  },
};
}
