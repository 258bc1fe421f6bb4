/**
 * IMM projects and OSS-bucket attachments (spec/imm.md §4.1-4.8) over the SQL index.
 * A bucket attached to no project is served by the default project, created on first use, so the OSS
 * route works out of the box and its tasks are visible through GetTask/ListTasks.
 */
import type { Selectable } from 'kysely';
import type { Db } from '../db/connection.js';
import type { BucketAttachmentTable, ProjectTable } from '../db/schema.js';
import { fail } from '../errors.js';
import type { AttachmentRecord, ProjectInput, ProjectLimits, ProjectRecord } from './types.js';

export const DEFAULT_PROJECT = 'medley-default';
export const DEFAULT_SERVICE_ROLE = 'AliyunIMMDefaultRole';

/** spec §3.1 / §4.1; DatasetMaxFileCount per §6 #13 (the CreateProject page's default is out of its own range). */
export const DEFAULT_LIMITS: Readonly<ProjectLimits> = {
  DatasetMaxBindCount: 10,
  DatasetMaxFileCount: 100_000_000,
  DatasetMaxEntityCount: 10_000_000_000,
  DatasetMaxRelationCount: 100_000_000_000,
  DatasetMaxTotalFileSize: 90_000_000_000_000_000,
  ProjectMaxDatasetCount: 1_000_000_000,
};

const PROJECT_NOT_FOUND = 'The specified resource project is not found.';
const ATTACHMENT_NOT_FOUND = 'The specified resource OSSBucket attachment is not found.';

export interface ProjectListQuery {
  /** 1-200. */
  maxResults: number;
  nextToken?: string;
  prefix?: string;
  /** Every listed tag must match. */
  tags?: { Key: string; Value: string }[];
}

/** Rows scanned per round trip while filtering a listing by tag; tags live in JSON, so SQL cannot filter them. */
const LIST_BATCH = 500;

function toProject(r: Selectable<ProjectTable>): ProjectRecord {
  const p: ProjectRecord = {
    name: r.name,
    description: r.description,
    serviceRole: r.service_role,
    templateId: r.template_id,
    // Merged over the defaults so a limit added in a later version reads sensibly on old rows.
    limits: { ...DEFAULT_LIMITS, ...(JSON.parse(r.limits) as Partial<ProjectLimits>) },
    tags: JSON.parse(r.tags) as ProjectRecord['tags'],
    createdAt: new Date(Number(r.created_at)),
    updatedAt: new Date(Number(r.updated_at)),
  };
  if (r.dataset_config !== null) p.datasetConfig = JSON.parse(r.dataset_config) as unknown;
  return p;
}

function toAttachment(r: Selectable<BucketAttachmentTable>): AttachmentRecord {
  return {
    bucket: r.bucket,
    projectName: r.project,
    description: r.description,
    createdAt: new Date(Number(r.created_at)),
    updatedAt: new Date(Number(r.updated_at)),
  };
}

const toTags = (tags: { Key: string; Value: string }[]) => tags.map((t) => ({ TagKey: t.Key, TagValue: t.Value }));

/** The opaque ListProjects NextToken: the last name returned, base64url so it carries no visible structure. */
function encodeToken(lastName: string): string {
  return Buffer.from(lastName, 'utf8').toString('base64url');
}

function decodeToken(token: string): string {
  const name = Buffer.from(token, 'base64url').toString('utf8');
  // base64url decoding never throws; a token we did not issue shows up as one that does not round-trip.
  if (name === '' || encodeToken(name) !== token) fail('InvalidMediaArgument', 'The specified parameter NextToken is not valid.', { ArgumentName: 'NextToken', ArgumentValue: token });
  return name;
}

export class ProjectService {
  constructor(
    private readonly db: Db,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async create(name: string, input: ProjectInput): Promise<ProjectRecord> {
    const at = this.now().getTime();
    const row: Selectable<ProjectTable> = {
      name,
      description: input.description ?? '',
      service_role: input.serviceRole ?? DEFAULT_SERVICE_ROLE,
      template_id: input.templateId ?? '',
      limits: JSON.stringify({ ...DEFAULT_LIMITS, ...input.limits }),
      tags: JSON.stringify(toTags(input.tags ?? [])),
      dataset_config: input.datasetConfig === undefined ? null : JSON.stringify(input.datasetConfig),
      created_at: at,
      updated_at: at,
    };
    // The primary key decides between concurrent creators: exactly one insert lands.
    const r = await this.db.insertInto('projects').values(row).onConflict((oc) => oc.column('name').doNothing()).executeTakeFirst();
    if (Number(r.numInsertedOrUpdatedRows ?? 0) === 0) fail('ImmResourceAlreadyExists', 'The specified resource project already exists.', { ProjectName: name });
    return toProject(row);
  }

  async find(name: string): Promise<ProjectRecord | undefined> {
    const row = await this.db.selectFrom('projects').selectAll().where('name', '=', name).executeTakeFirst();
    return row ? toProject(row) : undefined;
  }

  async get(name: string): Promise<ProjectRecord> {
    return (await this.find(name)) ?? fail('ImmResourceNotFound', PROJECT_NOT_FOUND, { ProjectName: name });
  }

  async list(q: ProjectListQuery): Promise<{ projects: ProjectRecord[]; nextToken: string }> {
    // A page of zero would have no last name to continue after.
    const max = Math.max(1, Math.floor(q.maxResults));
    const prefix = q.prefix ?? '';
    const wanted = q.tags ?? [];
    const matches = (p: ProjectRecord) => wanted.every((w) => p.tags.some((t) => t.TagKey === w.Key && t.TagValue === w.Value));
    let cursor = q.nextToken ? decodeToken(q.nextToken) : undefined;
    const found: ProjectRecord[] = [];
    // One extra match tells whether a next page exists without handing out a token that leads nowhere.
    while (found.length <= max) {
      let sel = this.db.selectFrom('projects').selectAll();
      if (cursor !== undefined) sel = sel.where('name', '>', cursor);
      // A range, not LIKE: SQLite's LIKE ignores ASCII case and treats % and _ as wildcards.
      if (prefix !== '') sel = sel.where('name', '>=', prefix);
      const rows = await sel.orderBy('name').limit(LIST_BATCH).execute();
      let pastPrefix = false;
      for (const row of rows) {
        if (!row.name.startsWith(prefix)) {
          pastPrefix = true;
          break;
        }
        const p = toProject(row);
        if (matches(p)) found.push(p);
        if (found.length > max) break;
      }
      if (pastPrefix || rows.length < LIST_BATCH) break;
      cursor = rows.at(-1)!.name;
    }
    const projects = found.slice(0, max);
    const more = found.length > max;
    return { projects, nextToken: more ? encodeToken(projects.at(-1)!.name) : '' };
  }

  async update(name: string, input: ProjectInput): Promise<ProjectRecord> {
    return this.db.transaction().execute(async (tx) => {
      const row = await tx.selectFrom('projects').selectAll().where('name', '=', name).executeTakeFirst();
      if (!row) fail('ImmResourceNotFound', PROJECT_NOT_FOUND, { ProjectName: name });
      const current = toProject(row);
      const next: Selectable<ProjectTable> = {
        ...row,
        description: input.description ?? row.description,
        service_role: input.serviceRole ?? row.service_role,
        template_id: input.templateId ?? row.template_id,
        limits: JSON.stringify({ ...current.limits, ...input.limits }),
        tags: input.tags === undefined ? row.tags : JSON.stringify(toTags(input.tags)),
        dataset_config: input.datasetConfig === undefined ? row.dataset_config : JSON.stringify(input.datasetConfig),
        // Never earlier than the creation time, even if the clock stepped back in between.
        updated_at: Math.max(this.now().getTime(), Number(row.created_at)),
      };
      await tx
        .updateTable('projects')
        .set({
          description: next.description,
          service_role: next.service_role,
          template_id: next.template_id,
          limits: next.limits,
          tags: next.tags,
          dataset_config: next.dataset_config,
          updated_at: next.updated_at,
        })
        .where('name', '=', name)
        .execute();
      return toProject(next);
    });
  }

  /** `hasActiveTasks` lets the caller refuse with StatusConflict while tasks run (spec §6 #12). */
  async delete(name: string, hasActiveTasks: (project: string) => Promise<boolean>): Promise<void> {
    await this.get(name);
    if (await hasActiveTasks(name)) fail('ImmStatusConflict', 'Message: cannot delete when sub resoures exist', { ProjectName: name });
    await this.db.transaction().execute(async (tx) => {
      await tx.deleteFrom('bucket_attachments').where('project', '=', name).execute();
      const r = await tx.deleteFrom('projects').where('name', '=', name).executeTakeFirst();
      // A concurrent DeleteProject won the race: report what the loser would have seen a moment later.
      if (Number(r.numDeletedRows) === 0) fail('ImmResourceNotFound', PROJECT_NOT_FOUND, { ProjectName: name });
    });
  }

  async attach(bucket: string, project: string, description: string): Promise<void> {
    const at = this.now().getTime();
    // One transaction, so a project deleted concurrently cannot be left with a fresh attachment.
    await this.db.transaction().execute(async (tx) => {
      const p = await tx.selectFrom('projects').select('name').where('name', '=', project).executeTakeFirst();
      if (!p) fail('ImmResourceNotFound', PROJECT_NOT_FOUND, { ProjectName: project });
      const r = await tx
        .insertInto('bucket_attachments')
        .values({ bucket, project, description, created_at: at, updated_at: at })
        .onConflict((oc) => oc.column('bucket').doNothing())
        .executeTakeFirst();
      if (Number(r.numInsertedOrUpdatedRows ?? 0) === 0) fail('ImmResourceAlreadyExists', 'The specified resource OSSBucket attachment already exists.', { OSSBucket: bucket });
    });
  }

  async detach(bucket: string): Promise<void> {
    const r = await this.db.deleteFrom('bucket_attachments').where('bucket', '=', bucket).executeTakeFirst();
    if (Number(r.numDeletedRows) === 0) fail('ImmResourceNotFound', ATTACHMENT_NOT_FOUND, { OSSBucket: bucket });
  }

  async getAttachment(bucket: string): Promise<AttachmentRecord> {
    const row = await this.db.selectFrom('bucket_attachments').selectAll().where('bucket', '=', bucket).executeTakeFirst();
    return row ? toAttachment(row) : fail('ImmResourceNotFound', ATTACHMENT_NOT_FOUND, { OSSBucket: bucket });
  }

  /** The project that serves a bucket: its attachment, else DEFAULT_PROJECT (created if missing). */
  async projectForBucket(bucket: string): Promise<string> {
    const row = await this.db.selectFrom('bucket_attachments').select('project').where('bucket', '=', bucket).executeTakeFirst();
    if (row) return row.project;
    const at = this.now().getTime();
    // Insert-or-ignore: concurrent first uses (or a user's own CreateProject of that name) must not collide.
    await this.db
      .insertInto('projects')
      .values({
        name: DEFAULT_PROJECT,
        description: '',
        service_role: DEFAULT_SERVICE_ROLE,
        template_id: '',
        limits: JSON.stringify(DEFAULT_LIMITS),
        tags: '[]',
        dataset_config: null,
        created_at: at,
        updated_at: at,
      })
      .onConflict((oc) => oc.column('name').doNothing())
      .execute();
    return DEFAULT_PROJECT;
  }
}
