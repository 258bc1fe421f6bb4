/**
 * What a database error means for the caller: the one place that reads driver error codes (SQLite's,
 * PostgreSQL's SQLSTATE, Node's errno, pg/pg-pool's messages, which carry no code).
 *
 * - `isDbUnavailable`: the database cannot be reached right now (down, restarting, refusing connections,
 *   the connection dropped mid-query). Requests answer 503 ServiceUnavailable (errors.ts
 *   databaseUnavailableError); background loops back off and retry; a task is handed back, never failed.
 * - `isTransientDbError`: the database is up but the statement lost a race (lock contention, a
 *   serialization failure, a deadlock victim): running the same work again will succeed.
 */

/** SQLSTATEs of a server going away or not accepting connections yet. */
const UNAVAILABLE_SQLSTATES = new Set([
  '57P01', // admin_shutdown (fast/smart shutdown, pg_terminate_backend)
  '57P02', // crash_shutdown (another backend crashed: every connection is reset)
  '57P03', // cannot_connect_now (starting up, shutting down, in recovery)
  '53300', // too_many_connections: the server is saturated, not our request's fault
]);

/** errno codes of a connection that could not be made or was cut. */
const UNAVAILABLE_ERRNOS = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'ECONNABORTED']);

/** pg / pg-pool errors without a code (the text is their only identity). */
const UNAVAILABLE_MESSAGES = [
  /timeout exceeded when trying to connect/i, // pg-pool: connectionTimeoutMillis ran out
  /^Connection terminated/i, // pg: "Connection terminated unexpectedly", "... due to connection timeout"
  /Client has encountered a connection error and is not queryable/i,
  /^connect E[A-Z]+/, // a wrapped net error that lost its code
];

/** SQLSTATEs of a statement that lost a race: serialization_failure, deadlock_detected, lock_not_available. */
const TRANSIENT_SQLSTATES = new Set(['40001', '40P01', '55P03']);

/** The error, its `cause` chain and the members of an AggregateError (several addresses tried), bounded. */
function* chain(e: unknown): Generator<object> {
  const stack: unknown[] = [e];
  let seen = 0;
  while (stack.length > 0 && seen < 16) {
    const cur = stack.pop();
    if (cur === null || typeof cur !== 'object') continue;
    seen++;
    yield cur;
    const { cause, errors } = cur as { cause?: unknown; errors?: unknown };
    if (cause !== undefined) stack.push(cause);
    if (Array.isArray(errors)) stack.push(...errors.slice(0, 8));
  }
}

function codeOf(e: object): string | undefined {
  const code = (e as { code?: unknown }).code;
  return typeof code === 'string' ? code : undefined;
}

/** True when `e` says the database is unreachable (down, restarting, connection cut); see the module comment. */
export function isDbUnavailable(e: unknown): boolean {
  return dbUnavailableReason(e) !== undefined;
}

/**
 * Why the database is unavailable, for messages and logs ("connection refused (ECONNREFUSED)"), or
 * undefined when `e` is not an availability error.
 */
export function dbUnavailableReason(e: unknown): string | undefined {
  for (const cur of chain(e)) {
    // Already classified (errors.ts databaseUnavailableError wrapped it): the catalog key, read without
    // importing the catalog (which imports this module).
    const { key, message: text } = cur as { key?: unknown; message?: unknown };
    if (key === 'DatabaseUnavailable' && typeof text === 'string') return text.replace(/^The database is unreachable: /, '').replace(/; retry\.$/, '');
    const code = codeOf(cur);
    if (code !== undefined) {
      if (UNAVAILABLE_SQLSTATES.has(code)) return `${code === '53300' ? 'too many connections' : 'the server is shutting down or starting up'} (${code})`;
      // Class 08: connection exception (08000, 08001 cannot establish, 08003 does not exist, 08006 failure, ...).
      if (/^08[0-9A-Z]{3}$/.test(code)) return `connection failure (${code})`;
      if (UNAVAILABLE_ERRNOS.has(code)) return `${code === 'ECONNREFUSED' ? 'connection refused' : code === 'ETIMEDOUT' ? 'connection timed out' : code === 'ECONNRESET' ? 'connection reset' : 'network error'} (${code})`;
    }
    const message = (cur as { message?: unknown }).message;
    if (typeof message === 'string' && UNAVAILABLE_MESSAGES.some((re) => re.test(message))) return message.split('\n', 1)[0]!.slice(0, 200);
  }
  return undefined;
}

/** True for lock contention and lost races, which a retry of the same work resolves (SQLite busy/locked, PG 40001/40P01/55P03). */
export function isTransientDbError(e: unknown): boolean {
  for (const cur of chain(e)) {
    const code = codeOf(cur);
    if (code === undefined) continue;
    if (/^SQLITE_(BUSY|LOCKED)/.test(code) || TRANSIENT_SQLSTATES.has(code)) return true;
  }
  return false;
}

/** Exponential backoff delay after `failures` consecutive failures: baseMs, 2*baseMs, … up to maxMs. */
export function backoffMs(failures: number, baseMs = 250, maxMs = 5000): number {
  return Math.min(maxMs, baseMs * 2 ** Math.min(Math.max(failures - 1, 0), 20));
}

/**
 * Runs `attempt` again, with backoffMs between tries, while it fails with an error `retryable` accepts
 * (default: the database is unreachable), until `untilMs` (a lease running out) or until `keepGoing()`
 * turns false (shutting down); then throws the last error. For writes that must land once the database is
 * back: recording an outcome, handing a task back.
 */
export async function retryWhileUnavailable<T>(attempt: () => Promise<T>, opts: { untilMs: number; keepGoing: () => boolean; retryable?: (e: unknown) => boolean }): Promise<T> {
  const retryable = opts.retryable ?? isDbUnavailable;
  for (let failures = 1; ; failures++) {
    try {
      return await attempt();
    } catch (e) {
      if (!retryable(e) || Date.now() >= opts.untilMs || !opts.keepGoing()) throw e;
      await new Promise((r) => setTimeout(r, backoffMs(failures)));
    }
  }
}
