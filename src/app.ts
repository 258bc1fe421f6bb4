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
import { MediaEngine } from './media/engine/index.js';

export interface App {
  config: Config;
  db: Db;
  storage: Storage;
  root: RootCredentials;
  http: RunningServer;
  engine: MediaEngine;
  log: Logger;
  stop(): Promise<void>;
}

/** `env` is only used to search PATH for ffmpeg/ffprobe. */
export async function startApp(config: Config, env: NodeJS.ProcessEnv = {}, log: Logger = pino({ level: config.logLevel })): Promise<App> {
  const dataDir = resolve(config.dataDir);
  await mkdir(dataDir, { recursive: true });
  const root = await loadRootCredentials(dataDir, config);
  const db = await openDatabase(join(dataDir, 'medley.db'), { durable: config.fsync });
  const storage = await openStorage(db, { dataDir, fsync: config.fsync, maxObjectBytes: config.maxObjectBytes });
  const lookup = (id: string) => (id === root.accessKeyId ? root : undefined);
  const engine = await MediaEngine.start({ ffmpeg: config.ffmpeg, ffprobe: config.ffprobe, env });
  for (const d of engine.dropped) log.warn({ engine: d }, 'an FFmpeg engine was found but cannot be used');
  if (!engine.available) log.warn('no usable FFmpeg engine: media processing requests will fail (see `medley doctor`)');
  let http: RunningServer;
  try {
    http = await startHttpServer({ config, storage, lookup, log, engine });
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
    engine,
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
