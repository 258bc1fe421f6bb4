/**
 * `medley migrate`: moves an embedded install (SQLite `medley.db` + `blobs/` in the data dir) up to
 * PostgreSQL and an S3-compatible blob store.
 *
 * Order, so that a run stopped midway can simply be run again:
 *  1. Medley's migrations run on the target database (openDatabase) and the target is checked: any Medley
 *     table with rows, or any blob under the S3 prefix that is not one of this data dir's blobs, refuses.
 *  2. Every blob is copied under its own id (rows of `blobs`). A blob already in S3 with the right size and
 *     MD5 (from a previous, interrupted run) is skipped.
 *  3. Every table is copied in ONE transaction, committed last: the database is either untouched or
 *     complete, and a complete database only ever points at blobs that are in S3.
 * The source is read inside one SQLite read transaction: a consistent snapshot (stop `medley serve` and
 * `medley worker` first anyway: writes made after the snapshot are not migrated).
 *
 * Verification, per blob: the local bytes are hashed (MD5) while they stream to S3. The copy counts as
 * verified when S3's ETag proves the same MD5 (a single PUT's ETag is the MD5; a multipart upload's is
 * MD5(part MD5s)-N, computed here for the part size used); otherwise (a store whose ETags are not MD5s)
 * the object is read back from S3 and hashed. `--read-back` always reads back. Where the index knows a
 * blob's MD5 (a Normal object made of that one blob, an upload part), the local file must hash to it
 * first: a corrupt local blob stops the migration instead of being copied.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { Writable, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import Database from 'better-sqlite3';
import { Option, type Command } from 'commander';
import { sql, type Kysely } from 'kysely';
import { settingSpecs, type Config, type SettingKey } from '../config.js';
import { openDatabase } from '../db/connection.js';
import { FsBlobStore } from '../storage/blob-store.js';
import { S3BlobStore } from '../storage/s3-blob-store.js';

/** Any table, any columns: the copy is driven by the source's own table list. */
type AnyDb = Kysely<Record<string, Record<string, unknown>>>;

/** PostgreSQL takes at most 65535 bind parameters per statement; stay well below. */
export function batchRows(columns: number): number {
  return Math.max(1, Math.min(1000, Math.floor(30_000 / Math.max(1, columns))));
}

/** Medley's tables in a SQLite file: everything but SQLite's and the migrator's own. */
export function isMedleyTable(name: string): boolean {
  return !/^(sqlite_|kysely_)/.test(name);
}

/**
 * Whether an S3 ETag proves these bytes: a plain ETag equal to the MD5, or a multipart ETag equal to
 * MD5(concatenated part MD5s)-N. `undefined` = the ETag proves nothing either way (read back instead).
 */
export function etagProves(etag: string, md5: Buffer, partMd5s: Buffer[]): true | undefined {
  const e = etag.replace(/"/g, '').toLowerCase();
  if (e === md5.toString('hex')) return true;
  const m = /^([0-9a-f]{32})-(\d+)$/.exec(e);
  if (m && Number(m[2]) === partMd5s.length && createHash('md5').update(Buffer.concat(partMd5s)).digest('hex') === m[1]) return true;
  return undefined;
}

/** Hashes a stream: the whole MD5 and the MD5 of each `partSize` slice (as a multipart upload cuts it). */
class Hasher {
  private readonly whole = createHash('md5');
  private part = createHash('md5');
  private inPart = 0;
  readonly parts: Buffer[] = [];
  bytes = 0;
  constructor(private readonly partSize: number) {}

  update(chunk: Buffer): void {
    this.whole.update(chunk);
    this.bytes += chunk.length;
    let off = 0;
    while (off < chunk.length) {
      const n = Math.min(chunk.length - off, this.partSize - this.inPart);
      this.part.update(chunk.subarray(off, off + n));
      this.inPart += n;
      off += n;
      if (this.inPart === this.partSize) {
        this.parts.push(this.part.digest());
        this.part = createHash('md5');
        this.inPart = 0;
      }
    }
  }

  finish(): { md5: Buffer; parts: Buffer[] } {
    if (this.inPart > 0) this.parts.push(this.part.digest());
    return { md5: this.whole.digest(), parts: this.parts };
  }
}

async function hashStream(stream: Readable, partSize: number): Promise<{ md5: Buffer; parts: Buffer[]; bytes: number }> {
  const h = new Hasher(partSize);
  for await (const chunk of stream) h.update(chunk as Buffer);
  return { ...h.finish(), bytes: h.bytes };
}

export class MigrateError extends Error {}

export interface MigrateOptions {
  config: Config;
  /** Always verify by reading each blob back from S3. */
  readBack?: boolean;
  /** Blobs copied at once. */
  concurrency?: number;
  print?: (line: string) => void;
}

const MiB = 1024 * 1024;
const mib = (n: number) => `${(n / MiB).toFixed(1)} MiB`;

export async function runMigrate(opts: MigrateOptions): Promise<void> {
  const { config } = opts;
  const print = opts.print ?? ((l: string) => process.stdout.write(l + '\n'));
  const dataDir = resolve(config.dataDir);
  const dbFile = join(dataDir, 'medley.db');
  if (!config.databaseUrl) throw new MigrateError('--to-database postgres://… is required');
  if (!existsSync(dbFile)) throw new MigrateError(`no embedded database at ${dbFile}: --data-dir must name the data directory of the embedded install`);

  // Bring the source to this version's schema (what `medley serve` would do), then read it raw.
  await (await openDatabase(dbFile, { durable: true })).destroy();
  const src = new Database(dbFile, { readonly: true, fileMustExist: true });
  const target = (await openDatabase(config.databaseUrl, { poolSize: 2 })) as unknown as AnyDb;
  const s3 =
    config.blobStore === 's3' && config.s3Bucket
      ? new S3BlobStore({ endpoint: config.s3Endpoint, bucket: config.s3Bucket, prefix: config.s3Prefix, region: config.s3Region, accessKeyId: config.s3AccessKeyId, secretAccessKey: config.s3SecretAccessKey, forcePathStyle: config.s3ForcePathStyle, caBundle: config.s3CaBundle })
      : undefined;
  try {
    src.exec('BEGIN'); // one read snapshot for the whole copy
    const tables = (src.prepare(`SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name`).all() as { name: string }[]).map((r) => r.name).filter(isMedleyTable);
    const refusal = await targetRefusal(target, tables);
    if (refusal) throw new MigrateError(refusal);

    if (s3) await copyBlobs(src, new FsBlobStore(join(dataDir, 'blobs'), false), s3, dataDir, opts, print);
    else print(`blobs: staying in ${join(dataDir, 'blobs')} (--to-blob-store fs): run the new server on this data dir`);

    await copyTables(src, target, tables, print);
    print(
      `done. Carry over from ${dataDir} to every new node: credentials.json (the root key, unless MEDLEY_ACCESS_KEY_ID/SECRET are set), ` +
        `access-keys.json (if used) and mns-signing.pem/.crt (push signatures); then start with MEDLEY_DATABASE_URL` +
        (s3 ? ` and MEDLEY_BLOB_STORE=s3 with the same S3 settings.` : '.'),
    );
  } finally {
    if (src.inTransaction) src.exec('ROLLBACK');
    src.close();
    await target.destroy();
    s3?.close();
  }
}

/** Why the target cannot take the copy, or undefined when it is empty. */
async function targetRefusal(target: AnyDb, tables: string[]): Promise<string | undefined> {
  const present = new Set(
    (await sql<{ table_name: string }>`select table_name from information_schema.tables where table_schema = current_schema()`.execute(target)).rows.map((r) => r.table_name),
  );
  const missing = tables.filter((t) => !present.has(t));
  if (missing.length) return `the target database lacks table(s) ${missing.join(', ')} that the source has: is the source from a newer Medley?`;
  const full: string[] = [];
  for (const t of tables) {
    const r = await sql`select 1 from ${sql.table(t)} limit 1`.execute(target);
    if (r.rows.length) full.push(t);
  }
  if (full.length)
    return (
      `refusing to migrate: the target database already holds Medley data (rows in ${full.join(', ')}). ` +
      `medley migrate only writes into an empty database; point --to-database at a new database, or drop and recreate this one to start over.`
    );
  return undefined;
}

interface BlobRow {
  id: string;
  size: number;
  refs: number;
}

async function copyBlobs(src: Database.Database, fs: FsBlobStore, s3: S3BlobStore, dataDir: string, opts: MigrateOptions, print: (l: string) => void): Promise<void> {
  // Inline blobs (storage/inline-blobs.ts) have no file: their bytes go over with the blobs table.
  const blobs = src.prepare('SELECT id, size, refs FROM blobs WHERE data IS NULL ORDER BY id').all() as BlobRow[];
  const ids = new Set(blobs.map((b) => b.id));
  for await (const { id } of s3.list()) {
    if (!ids.has(id)) {
      throw new MigrateError(
        `refusing to migrate: the S3 prefix ${JSON.stringify(config(opts).s3Prefix)} in bucket ${config(opts).s3Bucket} already holds blob ${id}, which is not one of this data dir's blobs. ` +
          `Choose an empty --s3-prefix (blobs of an interrupted run of this same migration are fine: they are verified and skipped).`,
      );
    }
  }
  const known = knownMd5s(src);
  const total = blobs.reduce((n, b) => n + b.size, 0);
  print(`blobs: ${blobs.length} (${mib(total)}) to ${config(opts).s3Endpoint ?? 'S3'} bucket ${config(opts).s3Bucket}, prefix ${JSON.stringify(config(opts).s3Prefix)}`);
  let done = 0;
  let bytes = 0;
  let skipped = 0;
  let lastPrint = 0;
  const report = (force = false) => {
    if (!force && Date.now() - lastPrint < 1000) return;
    lastPrint = Date.now();
    print(`  blobs ${done}/${blobs.length}, ${mib(bytes)} / ${mib(total)}${skipped ? `, ${skipped} already in S3` : ''}`);
  };
  const one = async (b: BlobRow) => {
    const local = await stat(join(dataDir, 'blobs', b.id.slice(0, 2), b.id.slice(2, 4), b.id)).catch(() => undefined);
    if (!local) {
      // An unreferenced row is a blob on its way out (the sweep removes it): nothing to lose.
      if (b.refs === 0) return void print(`  blob ${b.id}: unreferenced and not on disk; its row is copied, no bytes`);
      throw new MigrateError(`blob ${b.id} (${b.refs} reference(s)) is missing from ${join(dataDir, 'blobs')}: the embedded install is damaged; nothing was written to the database`);
    }
    if (local.size !== b.size) throw new MigrateError(`blob ${b.id} is ${local.size} bytes on disk but ${b.size} in the index: the embedded install is damaged`);
    const checkKnown = (md5: Buffer) => {
      const want = known.get(b.id);
      if (want && want !== md5.toString('hex')) throw new MigrateError(`blob ${b.id} on disk does not match its recorded MD5 ${want.toUpperCase()} (got ${md5.toString('hex').toUpperCase()}): the local copy is corrupt`);
    };
    const there = await s3.stat(b.id);
    if (there && there.size === b.size) {
      const h = await hashStream(await fs.open(b.id), s3.partSize);
      checkKnown(h.md5);
      if (await provenInS3(s3, b.id, there.etag, h, opts.readBack)) {
        skipped++;
        done++;
        bytes += b.size;
        return report();
      }
    }
    const hasher = new Hasher(s3.partSize);
    const writer = await s3.createAt(b.id);
    try {
      await pipeline(
        await fs.open(b.id),
        async function* (source: AsyncIterable<Buffer>) {
          for await (const chunk of source) {
            hasher.update(chunk);
            yield chunk;
          }
        },
        writer.stream as Writable,
      );
      await writer.finish();
    } catch (e) {
      await writer.discard();
      throw e;
    }
    const h = hasher.finish();
    checkKnown(h.md5);
    const after = await s3.stat(b.id);
    if (!after || after.size !== b.size || !(await provenInS3(s3, b.id, after.etag, h, opts.readBack))) {
      throw new MigrateError(`blob ${b.id}: the bytes stored in S3 do not hash to the local file's MD5 ${h.md5.toString('hex').toUpperCase()}; run medley migrate again to retry`);
    }
    done++;
    bytes += b.size;
    report();
  };
  const queue = [...blobs];
  const workers = Array.from({ length: Math.max(1, opts.concurrency ?? 4) }, async () => {
    for (let b = queue.shift(); b; b = queue.shift()) await one(b);
  });
  await Promise.all(workers);
  report(true);
  print(`  verified: ${verified.byEtag} by S3 ETag = MD5, ${verified.byReadBack} by reading back`);
}

const config = (o: MigrateOptions) => o.config;

/** How the copies were verified, for the summary line. */
const verified = { byEtag: 0, byReadBack: 0 };

async function provenInS3(s3: S3BlobStore, id: string, etag: string, h: { md5: Buffer; parts: Buffer[] }, readBack?: boolean): Promise<boolean> {
  if (!readBack && etagProves(etag, h.md5, h.parts)) {
    verified.byEtag++;
    return true;
  }
  verified.byReadBack++;
  const back = await hashStream(await s3.open(id), s3.partSize);
  return back.md5.equals(h.md5);
}

/** Blob id -> MD5 (lowercase hex) where the index records it: Normal objects of one whole blob, upload parts. */
function knownMd5s(src: Database.Database): Map<string, string> {
  const known = new Map<string, string>();
  for (const o of src.prepare(`SELECT size, etag, segments FROM objects WHERE object_type = 'Normal'`).iterate() as IterableIterator<{ size: number; etag: string; segments: string }>) {
    if (!/^[0-9A-Fa-f]{32}$/.test(o.etag)) continue;
    const segs = JSON.parse(o.segments) as [string, number][];
    if (segs.length === 1 && segs[0]![1] === o.size) known.set(segs[0]![0], o.etag.toLowerCase());
  }
  for (const p of src.prepare('SELECT blob_id, etag FROM parts').iterate() as IterableIterator<{ blob_id: string; etag: string }>) {
    if (/^[0-9A-Fa-f]{32}$/.test(p.etag)) known.set(p.blob_id, p.etag.toLowerCase());
  }
  return known;
}

async function copyTables(src: Database.Database, target: AnyDb, tables: string[], print: (l: string) => void): Promise<void> {
  let totalRows = 0;
  await target.transaction().execute(async (tx) => {
    // Checked again under the write lock: nothing else wrote meanwhile.
    const refusal = await targetRefusal(tx, tables);
    if (refusal) throw new MigrateError(refusal);
    for (const t of tables) {
      const columns = (src.prepare(`SELECT name FROM pragma_table_info(?)`).all(t) as { name: string }[]).map((c) => c.name);
      const per = batchRows(columns.length);
      const list = columns.map((c) => `"${c.replace(/"/g, '""')}"`).join(', ');
      let rows = 0;
      let batch: Record<string, unknown>[] = [];
      const flush = async () => {
        if (!batch.length) return;
        await tx.insertInto(t).values(batch).execute();
        rows += batch.length;
        batch = [];
      };
      for (const row of src.prepare(`SELECT ${list} FROM "${t.replace(/"/g, '""')}"`).iterate() as IterableIterator<Record<string, unknown>>) {
        batch.push(row);
        if (batch.length >= per) await flush();
      }
      await flush();
      // Generated ids (bigserial) continue after the copied ones.
      if (columns.includes('id')) {
        const seq = (await sql<{ seq: string | null }>`select pg_get_serial_sequence(${t}, 'id') as seq`.execute(tx)).rows[0]?.seq;
        if (seq) await sql`select setval(${seq}::regclass, coalesce((select max(id) from ${sql.table(t)}), 1), (select count(*) > 0 from ${sql.table(t)}))`.execute(tx);
      }
      totalRows += rows;
      print(`  table ${t}: ${rows} row${rows === 1 ? '' : 's'}`);
    }
    print(`tables: ${tables.length}, rows: ${totalRows}; committing`);
  });
  print('database committed');
}

/** The S3 settings of `medley serve`, same flags, env and validation (src/config.ts). */
const S3_KEYS: SettingKey[] = ['s3Endpoint', 's3Bucket', 's3Prefix', 's3Region', 's3AccessKeyId', 's3SecretAccessKey', 's3ForcePathStyle', 's3CaBundle'];

/** Registers `medley migrate` on the program; `configFrom` is main.ts's validated loader. */
export function registerMigrateCommand(program: Command, configFrom: (opts: Partial<Record<SettingKey, string>>) => Config): void {
  const cmd = program
    .command('migrate')
    .description('copy an embedded install (SQLite + blobs/ in the data dir) into PostgreSQL and an S3-compatible store; stop medley serve/worker first')
    .requiredOption('--to-database <url>', 'target PostgreSQL, postgres://user:pass@host:5432/db (must hold no Medley data)')
    .addOption(new Option('--to-blob-store <kind>', 's3 (copy every blob) or fs (blobs stay in <data-dir>/blobs)').choices(['s3', 'fs']).makeOptionMandatory())
    .option('--data-dir <dir>', 'the embedded install [env MEDLEY_DATA_DIR, default ./data]')
    .option('--read-back', 'verify every blob by reading it back from S3 (default: when its ETag does not prove the MD5)')
    .option('--concurrency <n>', 'blobs copied at once', '4');
  for (const s of settingSpecs) if (S3_KEYS.includes(s.key)) cmd.addOption(new Option(s.flag, `${s.help} [env ${s.env}${s.def !== undefined ? `, default ${s.def}` : ''}]`));
  cmd.action(async (o: Partial<Record<SettingKey, string>> & { toDatabase: string; toBlobStore: string; readBack?: boolean; concurrency: string }) => {
    const flags: Partial<Record<SettingKey, string>> = { dataDir: o.dataDir, databaseUrl: o.toDatabase, blobStore: o.toBlobStore };
    for (const k of S3_KEYS) if (o[k] !== undefined) flags[k] = o[k];
    const cfg = configFrom(flags);
    const concurrency = Number(o.concurrency);
    if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 64) {
      console.error('--concurrency: must be a whole number from 1 to 64');
      process.exit(2);
    }
    try {
      await runMigrate({ config: cfg, readBack: o.readBack, concurrency });
    } catch (e) {
      console.error(`medley migrate: ${e instanceof Error ? e.message : String(e)}`);
      const refused = e instanceof MigrateError && e.message.startsWith('refusing');
      if (!refused) console.error('Nothing was committed to the target database; blobs already copied are verified and skipped when you run the same command again.');
      process.exitCode = 1;
    }
  });
}
