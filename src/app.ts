/**
 * Assembles a running Medley from a Config: database, storage, credentials and the HTTP listener.
 * Used by `medley serve` and by tests that want an in-process server.
 */
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { pino, type Logger } from 'pino';
import type { Config } from './config.js';
import { openDatabase, type Db } from './db/connection.js';
import { openStorage, type Storage } from './storage/index.js';
import { loadRootCredentials, type RootCredentials } from './auth/root-credentials.js';
import { startHttpServer, type RunningServer } from './http/server.js';

export interface App {
  config: Config;
  db: Db;
  storage: Storage;
  root: RootCredentials;
  http: RunningServer;
  log: Logger;
  stop(): Promise<void>;
}

export async function startApp(config: Config, log: Logger = pino({ level: config.logLevel })): Promise<App> {
  const dataDir = resolve(config.dataDir);
  await mkdir(dataDir, { recursive: true });
  const root = await loadRootCredentials(dataDir, config);
  const db = await openDatabase(join(dataDir, 'medley.db'));
  const storage = await openStorage(db, { dataDir, fsync: config.fsync, maxObjectBytes: config.maxObjectBytes });
  const lookup = (id: string) => (id === root.accessKeyId ? root : undefined);
  let http: RunningServer;
  try {
    http = await startHttpServer({ config, storage, lookup, log });
  } catch (e) {
    await db.destroy();
    throw e;
  }
  // Collect blob files left by crashes (writes cut off before their commit) in the background.
  const sweep = () =>
    storage
      .sweepOrphans()
      .then((n) => n > 0 && log.info({ removed: n }, 'removed orphaned blob files'))
      .catch((err: unknown) => log.warn({ err }, 'orphan sweep failed'));
  void sweep();
  const sweeper = setInterval(() => void sweep(), 60 * 60 * 1000);
  sweeper.unref();

  let stopping: Promise<void> | undefined;
  return {
    config,
    db,
    storage,
    root,
    http,
    log,
    stop() {
      stopping ??= (async () => {
        clearInterval(sweeper);
        await http.close();
        await db.destroy();
      })();
      return stopping;
    },
  };
}
