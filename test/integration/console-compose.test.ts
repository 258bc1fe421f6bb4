/**
 * The console's media views in a real browser (headless Chromium, test/support/console.ts) against the real
 * built server (`npm run build` first): sign in, create a bucket, upload three audio files through the file
 * input (one a 1-hour, 21 MB MP3), the server-computed waveform of the 1-hour file (first computation and the
 * cached render, both measured), play it (canplay, currentTime advances, a seek to 30 min), then compose a
 * three-clip audio/concat with trims and a reorder (by drag and by the keyboard buttons), compare the process
 * string with one built here by hand, read the plan (the FFmpeg command), run it, watch the progress reach
 * 100 % live, play the output and ffprobe it (duration = the sum of the trimmed clips).
 * Screenshots at 1280×800 and 390×844 go to test-output/console/ (ignored by git).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ffmpeg, ffprobe } from '../support/media.js';
import { startServer, type TestServer } from '../support/server.js';
import { auditPage, launch, type MediaElement } from '../support/console.js';

const SHOTS = fileURLToPath(new URL('../../test-output/console/', import.meta.url));
const BUCKET = 'compose-media';
const SCOPED = { accessKeyId: 'LTAIcomposeScoped1', accessKeySecret: 'ComposeScopedSecret00000000001', buckets: { 'compose-scoped': 'read-write' } };

let server: TestServer;
let dataDir: string;
let fixtures: string;
let files: { a: string; b: string; hour: string };

/** base64url without padding, as the process strings name objects. */
const b64 = (s: string) => Buffer.from(s).toString('base64url');

/** A tone whose loudness swells (so a waveform has a shape), `seconds` long, encoded per `codec`. */
function swell(file: string, freq: number, seconds: number, rate: number, codec: string[]): string {
  ffmpeg(['-f', 'lavfi', '-i', `aevalsrc=0.8*sin(2*PI*${freq}*t)*(0.3+0.7*abs(sin(PI*t/${Math.min(seconds, 7)}))):s=${rate}:d=${seconds}`, '-ac', '1', ...codec, file]);
  return file;
}

before(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'medley-compose-'));
  fixtures = await mkdtemp(join(tmpdir(), 'medley-compose-fx-'));
  const a = swell(join(fixtures, 'a.wav'), 440, 4, 44100, []);
  const b = swell(join(fixtures, 'b.mp3'), 660, 6, 44100, ['-c:a', 'libmp3lame', '-b:a', '96k']);
  // One hour of CBR MP3 without tags or Xing frame: a minute encoded once and repeated (MP3 frames stand alone),
  // so the fixture costs a second, not an hour of encoding. 21.6 MB: over 10 MB, one streamed PUT.
  const minute = swell(join(fixtures, 'minute.mp3'), 330, 60, 22050, ['-c:a', 'libmp3lame', '-b:a', '48k', '-write_xing', '0', '-id3v2_version', '0', '-write_id3v1', '0']);
  const once = await readFile(minute);
  const hour = join(fixtures, 'hour.mp3');
  await writeFile(hour, Buffer.concat(Array.from({ length: 60 }, () => once)));
  files = { a, b, hour };
  await writeFile(join(dataDir, 'access-keys.json'), JSON.stringify({ keys: [SCOPED] }));
  server = await startServer({ dataDir });
});

after(async () => {
  await server?.dispose();
  await rm(dataDir, { recursive: true, force: true });
  await rm(fixtures, { recursive: true, force: true });
});

/** A console session for Node-side calls (the page's cookie is HttpOnly). */
async function session(key = { accessKeyId: server.keyId, accessKeySecret: server.secret }): Promise<{ cookie: string; csrf: string }> {
  const res = await fetch(`${server.url}/-/console/api/session`, { method: 'POST', body: JSON.stringify(key) });
  assert.equal(res.status, 200);
  return { cookie: res.headers.getSetCookie().map((c) => c.split(';')[0]).join('; '), csrf: ((await res.json()) as { csrf: string }).csrf };
}

describe('console media API over HTTP', () => {
  test('rules are the API tables; check answers the parser\'s own error; the waveform needs a session and a readable object', async () => {
    const s = await session();
    const h = { Cookie: s.cookie };
    const rules = (await (await fetch(`${server.url}/-/console/api/media/rules`, { headers: h })).json()) as { audioContainers: Record<string, { codec: string }>; videoContainers: Record<string, { videoCodecs: string[] }>; codecLimits: Record<string, { rates?: number[] }> };
    assert.equal(rules.audioContainers.oga?.codec, 'vorbis');
    assert.deepEqual(rules.videoContainers.webm?.videoCodecs, ['vp9']);
    assert.deepEqual(rules.codecLimits.amr?.rates, [8000, 16000]);
    const check = await fetch(`${server.url}/-/console/api/media/check`, { method: 'POST', headers: { ...h, 'X-Medley-Csrf': s.csrf }, body: JSON.stringify({ bucket: BUCKET, key: 'a.wav', process: `audio/concat,f_mp3,ar_96000|sys/saveas,o_${b64('x.mp3')}` }) });
    assert.equal(check.status, 400);
    assert.match(((await check.json()) as { message: string }).message, /ar_96000.*48000 Hz, the mp3 maximum/);
    const noCsrf = await fetch(`${server.url}/-/console/api/media/check`, { method: 'POST', headers: h, body: '{}' });
    assert.equal(noCsrf.status, 403);
    assert.equal((await fetch(`${server.url}/-/console/api/media/waveform?bucket=${BUCKET}&key=a.wav`)).status, 401);
    const missing = await fetch(`${server.url}/-/console/api/media/waveform?bucket=no-such-bucket-here&key=a.wav`, { headers: h });
    assert.equal(missing.status, 404);
    assert.equal(((await missing.json()) as { error: string }).error, 'NoSuchBucket');
    const badBins = await fetch(`${server.url}/-/console/api/media/waveform?bucket=${BUCKET}&key=a.wav&bins=7`, { headers: h });
    assert.equal(badBins.status, 400);
    assert.match(await badBins.text(), /bins must be a whole number/);
  });
});

describe('console media API: cache and access', () => {
  test('a waveform is computed once per ETag (an overwrite recomputes), cached under hashed names; a scoped key gets neither waveform nor plan of another bucket', async () => {
    const s = await session();
    const h = { Cookie: s.cookie, 'X-Medley-Csrf': s.csrf };
    assert.equal((await fetch(`${server.url}/-/console/api/oss/media-http`, { method: 'PUT', headers: h })).status, 200);
    const put = (body: Buffer) => fetch(`${server.url}/-/console/api/oss/media-http/dir/clip.wav`, { method: 'PUT', headers: h, body });
    assert.equal((await put(await readFile(files.a))).status, 200);
    const wave = async () => (await (await fetch(`${server.url}/-/console/api/media/waveform?bucket=media-http&key=dir/clip.wav&bins=200`, { headers: h })).json()) as { cached: boolean; durationSec: number; max: number[] };
    const first = await wave();
    assert.equal(first.cached, false);
    assert.equal(first.max.length, 200);
    assert.ok(Math.abs(first.durationSec - 4) < 0.01, String(first.durationSec));
    assert.equal((await wave()).cached, true);
    swell(join(fixtures, 'other.wav'), 220, 2, 44100, []);
    assert.equal((await put(await readFile(join(fixtures, 'other.wav')))).status, 200);
    const again = await wave();
    assert.equal(again.cached, false, 'a new ETag is a new waveform');
    assert.ok(Math.abs(again.durationSec - 2) < 0.01, String(again.durationSec));
    const names = await readdir(join(dataDir, 'cache', 'waveforms'));
    assert.ok(names.length >= 2 && names.every((n) => /^[0-9a-f]{64}\.json$/.test(n)), names.join(', '));

    // Not media, or media without audio: a 400 naming the object, never a 500.
    assert.equal((await fetch(`${server.url}/-/console/api/oss/media-http/notes.txt`, { method: 'PUT', headers: h, body: 'not audio at all' })).status, 200);
    const text = await fetch(`${server.url}/-/console/api/media/waveform?bucket=media-http&key=notes.txt`, { headers: h });
    assert.equal(text.status, 400, await text.clone().text());
    assert.match(((await text.json()) as { message: string }).message, /oss:\/\/media-http\/notes\.txt/);

    const scoped = await session(SCOPED);
    const sh = { Cookie: scoped.cookie, 'X-Medley-Csrf': scoped.csrf };
    const denied = await fetch(`${server.url}/-/console/api/media/waveform?bucket=media-http&key=dir/clip.wav`, { headers: sh });
    assert.equal(denied.status, 403);
    assert.equal(((await denied.json()) as { error: string }).error, 'AccessDenied');
    const plan = await fetch(`${server.url}/-/console/api/media/explain`, { method: 'POST', headers: sh, body: JSON.stringify({ bucket: 'media-http', key: 'dir/clip.wav', process: `audio/convert,f_mp3|sys/saveas,o_${b64('x.mp3')}` }) });
    assert.equal(plan.status, 403);
    assert.match(((await plan.json()) as { message: string }).message, /may not read oss:\/\/media-http\/dir\/clip\.wav/);
    // The root key's plan of the same request: the CLI's explanation, with object names for paths.
    const mine = await fetch(`${server.url}/-/console/api/media/explain`, { method: 'POST', headers: h, body: JSON.stringify({ bucket: 'media-http', key: 'dir/clip.wav', process: `audio/convert,f_mp3,ab_64000|sys/saveas,o_${b64('x.mp3')}` }) });
    assert.equal(mine.status, 200);
    const e = (await mine.json()) as { inputs: Array<{ line: string }>; decisions: string[]; output: string; command: string };
    assert.match(e.inputs[0]!.line, /^0 \(align\): oss:\/\/media-http\/dir\/clip\.wav — wav, 2\.000 s/);
    assert.equal(e.output, 'oss://media-http/x.mp3');
    assert.match(e.command, /^ffmpeg .* -i oss:\/\/media-http\/dir\/clip\.wav .*-b:a 64000? /);
  });
});

describe('console compose in a real browser', async () => {
  const { browser, why } = await launch();
  const skip = browser ? false : `headless Chromium (@sparticuz/chromium) did not start here: ${why}`;
  after(async () => browser?.close());

  test('upload three, waveform of a 1-hour file, play, compose a trimmed and reordered merge, plan, run live, play and ffprobe the output', { skip, timeout: 90_000 }, async () => {
    const t0 = Date.now();
    await mkdir(SHOTS, { recursive: true });
    const ctx = await browser!.newContext({ viewport: { width: 1280, height: 800 } });
    const page = await ctx.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    // axe-core applies inline styles while it measures (the CSP refuses them, as it should): not the page's errors.
    let auditing = false;
    page.on('console', (m) => m.type() === 'error' && !auditing && !m.text().startsWith('Failed to load resource') && errors.push(m.text()));
    // Each page's screenshots at both widths, with an axe-core audit of each (no serious or critical violation).
    const violations: string[] = [];
    const shoot = async (name: string) => {
      auditing = true;
      try {
        await auditPage(page, SHOTS, name, violations);
      } finally {
        auditing = false;
      }
    };

    await page.goto(`${server.url}/-/console`);
    await page.fill('input[name=accessKeyId]', server.keyId);
    await page.fill('input[name=accessKeySecret]', server.secret);
    await page.click('button[type=submit]');
    await page.getByRole('heading', { name: 'Buckets' }).waitFor();
    await page.fill('input[name=bucket]', BUCKET);
    await page.click('text=Create bucket');
    await page.locator('a.bucket-link', { hasText: BUCKET }).click();
    await page.getByText('This folder is empty.').waitFor();
    await page.setInputFiles('input[type=file]', [files.a, files.b, files.hour]);
    await page.locator('tr.object a', { hasText: 'hour.mp3' }).waitFor({ timeout: 30_000 });
    await page.locator('tr.object a', { hasText: 'a.wav' }).waitFor();
    await page.locator('tr.object a', { hasText: 'b.mp3' }).waitFor();
    assert.match((await page.locator('tr.object', { hasText: 'hour.mp3' }).textContent())!, /20\.6 MiB/);

    // The waveform of the 1-hour file: computed once on the server (measured here), then drawn from the cache.
    const s = await session();
    const first = performance.now();
    const computed = await fetch(`${server.url}/-/console/api/media/waveform?bucket=${BUCKET}&key=hour.mp3`, { headers: { Cookie: s.cookie } });
    const firstMs = performance.now() - first;
    assert.equal(computed.status, 200, await computed.clone().text());
    const peaks = (await computed.json()) as { cached: boolean; durationSec: number; min: number[]; max: number[] };
    assert.equal(peaks.cached, false);
    assert.ok(Math.abs(peaks.durationSec - 3600) < 5, `decoded ${peaks.durationSec} s`);
    assert.ok(Math.abs(peaks.max.length - 4000) <= 2, `${peaks.max.length} peaks`);
    assert.ok(Math.max(...peaks.max) > 0.7 && Math.min(...peaks.min) < -0.7, 'the swell reaches 0.8');
    await page.locator('tr.object a', { hasText: 'hour.mp3' }).click();
    const wave = page.locator('.waveform[data-render-ms]');
    await wave.waitFor({ timeout: 10_000 });
    const renderMs = Number(await wave.getAttribute('data-render-ms'));
    await page.locator('.waveform-status', { hasText: 'cached' }).waitFor();
    console.log(`1-hour MP3 waveform: first computation ${(firstMs / 1000).toFixed(2)} s (server), cached render ${renderMs} ms (fetch + draw in the page)`);
    assert.ok(renderMs < 2000, `the cached waveform of a 1-hour file drew in ${renderMs} ms`);

    // Play it, and seek half an hour in without downloading the file (range requests).
    const audio = page.locator('audio.player');
    const played = await audio.evaluate(async (el: MediaElement) => {
      if (el.readyState < 3) await new Promise((r) => el.addEventListener('canplay', r, { once: true }));
      el.muted = true;
      await el.play();
      const start = el.currentTime;
      await new Promise((r) => setTimeout(r, 1200));
      const now = el.currentTime;
      el.currentTime = 1800;
      await new Promise((r) => el.addEventListener('seeked', r, { once: true }));
      await new Promise((r) => setTimeout(r, 800));
      return { start, now, afterSeek: el.currentTime, duration: el.duration };
    });
    assert.ok(played.now > played.start + 0.3, `currentTime advanced: ${JSON.stringify(played)}`);
    assert.ok(played.afterSeek >= 1800, `seeked: ${JSON.stringify(played)}`);
    assert.ok(Math.abs(played.duration - 3600) < 10, `duration ${played.duration}`);
    await shoot('waveform-object');

    // Compose: add a, b, hour; drag hour to the front, then b up with its keyboard button: hour, b, a.
    await page.goto(`${server.url}/-/console#/compose/${BUCKET}`);
    for (const k of ['a.wav', 'b.mp3', 'hour.mp3']) await page.locator('.pick li', { hasText: k }).locator('button').click();
    const clip = (k: string) => page.locator(`.clips li[data-key="${k}"]`);
    // The waveforms arrive one by one and change the rows' heights: drag once the layout is still.
    for (const k of ['a.wav', 'b.mp3', 'hour.mp3']) await clip(k).locator('.waveform[data-trim-ready]').waitFor();
    await clip('hour.mp3').locator('.clip-handle').dragTo(clip('a.wav').locator('.clip-handle'));
    assert.deepEqual(await page.locator('.clips li .clip-key').allTextContents(), ['hour.mp3', 'a.wav', 'b.mp3']);
    await page.getByRole('button', { name: 'Move b.mp3 up' }).click();
    assert.deepEqual(await page.locator('.clips li .clip-key').allTextContents(), ['hour.mp3', 'b.mp3', 'a.wav']);
    // Trim on the waveform: dragging the right edge of b's region leftwards shortens it (its length field follows).
    await clip('b.mp3').locator('.waveform[data-trim-ready]').waitFor();
    const handle = clip('b.mp3').locator('[part~="region-handle-right"]');
    const box = (await clip('b.mp3').locator('.waveform').boundingBox())!;
    const hb = (await handle.boundingBox())!;
    await page.mouse.move(hb.x + hb.width / 2, hb.y + hb.height / 2);
    await page.mouse.down();
    for (let i = 1; i <= 5; i++) await page.mouse.move(hb.x + hb.width / 2 - (box.width * 0.4 * i) / 5, hb.y + hb.height / 2);
    await page.mouse.up();
    const dragged = Number(await clip('b.mp3').locator('input[name=t]').inputValue());
    assert.ok(dragged > 0 && dragged < 5.9, `b's length after the drag: ${dragged} s`);
    // Trims: 3 s from the 30th minute of the hour, the first 2.5 s of b; a whole (4 s). Typed trims move the region.
    await clip('hour.mp3').locator('input[name=ss]').fill('1800');
    await clip('hour.mp3').locator('input[name=t]').fill('3');
    await clip('b.mp3').locator('input[name=t]').fill('2.5');
    // (2.5 s of 6: the region ends 58.33 % before the right edge; Playwright's CSS pierces the shadow root.)
    const regionRight = () => clip('b.mp3').locator('[part~="region"]').evaluate((el: { style: { right: string } }) => el.style.right);
    for (let n = 0; !(await regionRight()).startsWith('58.33'); n++) {
      assert.ok(n < 100, `the region did not follow the typed trim: right ${await regionRight()}`);
      await page.waitForTimeout(50);
    }
    await page.selectOption('select[name=format]', 'flac');
    await page.selectOption('select[name=ar]', '44100');
    await page.selectOption('select[name=ac]', '1');
    // Only what the tables allow is offered: flac has no 64000 Hz limit, mp3 stops at 48000.
    assert.ok((await page.locator('select[name=ar] option').allTextContents()).includes('96000 Hz'));

    const expected = `audio/concat,f_flac,ar_44100,ac_1,ss_1800000,t_3000/sur,o_${b64('b.mp3')},t_2500/sur,o_${b64('a.wav')}|sys/saveas,o_${b64('concat/output.flac')},b_${b64(BUCKET)}`;
    await page.locator('.process-preview', { hasText: expected }).waitFor();
    assert.equal(await page.locator('.process-preview').textContent(), expected);
    await page.locator('.verdict', { hasText: 'The API accepts it' }).waitFor();
    assert.match((await page.locator('pre.sdk').textContent())!, new RegExp(`async_process_object\\("hour\\.mp3", process\\)`));
    assert.ok((await page.locator('pre.sdk').textContent())!.includes(`process = "${expected}"`));
    await page.getByRole('tab', { name: 'Go (alibabacloud-oss-go-sdk-v2)' }).click();
    assert.ok((await page.locator('pre.sdk').textContent())!.includes(`AsyncProcess: oss.Ptr("${expected}")`));
    await page.getByRole('tab', { name: 'Java (aliyun-sdk-oss)' }).click();
    assert.ok((await page.locator('pre.sdk').textContent())!.includes(`new AsyncProcessObjectRequest("${BUCKET}", "hour.mp3", process)`));

    // The plan: the CLI's --explain, served by the API.
    await page.click('text=Show the plan (--explain)');
    const command = (await page.locator('pre.plan-command').textContent({ timeout: 20_000 }))!;
    assert.match(command, /^ffmpeg -hide_banner .* -i oss:\/\/compose-media\/hour\.mp3 .* -i oss:\/\/compose-media\/b\.mp3 .* -i oss:\/\/compose-media\/a\.wav /);
    assert.match(command, / -f flac /);
    assert.doesNotMatch(command, /\/t-[0-9a-f]{32}/, 'no server path in the command');
    const inputs = await page.locator('.plan-inputs li').allTextContents();
    assert.equal(inputs.length, 3);
    assert.match(inputs[0]!, /^0 \(align\): oss:\/\/compose-media\/hour\.mp3 — mp3, .*\[from 1800 s, 3 s long\]$/);
    assert.match((await page.locator('.plan').textContent())!, /Output: oss:\/\/compose-media\/concat\/output\.flac \(expected 9\.500 s\)/);
    await shoot('compose-merge');

    // Run it and watch it live (the page's event stream), to 100 %.
    const seen = new Set<string>();
    await page.click('text=Run task');
    const run = page.locator('.run');
    await run.waitFor();
    const until = Date.now() + 45_000;
    while ((await run.locator('.run-status').textContent()) !== 'Succeeded') {
      seen.add((await run.locator('.run-progress').textContent())!);
      assert.ok(Date.now() < until, `the task did not succeed in time: ${await run.textContent()}`);
      assert.notEqual(await run.locator('.run-status').textContent(), 'Failed', (await run.textContent())!);
      await page.waitForTimeout(50);
    }
    assert.equal(await run.locator('.run-progress').textContent(), '100 %');
    console.log(`progress seen live: ${[...seen, '100 %'].join(', ')}`);

    // Play the output, then ffprobe its bytes.
    const out = page.locator('audio.output-player');
    const outPlayed = await out.evaluate(async (el: MediaElement) => {
      if (el.readyState < 3) await new Promise((r) => el.addEventListener('canplay', r, { once: true }));
      el.muted = true;
      await el.play();
      const start = el.currentTime;
      await new Promise((r) => setTimeout(r, 800));
      return { start, now: el.currentTime, duration: el.duration };
    });
    assert.ok(outPlayed.now > outPlayed.start + 0.2, JSON.stringify(outPlayed));
    await shoot('compose-done');
    const bytes = await fetch(`${server.url}/-/console/api/oss/${BUCKET}/concat/output.flac`, { headers: { Cookie: s.cookie } });
    assert.equal(bytes.status, 200);
    const outFile = join(fixtures, 'output.flac');
    await writeFile(outFile, Buffer.from(await bytes.arrayBuffer()));
    const probed = ffprobe(outFile);
    const stream = probed.streams.find((x) => x.codec_type === 'audio')!;
    assert.equal(stream.codec_name, 'flac');
    assert.equal(stream.sample_rate, '44100');
    assert.equal(stream.channels, 1);
    // 3 + 2.5 + 4 s, within one FLAC frame (4096 samples at 44.1 kHz).
    const duration = Number(probed.format.duration);
    assert.ok(Math.abs(duration - 9.5) <= 4096 / 44100, `output lasts ${duration} s, not 9.5 s`);

    // The other actions: audio/convert keeps one source; video/concat offers only what each container takes.
    await page.selectOption('select[name=action]', 'audio/convert');
    assert.deepEqual(await page.locator('.clips li .clip-key').allTextContents(), ['hour.mp3']);
    await page.locator('.process-preview', { hasText: /^audio\/convert,f_flac,ar_44100,ac_1,ss_1800000,t_3000\|sys\/saveas,/ }).waitFor();
    await page.selectOption('select[name=action]', 'video/concat');
    await page.getByText('No video objects at the top of this bucket').waitFor();
    await page.selectOption('select[name=format]', 'webm');
    assert.deepEqual(await page.locator('select[name=vcodec] option').allTextContents(), ['vp9']);
    assert.deepEqual(await page.locator('select[name=acodec] option').allTextContents(), ['opus', 'vorbis']);
    assert.deepEqual(await page.locator('select[name=ar] option').allTextContents(), ['as align clip', '8000 Hz', '12000 Hz', '16000 Hz', '24000 Hz', '48000 Hz']);
    await page.selectOption('select[name=format]', 'mxf');
    assert.deepEqual(await page.locator('select[name=acodec] option').allTextContents(), ['pcm']);
    assert.deepEqual(await page.locator('select[name=ar] option').allTextContents(), ['as align clip', '48000 Hz']);
    assert.ok((await page.locator('select[name=fps] option').allTextContents()).includes('30000/1001'));
    assert.deepEqual(errors, []);
    assert.deepEqual(violations, [], 'no serious or critical axe-core violation on the object and compose pages');
    await ctx.close();
    console.log(`compose browser test: ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  });
});
