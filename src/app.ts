/**
 * Assembles a running Medley from a Config. `startApp` (medley serve): the API and, unless workers = 0,
 * a worker pool. `startWorkerApp` (medley worker): the worker pool only, on the same data directory.
 */
import { mkdir } from 'node:fs/promises';
import { availableParallelism, hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { pino, type Logger } from 'pino';
import { sql } from 'kysely';
import { mediaLimits, type Config } from './config.js';
import { openDatabase, type Db } from './db/connection.js';
import { openWakeups, type Wakeups } from './db/wakeups.js';
import { openStorage, type Storage } from './storage/index.js';
import type { S3BlobStoreOptions } from './storage/s3-blob-store.js';
import { loadRootCredentials, type RootCredentials } from './auth/root-credentials.js';
import { loadAccessKeys } from './auth/access-keys.js';
import { KeyCache, KeyStore } from './auth/key-store.js';
import type { Credential, CredentialLookup } from './auth/credentials.js';
import { NonceStore } from './auth/nonce-store.js';
import { startHttpServer, type RunningServer } from './http/server.js';
import { MediaEngine } from './media/engine/index.js';
import { prepareSandbox, prepareWorkRoot } from './media/engine/sandbox.js';
import { ProjectService } from './projects/service.js';
import { TaskQueue } from './tasks/queue.js';
import { TaskService, TaskSignal } from './tasks/service.js';
import { processOwnerPrefix, WorkerPool } from './tasks/worker-pool.js';
import { MnsService } from './notify/mns-service.js';
import { OutboxDispatcher } from './notify/outbox.js';
import { PushDeliverer } from './notify/push-deliverer.js';
import { loadOrCreateSharedPushSigningKeys, type PushSigningKeyPair } from './notify/push-signing.js';
import { startMnsServer, type RunningMnsServer } from './http/mns/server.js';
import { tlsFiles, urlHost } from './http/listen.js';
import { DiskSpace } from './storage/disk-space.js';
import { Metrics } from './observability/metrics.js';

/** Everything both commands share: data, credentials, the engine and the task queue. */
export interface Core {
  config: Config;
  dataDir: string;
  db: Db;
  storage: Storage;
  root: RootCredentials;
  lookup: CredentialLookup;
  /** The database's scoped keys as the lookup serves them; stopped before the database closes. */
  keyCache: KeyCache;
  engine: MediaEngine;
  queue: TaskQueue;
  signal: TaskSignal;
  /** Wake-ups between the waiting loops of every node (in-process on SQLite, LISTEN/NOTIFY on PostgreSQL). */
  wakeups: Wakeups;
  tasks: TaskService;
  projects: ProjectService;
  nonces: NonceStore;
  pool: WorkerPool;
  /** The message service (MNS): queues, topics, publishing. */
  mns: MnsService;
  /** Publishes task-completion messages from the outbox to their topics. */
  outbox: OutboxDispatcher;
  signing: PushSigningKeyPair;
  /** Parent of the private per-task work directories (sandbox.ts prepareWorkRoot). */
  workRoot: string;
  log: Logger;
  /** Free space on the data volume against MEDLEY_MIN_FREE_DISK (sampled in the background). */
  disk: DiskSpace;
  /** The metrics registry (GET /-/metrics on `medley serve`). */
  metrics: Metrics;
}

export interface App extends Core {
  http: RunningServer;
  mnsServer: RunningMnsServer;
  stop(): Promise<void>;
}

export interface WorkerApp extends Core {
  stop(): Promise<void>;
}

/** The S3 blob store's settings, when MEDLEY_BLOB_STORE=s3. */
function s3Options(config: Config): S3BlobStoreOptions | undefined {
  if (config.blobStore !== 's3' || config.s3Bucket === undefined) return undefined;
  return {
    endpoint: config.s3Endpoint,
    bucket: config.s3Bucket,
    prefix: config.s3Prefix,
    region: config.s3Region,
    accessKeyId: config.s3AccessKeyId,
    secretAccessKey: config.s3SecretAccessKey,
    forcePathStyle: config.s3ForcePathStyle,
    caBundle: config.s3CaBundle,
  };
}

export function workerCount(config: Config): number {
  return config.workers === 'auto' ? availableParallelism() : config.workers;
}

/**
 * MEDLEY_MAX_RUNNING_PER_KEY; `auto` leaves one of this process's workers to other keys (at least 1), so
 * a key whose long tasks fill the queue never makes another key's task wait for one of them to end. The
 * `auto` limit counts the key's tasks running in this process only (TaskQueue limitScope), so every worker
 * process added adds capacity for one key too; a number is a cap counted over every process.
 */
export function maxRunningPerKey(config: Config, workers: number): number {
  return config.maxRunningPerKey === 'auto' ? Math.max(1, workers - 1) : config.maxRunningPerKey;
}

/** `env` is only used to search PATH for ffmpeg/ffprobe. */
async function openCore(config: Config, env: NodeJS.ProcessEnv, log: Logger, workers: number): Promise<Core> {
  const dataDir = resolve(config.dataDir);
  await mkdir(dataDir, { recursive: true });
  const root = await loadRootCredentials(dataDir, config);
  const extra = await loadAccessKeys(config.keysFile ?? join(dataDir, 'access-keys.json'), config.keysFile !== undefined);
  const keys = new Map<string, Credential>(extra.map((k) => [k.accessKeyId, k]));
  if (keys.has(root.accessKeyId)) throw new Error(`the access-keys file reuses the root AccessKeyId ${root.accessKeyId}`);
  keys.set(root.accessKeyId, root);
  // Root key and the legacy access-keys file (read-only, read at start) first, then the scoped keys of the
  // database (`medley keys`), served from a cache every node refreshes every KEY_REFRESH_MS.
  let storedKeys: KeyCache | undefined;
  const lookup: CredentialLookup = (id) => keys.get(id) ?? storedKeys?.get(id);

  const db = await openDatabase(config.databaseUrl ?? join(dataDir, 'medley.db'), { durable: config.fsync, poolSize: config.databasePool, connectTimeoutMs: config.databaseConnectTimeoutSeconds * 1000, log });
  let closeWakeups: (() => Promise<void>) | undefined;
  try {
    storedKeys = new KeyCache(new KeyStore(db), { onError: (err) => log.warn({ err }, 'could not refresh the access keys from the database') });
    await storedKeys.start();
    const storage = await openStorage(db, { dataDir, fsync: config.fsync, maxObjectBytes: config.maxObjectBytes, s3: s3Options(config) });
    // FFmpeg least privilege: the user it runs as, its limits, and a work root that user can reach.
    const sandbox = await prepareSandbox({ user: config.ffmpegUser, memoryBytes: config.ffmpegMaxMemory, fileBytes: config.ffmpegMaxFileSize, cpuSeconds: config.ffmpegMaxCpuSeconds }, log);
    const workRoot = await prepareWorkRoot(dataDir, config.workDir, sandbox, log);
    if (sandbox.user) log.info({ user: sandbox.user.name, uid: sandbox.user.uid, workRoot }, 'FFmpeg runs as an unprivileged user');
    const engine = await MediaEngine.start({ ffmpeg: config.ffmpeg, ffprobe: config.ffprobe, env, limits: mediaLimits(config), sandbox, log });
    // The reserve's refusals are counted by the metrics, which read the disk samples: built together.
    const disk = new DiskSpace({
      path: dataDir,
      reserve: config.minFreeDisk,
      onRefused: () => metrics.limitRefused('min_free_disk'),
      onError: (err) => log.warn({ err }, 'could not read the free space of the data volume'),
    });
    const metrics = new Metrics({ db, disk });
    engine.onRun = (seconds, ok) => metrics.observeFfmpeg(seconds, ok);
    await disk.start();
    for (const d of engine.dropped) log.warn({ engine: d }, 'an FFmpeg engine was found but cannot be used');
    if (!engine.available) log.warn('no usable FFmpeg engine: media tasks will fail (see `medley doctor`)');
    // `auto` reserves a share of this process's slots (counted in this process); a number caps the installation.
    const queue = new TaskQueue(db, undefined, { maxRunningPerKey: maxRunningPerKey(config, workers), ...(config.maxRunningPerKey === 'auto' ? { limitScope: processOwnerPrefix(config.nodeName) } : {}) });
    const wakeups = await openWakeups(db, config.databaseUrl, log);
    closeWakeups = () => wakeups.close();
    const signal = new TaskSignal(wakeups);
    const tasks = new TaskService(queue, storage, { retentionMs: config.taskRetentionDays * 24 * 3600 * 1000, signal, maxQueuedPerKey: config.maxQueuedPerKey });
    const projects = new ProjectService(db);
    const nonces = new NonceStore(db);
    const mns = MnsService.fromConfig(db, config, wakeups);
    const outbox = new OutboxDispatcher({ db, publisher: mns, log: log.child({ component: 'outbox' }) });
    // A task finished on any node wakes the dispatchers (each outbox row is still claimed by one of them).
    wakeups.subscribe('outbox', () => outbox.kick());
    const signing = await loadOrCreateSharedPushSigningKeys(db, dataDir);
    const pool = new WorkerPool({
      storage,
      engine,
      queue,
      workRoot,
      timeoutMs: config.taskTimeoutSeconds * 1000,
      log: log.child({ component: 'worker' }),
      concurrency: workers,
      leaseMs: config.taskLeaseSeconds * 1000,
      pollMs: config.pollMs,
      signal,
      notify: { region: config.region, accountId: config.accountId },
      onFinished: () => wakeups.notify('outbox'),
      onPhases: (phases) => metrics.observeTaskPhases(phases),
      nodeName: config.nodeName,
    });
    return { config, dataDir, db, storage, root, lookup, keyCache: storedKeys, engine, queue, signal, wakeups, tasks, projects, nonces, pool, mns, outbox, signing, workRoot, log, disk, metrics };
  } catch (e) {
    await storedKeys?.stop();
    await closeWakeups?.();
    await db.destroy();
    throw e;
  }
}

/** Every line names the node (MEDLEY_NODE_NAME), so the logs of several nodes can be merged. */
function defaultLogger(config: Config): Logger {
  return pino({ level: config.logLevel, base: { pid: process.pid, hostname: hostname(), node: config.nodeName } });
}

/** Closes the database and then the wake-up listener (nothing is sent once the pool is gone). */
async function closeData(core: Core): Promise<void> {
  core.signal.close();
  await core.keyCache.stop();
  await core.db.destroy();
  await core.wakeups.close();
}

export const SIGNING_CERT_PATH = '/-/mns-signing.crt';

/**
 * Starts publishing (outbox → topics) and HTTP push delivery; `certUrl` is where receivers fetch the
 * certificate that verifies push signatures (served by `medley serve` on the MNS port).
 */
function startNotifications(core: Core, certUrl: string): () => Promise<void> {
  const deliverer = new PushDeliverer({ db: core.db, log: core.log.child({ component: 'push' }), signing: { privateKeyPem: core.signing.privateKeyPem, certUrl }, accountId: core.config.accountId });
  const unsubscribe = core.mns.onPush(() => deliverer.kick());
  core.outbox.start();
  deliverer.start();
  const purge = () => void core.mns.purgeAllExpired().catch((err: unknown) => core.log.warn({ err }, 'purging expired messages failed'));
  const timer = setInterval(purge, 10 * 60 * 1000);
  timer.unref();
  return async () => {
    clearInterval(timer);
    unsubscribe();
    await Promise.all([core.outbox.stop(), deliverer.stop()]);
  };
}

/** Where receivers fetch the push-signing certificate: the MNS port, https when Medley serves TLS. */
function signingCertUrl(config: Config, mnsPort: number): string {
  return `${tlsFiles(config) ? 'https' : 'http'}://${urlHost(config.host)}:${mnsPort}${SIGNING_CERT_PATH}`;
}

/** Collects blob files left by crashes (writes cut off before their commit), at start and hourly. */
function startSweeper(core: Core): () => void {
  const sweep = () =>
    core.storage
      .sweepOrphans()
      .then((n) => n > 0 && core.log.info({ removed: n }, 'removed orphaned blob files'))
      .catch((err: unknown) => core.log.warn({ err }, 'orphan sweep failed'));
  void sweep();
  const timer = setInterval(() => void sweep(), 60 * 60 * 1000);
  timer.unref();
  return () => clearInterval(timer);
}

export async function startApp(config: Config, env: NodeJS.ProcessEnv = {}, log: Logger = defaultLogger(config)): Promise<App> {
  const core = await openCore(config, env, log, workerCount(config));
  let http: RunningServer;
  try {
    http = await startHttpServer({
      config,
      storage: core.storage,
      lookup: core.lookup,
      log,
      engine: core.engine,
      tasks: core.tasks,
      projects: core.projects,
      nonces: core.nonces,
      workDir: core.workRoot,
      workers: core.pool.concurrency,
      disk: core.disk,
      metrics: core.metrics,
      rootAccessKeyId: core.root.accessKeyId,
      db: core.db,
      mns: core.mns,
      pingDatabase: async () => void (await sql`select 1`.execute(core.db)),
    });
  } catch (e) {
    await closeData(core);
    throw e;
  }
  let mnsServer: RunningMnsServer;
  try {
    mnsServer = await startMnsServer({
      config,
      lookup: core.lookup,
      mns: core.mns,
      log: log.child({ component: 'mns' }),
      disk: core.disk,
      metrics: core.metrics,
      extraRoutes: (req, res) => {
        if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== SIGNING_CERT_PATH) return false;
        res.writeHead(200, { 'Content-Type': 'application/x-pem-file' });
        res.end(core.signing.certificatePem);
        return true;
      },
    });
  } catch (e) {
    await http.close();
    await closeData(core);
    throw e;
  }
  await core.pool.start();
  const stopNotifications = startNotifications(core, signingCertUrl(config, mnsServer.port));
  const stopSweeper = startSweeper(core);
  let stopping: Promise<void> | undefined;
  return {
    ...core,
    http,
    mnsServer,
    stop() {
      stopping ??= (async () => {
        stopSweeper();
        core.disk.stop();
        await Promise.all([http.close(), mnsServer.close(), core.pool.stop()]);
        await stopNotifications();
        core.mns.close();
        await closeData(core);
      })();
      return stopping;
    },
  };
}

export async function startWorkerApp(config: Config, env: NodeJS.ProcessEnv = {}, log: Logger = defaultLogger(config)): Promise<WorkerApp> {
  const workers = workerCount(config);
  if (workers < 1) throw new Error('medley worker needs at least one worker (MEDLEY_WORKERS)');
  const core = await openCore(config, env, log, workers);
  await core.pool.start();
  // Receivers fetch the certificate from the `medley serve` sharing this configuration.
  const stopNotifications = startNotifications(core, signingCertUrl(config, config.mnsPort));
  let stopping: Promise<void> | undefined;
  return {
    ...core,
    stop() {
      stopping ??= (async () => {
        core.disk.stop();
        await core.pool.stop();
        await stopNotifications();
        core.mns.close();
        await closeData(core);
      })();
      return stopping;
    },
  };
}
