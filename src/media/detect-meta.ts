/**
 * Media info of an object (OSS `x-oss-process=video/info` / `audio/info`, spec oss.md §5.1): the bytes are
 * copied into a private work directory, probed by the engine, and turned into the IMM DetectMediaMeta body
 * (media-meta.ts, pure). The HTTP handler only opens the object and writes the answer.
 */
import { createWriteStream } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fail } from '../errors.js';
import type { MediaEngine } from './engine/index.js';
import { createPrivateDir } from './engine/sandbox.js';
import { notAudioVisual, toDetectMediaMeta, type DetectMediaMeta } from './media-meta.js';

/** The bytes to describe, as the caller opened them. */
export interface OpenedMedia {
  stream: Readable;
  /** For messages (`oss://bucket/key`). */
  displayName: string;
  /** The byte size reported as `Size`. */
  size: number;
}

/**
 * Opens the media (`open` runs once the work directory exists, so no stream is left unread when that
 * fails), probes it, and removes the copy. MediaUnreadable when it is not audio or video. Returns what
 * `open` returned with the body.
 */
export async function detectMediaMeta<S extends OpenedMedia>(engine: MediaEngine, workRoot: string, open: () => Promise<S>, requestId: string): Promise<{ opened: S; meta: DetectMediaMeta }> {
  await mkdir(workRoot, { recursive: true });
  // Private (0700, unguessable, owned by the FFmpeg user): see engine/sandbox.ts.
  const dir = await createPrivateDir(workRoot, engine.sandbox);
  try {
    const opened = await open();
    // No extension from the name: the engine sniffs the content and forces a single-file demuxer (a name like
    // `x.m3u8` would otherwise let FFmpeg pick a demuxer that reads other files).
    const file = join(dir, 'source');
    await pipeline(opened.stream, createWriteStream(file));
    const { info, json } = await engine.probeDetailed(file, opened.displayName);
    const not = notAudioVisual(json);
    if (not) fail('MediaUnreadable', `${opened.displayName} could not be read as media: ${not}`);
    return { opened, meta: toDetectMediaMeta(json, { requestId, size: opened.size, durationSec: info.durationSec }) };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
