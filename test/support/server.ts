/**
 * Starts the real `medley serve` (the built dist/ entry point) as a child process on a free loopback
 * port with a temp data dir, and stops it. Integration tests talk to it over real HTTP.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { backendEnv } from './backend.js';
import { fileURLToPath } from 'node:url';
import { fallbackWorkRoot } from '../../src/media/engine/sandbox.js';

export const TEST_KEY_ID = 'LTAI5tTestKeyId0001';
export const TEST_SECRET = 'TestSecret0000000000000000000001';
const MAIN = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));

export interface TestServer {
  url: string;
  /** The message service (MNS) endpoint. */
  mnsUrl: string;
  port: number;
  dataDir: string;
  keyId: string;
  secret: string;
  process: ChildProcess;
  /** Graceful stop (SIGTERM) and wait for exit. */
  stop(): Promise<void>;
  /** SIGKILL, as a crash would. */
  kill(): Promise<void>;
  /** Stop, and remove the data dir. */
  dispose(): Promise<void>;
  output(): string;
}

export interface StartOptions {
  dataDir?: string;
  env?: Record<string, string>;
  args?: string[];
}

export async function startServer(opts: StartOptions = {}): Promise<TestServer> {
  const dataDir = opts.dataDir ?? (await mkdtemp(join(tmpdir(), 'medley-test-')));
  const child = spawn(process.execPath, [MAIN, 'serve', '--port', '0', '--mns-port', '0', '--data-dir', dataDir, ...(opts.args ?? [])], {
    env: {
      ...process.env,
      ...(await backendEnv(dataDir)),
      MEDLEY_HOST: '127.0.0.1',
      MEDLEY_ACCESS_KEY_ID: TEST_KEY_ID,
      MEDLEY_ACCESS_KEY_SECRET: TEST_SECRET,
      MEDLEY_LOG_LEVEL: 'warn',
      ...opts.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));

  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start in 20 s:\n${out}`)), 20_000);
    const check = () => {
      const m = /listening on (https?:\/\/\S+)/.exec(out);
      if (m && /MNS \(message service\) endpoint/.test(out)) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    };
    child.stdout!.on('data', check);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code}:\n${out}`));
    });
  });
  const port = Number(new URL(url).port);
  const mnsUrl = /MNS \(message service\) endpoint (https?:\/\/\S+)/.exec(out)![1]!;
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
  };
  return {
    url,
    mnsUrl,
    port,
    dataDir,
    keyId: opts.env?.MEDLEY_ACCESS_KEY_ID ?? TEST_KEY_ID,
    secret: opts.env?.MEDLEY_ACCESS_KEY_SECRET ?? TEST_SECRET,
    process: child,
    stop,
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
    async dispose() {
      await stop();
      if (!opts.dataDir) await rm(dataDir, { recursive: true, force: true });
      // The task work root Medley keeps outside the data dir when FFmpeg runs as its own user (sandbox.ts).
      await rm(fallbackWorkRoot(dataDir), { recursive: true, force: true });
    },
    output: () => out,
  };
}

export interface TestWorker {
  dataDir: string;
  process: ChildProcess;
  /** Graceful stop (SIGTERM: running tasks are handed back) and wait for exit; resolves with the exit code. */
  stop(): Promise<number | null>;
  /** SIGKILL, as a crash would. */
  kill(): Promise<void>;
  /** Resolves when the output (stdout + stderr) matches `pattern`, or rejects after `timeoutMs`. */
  waitForOutput(pattern: RegExp, timeoutMs?: number): Promise<string>;
  output(): string;
}

/**
 * Starts `medley worker` (the built dist/ entry point) on `dataDir`, with the same key environment as
 * startServer, and waits for its "worker:" banner.
 */
export async function startWorker(dataDir: string, env: Record<string, string> = {}): Promise<TestWorker> {
  const child = spawn(process.execPath, [MAIN, 'worker', '--data-dir', dataDir], {
    env: {
      ...process.env,
      ...(await backendEnv(dataDir)),
      MEDLEY_ACCESS_KEY_ID: TEST_KEY_ID,
      MEDLEY_ACCESS_KEY_SECRET: TEST_SECRET,
      MEDLEY_LOG_LEVEL: 'warn',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const listeners = new Set<() => void>();
  const onData = (d: Buffer) => {
    out += d.toString();
    for (const l of [...listeners]) l();
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));

  const waitForOutput = (pattern: RegExp, timeoutMs = 20_000) =>
    new Promise<string>((resolve, reject) => {
      const check = () => {
        const m = pattern.exec(out);
        if (!m) return false;
        cleanup();
        resolve(m[0]);
        return true;
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`worker output did not match ${String(pattern)} in ${timeoutMs} ms:\n${out}`));
      }, timeoutMs);
      const onExit = () => {
        if (check()) return;
        cleanup();
        reject(new Error(`worker exited before its output matched ${String(pattern)}:\n${out}`));
      };
      const cleanup = () => {
        clearTimeout(timer);
        listeners.delete(onChange);
        child.off('exit', onExit);
      };
      const onChange = () => void check();
      if (check()) return;
      if (child.exitCode !== null || child.signalCode !== null) {
        onExit();
        return;
      }
      listeners.add(onChange);
      child.once('exit', onExit);
    });

  try {
    await waitForOutput(/ worker: /);
  } catch (e) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    throw e;
  }
  return {
    dataDir,
    process: child,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      return exited;
    },
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
    waitForOutput,
    output: () => out,
  };
}
