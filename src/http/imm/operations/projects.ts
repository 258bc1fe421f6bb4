/**
 * Project management and OSS-bucket attachment (spec/imm.md §4.1-4.8). These manage the account's
 * resources, so only the account's root key may call them (scoped keys are like RAM users without IMM rights).
 */
import { z } from 'zod';
import { isAccountOwner } from '../../../auth/policy.js';
import { fail } from '../../../errors.js';
import type { ProjectInput, ProjectLimits } from '../../../projects/types.js';
import type { ImmContext, ImmOperation } from '../context.js';
import { invalidArgument } from '../errors.js';
import { optionalBool, optionalInt, optionalJson, optionalString, requiredString, type ParamMap } from '../params.js';
import { attachmentToWire, projectToWire } from '../wire.js';
import { isValidBucketName } from '../../../storage/names.js';

const PROJECT_NAME = /^[A-Za-z_][A-Za-z0-9_-]{0,127}$/;
/** OSS bucket naming: 3-63 lowercase letters, digits and hyphens, starting and ending with a letter or digit. */

/** Ranges of spec §4.1; the unbounded ones are int64 on the wire. */
const LIMIT_RANGES: Record<keyof ProjectLimits, { min: number; max?: number }> = {
  DatasetMaxBindCount: { min: 1, max: 10 },
  DatasetMaxFileCount: { min: 1, max: 100_000_000 },
  DatasetMaxEntityCount: { min: 1 },
  DatasetMaxRelationCount: { min: 1 },
  DatasetMaxTotalFileSize: { min: 1 },
  ProjectMaxDatasetCount: { min: 1, max: 1_000_000_000 },
};

const TagsSchema = z.array(z.object({ Key: z.string().min(1).max(128), Value: z.string().max(256).default('') }));

function requireOwner(ctx: ImmContext): void {
  if (!isAccountOwner(ctx.principal)) fail('AccessDenied', 'User not authorized to operate on the specified resource: managing IMM projects needs the account\'s root AccessKey.');
}

function ownerOnly(op: ImmOperation): ImmOperation {
  return async (ctx) => {
    requireOwner(ctx);
    return op(ctx);
  };
}

function boundedString(p: ParamMap, name: string, max: number): string | undefined {
  const v = optionalString(p, name);
  if (v !== undefined && [...v].length > max) invalidArgument(name, `must be at most ${max} characters`, v.slice(0, 100));
  return v;
}

/** Tag / filter tags: JSON `[{"Key": "k", "Value": "v"}]` (spec §4.1, §4.3). */
export function parseTags(p: ParamMap, name = 'Tag'): { Key: string; Value: string }[] | undefined {
  const raw = optionalJson(p, name);
  if (raw === undefined) return undefined;
  const r = TagsSchema.safeParse(raw);
  if (!r.success) return invalidArgument(name, 'must be a JSON array of {"Key": "<1-128 characters>", "Value": "<0-256 characters>"}');
  return r.data;
}

/** The settable fields of CreateProject/UpdateProject; undefined = not given. */
export function parseProjectInput(p: ParamMap): ProjectInput {
  const input: ProjectInput = {};
  const description = boundedString(p, 'Description', 256);
  if (description !== undefined) input.description = description;
  const serviceRole = boundedString(p, 'ServiceRole', 256);
  if (serviceRole !== undefined) input.serviceRole = serviceRole;
  const templateId = boundedString(p, 'TemplateId', 256);
  if (templateId !== undefined) input.templateId = templateId;
  const limits: Partial<ProjectLimits> = {};
  for (const [name, range] of Object.entries(LIMIT_RANGES) as [keyof ProjectLimits, { min: number; max?: number }][]) {
    const v = optionalInt(p, name, range);
    if (v !== undefined) limits[name] = v;
  }
  if (Object.keys(limits).length > 0) input.limits = limits;
  const tags = parseTags(p);
  if (tags !== undefined) input.tags = tags;
  const datasetConfig = optionalJson(p, 'DatasetConfig');
  if (datasetConfig !== undefined) {
    if (typeof datasetConfig !== 'object' || datasetConfig === null || Array.isArray(datasetConfig)) invalidArgument('DatasetConfig', 'must be a JSON object');
    input.datasetConfig = datasetConfig;
  }
  return input;
}

function bucketParam(p: ParamMap): string {
  const bucket = requiredString(p, 'OSSBucket');
  // The bucket exists already, so the rule for existing buckets (`_` tolerated), as the media requests use.
  if (!isValidBucketName(bucket)) invalidArgument('OSSBucket', 'is not a valid bucket name (3-63 lowercase letters, digits, "-" or "_", starting and ending with a letter or digit)', bucket);
  return bucket;
}

const createProject: ImmOperation = async (ctx) => {
  const name = requiredString(ctx.params, 'ProjectName');
  if (!PROJECT_NAME.test(name)) invalidArgument('ProjectName', 'must be 1-128 letters, digits, "-" or "_", starting with a letter or "_"', name);
  const project = await ctx.projects.create(name, parseProjectInput(ctx.params));
  return { Project: projectToWire(project) };
};

const getProject: ImmOperation = async (ctx) => {
  const name = requiredString(ctx.params, 'ProjectName');
  // Statistics are always current (and zero: Medley keeps no datasets), so the flag only needs to be valid.
  optionalBool(ctx.params, 'WithStatistics');
  return { Project: projectToWire(await ctx.projects.get(name)) };
};

const listProjects: ImmOperation = async (ctx) => {
  const max = optionalInt(ctx.params, 'MaxResults', { min: 0, max: 200 });
  const prefix = boundedString(ctx.params, 'Prefix', 128);
  const tags = parseTags(ctx.params);
  const nextToken = optionalString(ctx.params, 'NextToken');
  const page = await ctx.projects.list({ maxResults: max === undefined || max === 0 ? 100 : max, nextToken, prefix, tags });
  return { NextToken: page.nextToken, Projects: page.projects.map(projectToWire) };
};

const updateProject: ImmOperation = async (ctx) => {
  const name = requiredString(ctx.params, 'ProjectName');
  const project = await ctx.projects.update(name, parseProjectInput(ctx.params));
  return { Project: projectToWire(project) };
};

const deleteProject: ImmOperation = async (ctx) => {
  const name = requiredString(ctx.params, 'ProjectName');
  await ctx.projects.delete(name, (project) => ctx.tasks.hasActiveTasks(project));
  return {};
};

const attachOssBucket: ImmOperation = async (ctx) => {
  const name = requiredString(ctx.params, 'ProjectName');
  const bucket = bucketParam(ctx.params);
  const description = boundedString(ctx.params, 'Description', 128) ?? '';
  await ctx.projects.attach(bucket, name, description);
  return {};
};

const detachOssBucket: ImmOperation = async (ctx) => {
  await ctx.projects.detach(bucketParam(ctx.params));
  return {};
};

const getOssBucketAttachment: ImmOperation = async (ctx) => {
  return attachmentToWire(await ctx.projects.getAttachment(bucketParam(ctx.params)));
};

export const projectOperations: Readonly<Record<string, ImmOperation>> = {
  CreateProject: ownerOnly(createProject),
  GetProject: ownerOnly(getProject),
  ListProjects: ownerOnly(listProjects),
  UpdateProject: ownerOnly(updateProject),
  DeleteProject: ownerOnly(deleteProject),
  AttachOSSBucket: ownerOnly(attachOssBucket),
  DetachOSSBucket: ownerOnly(detachOssBucket),
  GetOSSBucketAttachment: ownerOnly(getOssBucketAttachment),
};
