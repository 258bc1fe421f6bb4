/**
 * The engine launcher's own process (see launcher.ts). Medley starts it with an IPC channel; it spawns the
 * engine children Medley asks for, exactly as asked (file, argv, cwd, environment, user), and relays their
 * output and exit. It imports nothing else, so it stays small and forking it stays cheap. Only Medley's
 * messages reach it (the channel is the inherited descriptor pair); when Medley goes away, it kills the
 * children it started and exits.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import type { LauncherReply, LauncherRequest } from './launcher.js';

const children = new Map<number, ChildProcess>();

function send(m: LauncherReply): void {
  if (process.connected) process.send!(m);
}

function start(m: Extract<LauncherRequest, { t: 'spawn' }>): void {
  let child: ChildProcess;
  try {
    child = spawn(m.file, m.args, { cwd: m.cwd, env: m.env, stdio: ['ignore', 'pipe', 'pipe'], windowsHide: true, ...(m.uid !== undefined ? { uid: m.uid, gid: m.gid } : {}) });
  } catch (e) {
    send({ t: 'error', id: m.id, message: e instanceof Error ? e.message : String(e), code: (e as NodeJS.ErrnoException).code });
    send({ t: 'close', id: m.id, code: null, signal: null });
    return;
  }
  children.set(m.id, child);
  child.on('spawn', () => send({ t: 'spawn', id: m.id, pid: child.pid! }));
  child.stdout!.on('data', (d: Buffer) => send({ t: 'out', id: m.id, data: d }));
  child.stderr!.on('data', (d: Buffer) => send({ t: 'err', id: m.id, data: d }));
  child.on('error', (e: NodeJS.ErrnoException) => send({ t: 'error', id: m.id, message: e.message, code: e.code }));
  child.on('close', (code, signal) => {
    children.delete(m.id);
    send({ t: 'close', id: m.id, code, signal });
  });
}

process.on('message', (m: LauncherRequest) => {
  if (m.t === 'spawn') start(m);
  else if (m.t === 'kill') children.get(m.id)?.kill(m.signal);
});

process.on('disconnect', () => {
  for (const c of children.values()) c.kill('SIGKILL');
  process.exit(0);
});
