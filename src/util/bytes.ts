/** Byte sizes as people write them in settings, and as Medley prints them: one rule for every size setting. */

const UNITS: Record<string, number> = {
  '': 1,
  b: 1,
  k: 1024,
  kib: 1024,
  kb: 1000,
  m: 1024 ** 2,
  mib: 1024 ** 2,
  mb: 1000 ** 2,
  g: 1024 ** 3,
  gib: 1024 ** 3,
  gb: 1000 ** 3,
  t: 1024 ** 4,
  tib: 1024 ** 4,
  tb: 1000 ** 4,
};

const SIZE_PATTERN = /^\s*(\d+(?:\.\d+)?)\s*([kmgt]i?b|[kmgtb])?\s*$/i;

/**
 * `1073741824`, `512MiB`, `4G`, `2GB` -> bytes: KB/MB/GB/TB are powers of 1000; K/M/G/T and KiB/MiB/GiB/TiB
 * of 1024. Undefined for anything else (or a size beyond 2^53).
 */
export function parseByteSize(text: string): number | undefined {
  const m = SIZE_PATTERN.exec(text);
  if (!m) return undefined;
  const factor = UNITS[(m[2] ?? '').toLowerCase()];
  if (factor === undefined) return undefined;
  const bytes = Math.round(Number(m[1]) * factor);
  return Number.isSafeInteger(bytes) ? bytes : undefined;
}

/** `1.5 GiB`, `800.0 MiB`, `512 B`: binary units, one decimal. */
export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let v = n;
  let i = 0;
  while (Math.abs(v) >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${n} B` : `${v.toFixed(1)} ${units[i]}`;
}
