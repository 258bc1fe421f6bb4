/** Reading ffprobe's JSON output (pure): it prints most numbers as strings ("44100", "N/A"); display rotation. */

export type Json = Record<string, unknown>;

export function isObj(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A finite number from a JSON number or numeric string; undefined otherwise ("N/A", "", garbage). */
export function num(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isFinite(v) ? v : undefined;
  if (typeof v !== 'string' || v.trim() === '') return undefined;
  const n = Number(v);
  return Number.isFinite(n) ? n : undefined;
}

/** Any angle -> the nearest of 0, 90, 180, 270. */
function normaliseAngle(deg: number): number {
  const q = Math.round(deg / 90) * 90;
  return ((q % 360) + 360) % 360;
}

/**
 * Clockwise display rotation, i.e. the turn FFmpeg's autorotation applies. ffprobe's display-matrix `rotation`
 * is counter-clockwise (iPhone portrait: -90), the legacy `rotate` tag is clockwise (iPhone portrait: 90);
 * ffprobe 4.0.2 prints both, the tag as 360 minus the matrix angle. Checked against the pictures the bundled
 * ffmpeg autorotates in test/media/engine/probe.test.ts.
 */
export function streamRotation(stream: Json): number {
  const sideData = Array.isArray(stream.side_data_list) ? stream.side_data_list : [];
  for (const sd of sideData) {
    if (!isObj(sd)) continue;
    const r = num(sd.rotation);
    if (r !== undefined && (sd.side_data_type === undefined || /display ?matrix/i.test(String(sd.side_data_type)))) {
      return normaliseAngle(-r);
    }
  }
  const tags = isObj(stream.tags) ? stream.tags : {};
  const rotate = num(tags.rotate);
  return rotate === undefined ? 0 : normaliseAngle(rotate);
}
