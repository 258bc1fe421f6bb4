/**
 * Starts the real `medley serve` (the built dist/ entry point) as a child process on a free loopback
 * port with a temp data dir, and stops it. Integration tests talk to it over real HTTP.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const TEST_KEY_ID = 'LTAI5tTestKeyId0001';
export const TEST_SECRET = 'TestSecret0000000000000000000001';
const MAIN = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));

export interface TestServer {
  url: string;
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
  const child = spawn(process.execPath, [MAIN, 'serve', '--port', '0', '--data-dir', dataDir, ...(opts.args ?? [])], {
    env: {
      ...process.env,
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
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) {
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
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
  };
  return {
    url,
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
    },
    output: () => out,
  };
}
