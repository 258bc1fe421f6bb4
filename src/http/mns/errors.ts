/**
 * MedleyError → the MNS error response: status, `<Error xmlns=...><Code/><Message/><RequestId/><HostId/></Error>`.
 * Only the catalog's MNS entries (`isMnsError`) carry MNS codes; anything else (a bug, an I/O failure) is InternalError.
 */
import { MedleyError, databaseUnavailableError, diskFullError, isMnsError } from '../../errors.js';
import { mnsXml } from './xml.js';

export interface MnsWireError {
  status: number;
  code: string;
  message: string;
  /** Not an MNS error: worth logging in full. */
  unexpected: boolean;
}

export function toMnsWireError(e: unknown): MnsWireError {
  // A full disk (the reserve, ENOSPC, SQLITE_FULL) or an unreachable database is 503 in MNS's own format.
  const full = diskFullError(e) ?? databaseUnavailableError(e);
  if (full) {
    const unavailable = new MedleyError('MnsServiceUnavailable', full.message);
    return { status: unavailable.status, code: unavailable.code, message: unavailable.message, unexpected: false };
  }
  if (isMnsError(e)) return { status: e.status, code: e.code, message: e.message, unexpected: false };
  const internal = new MedleyError('MnsInternalError');
  return { status: internal.status, code: internal.code, message: internal.message, unexpected: true };
}

export function mnsErrorXml(err: MnsWireError, requestId: string, hostId: string): string {
  return mnsXml('Error', [
    ['Code', err.code],
    ['Message', err.message],
    ['RequestId', requestId],
    ['HostId', hostId],
  ]);
}
