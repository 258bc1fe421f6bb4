/**
 * Limits on caller-supplied JSON. JSON.parse accepts nesting of any depth, but the recursive code that walks
 * a parsed value afterwards (null stripping, schema checks, JSON.stringify when it is stored) overflows the
 * stack on a deep enough one: a RangeError, i.e. a 500, from a 100 kB request. Callers check the depth first.
 */

/** Deeper than any request Medley reads (CreateMediaConvertTask's deepest field is 5 levels down). */
export const MAX_JSON_DEPTH = 64;

/** Whether `value` nests arrays/objects more than `max` levels deep (iterative: safe on any depth). */
export function jsonTooDeep(value: unknown, max = MAX_JSON_DEPTH): boolean {
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length > 0) {
    const [v, depth] = stack.pop()!;
    if (typeof v !== 'object' || v === null) continue;
    if (depth >= max) return true;
    for (const child of Array.isArray(v) ? v : Object.values(v)) stack.push([child, depth + 1]);
  }
  return false;
}
