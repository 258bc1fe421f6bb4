/**
 * MedleyError → the IMM error envelope's status, Code and Message (spec/imm.md §2.2-2.4).
 * The catalog holds one entry per kind of failure; the per-parameter IMM codes (`Missing<Name>`,
 * `Invalid<Name>`) are derived here from the error's details.
 */
import { MedleyError, databaseUnavailableError, diskFullError, fail } from '../../errors.js';

export interface ImmWireError {
  status: number;
  code: string;
  message: string;
  /** Not a MedleyError: a bug or an I/O failure, worth logging in full. */
  unexpected: boolean;
}

/** Details key carrying a wire code that cannot be a catalog entry because it embeds a parameter name. */
const WIRE_CODE = 'ImmWireCode';

export const INTERNAL_ERROR_MESSAGE = 'The request processing has failed due to some unknown error.';

/** `Sources[0].URI` and `Targets.1.Audio` name their top-level parameter: that is what IMM's code carries. */
export function topLevelName(argumentName: string): string {
  return argumentName.split(/[.[]/, 1)[0] ?? '';
}

export function toImmWire(e: unknown): ImmWireError {
  // A full disk (ENOSPC, SQLITE_FULL) is the service being unavailable, not an internal error.
  // So is a database that cannot be reached (PostgreSQL down or restarting).
  e = diskFullError(e) ?? databaseUnavailableError(e) ?? e;
  if (!(e instanceof MedleyError)) return { status: 500, code: 'InternalError', message: INTERNAL_ERROR_MESSAGE, unexpected: true };
  const status = e.entry.immStatus ?? e.entry.status;
  const override = e.details[WIRE_CODE];
  if (typeof override === 'string' && override !== '') return { status, code: override, message: e.message, unexpected: false };
  if (e.key === 'MissingMediaParameter') {
    // MissingMediaParameter (shared with the OSS door, where it is InvalidArgument): IMM says Missing<Name>.
    const arg = e.details.ArgumentName;
    const name = typeof arg === 'string' ? topLevelName(arg) : '';
    return { status, code: name ? `Missing${name}` : 'MissingParameter', message: e.message, unexpected: false };
  }
  return { status, code: e.immCode, message: e.message, unexpected: false };
}

/** A required parameter is absent: `Missing<Name>` (spec §2.4, §6 #4). */
export function missingParameter(name: string): never {
  fail('MissingMediaParameter', `${name} is mandatory for this action.`, { ArgumentName: name });
}

/** A scalar that does not even parse (not a boolean, not an integer): `Invalid<Name>` (spec §2.4). */
export function invalidParameter(name: string, value: string): never {
  fail('InvalidMediaArgument', `Specified parameter ${name} is not valid.`, { ArgumentName: name, ArgumentValue: value, [WIRE_CODE]: `Invalid${topLevelName(name)}` });
}

/** A well-formed value that breaks a rule (range, pattern, shape): `InvalidArgument` naming the parameter. */
export function invalidArgument(name: string, why: string, value?: string): never {
  fail('InvalidMediaArgument', `The parameter ${name} ${why}.`, { ArgumentName: name, ArgumentValue: value });
}
