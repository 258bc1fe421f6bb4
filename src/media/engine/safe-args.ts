/** Shared by the planner (pure) and the runner: kept in its own module so plan/ imports no I/O. */

/**
 * Per-input options the planner puts before each `-i`: local files only, bounded probing
 * (probesize in bytes = 20 MB, analyzeduration in microseconds = 20 s).
 */
export const ENGINE_SAFE_INPUT_ARGS: readonly string[] = Object.freeze([
  '-protocol_whitelist',
  'file',
  '-probesize',
  '20000000',
  '-analyzeduration',
  '20000000',
]);
