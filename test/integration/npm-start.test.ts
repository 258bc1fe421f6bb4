/**
 * `npm start` as a newcomer runs it: package.json's start script launches the built server with the node
 * flags it carries (`--max-semi-space-size=4`, which lowers peak RSS with many concurrent big transfers —
 * README, Benchmarks; V8 reads it only at start, so the launch command is the one place it can be set) and serves.
 * The benchmarks read the same script (bench/lib/medley.mjs), so they measure what this starts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TEST_KEY_ID, TEST_SECRET } from '../support/server.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** The command lines (argv) of the processes in process group `pgid` (Linux /proc). */
async function groupCommandLines(pgid: number): Promise<string[][]> {
  const lines: string[][] = [];
  for (const pid of (await readdir('/proc')).filter((n) => /^\d+$/.test(n))) {
    try {
      const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
      // pid (comm) state ppid pgrp ...: comm may hold spaces, so split after its closing parenthesis.
      const pgrp = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]);
      if (pgrp === pgid) lines.push((await readFile(`/proc/${pid}/cmdline`, 'utf8')).split('\0').filter(Boolean));
    } catch {
      // the process ended while we looked
    }
  }
  return lines;
}

test('package.json start script: node flags first, then the built CLI serve command', async () => {
  const pkg = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as { scripts: { start: string } };
  assert.match(pkg.scripts.start, /^node (--[a-z-]+(=\d+)? )*dist\/cli\/main\.js serve$/);
  assert.ok(pkg.scripts.start.includes('--max-semi-space-size=4'));
});

test('npm start serves on the given port and data dir, and stops on SIGTERM', async () => {
  const dataDir = await mkdtemp(join(tmpdir(), 'medley-npm-start-'));
  // detached: its own process group, so the signal reaches npm, the shell and node alike.
  const child = spawn('npm', ['start', '--silent', '--', '--port', '0', '--mns-port', '0', '--data-dir', dataDir], {
    cwd: ROOT,
    detached: true,
    env: { ...process.env, MEDLEY_HOST: '127.0.0.1', MEDLEY_ACCESS_KEY_ID: TEST_KEY_ID, MEDLEY_ACCESS_KEY_SECRET: TEST_SECRET, MEDLEY_LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  try {
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`npm start did not print "listening on" in 30 s:\n${out}`)), 30_000);
      child.stdout.on('data', () => {
        const m = /listening on (http:\/\/\S+)/.exec(out);
        if (m) {
          clearTimeout(timer);
          resolve(m[1]!);
        }
      });
      void exited.then((code) => {
        clearTimeout(timer);
        reject(new Error(`npm start exited (${code}) before listening:\n${out}`));
      });
    });
    const health = await fetch(new URL('/-/health', url));
    assert.equal(health.status, 200);
    assert.match(out, new RegExp(`data dir ${dataDir}`));
    if (process.platform === 'linux') {
      const server = (await groupCommandLines(child.pid!)).find((argv) => argv.includes('serve') && argv.some((a) => a.endsWith('main.js')));
      assert.ok(server, 'the node process serving');
      assert.ok(server.includes('--max-semi-space-size=4'), `node runs with npm start's flags: ${server.join(' ')}`);
    }
  } finally {
    if (child.exitCode === null) process.kill(-child.pid!, 'SIGTERM');
    await exited;
    await rm(dataDir, { recursive: true, force: true });
  }
});
