/**
 * The endpoint forms a subscription may name: a queue of this account (fan-out writes a message into it)
 * or an http(s) URL (the push deliverer POSTs to it). Subscribe validates with these and publishing routes
 * with the same functions, so what was accepted is what gets delivered.
 */

/**
 * The queue an `acs:mns:<region>:<account>:queues/<queue>` endpoint (or its URL form
 * `http(s)://<account>.mns.<region>.aliyuncs.com/queues/<queue>`) names, with the account it belongs to;
 * undefined for any other endpoint.
 */
export function parseQueueEndpoint(endpoint: string): { queue: string; accountId: string; region: string } | undefined {
  const acs = /^acs:mns:([^:/]*):([^:/]*):queues\/([^/?#]+)$/.exec(endpoint);
  if (acs) return { region: acs[1]!, accountId: acs[2]!, queue: acs[3]! };
  const url = /^https?:\/\/(\d+)\.mns\.([a-z0-9-]+)(?:\.[a-z0-9.-]+)?(?::\d+)?\/queues\/([^/?#]+)\/?$/i.exec(endpoint);
  if (url) return { accountId: url[1]!, region: url[2]!, queue: url[3]! };
  return undefined;
}

/** The queue name of a queue endpoint; undefined for anything else (HTTP endpoints). */
export function queueEndpointName(endpoint: string): string | undefined {
  return parseQueueEndpoint(endpoint)?.queue;
}

/** `acs:mns:<region>:<account>:queues/<queue>`. */
export function queueEndpoint(region: string, accountId: string, queue: string): string {
  return `acs:mns:${region}:${accountId}:queues/${queue}`;
}

/** An absolute http(s) URL with a host: an endpoint the push deliverer can POST to. */
export function isHttpEndpoint(endpoint: string): boolean {
  if (!/^https?:\/\//i.test(endpoint)) return false;
  try {
    const u = new URL(endpoint);
    return (u.protocol === 'http:' || u.protocol === 'https:') && u.hostname !== '';
  } catch {
    return false;
  }
}
