/**
 * One validated configuration object. Only the CLI reads argv and the environment; everything below it
 * receives a `Config`. Each setting has an environment variable and a `medley serve --flag` twin.
 */
import { hostname } from 'node:os';
import { z } from 'zod';
import { LIMITS } from './limits.js';
import { parseDiskReserve } from './storage/disk-space.js';
import { parseByteSize } from './util/bytes.js';

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
  // Tenancy: fair sharing of the workers between access keys.
  { key: 'maxRunningPerKey', env: 'MEDLEY_MAX_RUNNING_PER_KEY', flag: '--max-running-per-key <n>', def: 'auto', help: 'most media tasks of one access key running at once, counted over every process on the database (auto = the process workers - 1, at least 1, so one worker stays free for other keys)' },
  { key: 'maxQueuedPerKey', env: 'MEDLEY_MAX_QUEUED_PER_KEY', flag: '--max-queued-per-key <n>', def: '1000', help: 'tasks one access key may have waiting to run; more are refused (OSS 429 TooManyRequests, IMM LimitExceededError)' },
  // Operations (limits-ops): the free-disk reserve and the metrics endpoint.
  { key: 'minFreeDisk', env: 'MEDLEY_MIN_FREE_DISK', flag: '--min-free-disk <size>', def: '1GiB', help: 'free space kept on the data volume: below it, writes and new media tasks are refused with 503 (bytes, 512MiB, 2GB, or 2% of the volume; 0 = off)' },
  { key: 'metricsToken', env: 'MEDLEY_METRICS_TOKEN', flag: '--metrics-token <token>', def: undefined, help: 'bearer token for GET /-/metrics and the detailed /-/health (the root key works too)' },
  // Media limits (src/media/limits.ts): what one media task may read and produce.
  { key: 'maxSourceDurationSeconds', env: 'MEDLEY_MAX_SOURCE_DURATION', flag: '--max-source-duration <seconds>', def: '21600', help: 'a media source lasting longer than this is refused (LimitExceededError)' },
  { key: 'maxOutputDurationSeconds', env: 'MEDLEY_MAX_OUTPUT_DURATION', flag: '--max-output-duration <seconds>', def: '21600', help: 'a media task whose output would last longer than this is refused before it runs' },
  { key: 'maxOutputBytes', env: 'MEDLEY_MAX_OUTPUT_BYTES', flag: '--max-output-bytes <bytes>', def: '8589934592', help: 'FFmpeg is stopped and the task fails when one output (all its files) reaches this size (default 8 GiB)' },
  { key: 'maxMediaInputBytes', env: 'MEDLEY_MAX_MEDIA_INPUT_BYTES', flag: '--max-media-input-bytes <bytes>', def: '5368709120', help: 'a media task refuses a source object larger than this (default 5 GiB)' },
  // FFmpeg least privilege (src/media/engine/sandbox.ts)
  { key: 'ffmpegUser', env: 'MEDLEY_FFMPEG_USER', flag: '--ffmpeg-user <name>', def: 'medley-ffmpeg', help: 'when Medley runs as root, FFmpeg/ffprobe run as this unprivileged user (created at start if missing); "none" keeps them as root' },
  { key: 'workDir', env: 'MEDLEY_WORK_DIR', flag: '--work-dir <dir>', def: undefined, help: 'parent of the private per-task work directories (default <data-dir>/work; when FFmpeg runs as another user, <temp dir>/medley-work-<hash of the data dir>, as that user must not reach the data dir)' },
  { key: 'ffmpegMaxMemory', env: 'MEDLEY_FFMPEG_MAX_MEMORY', flag: '--ffmpeg-max-memory <bytes>', def: '4GiB', help: 'address-space limit of each FFmpeg/ffprobe process (RLIMIT_AS; K/M/G/KiB/MiB/GiB suffixes; 0 = none)' },
  { key: 'ffmpegMaxFileSize', env: 'MEDLEY_FFMPEG_MAX_FILE_SIZE', flag: '--ffmpeg-max-file-size <bytes>', def: '5GiB', help: 'largest file an FFmpeg process may write (RLIMIT_FSIZE; 0 = none)' },
  { key: 'ffmpegMaxCpuSeconds', env: 'MEDLEY_FFMPEG_MAX_CPU_SECONDS', flag: '--ffmpeg-max-cpu-seconds <n|auto>', def: 'auto', help: 'CPU seconds an FFmpeg process may use (RLIMIT_CPU; auto = its wall-clock timeout times the CPU cores; 0 = none)' },
  // TLS (src/http/listen.ts): HTTPS on the OSS / IMM port and the MNS port.
  { key: 'tlsCert', env: 'MEDLEY_TLS_CERT', flag: '--tls-cert <file>', def: undefined, help: 'PEM certificate (chain allowed: server certificate first) to serve HTTPS on both ports; reloaded when the file changes (set with --tls-key)' },
  { key: 'tlsKey', env: 'MEDLEY_TLS_KEY', flag: '--tls-key <file>', def: undefined, help: 'PEM private key of --tls-cert; reloaded when the file changes' },
  // Database outages (src/db/errors.ts, src/db/connection.ts) and node naming.
  { key: 'databaseConnectTimeoutSeconds', env: 'MEDLEY_DATABASE_CONNECT_TIMEOUT', flag: '--database-connect-timeout <seconds>', def: '60', help: 'at start, how long to keep retrying a PostgreSQL server that is not up yet before giving up (0 = try once)' },
  { key: 'nodeName', env: 'MEDLEY_NODE_NAME', flag: '--node-name <name>', def: undefined, help: 'this process in logs, the detailed /-/health and task lease owners (default: the host name)' },
  // Web console (src/http/console): served at /-/console on the OSS port.
  { key: 'console', env: 'MEDLEY_CONSOLE', flag: '--console <bool>', def: 'true', help: 'serve the web console at /-/console (sign-in with an access key; false = 404)' },
  { key: 'consoleSessionHours', env: 'MEDLEY_CONSOLE_SESSION_HOURS', flag: '--console-session-hours <n>', def: '12', help: 'a console session ends this many hours after sign-in (sessions live in this process\'s memory)' },
] as const;

const port = z.coerce.number().int().min(0).max(65535);

/** "4GiB", "512MiB", "1000000" -> bytes (src/util/bytes.ts: the one rule for every size setting). */
const byteSize = z
  .string()
  .refine((v) => parseByteSize(v) !== undefined, 'must be a size in bytes, e.g. 4GiB, 512MiB or 1000000 (0 = no limit)')
  .transform((v) => parseByteSize(v)!);

/** true/false and their usual spellings. */
const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no', 'on', 'off'], { message: 'must be true or false' })
  .transform((v) => ['true', '1', 'yes', 'on'].includes(v));

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
  mnsAutoCreateTopics: bool,
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
  s3ForcePathStyle: bool,
  s3CaBundle: z.string().optional(),
  maxRunningPerKey: z.union([z.literal('auto'), z.coerce.number().int().min(1).max(256)]),
  maxQueuedPerKey: z.coerce.number().int().min(1).max(1_000_000),
  minFreeDisk: z
    .string()
    .refine((v) => parseDiskReserve(v) !== undefined, 'must be a size (1073741824, 512MiB, 2GB; 0 = off) or a share of the volume below 100% (2%)')
    .transform((v) => parseDiskReserve(v)!),
  metricsToken: z.string().min(16, 'must be at least 16 characters').max(512).optional(),
  // FFmpeg least privilege
  ffmpegUser: z.string().regex(/^[a-z_][a-z0-9_-]{0,31}$/, 'must be a user name (lowercase letters, digits, _ and -) or none'),
  workDir: z.string().optional(),
  ffmpegMaxMemory: byteSize,
  ffmpegMaxFileSize: byteSize,
  ffmpegMaxCpuSeconds: z.union([z.literal('auto'), z.coerce.number().int().min(0).max(365 * 24 * 3600)]),
  // TLS
  tlsCert: z.string().optional(),
  tlsKey: z.string().optional(),
  /** Largest XML request body accepted (bytes). */
  maxXmlBodyBytes: z.number().int().positive().default(LIMITS.maxXmlBodyBytes),
  /** Largest single PUT/append/copy (bytes): OSS's 5 GiB. */
  maxObjectBytes: z.number().int().positive().default(LIMITS.maxObjectBytes),
  /** fsync blobs (and their directory) and commit the index with synchronous = FULL, so an acknowledged write survives power loss. */
  fsync: bool,
  // Media limits.
  maxSourceDurationSeconds: z.coerce.number().positive().max(30 * 24 * 3600),
  maxOutputDurationSeconds: z.coerce.number().positive().max(30 * 24 * 3600),
  maxOutputBytes: z.coerce.number().int().min(1024),
  maxMediaInputBytes: z.coerce.number().int().min(1),
  // Database outages and node naming.
  databaseConnectTimeoutSeconds: z.coerce.number().int().min(0).max(3600),
  nodeName: z
    .string()
    .regex(/^[A-Za-z0-9._-]{1,64}$/, 'must be 1-64 characters of A-Z a-z 0-9 . _ -')
    .default(() => hostname().replace(/[^A-Za-z0-9._-]/g, '-').slice(0, 64) || 'medley'),
  // Web console.
  console: bool,
  consoleSessionHours: z.coerce.number().positive().max(30 * 24),
});

/** The media limits of a config, as the engine takes them (src/media/limits.ts). */
export function mediaLimits(c: Config): { maxSourceDurationSec: number; maxOutputDurationSec: number; maxOutputBytes: number; maxMediaInputBytes: number } {
  return { maxSourceDurationSec: c.maxSourceDurationSeconds, maxOutputDurationSec: c.maxOutputDurationSeconds, maxOutputBytes: c.maxOutputBytes, maxMediaInputBytes: c.maxMediaInputBytes };
}

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
  if ((parsed.data.tlsCert === undefined) !== (parsed.data.tlsKey === undefined)) {
    throw new ConfigError('invalid configuration:\n  MEDLEY_TLS_CERT and MEDLEY_TLS_KEY must be set together (or neither, for plain HTTP)');
  }
  return parsed.data;
}
