/**
 * Clip windows: which part of each source is taken, before any frame/sample alignment.
 *
 * Effective duration of clip i = `t` (durationMs) when > 0, else (source duration - ss); clamped to what the
 * source has after ss. A start at or past the end of the source is an error (nothing to take).
 *
 * Where the cut happens: in the filter graph (`trim`/`atrim`, see filters.ts), because that is sample- and
 * frame-exact for every source. Decoding a long head just to drop it is slow, so a far start in an indexed
 * container (mp4/mov/mkv/webm) also gets an input-side `-ss` to a point 10 s earlier: FFmpeg seeks by the
 * index to a keyframe, decodes and drops up to that point exactly (accurate_seek), and the graph then cuts at
 * the remaining offset — the same exact cut, minus most of the decoding.
 */
import type { Clip } from '../job.js';
import type { MediaInfo } from '../media-info.js';
import { fail } from '../../errors.js';
import { fmtSec } from './util.js';

export interface ClipWindow {
  index: number;
  /**
   * Input-side fast seek (`-ss` before `-i`), seconds; 0 = none. Only for indexed containers, whose
   * post-seek timestamps are exact, and only for far starts; the exact cut stays in the graph (startSec is
   * then relative to this point).
   */
  preSeekSec: number;
  /** Offset into the source, seconds. */
  startSec: number;
  /** Effective length, seconds (not yet aligned to frames/samples). */
  durationSec: number;
  /** The clip runs to the end of the source (t = 0, or t clamped): its length is the probed one. */
  toEnd: boolean;
}

/** Starts at least this far into a source get an input-side pre-seek... */
const PRE_SEEK_MIN_SEC = 30;
/** ...to this many seconds before the start (keyframe distance and decoder warm-up are both well below it). */
const PRE_SEEK_MARGIN_SEC = 10;
/**
 * Containers that seek by index and keep exact timestamps after a seek. Raw audio (MP3 without TOC, ADTS,
 * AMR) seeks by byte estimates and then carries estimated timestamps: never pre-seek those.
 */
const INDEXED = ['mov', 'mp4', 'matroska', 'webm'];

function preSeek(startSec: number, formatName: string): number {
  if (startSec < PRE_SEEK_MIN_SEC) return 0;
  if (!formatName.split(',').some((n) => INDEXED.includes(n.trim()))) return 0;
  return Math.floor((startSec - PRE_SEEK_MARGIN_SEC) * 1000) / 1000;
}

export function clipWindow(index: number, clip: Clip, info: MediaInfo, decisions: string[]): ClipWindow {
  const src = info.durationSec;
  if (!Number.isFinite(src) || src <= 0) {
    fail('MediaUnreadable', `source #${index} has no usable duration (probed ${String(src)} s)`);
  }
  const startSec = Math.max(0, clip.startMs) / 1000;
  const available = src - startSec;
  if (available <= 0.0005) {
    fail('InvalidMediaArgument', `clip #${index}: start ${fmtSec(startSec)} s is at or beyond the end of the source (${fmtSec(src)} s)`);
  }
  let durationSec = available;
  let toEnd = true;
  if (clip.durationMs > 0) {
    const requested = clip.durationMs / 1000;
    if (requested > available + 0.0005) {
      decisions.push(`clip #${index}: requested ${fmtSec(requested)} s from ${fmtSec(startSec)} s, source has only ${fmtSec(available)} s left: clamped`);
    } else {
      durationSec = requested;
      toEnd = false;
    }
  }
  const preSeekSec = preSeek(startSec, info.formatName);
  if (preSeekSec > 0) decisions.push(`clip #${index}: fast input seek to ${fmtSec(preSeekSec)} s (indexed container), exact cut at ${fmtSec(startSec)} s in the graph`);
  return { index, startSec: startSec - preSeekSec, durationSec, toEnd, preSeekSec };
}
