/** ProjectService against a real temp SQLite database: every rule of spec/imm.md §4.1-4.8 it owns. */
import { after, before, beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Db } from '../../src/db/connection.js';
import { openTestDatabase } from '../support/backend.js';
import { MedleyError, type ErrorName } from '../../src/errors.js';
import { DEFAULT_LIMITS, DEFAULT_PROJECT, ProjectService } from '../../src/projects/service.js';

let dir: string;
let db: Db;
let clock: Date;
let projects: ProjectService;
const noTasks = async () => false;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'medley-projects-'));
  db = await openTestDatabase(dir, { durable: false });
});
after(async () => {
  await db.destroy();
  rmSync(dir, { recursive: true, force: true });
});
beforeEach(async () => {
  await db.deleteFrom('bucket_attachments').execute();
  await db.deleteFrom('projects').execute();
  clock = new Date('2024-08-20T07:03:07.123Z');
  projects = new ProjectService(db, () => clock);
});

function isImm(name: ErrorName, message?: string) {
  return (e: unknown) => {
    assert.ok(e instanceof MedleyError, `expected a MedleyError, got ${String(e)}`);
    assert.equal(e.key, name);
    if (message !== undefined) assert.equal(e.message, message);
    return true;
  };
}

test('create fills every default of spec §3.1/§4.1, DatasetMaxFileCount 100000000 (§6 #13)', async () => {
  const p = await projects.create('p1', {});
  assert.equal(p.name, 'p1');
  assert.equal(p.description, '');
  assert.equal(p.serviceRole, 'AliyunIMMDefaultRole');
  assert.equal(p.templateId, '');
  assert.deepEqual(p.tags, []);
  assert.equal(p.datasetConfig, undefined);
  assert.deepEqual(p.limits, {
    DatasetMaxBindCount: 10,
    DatasetMaxFileCount: 100000000,
    DatasetMaxEntityCount: 10000000000,
    DatasetMaxRelationCount: 100000000000,
    DatasetMaxTotalFileSize: 90000000000000000,
    ProjectMaxDatasetCount: 1000000000,
  });
  assert.equal(p.createdAt.getTime(), clock.getTime());
  assert.equal(p.updatedAt.getTime(), clock.getTime());
});

test('create stores the given fields and reads back the same record', async () => {
  const created = await projects.create('p1', {
    description: 'd',
    serviceRole: 'role',
    templateId: 'Official:ImageManagement',
    limits: { DatasetMaxBindCount: 3 },
    tags: [{ Key: 'env', Value: 'prod' }],
    datasetConfig: { Insights: { Language: 'en' } },
  });
  assert.deepEqual(created.tags, [{ TagKey: 'env', TagValue: 'prod' }]);
  assert.deepEqual(created.limits, { ...DEFAULT_LIMITS, DatasetMaxBindCount: 3 });
  assert.deepEqual(await projects.get('p1'), created);
});

test('a duplicate create is ResourceAlreadyExists and leaves the first project alone', async () => {
  await projects.create('p1', { description: 'first' });
  await assert.rejects(projects.create('p1', { description: 'second' }), isImm('ImmResourceAlreadyExists', 'The specified resource project already exists.'));
  assert.equal((await projects.get('p1')).description, 'first');
});

test('concurrent creates of one name: exactly one wins', async () => {
  const results = await Promise.allSettled([1, 2, 3, 4].map((i) => projects.create('race', { description: String(i) })));
  assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
  for (const r of results) if (r.status === 'rejected') isImm('ImmResourceAlreadyExists')(r.reason);
});

test('get of an unknown project is ResourceNotFound', async () => {
  await assert.rejects(projects.get('nope'), isImm('ImmResourceNotFound', 'The specified resource project is not found.'));
});

test('find of an unknown project is undefined', async () => {
  assert.equal(await projects.find('nope'), undefined);
});

test('list pages in ascending name order, continuing after NextToken, "" on the last page', async () => {
  for (const n of ['c', 'a', 'e', 'b', 'd']) await projects.create(n, {});
  const p1 = await projects.list({ maxResults: 2 });
  assert.deepEqual(p1.projects.map((p) => p.name), ['a', 'b']);
  assert.notEqual(p1.nextToken, '');
  const p2 = await projects.list({ maxResults: 2, nextToken: p1.nextToken });
  assert.deepEqual(p2.projects.map((p) => p.name), ['c', 'd']);
  const p3 = await projects.list({ maxResults: 2, nextToken: p2.nextToken });
  assert.deepEqual(p3.projects.map((p) => p.name), ['e']);
  assert.equal(p3.nextToken, '');
});

test('list with exactly maxResults left returns NextToken "" (no empty trailing page)', async () => {
  for (const n of ['a', 'b']) await projects.create(n, {});
  const page = await projects.list({ maxResults: 2 });
  assert.equal(page.projects.length, 2);
  assert.equal(page.nextToken, '');
});

test('the NextToken is opaque: not the bare project name', async () => {
  for (const n of ['a', 'b']) await projects.create(n, {});
  const page = await projects.list({ maxResults: 1 });
  assert.notEqual(page.nextToken, 'a');
});

test('a NextToken Medley did not issue is InvalidArgument', async () => {
  await assert.rejects(projects.list({ maxResults: 10, nextToken: '!!not-a-token' }), isImm('InvalidMediaArgument'));
});

test('list filters by Prefix, case-sensitively and with no wildcard characters', async () => {
  for (const n of ['img_1', 'img_2', 'imgX', 'IMG_3', 'video']) await projects.create(n, {});
  const page = await projects.list({ maxResults: 10, prefix: 'img_' });
  assert.deepEqual(page.projects.map((p) => p.name), ['img_1', 'img_2']);
});

test('list with a Tag filter returns only projects carrying every listed tag', async () => {
  await projects.create('both', { tags: [{ Key: 'env', Value: 'prod' }, { Key: 'team', Value: 'media' }] });
  await projects.create('env-only', { tags: [{ Key: 'env', Value: 'prod' }] });
  await projects.create('other-value', { tags: [{ Key: 'env', Value: 'dev' }, { Key: 'team', Value: 'media' }] });
  const page = await projects.list({ maxResults: 10, tags: [{ Key: 'env', Value: 'prod' }, { Key: 'team', Value: 'media' }] });
  assert.deepEqual(page.projects.map((p) => p.name), ['both']);
});

test('a Tag-filtered listing finds matches beyond the first scan batch and pages through them', async () => {
  await db
    .insertInto('projects')
    .values(
      Array.from({ length: 1200 }, (_, i) => ({
        name: `p${String(i).padStart(4, '0')}`,
        description: '',
        service_role: 'r',
        template_id: '',
        limits: '{}',
        tags: JSON.stringify(i % 400 === 399 ? [{ TagKey: 'k', TagValue: 'v' }] : []),
        dataset_config: null,
        created_at: 0,
        updated_at: 0,
      })),
    )
    .execute();
  const first = await projects.list({ maxResults: 2, tags: [{ Key: 'k', Value: 'v' }] });
  assert.deepEqual(first.projects.map((p) => p.name), ['p0399', 'p0799']);
  const second = await projects.list({ maxResults: 2, tags: [{ Key: 'k', Value: 'v' }], nextToken: first.nextToken });
  assert.deepEqual(second.projects.map((p) => p.name), ['p1199']);
  assert.equal(second.nextToken, '');
});

test('update changes only the given fields and refreshes UpdateTime', async () => {
  await projects.create('p1', { description: 'd', serviceRole: 'role', tags: [{ Key: 'a', Value: '1' }], limits: { DatasetMaxBindCount: 3 } });
  const created = clock;
  clock = new Date(created.getTime() + 5000);
  const p = await projects.update('p1', { templateId: 't', limits: { ProjectMaxDatasetCount: 7 } });
  assert.equal(p.description, 'd');
  assert.equal(p.serviceRole, 'role');
  assert.equal(p.templateId, 't');
  assert.deepEqual(p.tags, [{ TagKey: 'a', TagValue: '1' }]);
  assert.equal(p.limits.DatasetMaxBindCount, 3);
  assert.equal(p.limits.ProjectMaxDatasetCount, 7);
  assert.equal(p.createdAt.getTime(), created.getTime());
  assert.equal(p.updatedAt.getTime(), clock.getTime());
  assert.deepEqual(await projects.get('p1'), p);
});

test('update replaces the tag list when Tag is given', async () => {
  await projects.create('p1', { tags: [{ Key: 'a', Value: '1' }] });
  const p = await projects.update('p1', { tags: [] });
  assert.deepEqual(p.tags, []);
});

test('update of an unknown project is ResourceNotFound', async () => {
  await assert.rejects(projects.update('nope', { description: 'x' }), isImm('ImmResourceNotFound', 'The specified resource project is not found.'));
});

test('delete while the project has active tasks is StatusConflict and keeps the project', async () => {
  await projects.create('p1', {});
  const asked: string[] = [];
  const busy = async (name: string) => {
    asked.push(name);
    return true;
  };
  await assert.rejects(projects.delete('p1', busy), isImm('ImmStatusConflict'));
  assert.deepEqual(asked, ['p1']);
  assert.ok(await projects.find('p1'));
});

test('delete removes the project and its bucket attachments, and only those', async () => {
  await projects.create('p1', {});
  await projects.create('p2', {});
  await projects.attach('b1', 'p1', '');
  await projects.attach('b2', 'p1', '');
  await projects.attach('b3', 'p2', '');
  await projects.delete('p1', noTasks);
  assert.equal(await projects.find('p1'), undefined);
  await assert.rejects(projects.getAttachment('b1'), isImm('ImmResourceNotFound'));
  await assert.rejects(projects.getAttachment('b2'), isImm('ImmResourceNotFound'));
  assert.equal((await projects.getAttachment('b3')).projectName, 'p2');
});

test('delete of an unknown project is ResourceNotFound', async () => {
  await assert.rejects(projects.delete('nope', noTasks), isImm('ImmResourceNotFound', 'The specified resource project is not found.'));
});

test('attach then getAttachment returns the binding with its description and times', async () => {
  await projects.create('p1', {});
  await projects.attach('bkt', 'p1', 'media bucket');
  assert.deepEqual(await projects.getAttachment('bkt'), { bucket: 'bkt', projectName: 'p1', description: 'media bucket', createdAt: clock, updatedAt: clock });
});

test('attach to an unknown project is ResourceNotFound', async () => {
  await assert.rejects(projects.attach('bkt', 'nope', ''), isImm('ImmResourceNotFound', 'The specified resource project is not found.'));
  await assert.rejects(projects.getAttachment('bkt'), isImm('ImmResourceNotFound'));
});

test('attaching an already-attached bucket is ResourceAlreadyExists, to any project', async () => {
  await projects.create('p1', {});
  await projects.create('p2', {});
  await projects.attach('bkt', 'p1', '');
  await assert.rejects(projects.attach('bkt', 'p2', ''), isImm('ImmResourceAlreadyExists'));
  await assert.rejects(projects.attach('bkt', 'p1', ''), isImm('ImmResourceAlreadyExists'));
  assert.equal((await projects.getAttachment('bkt')).projectName, 'p1');
});

test('detach removes the binding', async () => {
  await projects.create('p1', {});
  await projects.attach('bkt', 'p1', '');
  await projects.detach('bkt');
  await assert.rejects(projects.getAttachment('bkt'), isImm('ImmResourceNotFound'));
});

test('detach of a bucket that is not attached is ResourceNotFound', async () => {
  await assert.rejects(projects.detach('bkt'), isImm('ImmResourceNotFound'));
});

test('getAttachment of a bucket that is not attached is ResourceNotFound', async () => {
  await assert.rejects(projects.getAttachment('bkt'), isImm('ImmResourceNotFound'));
});

test('projectForBucket returns the attached project', async () => {
  await projects.create('p1', {});
  await projects.attach('bkt', 'p1', '');
  assert.equal(await projects.projectForBucket('bkt'), 'p1');
  assert.equal(await projects.find(DEFAULT_PROJECT), undefined);
});

test('projectForBucket of an unattached bucket creates the default project with defaults', async () => {
  assert.equal(await projects.projectForBucket('bkt'), DEFAULT_PROJECT);
  const p = await projects.get(DEFAULT_PROJECT);
  assert.equal(p.serviceRole, 'AliyunIMMDefaultRole');
  assert.deepEqual(p.limits, DEFAULT_LIMITS);
});

test('projectForBucket keeps an existing default project as it is', async () => {
  await projects.create(DEFAULT_PROJECT, { description: 'mine' });
  assert.equal(await projects.projectForBucket('bkt'), DEFAULT_PROJECT);
  assert.equal((await projects.get(DEFAULT_PROJECT)).description, 'mine');
});

test('concurrent projectForBucket calls all get the default project, created once', async () => {
  const names = await Promise.all(Array.from({ length: 8 }, (_, i) => projects.projectForBucket(`b${i}`)));
  assert.deepEqual(new Set(names), new Set([DEFAULT_PROJECT]));
  const rows = await db.selectFrom('projects').select('name').execute();
  assert.deepEqual(rows, [{ name: DEFAULT_PROJECT }]);
});
