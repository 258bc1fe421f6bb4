/**
 * `medley keys add|list|show|revoke`: scoped access keys in the database every node reads (src/auth/key-store.ts).
 * Uses the same configuration as `medley serve` (--data-dir / --database-url, or their MEDLEY_* variables).
 */
import { join, resolve } from 'node:path';
import { mkdir, readFile } from 'node:fs/promises';
import { loadAccessKeys } from '../auth/access-keys.js';
import { Option, type Command } from 'commander';
import { settingSpecs, type Config, type SettingKey } from '../config.js';
import { openDatabase } from '../db/connection.js';
import { generateSecret, KeyStore, KeyStoreError, KEY_REFRESH_MS, parseBucketGrant, type StoredKeyInfo } from '../auth/key-store.js';
import type { BucketGrant } from '../auth/policy.js';

type ConfigFrom = (opts: Partial<Record<SettingKey, string>>) => Config;

const DB_SETTINGS: SettingKey[] = ['dataDir', 'databaseUrl', 'databasePool', 'keysFile'];

async function withStore<T>(config: Config, run: (store: KeyStore) => Promise<T>): Promise<T> {
  const dataDir = resolve(config.dataDir);
  if (config.databaseUrl === undefined) await mkdir(dataDir, { recursive: true });
  const db = await openDatabase(config.databaseUrl ?? join(dataDir, 'medley.db'), { durable: config.fsync, poolSize: config.databasePool });
  try {
    return await run(new KeyStore(db));
  } finally {
    await db.destroy();
  }
}

/**
 * The root key and the legacy access-keys file come first in the lookup, so a database key with one of their
 * ids would never be used: refused here (as far as this machine's configuration can tell).
 */
async function refuseShadowed(config: Config, id: string): Promise<void> {
  const dataDir = resolve(config.dataDir);
  if (id === config.accessKeyId) throw new KeyStoreError(`${id} is the root AccessKeyId (MEDLEY_ACCESS_KEY_ID)`);
  const root = await readFile(join(dataDir, 'credentials.json'), 'utf8').then((t) => (JSON.parse(t) as { accessKeyId?: unknown }).accessKeyId, () => undefined);
  if (id === root) throw new KeyStoreError(`${id} is the root AccessKeyId (${join(dataDir, 'credentials.json')})`);
  const file = config.keysFile ?? join(dataDir, 'access-keys.json');
  const legacy = await loadAccessKeys(file, false).catch(() => []);
  if (legacy.some((k) => k.accessKeyId === id)) throw new KeyStoreError(`${id} is already defined in the access-keys file ${file}`);
}

function describe(k: StoredKeyInfo): string {
  const grants = Object.entries(k.grants).map(([b, g]) => `${b}=${g}`);
  return `${k.accessKeyId}\t${grants.length > 0 ? grants.join(',') : '(no buckets)'}\t${k.createdAt.toISOString()}`;
}

/** A refusal the operator can fix: message on stderr, exit status 2. */
function refuse(message: string): void {
  console.error(message);
  process.exitCode = 2;
}

async function guarded(run: () => Promise<void>): Promise<void> {
  try {
    await run();
  } catch (e) {
    if (e instanceof KeyStoreError) return refuse(e.message);
    throw e;
  }
}

export function registerKeysCommand(program: Command, configFrom: ConfigFrom): void {
  const keys = program.command('keys').description('manage scoped access keys in the database (shared by every node; in force within seconds)');
  const withDbOptions = (c: Command) => {
    for (const s of settingSpecs) {
      if (!DB_SETTINGS.includes(s.key)) continue;
      c.addOption(new Option(s.flag, `${s.help} [env ${s.env}${s.def !== undefined ? `, default ${s.def}` : ''}]`));
    }
    return c;
  };
  const collect = (v: string, prev: string[]) => [...prev, v];

  withDbOptions(
    keys
      .command('add')
      .description('add a key with per-bucket grants; prints a generated secret once when --secret is not given')
      .argument('<accessKeyId>', '8-128 characters of A-Z a-z 0-9 _ . -')
      .option('--bucket <bucket=grant>', 'grant read or read-write on a bucket (repeatable)', collect, [] as string[])
      .option('--secret <secret>', 'use this AccessKeySecret (16-256 characters) instead of generating one'),
  ).action((id: string, opts: { bucket: string[]; secret?: string } & Partial<Record<SettingKey, string>>) =>
    guarded(async () => {
      const grants: Record<string, BucketGrant> = {};
      for (const g of opts.bucket) {
        const [bucket, grant] = parseBucketGrant(g);
        grants[bucket] = grant;
      }
      const secret = opts.secret ?? generateSecret();
      const config = configFrom(opts);
      await refuseShadowed(config, id);
      await withStore(config, (store) => store.add(id, secret, grants));
      process.stdout.write(
        `added ${id} (${Object.entries(grants).map(([b, g]) => `${b}=${g}`).join(', ') || 'no buckets'}); in force on every node within ${KEY_REFRESH_MS / 1000} s\n` +
          (opts.secret === undefined ? `  AccessKeySecret ${secret}\n  (shown only now: store it)\n` : ''),
      );
    }),
  );

  withDbOptions(keys.command('list').description('list the keys and their grants (never the secrets)')).action((opts: Partial<Record<SettingKey, string>>) =>
    guarded(async () => {
      const all = await withStore(configFrom(opts), (store) => store.list());
      process.stdout.write(all.map((k) => `${describe(k)}\n`).join(''));
    }),
  );

  withDbOptions(keys.command('show').description("show one key's grants (never the secret)").argument('<accessKeyId>')).action((id: string, opts: Partial<Record<SettingKey, string>>) =>
    guarded(async () => {
      const k = await withStore(configFrom(opts), (store) => store.show(id));
      if (!k) return refuse(`no access key ${id}`);
      process.stdout.write(`${describe(k)}\n`);
    }),
  );

  withDbOptions(keys.command('revoke').description('delete a key; every node refuses it within seconds').argument('<accessKeyId>')).action((id: string, opts: Partial<Record<SettingKey, string>>) =>
    guarded(async () => {
      const removed = await withStore(configFrom(opts), (store) => store.revoke(id));
      if (!removed) return refuse(`no access key ${id}`);
      process.stdout.write(`revoked ${id}; refused on every node within ${KEY_REFRESH_MS / 1000} s\n`);
    }),
  );
}
