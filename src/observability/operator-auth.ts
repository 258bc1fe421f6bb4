/**
 * Who may read Medley's operational endpoints (GET /-/metrics, the detailed /-/health): the account's
 * root key, with an ordinary signed OSS request (V1 or V4, header or presigned, verified by the OSS
 * verifier), or the metrics token (`Authorization: Bearer <MEDLEY_METRICS_TOKEN>`, for scrapers that
 * cannot sign). Everyone else is anonymous here; nothing about the failure is revealed.
 */
import type { IncomingMessage } from 'node:http';
import { constantTimeEqual, type CredentialLookup } from '../auth/credentials.js';
import { verifyOssRequest } from '../auth/oss-signature.js';
import { resolveAddress } from '../http/oss/addressing.js';

export interface OperatorAuthDeps {
  lookup: CredentialLookup;
  rootAccessKeyId: string;
  metricsToken?: string;
  /** MEDLEY_DOMAIN, so a virtual-hosted signature resolves as the OSS dialect would. */
  domain: string;
  now?: () => Date;
}

export type Operator = 'root' | 'token';

export function operatorOf(req: IncomingMessage, deps: OperatorAuthDeps): Operator | undefined {
  const authorization = req.headers.authorization;
  const bearer = authorization !== undefined ? /^Bearer\s+(\S+)\s*$/i.exec(authorization) : null;
  if (bearer) return deps.metricsToken !== undefined && constantTimeEqual(bearer[1]!, deps.metricsToken) ? 'token' : undefined;
  try {
    const rawUrl = req.url ?? '/';
    const q = rawUrl.indexOf('?');
    const rawPath = q >= 0 ? rawUrl.slice(0, q) : rawUrl;
    // The client signed `/-/metrics` as it would any object path: bucket "-", key "metrics".
    const address = resolveAddress({ host: req.headers.host ?? '', rawPath, domain: deps.domain });
    const auth = verifyOssRequest({ method: (req.method ?? 'GET').toUpperCase(), rawUrl, headers: req.headers, bucket: address.bucket, key: address.key }, { now: deps.now?.() ?? new Date(), lookup: deps.lookup });
    return auth.kind === 'signed' && auth.accessKeyId === deps.rootAccessKeyId ? 'root' : undefined;
  } catch {
    return undefined;
  }
}
