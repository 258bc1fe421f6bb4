/**
 * Shared helpers for tests that run media tasks through the official clients: IMM over
 * @alicloud/pop-core (RPC v1) and @alicloud/openapi-client (ACS3-HMAC-SHA256, or v1 with
 * signatureAlgorithm 'v2'), x-oss-async-process through ali-oss, and polling a task to its end.
 */
import { createRequire } from 'node:module';
import type OSS from 'ali-oss';

const require = createRequire(import.meta.url);

/** The slice of pop-core's RPCClient the tests use (the package ships no types). */
export interface PopClient {
  request(action: string, params: Record<string, unknown>, opts?: { method?: 'GET' | 'POST'; timeout?: number }): Promise<Record<string, unknown>>;
}

export interface ImmCaller {
  /** Calls an IMM action; resolves with the JSON body, or rejects with an error carrying `data` (the body) and `code`. */
  call(action: string, params: Record<string, unknown>): Promise<Record<string, unknown>>;
}

export interface Keys {
  url: string;
  keyId: string;
  secret: string;
}

/** pop-core RPCClient, POST (form body) by default, GET on request. */
export function popClient(k: Keys, method: 'GET' | 'POST' = 'POST'): ImmCaller {
  const RPCClient = require('@alicloud/pop-core') as new (o: Record<string, string>) => PopClient;
  const c = new RPCClient({ accessKeyId: k.keyId, accessKeySecret: k.secret, endpoint: k.url, apiVersion: '2020-09-30' });
  return { call: (action, params) => c.request(action, params, { method, timeout: 30_000 }) };
}

/** @alicloud/openapi-client, as the generated IMM SDKs call it: parameters in the query, ACS3 (or v1 with 'v2'). */
export function openApiClient(k: Keys, signatureAlgorithm?: 'v2'): ImmCaller {
  const OpenApi = require('@alicloud/openapi-client') as typeof import('@alicloud/openapi-client');
  const Util = require('@alicloud/tea-util') as typeof import('@alicloud/tea-util');
  const OpenApiUtil = (require('@alicloud/openapi-util') as { default: { query(o: unknown): Record<string, string> } }).default;
  const url = new URL(k.url);
  const client = new OpenApi.default(
    new OpenApi.Config({ accessKeyId: k.keyId, accessKeySecret: k.secret, endpoint: url.host, protocol: 'http', regionId: 'cn-hangzhou', ...(signatureAlgorithm ? { signatureAlgorithm } : {}) }),
  );
  return {
    async call(action, params) {
      const apiParams = new OpenApi.Params({ action, version: '2020-09-30', protocol: 'HTTP', pathname: '/', method: 'POST', authType: 'AK', style: 'RPC', reqBodyType: 'formData', bodyType: 'json' });
      // Complex values travel as JSON strings, as the generated SDKs' *ShrinkRequest does.
      const flat = Object.fromEntries(Object.entries(params).map(([key, v]) => [key, typeof v === 'object' && v !== null ? JSON.stringify(v) : v]));
      const request = new OpenApi.OpenApiRequest({ query: OpenApiUtil.query(flat) });
      try {
        const r = (await client.callApi(apiParams, request, new Util.RuntimeOptions({ autoretry: false, readTimeout: 30_000 }))) as { body: Record<string, unknown> };
        return r.body;
      } catch (e) {
        // Tea errors carry the parsed body in `data`; normalise to pop-core's shape.
        const err = e as Error & { data?: Record<string, unknown>; code?: string };
        throw Object.assign(err, { data: err.data, code: err.code ?? (err.data?.Code as string | undefined) });
      }
    },
  };
}

/** POST /<key>?x-oss-async-process through ali-oss's own signing (what the captured vectors show). */
export async function submitAsyncProcess(client: OSS, key: string, processString: string, opts: { urlencoded?: boolean } = {}): Promise<{ EventId: string; RequestId: string; TaskId: string; status: number }> {
  const c = client as unknown as {
    _objectRequestParams(method: string, name: string, options: unknown): Record<string, unknown>;
    request(params: Record<string, unknown>): Promise<{ data: Buffer; res: { status: number } }>;
  };
  const params = c._objectRequestParams('POST', key, { subres: { 'x-oss-async-process': '' } });
  params.content = opts.urlencoded ? new URLSearchParams({ 'x-oss-async-process': processString }).toString() : `x-oss-async-process=${processString}`;
  params.successStatuses = [200];
  const r = await c.request(params);
  return { ...(JSON.parse(r.data.toString()) as { EventId: string; RequestId: string; TaskId: string }), status: r.res.status };
}

export interface TaskResult {
  Status: string;
  Code: string;
  Message: string;
  Progress: number;
  [k: string]: unknown;
}

/**
 * Polls GetTask until the task is no longer Running. pop-core throws on a Failed task (its body has a
 * non-empty Code, as with real IMM): the body is then taken from the error.
 */
export async function waitForTask(imm: ImmCaller, projectName: string, taskId: string, timeoutMs = 60_000): Promise<TaskResult> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let body: Record<string, unknown>;
    try {
      body = await imm.call('GetTask', { ProjectName: projectName, TaskId: taskId, TaskType: 'MediaConvert', RequestDefinition: true });
    } catch (e) {
      const data = (e as { data?: Record<string, unknown> }).data;
      if (data?.Status === 'Failed') return data as TaskResult;
      throw e;
    }
    if (body.Status !== 'Running') return body as TaskResult;
    if (Date.now() > deadline) throw new Error(`task ${taskId} still Running after ${timeoutMs} ms (progress ${String(body.Progress)})`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** URL-safe base64 without padding, as the OSS docs write o_/b_/topic_ values. */
export const b64 = (s: string): string => Buffer.from(s).toString('base64url');
