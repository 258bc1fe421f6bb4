/**
 * Frame geometry: display sizes of sources (rotation and sample aspect ratio applied), the output size from
 * `s`/scaletype/arotate, and the per-clip scale/crop/pad filters.
 *
 * Scale types (box = the requested/derived WxH):
 *  - stretch: every clip scaled to exactly the box (aspect not kept). Output = box.
 *  - crop:    every clip scaled to cover the box (aspect kept), then centre-cropped to it. Output = box.
 *  - fill:    every clip scaled to fit inside the box (aspect kept), then padded black, centred. Output = box.
 *  - fit:     scale to fit, no padding: output = the align clip's size fitted inside the box (even sizes, so it
 *             may be smaller than the box on one side). Concatenation needs one frame size, so the other clips
 *             are fitted inside *that* size and padded black only where their aspect differs from the align
 *             clip's (a clip with the align clip's aspect gets no bars).
 * Sizes are always even (4:2:0). Sources are autorotated by FFmpeg before the chain, so the chain sees
 * display-oriented frames and all sizes here are display sizes.
 */
import type { VideoStreamInfo } from '../media-info.js';
import { even, evenCeil, evenFloor } from './util.js';

export interface Size {
  w: number;
  h: number;
}

export const sizeStr = (s: Size): string => `${s.w}x${s.h}`;

function quarterTurns(v: VideoStreamInfo): number {
  return ((((Math.round(v.rotation / 90) * 90) % 360) + 360) % 360) / 90;
}

/** Pixel size of the frames the filter chain receives (after FFmpeg's autorotation). */
export function framePixels(v: VideoStreamInfo): Size {
  return quarterTurns(v) % 2 === 1 ? { w: v.height, h: v.width } : { w: v.width, h: v.height };
}

/** Display size: autorotated, sample aspect ratio applied to the width (transposition inverts the SAR). */
export function displaySize(v: VideoStreamInfo): Size {
  const px = framePixels(v);
  const [n, d] = v.sar[0] > 0 && v.sar[1] > 0 ? v.sar : [1, 1];
  const sar = quarterTurns(v) % 2 === 1 ? d / n : n / d;
  return { w: Math.max(1, Math.round(px.w * sar)), h: px.h };
}

export function hasSquarePixels(v: VideoStreamInfo): boolean {
  return v.sar[0] <= 0 || v.sar[1] <= 0 || v.sar[0] === v.sar[1];
}

/** Largest even size with src's aspect that fits inside box; the constraining side equals the box side. */
export function fitInside(src: Size, box: Size): Size {
  const k = Math.min(box.w / src.w, box.h / src.h);
  return { w: Math.min(box.w, even(src.w * k)), h: Math.min(box.h, even(src.h * k)) };
}

/** Smallest even size with src's aspect that covers box (both sides >= the box). */
export function coverBox(src: Size, box: Size): Size {
  const k = Math.max(box.w / src.w, box.h / src.h);
  return { w: Math.max(box.w, evenCeil(src.w * k - 0.5)), h: Math.max(box.h, evenCeil(src.h * k - 0.5)) };
}

export function evenSize(s: Size): Size {
  return { w: evenFloor(s.w), h: evenFloor(s.h) };
}

const scale = (s: Size): string => `scale=${s.w}:${s.h}:flags=bicubic`;
const centre = (outer: number, inner: number): number => 2 * Math.floor((outer - inner) / 4);

export interface ClipGeometry {
  filters: string[];
  note: string;
}

/**
 * Filters bringing one clip (display size `src`, frames of `pixels`) to exactly `out`.
 * `mode` is stretch | crop | fill (fit is fill into the align-derived output size).
 */
export function clipGeometry(src: Size, pixels: Size, squarePixels: boolean, out: Size, mode: 'stretch' | 'crop' | 'fill'): ClipGeometry {
  const same = (s: Size): boolean => squarePixels && s.w === pixels.w && s.h === pixels.h;
  if (mode === 'stretch' || src.w * out.h === src.h * out.w) {
    if (same(out)) return { filters: [], note: `kept at ${sizeStr(out)}` };
    return { filters: [scale(out)], note: `${src.w * out.h === src.h * out.w ? 'scaled' : 'stretched'} ${sizeStr(src)} -> ${sizeStr(out)}` };
  }
  if (mode === 'crop') {
    const c = coverBox(src, out);
    const filters = same(c) ? [] : [scale(c)];
    if (c.w !== out.w || c.h !== out.h) filters.push(`crop=${out.w}:${out.h}:${centre(c.w, out.w)}:${centre(c.h, out.h)}`);
    return { filters, note: `scaled ${sizeStr(src)} -> ${sizeStr(c)}, centre-cropped to ${sizeStr(out)}` };
  }
  const f = fitInside(src, out);
  const filters = same(f) ? [] : [scale(f)];
  if (f.w !== out.w || f.h !== out.h) filters.push(`pad=${out.w}:${out.h}:${centre(out.w, f.w)}:${centre(out.h, f.h)}:color=black`);
  return { filters, note: `scaled ${sizeStr(src)} -> ${sizeStr(f)}${f.w !== out.w || f.h !== out.h ? `, padded black to ${sizeStr(out)}` : ''}` };
}
