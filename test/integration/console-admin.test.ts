/**
 * The console's admin side against the real built server (`npm run build` first):
 *  - presigned URLs signed by src/auth are accepted by the same module's verifier (V1, V4), capped at a week;
 *  - sessions live in the database: shared by two `medley serve` processes on one data dir, surviving a
 *    restart, ended everywhere at sign-out, and stored only as a hash of the id;
 *  - in headless Chromium (@sparticuz/chromium + playwright-core): bucket and object ACLs (checked by what
 *    an anonymous client may then read), a presigned URL that works and then expires, a multipart upload
 *    cut off mid-way (the part request aborted by the browser's network layer), continued after a reload
 *    from the parts the server has, with the stored bytes' MD5 checked, task filters and NextToken paging,
 *    the notifications page (create, subscribe a queue and a URL, publish, peek, push attempts), the scoped
 *    key refused there, an axe-core audit of every page at 1280×800 and 390×844 (no serious or critical
 *    violation), page-load timings, and screenshots into test-output/console/.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnSync } from 'node:child_process';
import { tone } from '../support/media.js';
import { auditPage, launch } from '../support/console.js';
import { startServer, type TestServer } from '../support/server.js';
import { backendEnv, queryRows } from '../support/backend.js';
import { presignOssPath, verifyOssRequest, PRESIGN_MAX_EXPIRES_SECONDS } from '../../src/auth/oss-signature.js';

const MAIN = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));
const SHOTS = fileURLToPath(new URL('../../test-output/console/', import.meta.url));
const SCOPED = { accessKeyId: 'LTAIadminScoped01', accessKeySecret: 'AdminScopedSecret00000000000001', buckets: { 'adm-scoped': 'read-write' } };

interface Session {
  cookie: string;
  csrf: string;
}

async function signIn(url: string, id: string, secret: string): Promise<Session> {
  const res = await fetch(`${url}/-/console/api/session`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ accessKeyId: id, accessKeySecret: secret }) });
  assert.equal(res.status, 200, await res.clone().text());
  const cookie = res.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
  return { cookie, csrf: ((await res.json()) as { csrf: string }).csrf };
}

const api = (url: string, s: Session | undefined, path: string, init: RequestInit = {}) =>
  fetch(`${url}/-/console/api${path}`, {
    ...init,
    headers: { ...(s ? { Cookie: s.cookie, 'X-Medley-Csrf': s.csrf } : {}), ...(init.headers as Record<string, string> | undefined) },
  });

const md5 = (b: Buffer) => createHash('md5').update(b).digest('hex');

describe('presigned URLs (pure): what the console signs, the verifier accepts', () => {
  const credential = { accessKeyId: 'LTAIpresign000001', secret: 'presign-secret-000000000000001' };
  const lookup = (id: string) => (id === credential.accessKeyId ? credential : undefined);
  const now = new Date('2026-12-03T06:00:00Z');
  for (const version of ['v1', 'v4'] as const) {
    test(`${version}: valid until the expiry, refused after; a tampered key is refused`, () => {
      const path = presignOssPath({ method: 'GET', bucket: 'media', key: 'dir/a b+ü.mp3', credential, expiresSeconds: 60, version, now, region: 'cn-hangzhou' });
      const verify = (rawUrl: string, at: Date) => verifyOssRequest({ method: 'GET', rawUrl, headers: {}, bucket: 'media', key: 'dir/a b+ü.mp3' }, { now: at, lookup, region: 'cn-hangzhou' });
      assert.equal(verify(path, new Date(now.getTime() + 59_000)).kind, 'signed');
      assert.throws(() => verify(path, new Date(now.getTime() + 61_000)), /expired/);
      assert.throws(() => verifyOssRequest({ method: 'GET', rawUrl: path, headers: {}, bucket: 'media', key: 'other.mp3' }, { now, lookup, region: 'cn-hangzhou' }), /signature/i);
    });
  }
  test('the expiry is 1 s to a week', () => {
    for (const expiresSeconds of [0, -1, 1.5, PRESIGN_MAX_EXPIRES_SECONDS + 1]) {
      assert.throws(() => presignOssPath({ method: 'GET', bucket: 'b', key: 'k', credential, expiresSeconds, version: 'v4', now, region: 'r' }), /one week/);
    }
    assert.ok(presignOssPath({ method: 'GET', bucket: 'b', key: 'k', credential, expiresSeconds: PRESIGN_MAX_EXPIRES_SECONDS, version: 'v4', now, region: 'r' }).includes('x-oss-expires=604800'));
  });
});

let a: TestServer;
let b: TestServer;
let dataDir: string;
let fixtures: string;
let backend: Record<string, string>;

before(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'medley-console-admin-'));
  fixtures = await mkdtemp(join(tmpdir(), 'medley-console-admin-fx-'));
  await writeFile(join(dataDir, 'access-keys.json'), JSON.stringify({ keys: [SCOPED] }));
  // One after the other: the first runs the migrations (two processes migrating one new SQLite file at
  // once race on CREATE TABLE).
  backend = await backendEnv(dataDir);
  a = await startServer({ dataDir });
  b = await startServer({ dataDir, env: { MEDLEY_WORKERS: '0' } });
});

after(async () => {
  await Promise.all([a?.stop(), b?.stop()]);
  await rm(dataDir, { recursive: true, force: true });
  await rm(fixtures, { recursive: true, force: true });
});

describe('sessions in the database', () => {
  test('two serve processes on one data dir share a session; it survives a restart; sign-out ends it on both; the table has only a hash', async () => {
    const s = await signIn(a.url, a.keyId, a.secret);
    assert.equal((await api(b.url, s, '/session')).status, 200, 'the other node knows the session');
    const id = /medley_console_session=([^;]+)/.exec(s.cookie)![1]!;
    const rows = await queryRows<{ id_hash: string; access_key_id: string }>(dataDir, 'select id_hash, access_key_id from console_sessions');
    assert.ok(rows.some((r) => r.id_hash === createHash('sha256').update(id).digest('hex')));
    assert.ok(!JSON.stringify(rows).includes(id) && !JSON.stringify(rows).includes(a.secret), 'no session id or secret stored');

    await a.stop();
    a = await startServer({ dataDir });
    assert.equal((await api(a.url, s, '/session')).status, 200, 'still signed in after the restart');
    assert.equal((await api(a.url, s, '/session', { method: 'DELETE' })).status, 200);
    assert.equal((await api(b.url, s, '/session')).status, 401, 'signed out on the other node too');
  });

  test('medley keys revoke ends the key\'s console sessions at once, on every node', async () => {
    const id = 'LTAIadminCliKey01';
    const secret = 'AdminCliKeySecret0000000000001';
    const cli = (...args: string[]) => spawnSync(process.execPath, [MAIN, 'keys', ...args, '--data-dir', dataDir], { encoding: 'utf8', timeout: 60_000, env: { ...process.env, ...backend } });
    const added = cli('add', id, '--secret', secret, '--bucket', 'adm-cli=read');
    assert.equal(added.status, 0, added.stderr);
    // The nodes re-read the keys every ~2 s; a failed sign-in counts toward this address's limit (5 a
    // minute), so wait for a refresh and try at most 4 times.
    let session: Session | undefined;
    await new Promise((res) => setTimeout(res, 2200));
    for (let tries = 0; !session && tries < 4; tries++) {
      const r = await fetch(`${a.url}/-/console/api/session`, { method: 'POST', body: JSON.stringify({ accessKeyId: id, accessKeySecret: secret }) });
      if (r.status === 200) session = { cookie: r.headers.getSetCookie().map((c) => c.split(';')[0]).join('; '), csrf: ((await r.json()) as { csrf: string }).csrf };
      else await new Promise((res) => setTimeout(res, 1500));
    }
    assert.ok(session, 'the added key signs in');
    // The other node knows the session once its key cache has the new key (a refused lookup there ends nothing).
    let onB = 0;
    for (const until = Date.now() + 15_000; onB !== 200 && Date.now() < until; await new Promise((res) => setTimeout(res, 250))) onB = (await api(b.url, session, '/session')).status;
    assert.equal(onB, 200);
    const revoked = cli('revoke', id);
    assert.equal(revoked.status, 0, revoked.stderr);
    assert.equal((await api(a.url, session, '/session')).status, 401, 'ended at once (the rows are gone), before any key cache refresh');
    assert.equal((await api(b.url, session, '/session')).status, 401);
  });

  test('the admin API refuses malformed input with a 400 naming it, and a scoped key on the message service with MNS AccessDenied', async () => {
    const s = await signIn(a.url, a.keyId, a.secret);
    const rows: Array<[string, RequestInit, number, RegExp]> = [
      ['/tasks?status=Done', {}, 400, /status must be one of Running, Succeeded, Failed/],
      ['/tasks?max=0', {}, 400, /max must be/],
      ['/tasks?from=yesterday', {}, 400, /not a date/],
      ['/tasks?nextToken=abc', {}, 400, /choose the project/],
      ['/tasks?project=default&nextToken=not-a-token', {}, 400, /NextToken/],
      ['/presign', { method: 'POST', body: '{"bucket":"b","key":"k","expiresSeconds":604801}' }, 400, /one week/],
      ['/presign', { method: 'POST', body: '{"bucket":"b","key":"k"}' }, 400, /expiresSeconds is required/],
      ['/presign', { method: 'POST', body: 'nope' }, 400, /must be JSON/],
      ['/mns/topics', { method: 'POST', body: '{"name":"-bad"}' }, 400, /.+/],
      ['/mns/queues/nope/messages', {}, 404, /queue/i],
    ];
    for (const [path, init, status, re] of rows) {
      const r = await api(a.url, s, path, init);
      const body = (await r.json()) as { error: string; message: string };
      assert.equal(r.status, status, `${path}: ${JSON.stringify(body)}`);
      assert.ok(body.error, path);
      assert.match(body.message, re, path);
    }
    const scoped = await signIn(a.url, SCOPED.accessKeyId, SCOPED.accessKeySecret);
    const refused = await api(a.url, scoped, '/mns/topics');
    assert.equal(refused.status, 403);
    assert.deepEqual(Object.keys((await refused.json()) as object), ['error', 'message']);
  });
});

/**
 * What the functions run in the page use of the DOM (this file is compiled without the DOM library). Page
 * functions, not strings: playwright evaluates a string predicate with eval, which the console's CSP forbids.
 */
interface DomLike {
  querySelector(s: string): { value: string } | null;
  querySelectorAll(s: string): ArrayLike<{ dataset: Record<string, string> }>;
}

type Page = import('playwright-core').Page;

/** ms from navigation start until `selector` shows (the first data render), and DOMContentLoaded. */
async function timed(page: Page, url: string, selector: string): Promise<{ domContentLoaded: number; firstData: number }> {
  // A fresh document each time (a hash change alone is no page load).
  await page.goto('about:blank');
  await page.goto(url);
  await page.locator(selector).first().waitFor();
  const firstData = await page.evaluate<number>('performance.now()');
  const domContentLoaded = await page.evaluate<number>("performance.getEntriesByType('navigation')[0].domContentLoadedEventEnd");
  return { domContentLoaded: Math.round(domContentLoaded), firstData: Math.round(firstData) };
}

describe('console admin pages in a real browser', async () => {
  const { browser, why } = await launch();
  const skip = browser ? false : `headless Chromium (@sparticuz/chromium) did not start here: ${why}`;
  after(async () => browser?.close());
  const violations: string[] = [];
  const timings: Record<string, { domContentLoaded: number; firstData: number }> = {};

  test('ACLs, presigned URLs, a resumable upload, task filters and paging, notifications, axe on every page', { skip, timeout: 150_000 }, async () => {
    await mkdir(SHOTS, { recursive: true });
    const ctx = await browser!.newContext({ viewport: { width: 1280, height: 800 } });
    const page = await ctx.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    const base = `${a.url}/-/console`;

    // Sign-in page (audited before signing in).
    await page.goto(base);
    await page.getByRole('button', { name: 'Sign in' }).waitFor();
    await auditPage(page, SHOTS, 'signin', violations);
    await page.fill('input[name=accessKeyId]', a.keyId);
    await page.fill('input[name=accessKeySecret]', a.secret);
    await page.click('button[type=submit]');
    await page.getByRole('heading', { name: 'Buckets' }).waitFor();
    await page.locator('p.empty').waitFor();

    // Create a bucket with an ACL chosen in the form.
    await page.fill('input[name=bucket]', 'adm-media');
    await page.selectOption('select[name=bucket-acl]', 'public-read');
    await page.click('text=Create bucket');
    await page.locator('a.bucket-link', { hasText: 'adm-media' }).waitFor();
    const s = await signIn(a.url, a.keyId, a.secret);
    assert.match(await (await api(a.url, s, '/oss/adm-media?acl')).text(), /<Grant>public-read<\/Grant>/);
    timings.buckets = await timed(page, base, 'a.bucket-link');
    await auditPage(page, SHOTS, 'buckets', violations);

    // Bucket page: set the bucket private; an object then is not anonymously readable until its own ACL says so.
    const wav = tone(join(fixtures, 'tone.wav'), 440, 3);
    const wavBytes = await readFile(wav);
    await page.locator('a.bucket-link', { hasText: 'adm-media' }).click();
    await page.getByText('This folder is empty.').waitFor();
    await page.locator('select[name=bucket-acl]:not([disabled])').waitFor();
    assert.equal(await page.locator('select[name=bucket-acl]').inputValue(), 'public-read');
    await page.selectOption('select[name=bucket-acl]', 'private');
    await page.getByText('Bucket ACL is now private.').waitFor();
    await page.setInputFiles('input[type=file]', wav);
    await page.locator('.uploads li.done').waitFor();
    const anon = `${a.url}/adm-media/tone.wav`;
    assert.equal((await fetch(anon)).status, 403, 'private bucket, default object ACL');
    await page.locator('tr.object', { hasText: 'tone.wav' }).getByRole('button', { name: /ACL/ }).click();
    await page.locator('select[name=object-acl]:not([disabled])').waitFor();
    assert.equal(await page.locator('select[name=object-acl]').inputValue(), 'default');
    await page.selectOption('select[name=object-acl]', 'public-read');
    await page.getByText('Object ACL is now public-read.').waitFor();
    const pub = await fetch(anon);
    assert.equal(pub.status, 200);
    assert.equal(md5(Buffer.from(await pub.arrayBuffer())), md5(wavBytes));
    await page.selectOption('select[name=object-acl]', 'default');
    await page.getByText('Object ACL is now default.').waitFor();
    assert.equal((await fetch(anon)).status, 403, 'back to the bucket ACL');

    // Presigned URL (V4, 3 s): works, then expires. V1 for an hour works too.
    await page.fill('input[name=expires]', '3');
    await page.selectOption('select[name=expires-unit]', '1');
    await page.click('text=Create presigned URL');
    const v4 = await page.locator('input[name=presigned-url]').inputValue();
    const signedAt = Date.now();
    assert.match(v4, /[?&]x-oss-expires=3&x-oss-signature-version=OSS4-HMAC-SHA256&x-oss-signature=[0-9a-f]{64}$/);
    assert.ok(!v4.includes(a.secret));
    const got = await fetch(v4);
    assert.equal(got.status, 200);
    assert.equal(md5(Buffer.from(await got.arrayBuffer())), md5(wavBytes));
    await auditPage(page, SHOTS, 'buckets-share', violations);
    await new Promise((r) => setTimeout(r, Math.max(0, 4200 - (Date.now() - signedAt))));
    const expired = await fetch(v4);
    assert.equal(expired.status, 403);
    assert.match(await expired.text(), /Request has expired/);
    await page.selectOption('select[name=signature-version]', 'v1');
    await page.selectOption('select[name=expires-unit]', '3600');
    await page.fill('input[name=expires]', '1');
    await page.click('text=Create presigned URL');
    await page.waitForFunction(() => (globalThis as unknown as { document: DomLike }).document.querySelector('input[name=presigned-url]')?.value.includes('Signature='));
    const v1 = await page.locator('input[name=presigned-url]').inputValue();
    assert.match(v1, /OSSAccessKeyId=.*&Expires=\d+&Signature=/);
    assert.equal((await fetch(v1)).status, 200);
    await page.fill('input[name=expires]', '8');
    await page.selectOption('select[name=expires-unit]', '86400');
    assert.equal(await page.locator('button', { hasText: 'Create presigned URL' }).isDisabled(), true, 'more than 7 days is not offered');

    // Resumable upload: part 3 of 5 is cut off by the network; after a reload the same file continues.
    const bigBytes = Buffer.alloc(40 * 1024 * 1024);
    for (let i = 0; i < bigBytes.length; i += 4096) bigBytes.writeUInt32LE(i * 2654435761 >>> 0, i);
    const big = join(fixtures, 'big.bin');
    await writeFile(big, bigBytes);
    const partPuts: number[] = [];
    page.on('request', (r) => {
      const m = /[?&]partNumber=(\d+)/.exec(r.url());
      if (m && r.method() === 'PUT') partPuts.push(Number(m[1]));
    });
    await page.route(/partNumber=3&/, (route) => route.abort('connectionreset'));
    await page.setInputFiles('input[type=file]', big);
    await page.locator('.uploads li.failed', { hasText: 'big.bin' }).getByText('NetworkError').waitFor({ timeout: 60_000 });
    await page.locator('button.resume').waitFor();
    const stored = await page.evaluate<string>('JSON.stringify({ ...sessionStorage })');
    assert.match(stored, /medley-upload:adm-media\/big\.bin:41943040:/);
    assert.ok(!stored.includes(a.secret));
    await page.unroute(/partNumber=3&/);
    await page.reload();
    await page.locator('tr.object', { hasText: 'tone.wav' }).waitFor();
    await page.setInputFiles('input[type=file]', big);
    await page.locator('.uploads li.done', { hasText: 'big.bin' }).waitFor({ timeout: 60_000 });
    assert.match((await page.locator('.uploads li', { hasText: 'big.bin' }).textContent())!, /resumed: 2 parts/);
    assert.deepEqual(partPuts.filter((n) => n <= 2), [1, 2], `parts 1 and 2 were sent once: ${JSON.stringify(partPuts)}`);
    const down = await api(a.url, s, '/oss/adm-media/big.bin');
    assert.equal(md5(Buffer.from(await down.arrayBuffer())), md5(bigBytes), 'the stored bytes are the file');
    assert.match(down.headers.get('etag') ?? '', /-5"$/);
    assert.equal(await page.evaluate<string>('JSON.stringify({ ...sessionStorage })'), '{}', 'nothing left to resume');
    timings.bucket = await timed(page, `${base}#/b/adm-media/`, 'tr.object');
    await auditPage(page, SHOTS, 'buckets-bucket', violations);

    // A bucket of 250 objects: the page lists 100 at a time (ListObjectsV2 max-keys=100), more only on request.
    assert.equal((await api(a.url, s, '/oss/adm-many', { method: 'PUT' })).status, 200);
    const keys = Array.from({ length: 250 }, (_, i) => `k-${String(i).padStart(3, '0')}`);
    for (let i = 0; i < keys.length; i += 25) {
      await Promise.all(keys.slice(i, i + 25).map(async (k) => assert.equal((await api(a.url, s, `/oss/adm-many/${k}`, { method: 'PUT', body: k })).status, 200)));
    }
    const listings: string[] = [];
    const onList = (r: { url(): string }) => {
      if (/\/api\/oss\/adm-many\?list-type=2/.test(r.url())) listings.push(new URL(r.url()).searchParams.get('max-keys') ?? '');
    };
    page.on('request', onList);
    await page.goto(`${base}#/b/adm-many/`);
    await page.locator('tr.object', { hasText: 'k-099' }).waitFor();
    assert.equal(await page.locator('tr.object').count(), 100);
    await page.click('text=Load the next 100 entries');
    await page.locator('tr.object', { hasText: 'k-199' }).waitFor();
    assert.equal(await page.locator('tr.object').count(), 200);
    page.off('request', onList);
    assert.deepEqual(listings, ['100', '100'], 'two pages of 100, nothing more read');

    // Tasks: three that succeed and one that fails, then filters and paging.
    const b64 = (x: string) => Buffer.from(x).toString('base64url');
    const submit = async (key: string, out: string) => {
      const r = await api(a.url, s, `/oss/adm-media/${key}?x-oss-async-process`, { method: 'POST', headers: { 'Content-Type': 'text/plain' }, body: `x-oss-async-process=audio/convert,f_mp3|sys/saveas,o_${b64(out)},b_${b64('adm-media')}` });
      assert.equal(r.status, 200, await r.clone().text());
      return ((await r.json()) as { TaskId: string }).TaskId;
    };
    const ids = [await submit('tone.wav', 'out-1.mp3'), await submit('tone.wav', 'out-2.mp3'), await submit('big.bin', 'never.mp3'), await submit('tone.wav', 'out-3.mp3')];
    const deadline = Date.now() + 60_000;
    let all: { taskId: string; status: string; projectName: string }[] = [];
    while (Date.now() < deadline) {
      all = ((await (await api(a.url, s, '/tasks?max=100')).json()) as { tasks: typeof all }).tasks;
      if (ids.every((id) => all.some((t) => t.taskId === id && t.status !== 'Running'))) break;
      await new Promise((r) => setTimeout(r, 300));
    }
    const failedId = ids[2]!;
    assert.equal(all.find((t) => t.taskId === failedId)?.status, 'Failed');
    const project = all[0]!.projectName;
    await page.goto(`${base}#/tasks`);
    await page.locator('li.task').first().waitFor();
    timings.tasks = await timed(page, `${base}#/tasks`, 'li.task');
    await page.selectOption('select[name=status]', 'Failed');
    await page.click('text=Apply filters');
    await page.locator(`li.task[data-task-id="${failedId}"]`).waitFor();
    await page.waitForFunction(() => (globalThis as unknown as { document: DomLike }).document.querySelectorAll('li.task').length === 1);
    assert.match((await page.locator('li.task .task-error').textContent())!, /\S+: \S+/, 'the error code and message');
    await page.locator('li.task summary').click();
    assert.match((await page.locator('li.task pre.request').textContent())!, /x-oss-async-process|audio\/convert/);
    await page.screenshot({ path: join(SHOTS, 'tasks-failed-desktop.png'), fullPage: true });
    await page.fill('input[name=from]', '2099-01-01T00:00');
    await page.selectOption('select[name=status]', '');
    await page.click('text=Apply filters');
    await page.getByText('No task matches these filters').waitFor();
    await page.fill('input[name=from]', '');
    // Pages of 2 through ListTasks' NextToken (the page offers 5 and more: the request is rewritten to 2).
    await page.route(/\/api\/tasks\?/, async (route) => {
      const u = new URL(route.request().url());
      if (u.searchParams.get('max') === '5') u.searchParams.set('max', '2');
      await route.continue({ url: u.toString() });
    });
    await page.selectOption('select[name=project]', project);
    await page.selectOption('select[name=max]', '5');
    await page.click('text=Apply filters');
    const seen: string[] = [];
    let previous = '';
    for (let n = 0; n < 4; n++) {
      await page.waitForFunction((prev) => {
        const l = (globalThis as unknown as { document: DomLike }).document.querySelectorAll('li.task');
        return l.length > 0 && l.length <= 2 && l[0]!.dataset.taskId !== prev;
      }, previous);
      const onPage = await page.locator('li.task').evaluateAll((els) => els.map((e) => (e as unknown as { dataset: { taskId: string } }).dataset.taskId));
      seen.push(...onPage);
      previous = onPage[0]!;
      if ((await page.locator('button.next-page').count()) === 0) break;
      await page.click('button.next-page');
    }
    await page.unroute(/\/api\/tasks\?/);
    assert.deepEqual([...seen].sort(), [...ids].sort(), 'every task exactly once across the pages');
    await page.click('text=First page');
    await page.locator('li.task audio.player').first().waitFor();
    await auditPage(page, SHOTS, 'tasks-list', violations);

    // Notifications: a topic with a queue and two URL subscriptions (one that answers, one that refuses).
    let pushed = 0;
    const receiver: Server = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        pushed++;
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    const receiverUrl = `http://127.0.0.1:${(receiver.address() as { port: number }).port}/push`;
    try {
      await page.goto(`${base}#/notifications`);
      await page.getByText('No topics yet').waitFor();
      await page.getByText('No queues yet').waitFor();
      await auditPage(page, SHOTS, 'notifications-empty', violations);
      timings.notifications = await timed(page, `${base}#/notifications`, '.mns-topics p.empty');
      await page.fill('input[name=queue-name]', 'adm-queue');
      await page.click('text=Create queue');
      await page.locator('tr[data-queue="adm-queue"]').waitFor();
      await page.fill('input[name=topic-name]', 'adm-topic');
      await page.click('text=Create topic');
      const topic = page.locator('li.mns-topic[data-topic="adm-topic"]');
      await topic.waitFor();
      const subscribe = async (name: string, endpoint: string) => {
        await topic.locator('input[name=subscription-name]').fill(name);
        await topic.locator('input[name=endpoint]').fill(endpoint);
        await topic.getByRole('button', { name: 'Subscribe', exact: true }).click();
        await topic.locator('table.subscriptions td', { hasText: name }).waitFor();
      };
      await subscribe('to-queue', 'adm-queue');
      await subscribe('to-url', receiverUrl);
      await subscribe('to-nowhere', 'http://127.0.0.1:9/refused');
      await topic.locator('input[name=message-body]').fill('hello from the console');
      await topic.locator('button', { hasText: 'Publish' }).click();
      await page.getByText('Published.').waitFor();
      await page.locator('tr[data-queue="adm-queue"] button.peek').click();
      await page.locator('.peeked pre.message-body', { hasText: 'hello from the console' }).waitFor();
      // Peeking twice changes nothing: still there, never received.
      await page.locator('tr[data-queue="adm-queue"] button.peek').click();
      await page.locator('.peeked', { hasText: 'received 0×' }).waitFor();
      const pushDeadline = Date.now() + 20_000;
      while (Date.now() < pushDeadline) {
        await page.locator('.mns-pushes button', { hasText: 'Refresh' }).click();
        const delivered = await page.locator('tr.push.delivered').count();
        const failing = await page.locator('tr.push.pending td.error').count();
        if (delivered === 1 && failing === 1) break;
        await new Promise((r) => setTimeout(r, 500));
      }
      assert.equal(await page.locator('tr.push.delivered').count(), 1);
      assert.equal(pushed, 1);
      const failingRow = (await page.locator('tr.push.pending').textContent())!;
      assert.match(failingRow, /to-nowhere/);
      assert.match(failingRow, /ECONNREFUSED|refused|connect/i);
      await auditPage(page, SHOTS, 'notifications', violations);
    } finally {
      receiver.close();
    }
    assert.deepEqual(errors, []);
    await ctx.close();

    // A scoped key: its own bucket only, and the message service's own refusal shown with code and message.
    const sctx = await browser!.newContext({ viewport: { width: 1280, height: 800 } });
    const sp = await sctx.newPage();
    await sp.goto(base);
    await sp.fill('input[name=accessKeyId]', SCOPED.accessKeyId);
    await sp.fill('input[name=accessKeySecret]', SCOPED.accessKeySecret);
    await sp.click('button[type=submit]');
    await sp.getByText('This key is scoped').waitFor();
    await sp.goto(`${base}#/notifications`);
    await sp.locator('.mns-topics .error', { hasText: 'AccessDenied: This access key is scoped to buckets' }).waitFor();
    await auditPage(sp, SHOTS, 'notifications-scoped', violations);
    await sctx.close();

    console.log(`console admin page loads (ms from navigation: DOMContentLoaded / first data shown): ${JSON.stringify(timings)}`);
    assert.deepEqual(violations, [], 'no serious or critical axe-core violation');
  });
});
