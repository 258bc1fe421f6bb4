/**
 * A corpus of hostile sources against the real server: HLS playlists whose segments point at a file planted
 * outside the data dir (absolute, file://, ../ URIs; named .m3u8, .mp3 and .mp4; EXT-X-MAP/EXT-X-KEY),
 * ffconcat scripts, `concat:` and `subfile:` strings as content and as object names, QuickTime movies with
 * external data references (`url `, `alis`), subtitles and text, a zero-byte object, a truncated MP3, a
 * 60000x60000 frame header, a sparse-timestamp MKV claiming 100 hours. Each goes through
 * `x-oss-process=audio/info`, x-oss-async-process audio/convert, audio/concat and video/concat (ali-oss) and
 * IMM CreateMediaConvertTask (pop-core): every one fails with its documented code within 10 s, naming the
 * object, writes no output object, and neither the planted marker nor a server path appears in any message,
 * output or stored byte.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer, type TestServer } from '../support/server.js';
import { localhostAgent, makeAliClient, type AliClient, type OssError, type ReqOptions } from '../support/alioss.js';
import { b64, popClient, submitAsyncProcess, waitForTask, type ImmCaller, type TaskResult } from '../support/tasks.js';
import { ffmpeg, tone } from '../support/media.js';
import { hugeFrameMkv, sparseMkv, withExternalDref } from '../support/hostile.js';
import type OSS from 'ali-oss';

const BUCKET = 'hostile-media';
const OSS_PROJECT = 'medley-default';
const IMM_PROJECT = 'hostile';
const MARKER = `PLANTED-${randomUUID()}`;
const LIMIT_MS = 10_000;
/** ali-oss's get() sends `process` as ?x-oss-process=... */
const INFO = { process: 'audio/info' } as unknown as ReqOptions;

let server: TestServer;
let client: AliClient;
let imm: ImmCaller;
let work = '';
let planted = '';
const agent = localhostAgent();

interface Case {
  key: string;
  body: Buffer;
  /** IMM code of the refusal (task Code); OSS sync info answers 400 InvalidArgument for every one. */
  code: 'InvalidFile.Media' | 'LimitExceededError';
  /** What the message must say (besides naming the object). */
  says: RegExp;
  /** audio/info describes the header and succeeds (the truncation only shows when decoding). */
  infoSucceeds?: boolean;
}

const cases: Case[] = [];
const PLAYLIST = /playlists, manifests and scripts that name other files are not accepted as sources/;
const TEXT = /text files are not accepted as sources/;

before(async () => {
  work = await mkdtemp(join(tmpdir(), 'medley-hostile-'));
  // The planted files live outside the server's data dir: a tone tagged with the marker, and the marker as text.
  planted = await mkdtemp(join(tmpdir(), 'medley-planted-'));
  const plantedMp3 = join(planted, 'planted.mp3');
  ffmpeg(['-f', 'lavfi', '-i', 'sine=frequency=1234:duration=2', '-metadata', `title=${MARKER}`, '-c:a', 'libmp3lame', plantedMp3]);
  await writeFile(join(planted, 'planted.txt'), `${MARKER}\n`);
  const up = '../'.repeat(24) + plantedMp3.slice(1);

  const hls = (uri: string, extra = ''): Buffer => Buffer.from(`#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:2\n${extra}#EXTINF:2.0,\n${uri}\n#EXT-X-ENDLIST\n`);
  const playlist = (key: string, body: Buffer) => cases.push({ key, body, code: 'InvalidFile.Media', says: PLAYLIST });
  for (const ext of ['m3u8', 'mp3', 'mp4']) {
    playlist(`hls/abs.${ext}`, hls(plantedMp3));
    playlist(`hls/file-url.${ext}`, hls(`file://${plantedMp3}`));
    playlist(`hls/dotdot.${ext}`, hls(up));
  }
  playlist('hls/map-key.m3u8', hls('seg.ts', `#EXT-X-MAP:URI="file://${plantedMp3}"\n#EXT-X-KEY:METHOD=AES-128,URI="file://${join(planted, 'planted.txt')}"\n`));
  playlist('scripts/list.ffconcat', Buffer.from(`ffconcat version 1.0\nfile '${plantedMp3}'\n`));
  playlist('scripts/list.mp3', Buffer.from(`file '${plantedMp3}'\nfile '${plantedMp3}'\n`));
  playlist('scripts/concat.mp3', Buffer.from(`concat:${plantedMp3}|${plantedMp3}`));
  playlist('scripts/subfile.mp3', Buffer.from(`subfile:,start,0,end,0,:${plantedMp3}`));
  playlist('scripts/manifest.mpd', Buffer.from(`<?xml version="1.0"?>\n<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" type="static"><Period><AdaptationSet><Representation id="0"><BaseURL>file://${plantedMp3}</BaseURL></Representation></AdaptationSet></Period></MPD>\n`));
  // Protocol strings as object names (the name never reaches FFmpeg: sources are in-<i> in the work dir).
  playlist('concat:planted.mp3|planted.mp3', hls(plantedMp3));
  playlist('subfile:,start,0,end,0,:planted.mp3', hls(plantedMp3));

  // QuickTime data references to the planted file.
  const mp4 = join(work, 'v.mp4');
  ffmpeg(['-f', 'lavfi', '-i', 'testsrc=size=64x48:rate=10:duration=1', '-f', 'lavfi', '-i', 'sine=duration=1', '-c:v', 'libx264', '-pix_fmt', 'yuv420p', '-c:a', 'aac', '-shortest', mp4]);
  for (const type of ['url ', 'alis'] as const) {
    cases.push({ key: `dref/${type.trim()}.mov`, body: withExternalDref(await readFile(mp4), type, plantedMp3), code: 'InvalidFile.Media', says: /data references to other files/ });
  }

  cases.push({ key: 'text/subs.srt', body: Buffer.from(`1\n00:00:01,000 --> 00:00:02,000\n${plantedMp3}\n`), code: 'InvalidFile.Media', says: TEXT });
  cases.push({ key: 'text/subs.ass', body: Buffer.from('[Script Info]\nScriptType: v4.00+\n\n[Events]\n'), code: 'InvalidFile.Media', says: TEXT });
  cases.push({ key: 'text/notes.mp3', body: Buffer.from('just some words\n'.repeat(50)), code: 'InvalidFile.Media', says: TEXT });
  cases.push({ key: 'empty.mp3', body: Buffer.alloc(0), code: 'InvalidFile.Media', says: /the file is empty/ });
  cases.push({ key: 'huge.y4m', body: Buffer.from('YUV4MPEG2 W60000 H60000 F25:1 Ip A1:1 C420jpeg\nFRAME\n'), code: 'InvalidFile.Media', says: /not a supported media format \(raw YUV4MPEG video\)/ });

  // FFmpeg itself refuses a 60000x60000 frame (probes as no frame size); 16000x16000 it would try to allocate.
  const huge = join(work, 'huge.mkv');
  hugeFrameMkv(huge, 60000, 60000);
  cases.push({ key: 'huge.mkv', body: await readFile(huge), code: 'InvalidFile.Media', says: /its video stream has no valid frame size/ });
  const big = join(work, 'big.mkv');
  hugeFrameMkv(big, 16000, 16000);
  cases.push({ key: 'big.mkv', body: await readFile(big), code: 'LimitExceededError', says: /16000x16000 video frames, more than Medley decodes/ });
  const sparse = join(work, 'sparse.mkv');
  sparseMkv(sparse);
  cases.push({ key: 'sparse.mkv', body: await readFile(sparse), code: 'InvalidFile.Media', says: /implausible: \d+ bytes cannot hold the 360000\.5\d* s it claims/ });
  const full = tone(join(work, 'full.mp3'), 440, 3, ['-ar', '44100', '-c:a', 'libmp3lame']);
  cases.push({ key: 'cut.mp3', body: (await readFile(full)).subarray(0, 1000), code: 'InvalidFile.Media', says: /truncated: decodes \d\.\d{3} s of the 3\.\d{3} s its header declares/, infoSucceeds: true });

  // Good companions for the concat actions.
  tone(join(work, 'good.mp3'), 660, 1, ['-c:a', 'libmp3lame']);

  server = await startServer();
  client = makeAliClient(server, agent, { bucket: BUCKET, timeout: 30_000 });
  await client.putBucket(BUCKET);
  for (const c of cases) await client.put(c.key, c.body);
  await client.put('good/good.mp3', await readFile(join(work, 'good.mp3')));
  await client.put('good/good.mp4', await readFile(mp4));
  imm = popClient({ url: server.url, keyId: server.keyId, secret: server.secret });
  await imm.call('CreateProject', { ProjectName: IMM_PROJECT });
});

after(async () => {
  await server?.dispose();
  agent.destroy();
  for (const d of [work, planted]) if (d) await rm(d, { recursive: true, force: true });
});

/** Nothing a user sees may carry the planted marker, the planted path, or a server path. */
function assertClean(text: string, where: string): void {
  assert.ok(!text.includes(MARKER), `${where} carries the planted marker: ${text}`);
  assert.ok(!text.includes(planted), `${where} carries the planted path: ${text}`);
  assert.ok(!text.includes(server.dataDir), `${where} carries a server path: ${text}`);
  assert.ok(!/\/work\/[^\s]*\/in-\d/.test(text) && !text.includes('/tmp/'), `${where} carries a local path: ${text}`);
}

const outKey = (c: Case, action: string): string => `out/${action.replace('/', '-')}/${Buffer.from(c.key).toString('hex').slice(0, 40)}.{autoext}`;

async function assertNoOutput(prefix: string): Promise<void> {
  const listed = await client.list({ prefix, 'max-keys': 10 });
  assert.deepEqual((listed.objects ?? []).map((o) => o.name), [], `an output was written under ${prefix}`);
}

function assertTaskRefused(c: Case, t: TaskResult, elapsedMs: number, how: string): void {
  assert.equal(t.Status, 'Failed', `${how}: ${JSON.stringify(t)}`);
  assert.equal(t.Code, c.code, `${how}: ${t.Code}: ${t.Message}`);
  assert.ok(t.Message.includes(`oss://${BUCKET}/${c.key}`), `${how}: the message names the object: ${t.Message}`);
  assert.match(t.Message, c.says, how);
  assertClean(t.Message, how);
  assert.ok(elapsedMs < LIMIT_MS, `${how}: took ${elapsedMs} ms`);
}

describe('hostile sources', () => {
  test('the corpus is refused on every front door', async (t) => {
    for (const c of cases) {
      await t.test(c.key, async () => {
        // x-oss-process=audio/info (synchronous).
        if (c.infoSucceeds) {
          const r = await client.get(c.key, INFO);
          assertClean(r.content.toString(), 'audio/info');
        } else {
          const t0 = Date.now();
          let caught: OssError | undefined;
          try {
            await client.get(c.key, INFO);
          } catch (e) {
            caught = e as OssError;
          }
          assert.ok(caught, 'audio/info succeeded');
          assert.equal(caught.status, 400, `${caught.status} ${caught.code}: ${caught.message}`);
          assert.equal(caught.code, 'InvalidArgument');
          assert.ok(caught.message.includes(`oss://${BUCKET}/${c.key}`), caught.message);
          assert.match(caught.message, c.says);
          assertClean(caught.message, 'audio/info');
          assert.ok(Date.now() - t0 < LIMIT_MS);
        }

        // x-oss-async-process: the hostile object as the URL object, with a good clip beside it for concat.
        const ossActions: Array<[string, string]> = [
          ['audio/convert', `audio/convert,f_mp3,ab_64000`],
          ['audio/concat', `audio/concat,f_mp3/sur,o_${b64('good/good.mp3')}`],
          ['video/concat', `video/concat,f_mp4,vcodec_h264,acodec_aac/sur,o_${b64('good/good.mp4')}`],
        ];
        const runs = ossActions.map(async ([action, style]) => {
          const t0 = Date.now();
          const submitted = await submitAsyncProcess(client as unknown as OSS, c.key, `${style}|sys/saveas,o_${b64(outKey(c, action))}`);
          const result = await waitForTask(imm, OSS_PROJECT, submitted.TaskId, 30_000);
          assertTaskRefused(c, result, Date.now() - t0, action);
        });
        // IMM CreateMediaConvertTask (pop-core), the hostile object after a good one.
        runs.push(
          (async () => {
            const t0 = Date.now();
            const created = await imm.call('CreateMediaConvertTask', {
              ProjectName: IMM_PROJECT,
              Sources: JSON.stringify([{ URI: `oss://${BUCKET}/good/good.mp3` }, { URI: `oss://${BUCKET}/${c.key}` }]),
              Targets: JSON.stringify([{ Container: 'mp3', Audio: { TranscodeAudio: { Codec: 'mp3', Bitrate: 64000 } }, URI: `oss://${BUCKET}/${outKey(c, 'imm')}` }]),
            });
            const result = await waitForTask(imm, IMM_PROJECT, String(created.TaskId), 30_000);
            assertTaskRefused(c, result, Date.now() - t0, 'IMM CreateMediaConvertTask');
          })(),
        );
        const settled = await Promise.allSettled(runs);
        for (const s of settled) if (s.status === 'rejected') throw s.reason;
      });
    }
    await assertNoOutput('out/');
  });

  test('no planted byte was stored anywhere in the data dir', async () => {
    const marker = Buffer.from(MARKER);
    const walk = async (dir: string): Promise<string[]> => {
      const found: string[] = [];
      for (const e of await readdir(dir, { withFileTypes: true })) {
        const p = join(dir, e.name);
        if (e.isDirectory()) found.push(...(await walk(p)));
        else if (e.isFile() && (await stat(p)).size < 64 << 20 && (await readFile(p)).includes(marker)) found.push(p);
      }
      return found;
    };
    assert.deepEqual(await walk(server.dataDir), []);
  });
});
