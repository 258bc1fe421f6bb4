/** Small pure helpers shared by the planner pieces. */

/** Seconds as an FFmpeg duration string: plain decimal, at most microsecond precision, no exponent. */
export function fmtSec(sec: number): string {
  const s = (Math.round(sec * 1e6) / 1e6).toFixed(6).replace(/0+$/, '').replace(/\.$/, '');
  return s === '-0' ? '0' : s;
}

/** Nearest even integer, at least 2 (yuv420p and most encoders need even sizes). */
export function even(x: number): number {
  return Math.max(2, 2 * Math.round(x / 2));
}

/** Even integer at or below x (at least 2). */
export function evenFloor(x: number): number {
  return Math.max(2, 2 * Math.floor(x / 2 + 1e-9));
}

/** Even integer at or above x. */
export function evenCeil(x: number): number {
  return Math.max(2, 2 * Math.ceil(x / 2 - 1e-9));
}

export interface Rational {
  num: number;
  den: number;
}

function gcd(a: number, b: number): number {
  while (b) [a, b] = [b, a % b];
  return Math.abs(a);
}

/**
 * A frame rate as an exact rational: integers stay integers, the NTSC family (23.976, 29.97, 59.94, ...) becomes
 * n*1000/1001, anything else is approximated with denominator 1000 and reduced (12.5 -> 25/2).
 */
export function toRational(fps: number): Rational {
  if (!Number.isFinite(fps) || fps <= 0) throw new Error(`invalid frame rate ${fps}`);
  const r = Math.round(fps);
  if (Math.abs(fps - r) < 1e-6) return { num: r, den: 1 };
  const ntsc = Math.round((fps * 1001) / 1000);
  if (Math.abs(fps - (ntsc * 1000) / 1001) < 0.0015) return { num: ntsc * 1000, den: 1001 };
  const num = Math.round(fps * 1000);
  const g = gcd(num, 1000);
  return { num: num / g, den: 1000 / g };
}

export function ratString(r: Rational): string {
  return r.den === 1 ? String(r.num) : `${r.num}/${r.den}`;
}

export function ratValue(r: Rational): number {
  return r.num / r.den;
}

export function uniq<T>(xs: Iterable<T>): T[] {
  return [...new Set(xs)];
}

/** Regular-expression escape for building extraOutputPattern from a file name. */
export function reEscape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
}
