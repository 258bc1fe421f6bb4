/**
 * Starting engine children from a small helper process. Node's spawn forks the calling process on the main
 * thread: the time grows with the caller's memory (about 1 ms from a 50 MB process, 10–20 ms from a
 * 150 MB server, more under load) and blocks every request meanwhile. A server runs two or three engine
 * children per task (probe, FFmpeg, verification), so `medley serve` and `medley worker` hand the spawns
 * to a launcher process (launcher-process.ts, started once, a bare Node with nothing loaded) that forks
 * cheaply and relays output and exit over its IPC channel.
 *
 * What runs is unchanged: the same file and argv (with the prlimit wrapper), cwd, minimal environment and
 * user, decided by sandbox.ts before the request is sent. When the launcher cannot be used (it failed to
 * start or died), spawns fall back to Node's own spawn, and children in flight end as failed runs.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { Readable } from 'node:stream';

/** What spawnEngine hands back: the part of ChildProcess the engine uses (a real one, or one relayed by the launcher). */
export interface EngineChild extends EventEmitter {
  readonly stdout: Readable;
  readonly stderr: Readable;
  /** Known once 'spawn' was emitted. */
  readonly pid: number | undefined;
  readonly exitCode: number | null;
  readonly signalCode: NodeJS.Signals | null;
  kill(signal?: NodeJS.Signals): boolean;
}

export type LauncherRequest =
  | { t: 'spawn'; id: number; file: string; args: string[]; cwd: string; env: Record<string, string>; uid?: number; gid?: number }
  | { t: 'kill'; id: number; signal: NodeJS.Signals };

export type LauncherReply =
  | { t: 'spawn'; id: number; pid: number }
  | { t: 'out' | 'err'; id: number; data: Uint8Array }
  | { t: 'error'; id: number; message: string; code?: string }
  | { t: 'close'; id: number; code: number | null; signal: NodeJS.Signals | null };

export interface LaunchOptions {
  cwd: string;
  env: Record<string, string>;
  uid?: number;
  gid?: number;
}

interface LauncherLog {
  warn(obj: object, msg: string): void;
}

/** One child as relayed by the launcher; events and fields as ChildProcess has them. */
class RelayedChild extends EventEmitter implements EngineChild {
  readonly stdout = new Readable({ read() {} });
  readonly stderr = new Readable({ read() {} });
  pid: number | undefined;
  exitCode: number | null = null;
  signalCode: NodeJS.Signals | null = null;
  private closed = false;

  constructor(
    private readonly id: number,
    private readonly launcher: EngineLauncher,
  ) {
    super();
  }

  kill(signal: NodeJS.Signals = 'SIGTERM'): boolean {
    if (this.closed) return false;
    return this.launcher.send({ t: 'kill', id: this.id, signal });
  }

  /** Applies one reply from the launcher. */
  reply(m: LauncherReply): void {
    if (this.closed) return;
    switch (m.t) {
      case 'spawn':
        this.pid = m.pid;
        this.emit('spawn');
        break;
      case 'out':
      case 'err':
        (m.t === 'out' ? this.stdout : this.stderr).push(Buffer.from(m.data.buffer, m.data.byteOffset, m.data.byteLength));
        break;
      case 'error':
        this.emit('error', Object.assign(new Error(m.message), m.code ? { code: m.code } : {}));
        break;
      case 'close':
        this.end(m.code, m.signal);
    }
  }

  /** Ends the child: 'exit', then 'close' once its output was read (as ChildProcess orders them). */
  end(code: number | null, signal: NodeJS.Signals | null): void {
    if (this.closed) return;
    this.closed = true;
    this.exitCode = signal ? null : code;
    this.signalCode = signal;
    this.emit('exit', this.exitCode, signal);
    const ended = (s: Readable) =>
      new Promise<void>((resolve) => {
        if (s.readableEnded) return resolve();
        s.once('end', resolve);
        s.push(null);
        s.resume();
      });
    void Promise.all([ended(this.stdout), ended(this.stderr)]).then(() => this.emit('close', this.exitCode, signal));
  }
}

export class EngineLauncher {
  private readonly live = new Map<number, RelayedChild>();
  private nextId = 1;
  private broken = false;

  private constructor(
    private readonly helper: ChildProcess,
    private readonly log?: LauncherLog,
  ) {
    helper.on('message', (m: LauncherReply) => this.live.get(m.id)?.reply(m));
    helper.on('error', (err) => this.fail(err));
    helper.on('exit', (code, signal) => this.fail(new Error(`the engine launcher exited (${signal ?? code})`)));
    // Neither the process nor its channel keeps Medley running.
    helper.unref();
    (helper.channel as { unref?: () => void } | undefined)?.unref?.();
  }

  /** Starts the launcher process (it boots in the background; requests sent meanwhile wait in its channel). */
  static start(log?: LauncherLog): EngineLauncher {
    const ts = import.meta.url.endsWith('.ts');
    const main = new URL(ts ? './launcher-process.ts' : './launcher-process.js', import.meta.url);
    const helper = fork(main, [], {
      // Only what running the module needs (tsx under the tests), not the server's own flags.
      execArgv: ts ? ['--import', 'tsx'] : [],
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
      serialization: 'advanced',
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    });
    return new EngineLauncher(helper, log);
  }

  /** True while spawns go through the launcher. */
  get usable(): boolean {
    return !this.broken && this.helper.connected;
  }

  /** A child started by the launcher, or undefined when it cannot be used (the caller spawns itself). */
  spawn(file: string, args: readonly string[], opts: LaunchOptions): EngineChild | undefined {
    if (!this.usable) return undefined;
    const id = this.nextId++;
    const child = new RelayedChild(id, this);
    this.live.set(id, child);
    child.once('close', () => this.live.delete(id));
    if (!this.send({ t: 'spawn', id, file, args: [...args], cwd: opts.cwd, env: opts.env, ...(opts.uid !== undefined ? { uid: opts.uid, gid: opts.gid } : {}) })) {
      this.live.delete(id);
      return undefined;
    }
    return child;
  }

  /** Sends a request; false when the channel is gone. */
  send(m: LauncherRequest): boolean {
    if (!this.helper.connected) return false;
    try {
      this.helper.send(m);
      return true;
    } catch {
      return false;
    }
  }

  /** Stops the launcher; it kills the children still running. */
  close(): void {
    this.broken = true;
    if (this.helper.connected) this.helper.disconnect();
  }

  private fail(err: Error): void {
    if (!this.broken) this.log?.warn({ err }, 'the FFmpeg launcher process failed: FFmpeg and ffprobe are started directly from now on');
    this.broken = true;
    for (const child of [...this.live.values()]) {
      child.emit('error', err);
      child.end(null, 'SIGKILL');
    }
    this.live.clear();
  }
}
