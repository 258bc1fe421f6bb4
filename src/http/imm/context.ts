/** What an IMM operation handler receives, and what it returns. */
import type { Logger } from 'pino';
import type { Principal } from '../../auth/policy.js';
import type { ProjectService } from '../../projects/service.js';
import type { TaskService } from '../../tasks/service.js';
import type { ParamMap } from './params.js';

export interface ImmContext {
  /** API parameters, query and form merged (common signature parameters included). */
  params: ParamMap;
  principal: Principal;
  requestId: string;
  projects: ProjectService;
  tasks: TaskService;
  log: Logger;
  now: () => Date;
  /** Throws 503 ServiceUnavailable while free disk space is below the reserve (operations that start media work call it). */
  assertWritable?: () => void;
}

/** The response fields beside RequestId. */
export type ImmOperation = (ctx: ImmContext) => Promise<Record<string, unknown>>;
