/**
 * Crafting hostile media for tests: QuickTime data references, Matroska frame sizes, sparse timestamps,
 * playlists pointing at planted files. Everything is generated in the test run from bytes or the bundled FFmpeg.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { ffmpeg } from './media.js';

interface Box {
  type: string;
  start: number;
  size: number;
  header: number;
}

function boxes(b: Buffer, start: number, end: number): Box[] {
  const out: Box[] = [];
  for (let at = start; at + 8 <= end; ) {
    let size = b.readUInt32BE(at);
    const type = b.toString('latin1', at + 4, at + 8);
    let header = 8;
    if (size === 1) {
      size = Number(b.readBigUInt64BE(at + 8));
      header = 16;
    } else if (size === 0) size = end - at;
    out.push({ type, start: at, size, header });
    at += size;
  }
  return out;
}

function child(b: Buffer, parent: Box, type: string): Box {
  const c = boxes(b, parent.start + parent.header, parent.start + parent.size).find((x) => x.type === type);
  assert.ok(c, `no ${type} box in ${parent.type}`);
  return c;
}

/** A dref entry: a full box of `type` with flags 0 (not self-contained) and its payload. */
function drefEntry(type: 'url ' | 'alis', target: string): Buffer {
  let payload: Buffer;
  if (type === 'url ') payload = Buffer.from(`${target}\0`, 'utf8');
  else {
    // A classic Mac alias record (what FFmpeg's mov_read_dref parses): ≥ 150 bytes, volume and file name as
    // Pascal strings, then tagged records; tag 2 is the absolute path, tag 0 the directory name.
    const rec = Buffer.alloc(150);
    rec.writeUInt16BE(2, 4); // version
    rec.writeUInt16BE(0, 6); // kind: file
    rec[10] = 4;
    rec.write('Disk', 11, 'latin1'); // volume name (27 bytes)
    const file = target.slice(target.lastIndexOf('/') + 1).slice(0, 63);
    rec[50] = file.length;
    rec.write(file, 51, 'latin1'); // file name (63 bytes)
    rec.writeInt16BE(-1, 118); // nlvl_from
    rec.writeInt16BE(-1, 120); // nlvl_to
    const path = Buffer.from(target, 'utf8');
    const tag = Buffer.alloc(4 + path.length + (path.length % 2));
    tag.writeInt16BE(2, 0);
    tag.writeUInt16BE(path.length, 2);
    path.copy(tag, 4);
    const end = Buffer.from([0xff, 0xff, 0, 0]);
    payload = Buffer.concat([rec, tag, end]);
  }
  const e = Buffer.alloc(12);
  e.writeUInt32BE(12 + payload.length, 0);
  e.write(type, 4, 'latin1');
  e.writeUInt32BE(0, 8); // version 0, flags 0: the media is elsewhere
  return Buffer.concat([e, payload]);
}

/**
 * The movie with the first track's data reference replaced by one external entry (`url ` or `alis`) naming
 * `target`. The movie header must follow the media data (FFmpeg's default), so no chunk offset moves.
 */
export function withExternalDref(mp4: Buffer, type: 'url ' | 'alis', target: string): Buffer {
  const top = boxes(mp4, 0, mp4.length);
  const moov = top.find((x) => x.type === 'moov');
  const mdat = top.find((x) => x.type === 'mdat');
  assert.ok(moov && mdat && moov.start > mdat.start, 'the movie header must follow the media data');
  const trak = child(mp4, moov, 'trak');
  const mdia = child(mp4, trak, 'mdia');
  const minf = child(mp4, mdia, 'minf');
  const dinf = child(mp4, minf, 'dinf');
  const dref = child(mp4, dinf, 'dref');
  const entry = drefEntry(type, target);
  const head = Buffer.alloc(16);
  head.writeUInt32BE(16 + entry.length, 0);
  head.write('dref', 4, 'latin1');
  head.writeUInt32BE(0, 8);
  head.writeUInt32BE(1, 12);
  const newDref = Buffer.concat([head, entry]);
  const delta = newDref.length - dref.size;
  const out = Buffer.concat([mp4.subarray(0, dref.start), newDref, mp4.subarray(dref.start + dref.size)]);
  for (const b of [moov, trak, mdia, minf, dinf]) {
    assert.equal(b.header, 8);
    out.writeUInt32BE(b.size + delta, b.start);
  }
  return out;
}

/**
 * A Matroska file with a raw grey video track whose PixelWidth/PixelHeight elements claim `w` x `h` (both
 * written by FFmpeg as 2-byte unsigned integers for the 256x256 it encoded; `w`, `h` < 65536).
 */
export function hugeFrameMkv(file: string, w: number, h: number): void {
  ffmpeg(['-f', 'lavfi', '-i', 'color=c=gray:s=256x256:d=0.04:r=25', '-frames:v', '1', '-c:v', 'rawvideo', '-pix_fmt', 'gray', file]);
  const b = readFileSync(file);
  // PixelWidth (0xB0) and PixelHeight (0xBA), size 0x82, value 0x0100.
  const wAt = b.indexOf(Buffer.from([0xb0, 0x82, 0x01, 0x00]));
  const hAt = b.indexOf(Buffer.from([0xba, 0x82, 0x01, 0x00]));
  assert.ok(wAt > 0 && hAt > 0, 'PixelWidth/PixelHeight elements not found');
  b.writeUInt16BE(w, wAt + 2);
  b.writeUInt16BE(h, hAt + 2);
  writeFileSync(file, b);
}

/** A few KB of Matroska audio whose second packet is stamped 100 hours in (claims 360000.5 s). */
export function sparseMkv(file: string): void {
  ffmpeg(['-f', 'lavfi', '-i', 'sine=duration=0.5', '-af', "asetpts='if(gte(N,5),PTS+360000/TB,PTS)'", '-c:a', 'libmp3lame', file]);
}
