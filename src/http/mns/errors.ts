/**
 * MedleyError → the MNS error response: status, `<Error xmlns=...><Code/><Message/><RequestId/><HostId/></Error>`.
 * Only the catalog's Mns* entries carry MNS codes; anything else (a bug, an I/O failure) is InternalError.
 */
import { MedleyError, diskFullError, errorCatalog, type CatalogEntry } from '../../errors.js';
import { mnsXml } from './xml.js';

const MNS_ENTRIES: ReadonlySet<CatalogEntry> = new Set(
  Object.entries(errorCatalog)
    .filter(([name]) => name.startsWith('Mns'))
    .map(([, entry]) => entry as CatalogEntry),
);

export interface MnsWireError {
  status: number;
  code: string;
  message: string;
  /** Not an MNS error: worth logging in full. */
  unexpected: boolean;
}

export function toMnsWireError(e: unknown): MnsWireError {
  // A full disk (the reserve, ENOSPC, SQLITE_FULL) is 503 in MNS's own format.
  const full = diskFullError(e);
  if (full) return { status: errorCatalog.MnsServiceUnavailable.status, code: errorCatalog.MnsServiceUnavailable.code, message: full.message, unexpected: false };
  if (e instanceof MedleyError && MNS_ENTRIES.has(e.entry)) return { status: e.entry.status, code: e.entry.code, message: e.message, unexpected: false };
  return { status: 500, code: 'InternalError', message: errorCatalog.MnsInternalError.message, unexpected: true };
}

export function mnsErrorXml(err: MnsWireError, requestId: string, hostId: string): string {
  return mnsXml('Error', [
    ['Code', err.code],
    ['Message', err.message],
    ['RequestId', requestId],
    ['HostId', hostId],
  ]);
}
