/**
 * The web console in a real browser: headless Chromium (@sparticuz/chromium, driven by playwright-core)
 * against the real built server (`npm run build` first: it also builds dist/console). Sign in, create a
 * bucket, upload through the file input, see the object listed, play it (canplay, currentTime advances),
 * submit a task and watch it reach 100 % in a second tab that only has the server-sent event stream, and a
 * scoped key that cannot reach another bucket through the console API. Screenshots of each page at desktop
 * and phone widths go to test-output/console/ (ignored by git).
 *
 * The security rules of the console API (cookies, CSRF, CSP, rate limit, sign-out) are checked over plain
 * HTTP, so they hold even where no browser can start.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { request } from 'node:http';
import { tone } from '../support/media.js';
import { startServer, type TestServer } from '../support/server.js';
import { launch, type MediaElement } from '../support/console.js';

const SHOTS = fileURLToPath(new URL('../../test-output/console/', import.meta.url));
const SCOPED = { accessKeyId: 'LTAIconsoleScoped1', accessKeySecret: 'ConsoleScopedSecret000000000001', buckets: { 'cons-scoped': 'read-write' } };

let server: TestServer;
let dataDir: string;
let fixtures: string;
let wav: string;
let sessionFromPrevious: Session | undefined;

before(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'medley-console-'));
  fixtures = await mkdtemp(join(tmpdir(), 'medley-console-fx-'));
  await writeFile(join(dataDir, 'access-keys.json'), JSON.stringify({ keys: [SCOPED] }));
  wav = tone(join(fixtures, 'tone.wav'), 440, 12);
  server = await startServer({ dataDir });
  // Opened before any failed sign-in, so the rate limit exercised below never blocks it.
  sessionFromPrevious = (await signIn(server.keyId, server.secret)).session;
});

after(async () => {
  await server?.dispose();
  await rm(dataDir, { recursive: true, force: true });
  await rm(fixtures, { recursive: true, force: true });
});

interface Session {
  cookie: string;
  csrf: string;
}

async function signIn(id: string, secret: string): Promise<{ res: Response; session?: Session }> {
  const res = await fetch(`${server.url}/-/console/api/session`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ accessKeyId: id, accessKeySecret: secret }) });
  if (res.status !== 200) return { res };
  const cookies = res.headers.getSetCookie();
  const cookie = cookies.map((c) => c.split(';')[0]).join('; ');
  const csrf = ((await res.json()) as { csrf: string }).csrf;
  return { res, session: { cookie, csrf } };
}

/** A sign-in from another loopback address (the limit is per client address). */
function signInFrom(localAddress: string, secret: string): Promise<{ status: number; retryAfter?: string; body: string }> {
  const body = JSON.stringify({ accessKeyId: server.keyId, accessKeySecret: secret });
  return new Promise((resolve, reject) => {
    const req = request(`${server.url}/-/console/api/session`, { method: 'POST', localAddress, headers: { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) } }, (res) => {
      let text = '';
      res.on('data', (d: Buffer) => (text += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, retryAfter: res.headers['retry-after'], body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const api = (s: Session | undefined, path: string, init: RequestInit = {}) =>
  fetch(`${server.url}/-/console/api${path}`, { ...init, headers: { ...(s ? { Cookie: s.cookie } : {}), ...(init.headers as Record<string, string> | undefined) } });

describe('console API over HTTP', () => {
  test('the page: no-cache index naming hashed assets served immutable, a strict CSP, no inline script', async () => {
    const res = await fetch(`${server.url}/-/console`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('cache-control'), 'no-cache');
    const csp = res.headers.get('content-security-policy') ?? '';
    assert.match(csp, /default-src 'self'/);
    assert.match(csp, /script-src 'self'(;|$)/);
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
    const html = await res.text();
    assert.doesNotMatch(html, /<script>(?!<\/)/, 'no inline script');
    const js = /src="(\/-\/console\/assets\/main-[A-Z0-9]+\.js)"/.exec(html)?.[1];
    assert.ok(js, html);
    const a = await fetch(`${server.url}${js}`);
    assert.equal(a.status, 200);
    assert.equal(a.headers.get('cache-control'), 'public, max-age=31536000, immutable');
    assert.match(a.headers.get('content-type') ?? '', /javascript/);
    assert.equal((await fetch(`${server.url}/-/console/assets/..%2Fhttp%2Fserver.js`)).status, 404);
  });

  test('sign-in: wrong secrets are 401 and limited per address (429 with Retry-After); a good pair sets a HttpOnly SameSite=Strict cookie', async () => {
    const good = await signIn(server.keyId, server.secret);
    assert.equal(good.res.status, 200);
    const cookies = good.res.headers.getSetCookie();
    const session = cookies.find((c) => c.startsWith('medley_console_session='))!;
    assert.match(session, /HttpOnly/);
    assert.match(session, /SameSite=Strict/);
    assert.match(session, /Path=\/-\/console/);
    assert.match(session, /Max-Age=43200/);
    assert.ok(!JSON.stringify(await (await api(good.session, '/session')).json()).includes(server.secret), 'the secret never comes back');

    assert.equal((await api(undefined, '/session')).status, 401);
    assert.equal((await api(undefined, '/tasks')).status, 401);
    assert.equal((await api(undefined, '/oss/')).status, 401);
    const bad = await fetch(`${server.url}/-/console/api/session`, { method: 'POST', body: 'not json' });
    assert.equal(bad.status, 400);
    assert.match(((await bad.json()) as { message: string }).message, /JSON/);
    // The limit counts failures only (the 400 above was none), per client address: these come from 127.0.0.2.
    for (let i = 0; i < 5; i++) assert.equal((await signInFrom('127.0.0.2', 'wrong-secret-000000000000')).status, 401);
    const limited = await signInFrom('127.0.0.2', server.secret);
    assert.equal(limited.status, 429);
    assert.ok(Number(limited.retryAfter) > 0);
    assert.match(limited.body, /Too many failed sign-ins/);
    assert.equal((await signIn(server.keyId, server.secret)).res.status, 200, 'another address is not limited');
  });

  test('CSRF: a state-changing call without the header, or with another value, is 403; sign-out ends the session', async () => {
    const s = sessionFromPrevious;
    assert.ok(s, 'a session from the sign-in test');
    assert.equal((await api(s, '/oss/csrf-bucket', { method: 'PUT' })).status, 403);
    assert.equal((await api(s, '/oss/csrf-bucket', { method: 'PUT', headers: { 'X-Medley-Csrf': 'forged' } })).status, 403);
    const ok = await api(s, '/oss/csrf-bucket', { method: 'PUT', headers: { 'X-Medley-Csrf': s.csrf } });
    assert.equal(ok.status, 200, await ok.text());
    const listed = await api(s, '/oss/');
    assert.match(await listed.text(), /<Name>csrf-bucket<\/Name>/);
    assert.equal((await api(s, '/oss/csrf-bucket', { method: 'DELETE', headers: { 'X-Medley-Csrf': s.csrf } })).status, 204);
    assert.equal((await api(s, '/session', { method: 'DELETE', headers: { 'X-Medley-Csrf': s.csrf } })).status, 200);
    assert.equal((await api(s, '/session')).status, 401);
  });
});


describe('console in a real browser', async () => {
  const { browser, why } = await launch();
  const skip = browser ? false : `headless Chromium (@sparticuz/chromium) did not start here: ${why}`;
  after(async () => browser?.close());

  test('sign in, create a bucket, upload, list, play, run a task watched live, and screenshots', { skip, timeout: 120_000 }, async () => {
    await mkdir(SHOTS, { recursive: true });
    const ctx = await browser!.newContext({ viewport: { width: 1280, height: 800 } });
    const page = await ctx.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('console', (m) => m.type() === 'error' && !m.text().startsWith('Failed to load resource') && errors.push(m.text()));
    const shoot = async (name: string) => {
      await page.screenshot({ path: join(SHOTS, `${name}-desktop.png`), fullPage: true });
      await page.setViewportSize({ width: 390, height: 844 });
      await page.screenshot({ path: join(SHOTS, `${name}-phone.png`), fullPage: true });
      await page.setViewportSize({ width: 1280, height: 800 });
    };

    await page.goto(`${server.url}/-/console`);
    const nav = await page.evaluate<{ domContentLoaded: number; load: number }>(
      "(() => { const n = performance.getEntriesByType('navigation')[0]; return { domContentLoaded: n.domContentLoadedEventEnd, load: n.loadEventEnd }; })()",
    );
    await page.getByRole('button', { name: 'Sign in' }).waitFor();
    console.log(`console page load: DOMContentLoaded ${nav.domContentLoaded.toFixed(0)} ms, load ${nav.load.toFixed(0)} ms`);
    await shoot('signin');
    await page.fill('input[name=accessKeyId]', server.keyId);
    await page.fill('input[name=accessKeySecret]', 'wrong-secret-000000000000');
    await page.click('button[type=submit]');
    await page.getByText('SignInFailed').waitFor();
    await page.fill('input[name=accessKeySecret]', server.secret);
    await page.click('button[type=submit]');
    await page.getByRole('heading', { name: 'Buckets' }).waitFor();
    // The secret is nowhere the page can read back.
    const stored = await page.evaluate<string>('JSON.stringify({ local: { ...localStorage }, session: { ...sessionStorage }, cookie: document.cookie })');
    assert.ok(!stored.includes(server.secret), stored);
    assert.ok(!stored.includes('medley_console_session'), 'the session cookie is HttpOnly');

    await page.fill('input[name=bucket]', 'console-media');
    await page.click('text=Create bucket');
    await page.locator('a.bucket-link', { hasText: 'console-media' }).click();
    await page.getByText('This folder is empty.').waitFor();
    await page.setInputFiles('input[type=file]', wav);
    await page.locator('.uploads li.done').waitFor();
    await page.locator('tr.object a', { hasText: 'tone.wav' }).waitFor();
    await shoot('bucket');

    // A second tab on Tasks before the task exists: it can only learn of it through the event stream.
    const watcher = await ctx.newPage();
    const taskCalls: string[] = [];
    watcher.on('request', (r) => {
      if (r.url().includes('/-/console/api/tasks') || r.url().includes('/-/console/api/events')) taskCalls.push(new URL(r.url()).pathname);
    });
    await watcher.goto(`${server.url}/-/console#/tasks`);
    await watcher.locator('.badge.live').waitFor();

    await page.locator('tr.object a', { hasText: 'tone.wav' }).click();
    const audio = page.locator('audio.player');
    await audio.waitFor();
    const played = await audio.evaluate(async (el: MediaElement) => {
      if (el.readyState < 3) await new Promise((r) => el.addEventListener('canplay', r, { once: true }));
      el.muted = true;
      await el.play();
      const start = el.currentTime;
      await new Promise((r) => setTimeout(r, 1200));
      return { start, now: el.currentTime, duration: el.duration };
    });
    assert.ok(played.now > played.start + 0.3, `currentTime advanced: ${JSON.stringify(played)}`);
    assert.ok(Math.abs(played.duration - 12) < 0.5, `duration ${played.duration}`);
    await page.locator('pre.info', { hasText: '"Duration"' }).waitFor();
    const info = JSON.parse((await page.locator('pre.info').textContent())!) as { Duration?: string | number; AudioStreams?: unknown[] };
    assert.ok(Math.abs(Number(info.Duration) - 12) < 0.5, JSON.stringify(info));
    await page.locator('dd', { hasText: 'audio/' }).first().waitFor();
    await shoot('object');

    await page.click('text=Submit task');
    const taskId = (await page.locator('.process p code').textContent())!;
    assert.match(taskId, /\S+/);
    const card = watcher.locator(`li.task[data-task-id="${taskId}"]`);
    await card.locator('.status', { hasText: 'Succeeded' }).waitFor({ timeout: 60_000 });
    assert.equal(await card.locator('.progress-text').textContent(), '100 %');
    assert.match((await card.locator('.outputs').textContent())!, /oss:\/\/console-media\/tone-converted\.mp3/);
    assert.deepEqual(taskCalls, ['/-/console/api/tasks', '/-/console/api/events'], 'one list read, then the event stream only');
    await page.goto(`${server.url}/-/console#/tasks`);
    await page.locator(`li.task[data-task-id="${taskId}"] .status`, { hasText: 'Succeeded' }).waitFor();
    await shoot('tasks');

    await page.goto(`${server.url}/-/console#/compose/console-media`);
    await page.locator('.pick li', { hasText: 'tone.wav' }).locator('button').click();
    await page.locator('.pick li', { hasText: 'tone-converted.mp3' }).locator('button').click();
    await page.locator('.clips li').first().locator('input').first().fill('1');
    await page.locator('.clips li').first().locator('input').nth(1).fill('2');
    const preview = (await page.locator('.process-preview').textContent())!;
    assert.match(preview, /^audio\/concat,f_mp3,ss_1000,t_2000\/sur,o_dG9uZS1jb252ZXJ0ZWQubXAz\|sys\/saveas,o_Y29uY2F0L291dHB1dC5tcDM,b_Y29uc29sZS1tZWRpYQ$/);
    await page.click('text=Run task');
    await page.locator('section p code').waitFor();
    await shoot('compose');

    // A large file goes up in parts (multipart upload through the same door), with progress.
    const big = join(fixtures, 'big.bin');
    await writeFile(big, Buffer.alloc(40 * 1024 * 1024, 7));
    await page.goto(`${server.url}/-/console#/b/console-media/`);
    await page.locator('tr.object a', { hasText: 'tone.wav' }).waitFor();
    await page.setInputFiles('input[type=file]', big);
    await page.locator('.uploads li.done', { hasText: 'big.bin' }).waitFor({ timeout: 60_000 });
    const bigRow = page.locator('tr.object', { hasText: 'big.bin' });
    await bigRow.waitFor();
    assert.match((await bigRow.textContent())!, /40\.0 MiB/);
    const head = await page.evaluate<string | null>("fetch('/-/console/api/oss/console-media/big.bin', { method: 'HEAD' }).then((r) => r.headers.get('etag'))");
    assert.match(head ?? '', /-5"$/, `a 5-part multipart ETag: ${head}`);

    // Delete many, with confirmation.
    await page.goto(`${server.url}/-/console#/b/console-media/`);
    page.once('dialog', (d) => void d.accept());
    await page.locator('tr.object', { hasText: 'tone.wav' }).locator('input[type=checkbox]').check();
    await bigRow.locator('input[type=checkbox]').check();
    await page.click('text=Delete selected (2)');
    await page.locator('tr.object', { hasText: 'tone.wav' }).waitFor({ state: 'detached' });
    await bigRow.waitFor({ state: 'detached' });
    assert.deepEqual(errors, []);
    await ctx.close();
  });

  test('a scoped key sees its own bucket, and the console API refuses another bucket (403) and hides the root key\'s tasks', { skip, timeout: 60_000 }, async () => {
    const ctx = await browser!.newContext({ viewport: { width: 1280, height: 800 } });
    const page = await ctx.newPage();
    await page.goto(`${server.url}/-/console`);
    await page.fill('input[name=accessKeyId]', SCOPED.accessKeyId);
    await page.fill('input[name=accessKeySecret]', SCOPED.accessKeySecret);
    await page.click('button[type=submit]');
    await page.getByText('This key is scoped').waitFor();
    assert.deepEqual(await page.locator('a.bucket-link').allTextContents(), ['cons-scoped']);
    const status = await page.evaluate(async () => {
      const r = await fetch('/-/console/api/oss/console-media?list-type=2');
      const created = await fetch('/-/console/api/oss/sneaky', { method: 'PUT', headers: { 'X-Medley-Csrf': (globalThis as unknown as { document: { cookie: string } }).document.cookie.replace(/.*medley_console_csrf=([^;]*).*/, '$1') } });
      const tasks = (await (await fetch('/-/console/api/tasks')).json()) as { tasks: unknown[] };
      return { list: r.status, code: /<Code>([^<]+)/.exec(await r.text())?.[1], create: created.status, tasks: tasks.tasks.length };
    });
    assert.deepEqual(status, { list: 403, code: 'AccessDenied', create: 403, tasks: 0 });
    await ctx.close();
  });
});

describe('console object bytes and shutdown', () => {
  test('object bytes through the console honour Range (206) and are never a page of the origin (CSP sandbox); an unsigned upload is 401', async () => {
    const s = (await signIn(server.keyId, server.secret)).session!;
    const h = { 'X-Medley-Csrf': s.csrf };
    assert.equal((await api(s, '/oss/cons-bytes', { method: 'PUT', headers: h })).status, 200);
    const put = await api(s, '/oss/cons-bytes/dir/page.html', { method: 'PUT', headers: { ...h, 'Content-Type': 'text/html' }, body: '<script>alert(1)</script>0123456789' });
    assert.equal(put.status, 200, await put.text());
    const r = await api(s, '/oss/cons-bytes/dir/page.html', { headers: { Range: 'bytes=25-29' } });
    assert.equal(r.status, 206);
    assert.equal(r.headers.get('content-range'), 'bytes 25-29/35');
    assert.equal(await r.text(), '01234');
    assert.equal(r.headers.get('content-security-policy'), "sandbox; default-src 'none'");
    assert.equal(r.headers.get('x-content-type-options'), 'nosniff');
    const listed = await (await api(s, '/oss/cons-bytes?list-type=2&delimiter=/&max-keys=1')).text();
    assert.match(listed, /<Prefix>dir\/<\/Prefix>/);
    const anon = await api(undefined, '/oss/cons-bytes/x', { method: 'PUT', body: Buffer.alloc(256 * 1024) });
    assert.equal(anon.status, 401);
    assert.equal(((await anon.json()) as { error: string }).error, 'NotSignedIn');
  });

  test('an open event stream does not hold the server\'s shutdown', async () => {
    const s = (await signIn(server.keyId, server.secret)).session!;
    const stream = await api(s, '/events');
    assert.equal(stream.status, 200);
    assert.match(stream.headers.get('content-type') ?? '', /^text\/event-stream/);
    const reader = stream.body!.getReader();
    assert.match(new TextDecoder().decode((await reader.read()).value), /retry: 1000/);
    const t0 = Date.now();
    await server.stop();
    assert.ok(Date.now() - t0 < 5000, `stopped in ${Date.now() - t0} ms`);
    await reader.cancel().catch(() => undefined);
  });
});

test('MEDLEY_CONSOLE=false turns the console off (404); MEDLEY_CONSOLE_SESSION_HOURS sets the cookie lifetime', async () => {
  const off = await startServer({ env: { MEDLEY_CONSOLE: 'false', MEDLEY_WORKERS: '0' } });
  const short = await startServer({ env: { MEDLEY_CONSOLE_SESSION_HOURS: '0.5', MEDLEY_WORKERS: '0' } });
  try {
    const page = await fetch(`${off.url}/-/console`);
    assert.equal(page.status, 404);
    assert.match(((await page.json()) as { message: string }).message, /MEDLEY_CONSOLE=false/);
    assert.equal((await fetch(`${off.url}/-/console/api/session`, { method: 'POST', body: '{}' })).status, 404);
    const res = await fetch(`${short.url}/-/console/api/session`, { method: 'POST', body: JSON.stringify({ accessKeyId: short.keyId, accessKeySecret: short.secret }) });
    assert.equal(res.status, 200);
    assert.match(res.headers.getSetCookie()[0] ?? '', /Max-Age=1800;/);
  } finally {
    await Promise.all([off.dispose(), short.dispose()]);
  }
});
