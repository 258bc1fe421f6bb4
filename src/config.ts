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
  { key: 'fsync', env: 'MEDLEY_FSYNC', flag: '--fsync <bool>', def: 'true', help: 'fsync object bytes before a write is acknowledged (false trades durability on power loss for speed)' },
  { key: 'logLevel', env: 'MEDLEY_LOG_LEVEL', flag: '--log-level <level>', def: 'info', help: 'fatal, error, warn, info, debug, trace or silent' },
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
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']),
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
  return parsed.data;
}
