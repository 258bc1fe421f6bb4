/**
 * One validated configuration object. Only the CLI reads argv and the environment; everything below it
 * receives a `Config`. Each setting has an environment variable and a `medley serve --flag` twin.
 */
import { z } from 'zod';

export const settingSpecs = [
  { key: 'host', env: 'MEDLEY_HOST', flag: '--host <addr>', def: '127.0.0.1', help: 'address to listen on' },
  { key: 'port', env: 'MEDLEY_PORT', flag: '--port <n>', def: '9000', help: 'OSS / IMM HTTP port (0 = any free port)' },
  { key: 'dataDir', env: 'MEDLEY_DATA_DIR', flag: '--data-dir <dir>', def: './data', help: 'database, object bytes and generated keys' },
  { key: 'accessKeyId', env: 'MEDLEY_ACCESS_KEY_ID', flag: '--access-key-id <id>', def: undefined, help: 'root AccessKeyId (generated on first start when unset)' },
  { key: 'accessKeySecret', env: 'MEDLEY_ACCESS_KEY_SECRET', flag: '--access-key-secret <secret>', def: undefined, help: 'root AccessKeySecret (generated on first start when unset)' },
  { key: 'region', env: 'MEDLEY_REGION', flag: '--region <id>', def: 'cn-hangzhou', help: 'region reported to clients and used in V4 scopes' },
  { key: 'domain', env: 'MEDLEY_DOMAIN', flag: '--domain <name>', def: 'localhost', help: 'service domain for virtual-hosted addressing (<bucket>.<domain>)' },
  { key: 'ffmpeg', env: 'MEDLEY_FFMPEG', flag: '--ffmpeg <path>', def: undefined, help: 'ffmpeg binary (default: PATH, then the bundled one)' },
  { key: 'ffprobe', env: 'MEDLEY_FFPROBE', flag: '--ffprobe <path>', def: undefined, help: 'ffprobe binary (default: PATH, then the bundled one)' },
  { key: 'mnsPort', env: 'MEDLEY_MNS_PORT', flag: '--mns-port <n>', def: '9100', help: 'message service (MNS) port' },
  { key: 'accountId', env: 'MEDLEY_ACCOUNT_ID', flag: '--account-id <uid>', def: '1000000000000001', help: 'the account id Medley reports (MNS endpoints and queue/topic ARNs, notification subjects)' },
  { key: 'mnsAutoCreateTopics', env: 'MEDLEY_MNS_AUTO_CREATE_TOPICS', flag: '--mns-auto-create-topics <bool>', def: 'false', help: 'create a notification topic on demand when a task names one that does not exist (false: the task records that its notification was undeliverable, as on the cloud)' },
  { key: 'fsync', env: 'MEDLEY_FSYNC', flag: '--fsync <bool>', def: 'true', help: 'fsync object bytes before a write is acknowledged (false trades durability on power loss for speed)' },
  { key: 'workers', env: 'MEDLEY_WORKERS', flag: '--workers <n>', def: 'auto', help: 'media tasks run at once by this process (auto = one per CPU core; 0 = none, e.g. API-only nodes)' },
  { key: 'taskLeaseSeconds', env: 'MEDLEY_TASK_LEASE', flag: '--task-lease <seconds>', def: '30', help: 'a running task whose worker stops heart-beating is claimed again after this long' },
  { key: 'taskTimeoutSeconds', env: 'MEDLEY_TASK_TIMEOUT', flag: '--task-timeout <seconds>', def: '3600', help: 'a task still running after this long fails (MediaProcessingFailed)' },
  { key: 'taskRetentionDays', env: 'MEDLEY_TASK_RETENTION_DAYS', flag: '--task-retention-days <days>', def: '7', help: 'task records are kept this long after the task starts, then purged (IMM keeps 7 days)' },
  { key: 'pollMs', env: 'MEDLEY_POLL_MS', flag: '--poll-ms <ms>', def: '500', help: 'how often workers look for tasks queued by other processes (tasks accepted by the same process start at once)' },
  { key: 'keysFile', env: 'MEDLEY_KEYS_FILE', flag: '--keys-file <file>', def: undefined, help: 'JSON file of extra access keys with per-bucket grants (default <data-dir>/access-keys.json when present)' },
  { key: 'logLevel', env: 'MEDLEY_LOG_LEVEL', flag: '--log-level <level>', def: 'info', help: 'fatal, error, warn, info, debug, trace or silent' },
  // Scale-out: the shared database and where object bytes live.
  { key: 'databaseUrl', env: 'MEDLEY_DATABASE_URL', flag: '--database-url <url>', def: undefined, help: 'postgres://user:pass@host:5432/db (TLS: ?sslmode=verify-full&sslrootcert=ca.pem); default: SQLite in the data dir' },
  { key: 'databasePool', env: 'MEDLEY_DATABASE_POOL', flag: '--database-pool <n>', def: '10', help: 'PostgreSQL connections per process' },
  { key: 'blobStore', env: 'MEDLEY_BLOB_STORE', flag: '--blob-store <kind>', def: 'fs', help: 'fs (blobs/ in the data dir) or s3 (an S3-compatible object store: MinIO, Ceph RGW, AWS S3, ...)' },
  { key: 's3Endpoint', env: 'MEDLEY_S3_ENDPOINT', flag: '--s3-endpoint <url>', def: undefined, help: 'S3 endpoint URL, http(s)://host:port (default: AWS for the region)' },
  { key: 's3Bucket', env: 'MEDLEY_S3_BUCKET', flag: '--s3-bucket <name>', def: undefined, help: 'S3 bucket holding the blobs (required with --blob-store s3)' },
  { key: 's3Prefix', env: 'MEDLEY_S3_PREFIX', flag: '--s3-prefix <prefix>', def: 'blobs/', help: 'key prefix of the blobs inside the S3 bucket' },
  { key: 's3Region', env: 'MEDLEY_S3_REGION', flag: '--s3-region <id>', def: 'us-east-1', help: 'S3 signing region' },
  { key: 's3AccessKeyId', env: 'MEDLEY_S3_ACCESS_KEY_ID', flag: '--s3-access-key-id <id>', def: undefined, help: 'S3 access key id (default: the AWS SDK credential chain)' },
  { key: 's3SecretAccessKey', env: 'MEDLEY_S3_SECRET_ACCESS_KEY', flag: '--s3-secret-access-key <secret>', def: undefined, help: 'S3 secret access key' },
  { key: 's3ForcePathStyle', env: 'MEDLEY_S3_FORCE_PATH_STYLE', flag: '--s3-force-path-style <bool>', def: 'true', help: 'path-style S3 addressing (MinIO, Ceph); false = virtual-hosted (AWS)' },
  { key: 's3CaBundle', env: 'MEDLEY_S3_CA_BUNDLE', flag: '--s3-ca-bundle <file>', def: undefined, help: 'PEM file of CA certificates to trust for an https S3 endpoint' },
] as const;

const port = z.coerce.number().int().min(0).max(65535);

export const configSchema = z.object({
  host: z.string().min(1),
  port,
  dataDir: z.string().min(1),
  accessKeyId: z.string().regex(/^[A-Za-z0-9_.-]{8,128}$/, 'must be 8-128 characters of A-Z a-z 0-9 _ . -').optional(),
  accessKeySecret: z.string().min(16, 'must be at least 16 characters').max(256).optional(),
  region: z.string().regex(/^[a-z0-9-]{2,64}$/, 'must look like cn-hangzhou'),
  domain: z.string().regex(/^[a-z0-9.-]{1,253}$/, 'must be a lowercase DNS name'),
  ffmpeg: z.string().optional(),
  ffprobe: z.string().optional(),
  mnsPort: port,
  accountId: z.string().regex(/^[0-9]{1,32}$/, 'must be digits'),
  mnsAutoCreateTopics: z
    .enum(['true', 'false', '1', '0', 'yes', 'no', 'on', 'off'], { message: 'must be true or false' })
    .transform((v) => ['true', '1', 'yes', 'on'].includes(v)),
  workers: z.union([z.literal('auto'), z.coerce.number().int().min(0).max(256)]),
  taskLeaseSeconds: z.coerce.number().int().min(2).max(3600),
  taskTimeoutSeconds: z.coerce.number().int().min(1).max(7 * 24 * 3600),
  taskRetentionDays: z.coerce.number().min(0.0001).max(3650),
  pollMs: z.coerce.number().int().min(10).max(60_000),
  keysFile: z.string().optional(),
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']),
  databaseUrl: z.string().regex(/^postgres(ql)?:\/\/\S+$/i, 'must be a postgres:// URL').optional(),
  databasePool: z.coerce.number().int().min(1).max(1000),
  blobStore: z.enum(['fs', 's3'], { message: 'must be fs or s3' }),
  s3Endpoint: z.string().regex(/^https?:\/\/[^\s/]+\/?$/, 'must be http(s)://host[:port]').optional(),
  s3Bucket: z.string().regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'must be an S3 bucket name').optional(),
  s3Prefix: z.string().max(512).regex(/^[^\\]*$/, 'must not contain a backslash'),
  s3Region: z.string().regex(/^[a-z0-9-]{2,64}$/, 'must look like us-east-1'),
  s3AccessKeyId: z.string().min(1).optional(),
  s3SecretAccessKey: z.string().min(1).optional(),
  s3ForcePathStyle: z
    .enum(['true', 'false', '1', '0', 'yes', 'no', 'on', 'off'], { message: 'must be true or false' })
    .transform((v) => ['true', '1', 'yes', 'on'].includes(v)),
  s3CaBundle: z.string().optional(),
  /** Largest XML request body accepted (bytes). */
  maxXmlBodyBytes: z.number().int().positive().default(1024 * 1024),
  /** Largest single PUT/append/copy (bytes): OSS's 5 GiB. */
  maxObjectBytes: z.number().int().positive().default(5 * 1024 * 1024 * 1024),
  /** fsync blobs (and their directory) and commit the index with synchronous = FULL, so an acknowledged write survives power loss. */
  fsync: z
    .enum(['true', 'false', '1', '0', 'yes', 'no', 'on', 'off'], { message: 'must be true or false' })
    .transform((v) => ['true', '1', 'yes', 'on'].includes(v)),
});

export type Config = z.infer<typeof configSchema>;
export type SettingKey = (typeof settingSpecs)[number]['key'];

export class ConfigError extends Error {}

/**
 * Builds the config from flag values (highest priority), then the environment, then defaults.
 * Throws ConfigError naming every invalid setting by its variable name.
 */
export function loadConfig(flags: Partial<Record<SettingKey, string>>, env: NodeJS.ProcessEnv): Config {
  const raw: Record<string, unknown> = {};
  for (const s of settingSpecs) {
    const v = flags[s.key] ?? env[s.env] ?? s.def;
    if (v !== undefined && v !== '') raw[s.key] = v;
  }
  const parsed = configSchema.safeParse(raw);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => {
      const spec = settingSpecs.find((s) => s.key === i.path[0]);
      return `${spec ? spec.env : String(i.path[0])}: ${i.message}`;
    });
    throw new ConfigError(`invalid configuration:\n  ${lines.join('\n  ')}`);
  }
  if ((parsed.data.accessKeyId === undefined) !== (parsed.data.accessKeySecret === undefined)) {
    throw new ConfigError('invalid configuration:\n  MEDLEY_ACCESS_KEY_ID and MEDLEY_ACCESS_KEY_SECRET must be set together');
  }
  if (parsed.data.blobStore === 's3' && parsed.data.s3Bucket === undefined) {
    throw new ConfigError('invalid configuration:\n  MEDLEY_S3_BUCKET: required when MEDLEY_BLOB_STORE=s3');
  }
  if ((parsed.data.s3AccessKeyId === undefined) !== (parsed.data.s3SecretAccessKey === undefined)) {
    throw new ConfigError('invalid configuration:\n  MEDLEY_S3_ACCESS_KEY_ID and MEDLEY_S3_SECRET_ACCESS_KEY must be set together');
  }
  return parsed.data;
}
