/**
 * FFmpeg containment (Medley issue 9 item 2) against the real server: as scoped key A, submit crafted inputs
 * — HLS playlists whose segments are absolute paths, file:// URLs and ../ paths, and an ffconcat list —
 * through audio/convert (async tasks) and x-oss-process=audio/info (sync), aiming at
 *  (a) key B's private source: its object bytes in the blob store, and the work directory a task of B's
 *      would have had under the old predictable name (`../MediaConvert-<B's task id>.1/in-0.wav`);
 *  (b) files outside the data dir with unique markers (a 1234 Hz tone WAV tagged with a text marker): one
 *      root-only (0600), one world-readable inside a root-only (0700) folder, as under /root.
 * No byte of them may come back — no output object, no tone in any output, no marker in any message or
 * info body — and every request or task fails cleanly (no 500). A control run of the bare FFmpeg on the
 * same playlist proves the inputs really are exploits. The absolute-path cases rely on the unprivileged
 * FFmpeg user, which exists only when the server runs as root: without root they are skipped, saying so.
 * Run for every engine present: the bundled one always, a system one when `ffmpeg` is on PATH.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EMBEDDED_BACKEND } from '../support/backend.js';
import { startServer, type TestServer } from '../support/server.js';
import { localhostAgent, makeAliClient, type AliClient } from '../support/alioss.js';
import { rawRequest } from '../support/raw-client.js';
import { b64, popClient, submitAsyncProcess, waitForTask, type ImmCaller } from '../support/tasks.js';
import { FFMPEG, FFPROBE, decode, ffmpeg, frequency } from '../support/media.js';
import { workRootOf } from '../support/work-root.js';
import { fallbackWorkRoot } from '../../src/media/engine/sandbox.js';
import type OSS from 'ali-oss';

const ROOT = typeof process.getuid === 'function' && process.getuid() === 0;
const NOT_ROOT_SKIP = ROOT ? false : 'not root: FFmpeg runs as the server user (no MEDLEY_FFMPEG_USER), so files that user may read are not contained';

const IN_A = 'ctn-in-a';
const OUT_A = 'ctn-out-a';
const IN_B = 'ctn-in-b';
const KEY_A = { accessKeyId: 'LTAIctnKeyA000001', accessKeySecret: 'KeyASecret000000000000000000001', buckets: { [IN_A]: 'read-write', [OUT_A]: 'read-write' } };
const KEY_B = { accessKeyId: 'LTAIctnKeyB000001', accessKeySecret: 'KeyBSecret000000000000000000001', buckets: { [IN_B]: 'read-write' } };
const MARKER_HZ = 1234;
const B_HZ = 1777;
const TEXT_MARKER = 'MEDLEY-CONTAINMENT-MARKER-7f3a9c';

function which(name: string): string | undefined {
  const r = spawnSync('/bin/sh', ['-c', `command -v ${name}`], { encoding: 'utf8' });
  const p = r.stdout.trim();
  return r.status === 0 && p.startsWith('/') ? p : undefined;
}

const systemFfmpeg = which('ffmpeg');
const systemFfprobe = which('ffprobe');
const ENGINES: Array<{ name: string; ffmpeg?: string; ffprobe?: string; skip: string | false }> = [
  { name: 'bundled', ffmpeg: FFMPEG, ffprobe: FFPROBE, skip: false },
  { name: 'system', ffmpeg: systemFfmpeg, ffprobe: systemFfprobe, skip: systemFfmpeg && systemFfprobe ? false : 'no system ffmpeg/ffprobe on PATH (`command -v ffmpeg` found none): only the bundled engine is checked' },
];

/** A WAV of `hz` carrying the text marker in its INFO title, so both its samples and its bytes are recognisable. */
function markedWav(file: string, hz: number, seconds = 2): string {
  ffmpeg(['-f', 'lavfi', '-i', `sine=frequency=${hz}:duration=${seconds}:sample_rate=8000`, '-ac', '1', '-metadata', `title=${TEXT_MARKER}`, file]);
  return file;
}

const playlist = (segment: string) => `#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:10\n#EXT-X-MEDIA-SEQUENCE:0\n#EXTINF:2.0,\n${segment}\n#EXT-X-ENDLIST\n`;

/** True when decoded audio of `file` carries `hz` (zero-crossing estimate within 3 %). */
function carriesTone(file: string, hz: number): boolean {
  const r = spawnSync(FFPROBE, ['-v', 'error', file]);
  if (r.status !== 0) return false;
  const pcm = decode(file, 8000);
  if (pcm.length < 800) return false;
  const f = frequency(pcm, 8000, 0, Math.min(1, pcm.length / 8000));
  return Math.abs(f - hz) / hz < 0.03;
}

for (const engine of ENGINES) {
  describe(`FFmpeg containment, ${engine.name} engine`, { skip: engine.skip }, () => {
    let dataDir: string;
    let outside: string;
    let server: TestServer;
    let root: AliClient;
    let a: AliClient;
    let outA: AliClient;
    let imm: ImmCaller;
    const agent = localhostAgent();
    /** Absolute paths of the planted files, by label. */
    const planted: Record<string, string> = {};
    let bTaskId = '';
    const leaks: string[] = [];

    before(async () => {
      dataDir = await mkdtemp(join(tmpdir(), 'medley-ctn-'));
      outside = await mkdtemp(join(tmpdir(), 'medley-ctn-outside-'));
      await chmod(outside, 0o755);
      planted.rootOnly = markedWav(join(outside, 'root-only.wav'), MARKER_HZ);
      await chmod(planted.rootOnly, 0o600);
      await mkdir(join(outside, 'private'), { mode: 0o700 });
      planted.inPrivateDir = markedWav(join(outside, 'private', 'readable.wav'), MARKER_HZ);
      await chmod(planted.inPrivateDir, 0o644);

      await writeFile(join(dataDir, 'access-keys.json'), JSON.stringify({ keys: [KEY_A, KEY_B] }));
      server = await startServer({ dataDir, env: { ...EMBEDDED_BACKEND, MEDLEY_WORKERS: '2', MEDLEY_FFMPEG: engine.ffmpeg!, MEDLEY_FFPROBE: engine.ffprobe! } });
      root = makeAliClient(server, agent);
      imm = popClient(server);
      for (const bucket of [IN_A, OUT_A, IN_B]) await root.putBucket(bucket);
      a = makeAliClient({ ...server, keyId: KEY_A.accessKeyId, secret: KEY_A.accessKeySecret }, agent, { bucket: IN_A });
      outA = makeAliClient(server, agent, { bucket: OUT_A });
      const b = makeAliClient({ ...server, keyId: KEY_B.accessKeyId, secret: KEY_B.accessKeySecret }, agent, { bucket: IN_B });

      // (a) B's private source, and a task of B's (its id names the old, predictable work dir).
      // 5 s (80 KB): over INLINE_MAX_BYTES, so a blob file (smaller objects live in the index, out of reach too).
      const bBytes = await readFile(markedWav(join(outside, 'b-source.wav'), B_HZ, 5));
      await b.put('private.wav', bBytes);
      bTaskId = (await submitAsyncProcess(b as unknown as OSS, 'private.wav', `audio/convert,f_mp3|sys/saveas,o_${b64('b-out.mp3')}`)).TaskId;
      assert.equal((await waitForTask(imm, 'medley-default', bTaskId)).Status, 'Succeeded');
      // Where B's bytes live in the blob store (found by content; an attacker would have to guess the id).
      const blobs = join(dataDir, 'blobs');
      const stack = [blobs];
      while (stack.length) {
        const d = stack.pop()!;
        for (const e of await readdir(d, { withFileTypes: true })) {
          const p = join(d, e.name);
          if (e.isDirectory()) stack.push(p);
          else if ((await stat(p)).size === bBytes.length && (await readFile(p)).equals(bBytes)) planted.bBlob = p;
        }
      }
      assert.ok(planted.bBlob, 'found the blob holding B\u2019s source');
    });

    after(async () => {
      agent.destroy();
      await server?.dispose();
      await rm(dataDir, { recursive: true, force: true });
      await rm(fallbackWorkRoot(dataDir), { recursive: true, force: true });
      await rm(outside, { recursive: true, force: true });
    });

    /** Uploads `body` as key A's object `key`, converts it as A and asks audio/info of it as A; collects anything that leaks. */
    async function attack(key: string, body: string): Promise<void> {
      await a.put(key, Buffer.from(body));
      // Sync: audio/info.
      const info = await rawRequest(server.url, { method: 'GET', bucket: IN_A, key, query: { 'x-oss-process': 'audio/info' }, auth: { id: KEY_A.accessKeyId, secret: KEY_A.accessKeySecret } });
      assert.ok(info.status < 500, `audio/info of ${key}: HTTP ${info.status}: ${info.text}`);
      if (info.text.includes(TEXT_MARKER)) leaks.push(`audio/info of ${key} printed the marker: ${info.text.slice(0, 300)}`);
      if (info.status === 200) leaks.push(`audio/info of ${key} described a file it should not reach: ${info.text.slice(0, 300)}`);
      // Async: audio/convert to WAV (so raw PCM would come back byte for byte) and to MP3.
      for (const f of ['wav', 'mp3']) {
        const outKey = `${key}.${f}`;
        let submitted;
        try {
          submitted = await submitAsyncProcess(a as unknown as OSS, key, `audio/convert,f_${f},ar_8000,ac_1|sys/saveas,b_${b64(OUT_A)},o_${b64(outKey)}`);
        } catch (e) {
          const err = e as { status?: number; message?: string };
          assert.ok((err.status ?? 500) < 500, `submitting ${outKey}: ${err.status} ${err.message}`);
          if (String(err.message).includes(TEXT_MARKER)) leaks.push(`submit error for ${outKey} carries the marker`);
          continue;
        }
        const t = await waitForTask(imm, 'medley-default', submitted.TaskId);
        if (`${t.Message}`.includes(TEXT_MARKER)) leaks.push(`task message of ${outKey} carries the marker: ${t.Message}`);
        if (t.Status === 'Succeeded') {
          const got = (await outA.get(outKey).catch(() => undefined))?.content;
          if (!got) continue;
          const file = join(outside, `got-${outKey.replace(/[^\w.-]/g, '_')}`);
          await writeFile(file, got);
          const planted2 = [planted.rootOnly!, planted.bBlob!].map((p) => spawnSync(FFMPEG, ['-v', 'error', '-i', p, '-f', 's16le', '-ac', '1', '-ar', '8000', '-']).stdout.subarray(4000, 8000));
          if (got.includes(TEXT_MARKER) || planted2.some((chunk) => chunk.length > 0 && got.includes(chunk))) leaks.push(`${outKey} holds bytes of a planted file`);
          if (carriesTone(file, MARKER_HZ) || carriesTone(file, B_HZ)) leaks.push(`${outKey} carries a planted tone`);
        } else {
          assert.equal(t.Status, 'Failed', `${outKey}: ${JSON.stringify(t)}`);
          assert.notEqual(t.Code, '', `${outKey} failed without a code`);
          assert.equal((await outA.head(outKey).catch(() => undefined))?.status, undefined, `${outKey}: a failed task left an output`);
        }
      }
    }

    test('control: the bare FFmpeg, unconfined, does read the planted files through such playlists (absolute, file://, ../)', async () => {
      const dir = await mkdtemp(join(tmpdir(), 'medley-ctn-control-'));
      try {
        const forms = [planted.rootOnly!, `file://${planted.rootOnly!}`, `${'../'.repeat(12)}${planted.inPrivateDir!.slice(1)}`];
        for (const [i, segment] of forms.entries()) {
          await writeFile(join(dir, `p${i}.m3u8`), playlist(segment));
          ffmpeg(['-protocol_whitelist', 'file', '-i', join(dir, `p${i}.m3u8`), join(dir, `out${i}.wav`)]);
          assert.ok(carriesTone(join(dir, `out${i}.wav`), MARKER_HZ), `the control run should have copied the planted tone through ${segment}`);
        }
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    });

    test("(a) B's task work dir under its old predictable name: nothing leaks", async () => {
      const workRoot = workRootOf(dataDir);
      await attack('old-work-dir.m3u8', playlist(`../${bTaskId}.1/in-0.wav`));
      await attack('old-work-dir-2.m3u8', playlist(`../${bTaskId}.0/in-0.wav`));
      await attack('old-work-dir.ffconcat', `ffconcat version 1.0\nfile ../${bTaskId}.1/in-0.wav\n`);
      // The old layout is gone: no directory in the work root is named after a task.
      assert.deepEqual((await readdir(workRoot).catch(() => [])).filter((n) => n.startsWith('MediaConvert-')), []);
      assert.deepEqual(leaks, []);
    });

    test("(a) B's blob by absolute path, file:// URL and ../ path: the FFmpeg user cannot reach the data dir", { skip: NOT_ROOT_SKIP }, async () => {
      const relBlob = planted.bBlob!.slice(dataDir.length + 1);
      await attack('abs-blob.m3u8', playlist(planted.bBlob!));
      await attack('rel-blob.m3u8', playlist(`../../${relBlob}`));
      await attack('rel-blob.ffconcat', `ffconcat version 1.0\nfile ../../${relBlob}\n`);
      await attack('url-blob.m3u8', playlist(`file://${planted.bBlob!}`));
      assert.deepEqual(leaks, []);
    });

    test('(b) files outside the data dir (0600 root file; readable file in a 0700 folder): absolute, file://, ../ and ffconcat', { skip: NOT_ROOT_SKIP }, async () => {
      const up = '../'.repeat(12);
      await attack('abs-outside.m3u8', playlist(planted.rootOnly!));
      await attack('url-outside.m3u8', playlist(`file://${planted.rootOnly!}`));
      await attack('dotdot-outside.m3u8', playlist(`${up}${planted.inPrivateDir!.slice(1)}`));
      await attack('abs-private-dir.m3u8', playlist(planted.inPrivateDir!));
      await attack('outside.ffconcat', `ffconcat version 1.0\nfile ${planted.rootOnly!}\nfile ${up}${planted.inPrivateDir!.slice(1)}\n`);
      assert.deepEqual(leaks, []);
    });

    test('the server is healthy afterwards and still converts an honest source', async () => {
      const r = await fetch(`${server.url}/-/health`);
      assert.equal(r.status, 200);
      const wav = await readFile(markedWav(join(outside, 'honest.wav'), 440));
      await a.put('honest.wav', wav);
      const t = await waitForTask(imm, 'medley-default', (await submitAsyncProcess(a as unknown as OSS, 'honest.wav', `audio/convert,f_mp3|sys/saveas,b_${b64(OUT_A)},o_${b64('honest.mp3')}`)).TaskId);
      assert.equal(t.Status, 'Succeeded', JSON.stringify(t));
    });
  });
}
