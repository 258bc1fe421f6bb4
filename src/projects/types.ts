/** IMM projects and OSS-bucket attachments as the domain sees them (spec/imm.md §3.1, §4.1-4.8). */

export interface ProjectLimits {
  DatasetMaxBindCount: number;
  DatasetMaxFileCount: number;
  DatasetMaxEntityCount: number;
  DatasetMaxRelationCount: number;
  DatasetMaxTotalFileSize: number;
  ProjectMaxDatasetCount: number;
}

export interface ProjectRecord {
  name: string;
  description: string;
  serviceRole: string;
  templateId: string;
  limits: ProjectLimits;
  /** Response shape: [{TagKey, TagValue}]. */
  tags: { TagKey: string; TagValue: string }[];
  datasetConfig?: unknown;
  createdAt: Date;
  updatedAt: Date;
}

export interface AttachmentRecord {
  bucket: string;
  projectName: string;
  description: string;
  createdAt: Date;
  updatedAt: Date;
}

/** Fields CreateProject/UpdateProject may set (validated by the dialect; undefined = not given). */
export interface ProjectInput {
  description?: string;
  serviceRole?: string;
  templateId?: string;
  limits?: Partial<ProjectLimits>;
  tags?: { Key: string; Value: string }[];
  datasetConfig?: unknown;
}
