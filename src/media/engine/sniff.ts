/**
 * Which demuxer may open a source: its first bytes matched against the single-file formats Medley accepts
 * (plan/input-args.ts). Anything else is refused before FFmpeg sees it: playlists and manifests (HLS, DASH,
 * ffconcat, PLS, ...), subtitles and other text, images, unknown bytes, and QuickTime movies whose data
 * references point outside the file. The input is then opened with `-f <demuxer>`, so FFmpeg's own content
 * probing (which would happily pick the HLS demuxer for `#EXTM3U` text in a file named `.mp3`) never runs.
 *
 * `sniffBytes` is pure (the head of a file in, a verdict out); `sniffFile` reads the head, the bytes after a
 * large ID3 tag, and walks the box tree of ISO BMFF files for `dref` entries, with a bounded number of reads.
 */
import { open, type FileHandle } from 'node:fs/promises';
import type { SingleFileDemuxer } from '../plan/input-args.js';

/** How many bytes of a file's head are looked at. */
export const SNIFF_BYTES = 64 * 1024;

export type SniffVerdict =
  | { kind: 'media'; demuxer: SingleFileDemuxer; what: string }
  /** A playlist / manifest / script that names other files. */
  | { kind: 'playlist'; what: string }
  /** Subtitles or other text. */
  | { kind: 'text'; what: string }
  | { kind: 'empty' }
  /** Bytes of no accepted format; `what` says what they look like. */
  | { kind: 'unsupported'; what: string };

/** Internal: the head starts with an ID3v2 tag longer than the bytes at hand (sniffFile reads past it). */
type Partial = SniffVerdict | { kind: 'id3'; skip: number };

const ascii = (b: Uint8Array, at: number, len: number): string => String.fromCharCode(...b.subarray(at, at + len));
const u32 = (b: Uint8Array, at: number): number => ((b[at]! << 24) >>> 0) + (b[at + 1]! << 16) + (b[at + 2]! << 8) + b[at + 3]!;

// ---------------------------------------------------------------------------------------------------------
// MPEG audio and ADTS frame headers (a frame sync alone is two bytes any binary file may contain: the header
// fields must be valid and, when the buffer holds it, the next frame must start where this one ends).

const MPA_BITRATES: Record<string, number[]> = {
  // [version 1 | 2/2.5][layer 1..3] kbit/s, index 1..14
  '1-1': [32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448],
  '1-2': [32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384],
  '1-3': [32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320],
  '2-1': [32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256],
  '2-2': [8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160],
  '2-3': [8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160],
};
const MPA_RATES: Record<number, number[]> = { 3: [44100, 48000, 32000], 2: [22050, 24000, 16000], 0: [11025, 12000, 8000] };

/** Length in bytes of the MPEG audio frame whose header is at `at`, or undefined when it is not one. */
export function mpegAudioFrameLength(b: Uint8Array, at: number): number | undefined {
  if (at + 4 > b.length) return undefined;
  if (b[at] !== 0xff || (b[at + 1]! & 0xe0) !== 0xe0) return undefined;
  const version = (b[at + 1]! >> 3) & 3; // 3 = MPEG-1, 2 = MPEG-2, 0 = MPEG-2.5, 1 reserved
  const layerBits = (b[at + 1]! >> 1) & 3; // 3 = layer 1, 2 = layer 2, 1 = layer 3, 0 reserved
  const bitrateIndex = b[at + 2]! >> 4;
  const rateIndex = (b[at + 2]! >> 2) & 3;
  const padding = (b[at + 2]! >> 1) & 1;
  if (version === 1 || layerBits === 0 || bitrateIndex === 0 || bitrateIndex === 15 || rateIndex === 3) return undefined;
  const layer = 4 - layerBits;
  const kbps = MPA_BITRATES[`${version === 3 ? 1 : 2}-${layer}`]![bitrateIndex - 1]!;
  const rate = MPA_RATES[version]![rateIndex]!;
  if (layer === 1) return (Math.floor((12 * kbps * 1000) / rate) + padding) * 4;
  const perFrame = layer === 3 && version !== 3 ? 72 : 144;
  return Math.floor((perFrame * kbps * 1000) / rate) + padding;
}

/** Length of the ADTS frame at `at`, or undefined. */
export function adtsFrameLength(b: Uint8Array, at: number): number | undefined {
  if (at + 7 > b.length) return undefined;
  if (b[at] !== 0xff || (b[at + 1]! & 0xf6) !== 0xf0) return undefined; // sync 0xFFF, layer 00
  const rateIndex = (b[at + 2]! >> 2) & 0xf;
  if (rateIndex > 12) return undefined;
  const len = ((b[at + 3]! & 3) << 11) | (b[at + 4]! << 3) | (b[at + 5]! >> 5);
  return len >= 7 ? len : undefined;
}

/** A frame at 0 and, if the buffer reaches that far, another right after it. */
function framesChain(b: Uint8Array, at: number, frameLength: (b: Uint8Array, at: number) => number | undefined): boolean {
  const first = frameLength(b, at);
  if (first === undefined) return false;
  const next = at + first;
  if (next + 4 > b.length) return true; // a file of one (possibly truncated) frame
  return frameLength(b, next) !== undefined;
}

/** AC-3 / E-AC-3 sync frame header at 0: ac3 for bsid <= 10, eac3 for 11..16. */
function dolby(b: Uint8Array): SingleFileDemuxer | undefined {
  if (b.length < 6 || b[0] !== 0x0b || b[1] !== 0x77) return undefined;
  const bsid = b[5]! >> 3;
  if (bsid <= 10) {
    const fscod = b[4]! >> 6;
    const frmsizecod = b[4]! & 0x3f;
    return fscod !== 3 && frmsizecod < 38 ? 'ac3' : undefined;
  }
  return bsid <= 16 ? 'eac3' : undefined;
}

/** MPEG-TS: sync byte 0x47 every `stride` bytes from `offset`, for every packet the buffer holds (at least 2). */
function tsPackets(b: Uint8Array, offset: number, stride: number): boolean {
  let n = 0;
  for (let at = offset; at < b.length && n < 8; at += stride, n++) if (b[at] !== 0x47) return false;
  return n >= 2 || (n === 1 && b.length < offset + stride);
}

const ISO_BOXES = new Set(['ftyp', 'moov', 'mdat', 'free', 'skip', 'wide', 'pnot', 'uuid', 'styp', 'sidx', 'moof']);
const ASF_GUID = [0x30, 0x26, 0xb2, 0x75, 0x8e, 0x66, 0xcf, 0x11, 0xa6, 0xd9, 0x00, 0xaa, 0x00, 0x62, 0xce, 0x6c];

/** Known binary formats Medley does not take, for the refusal message. */
function otherBinary(b: Uint8Array): string | undefined {
  const s = ascii(b, 0, 16);
  if (b[0] === 0x89 && s.startsWith('PNG', 1)) return 'a PNG image';
  if (b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return 'a JPEG image';
  if (s.startsWith('GIF8')) return 'a GIF image';
  if (s.startsWith('RIFF') && ascii(b, 8, 4) === 'WEBP') return 'a WebP image';
  if (s.startsWith('YUV4MPEG2')) return 'raw YUV4MPEG video';
  if (s.startsWith('%PDF')) return 'a PDF document';
  if (s.startsWith('PK\x03\x04')) return 'a ZIP archive';
  if (s.startsWith('\x7fELF')) return 'an executable';
  if (s.startsWith('caff')) return 'a Core Audio file';
  if (s.startsWith('MAC ')) return "a Monkey's Audio file";
  if (s.startsWith('wvpk')) return 'a WavPack file';
  if (s.startsWith('MThd')) return 'a MIDI file';
  if (b.length >= 12 && ascii(b, 4, 4) === 'ftyp' && /^(heic|heix|mif1|msf1|avif)/.test(ascii(b, 8, 4))) return 'a HEIF/AVIF image';
  return undefined;
}

function binary(b: Uint8Array): Partial | undefined {
  const s4 = ascii(b, 0, 4);
  if (ascii(b, 0, 3) === 'ID3' && b.length >= 10 && b[3]! >= 2 && b[3]! <= 4) {
    // ID3v2: syncsafe size, plus the 10-byte header (and a 10-byte footer when flagged).
    const size = ((b[6]! & 0x7f) << 21) | ((b[7]! & 0x7f) << 14) | ((b[8]! & 0x7f) << 7) | (b[9]! & 0x7f);
    return { kind: 'id3', skip: 10 + size + (b[5]! & 0x10 ? 10 : 0) };
  }
  if (s4 === 'fLaC') return { kind: 'media', demuxer: 'flac', what: 'FLAC' };
  if (s4 === 'OggS') return { kind: 'media', demuxer: 'ogg', what: 'Ogg' };
  if ((s4 === 'RIFF' || s4 === 'RF64' || s4 === 'BW64') && ascii(b, 8, 4) === 'WAVE') return { kind: 'media', demuxer: 'wav', what: 'WAVE' };
  if (s4 === 'RIFF' && ascii(b, 8, 4) === 'AVI ') return { kind: 'media', demuxer: 'avi', what: 'AVI' };
  if (s4 === 'FORM' && (ascii(b, 8, 4) === 'AIFF' || ascii(b, 8, 4) === 'AIFC')) return { kind: 'media', demuxer: 'aiff', what: 'AIFF' };
  if (ascii(b, 0, 5) === '#!AMR') return { kind: 'media', demuxer: 'amr', what: 'AMR' };
  if (b.length >= 16 && ASF_GUID.every((x, i) => b[i] === x)) return { kind: 'media', demuxer: 'asf', what: 'ASF (WMA/WMV)' };
  if (b[0] === 0x1a && b[1] === 0x45 && b[2] === 0xdf && b[3] === 0xa3) return { kind: 'media', demuxer: 'matroska', what: 'Matroska/WebM' };
  if (ascii(b, 0, 3) === 'FLV' && b[3] === 1) return { kind: 'media', demuxer: 'flv', what: 'FLV' };
  if (b.length >= 8 && ISO_BOXES.has(ascii(b, 4, 4))) {
    const size = u32(b, 0);
    const other = otherBinary(b);
    if (other) return { kind: 'unsupported', what: other };
    if (size === 0 || size === 1 || size >= 8) return { kind: 'media', demuxer: 'mov', what: 'ISO BMFF/QuickTime' };
  }
  if ([0x06, 0x0e, 0x2b, 0x34, 0x02, 0x05, 0x01, 0x01].every((x, i) => b[i] === x)) return { kind: 'media', demuxer: 'mxf', what: 'MXF' };
  if (b[0] === 0 && b[1] === 0 && b[2] === 1 && b[3] === 0xba) return { kind: 'media', demuxer: 'mpeg', what: 'MPEG program stream' };
  if (tsPackets(b, 0, 188)) return { kind: 'media', demuxer: 'mpegts', what: 'MPEG-TS' };
  if (b.length > 4 && tsPackets(b, 4, 192)) return { kind: 'media', demuxer: 'mpegts', what: 'MPEG-TS (M2TS)' };
  const d = dolby(b);
  if (d) return { kind: 'media', demuxer: d, what: d === 'ac3' ? 'AC-3' : 'E-AC-3' };
  if (framesChain(b, 0, adtsFrameLength)) return { kind: 'media', demuxer: 'aac', what: 'ADTS AAC' };
  if (framesChain(b, 0, mpegAudioFrameLength)) return { kind: 'media', demuxer: 'mp3', what: 'MPEG audio' };
  // Some encoders leave zero padding before the first MPEG audio / ADTS frame (FFmpeg's probes skip it too).
  let z = 0;
  while (z < Math.min(b.length, 4096) && b[z] === 0) z++;
  if (z > 0 && z < b.length) {
    if (framesChain(b, z, adtsFrameLength)) return { kind: 'media', demuxer: 'aac', what: 'ADTS AAC' };
    if (framesChain(b, z, mpegAudioFrameLength)) return { kind: 'media', demuxer: 'mp3', what: 'MPEG audio' };
  }
  const other = otherBinary(b);
  return other ? { kind: 'unsupported', what: other } : undefined;
}

/** After an ID3v2 tag: MPEG audio (searching a little junk/padding), ADTS or FLAC. */
function afterId3(b: Uint8Array): SniffVerdict {
  if (b.length === 0) return { kind: 'unsupported', what: 'an ID3 tag with no audio after it' };
  if (ascii(b, 0, 4) === 'fLaC') return { kind: 'media', demuxer: 'flac', what: 'FLAC' };
  for (let at = 0; at < Math.min(b.length, 4096); at++) {
    if (b[at] !== 0xff) continue;
    if (framesChain(b, at, adtsFrameLength)) return { kind: 'media', demuxer: 'aac', what: 'ADTS AAC' };
    if (framesChain(b, at, mpegAudioFrameLength)) return { kind: 'media', demuxer: 'mp3', what: 'MP3' };
  }
  return { kind: 'unsupported', what: 'an ID3 tag not followed by MPEG audio' };
}

// ---------------------------------------------------------------------------------------------------------
// Text: playlists, manifests, scripts and subtitles are named; other text is "a text file".

/** Looks like text: no NUL and almost only printable characters (UTF-8 bytes >= 0x80 count as printable). */
function isText(b: Uint8Array): boolean {
  const n = Math.min(b.length, 4096);
  let odd = 0;
  for (let i = 0; i < n; i++) {
    const c = b[i]!;
    if (c === 0) return false;
    if (c < 0x20 && c !== 9 && c !== 10 && c !== 13 && c !== 12) odd++;
  }
  return odd <= n / 100;
}

const PLAYLISTS: Array<[RegExp, string]> = [
  [/^#EXTM3U/, 'an HLS/M3U playlist (#EXTM3U)'],
  [/^#EXT-X-/, 'an HLS playlist (#EXT-X-)'],
  [/^ffconcat\s+version/i, 'an FFmpeg concat script (ffconcat)'],
  [/^(<\?xml[^>]*>\s*)?(<!--[\s\S]*?-->\s*)*<MPD[\s>]/, 'a DASH manifest (MPD)'],
  [/^\[playlist\]/i, 'a PLS playlist'],
  [/^(<\?xml[^>]*>\s*)?<playlist[\s>]/i, 'an XSPF playlist'],
  [/^(<\?xml[^>]*>\s*)?<smil[\s>]/i, 'a SMIL playlist'],
  [/^<asx[\s>]/i, 'an ASX playlist'],
  [/^(concat|subfile|file|https?|ftp|data|crypto|hls|tcp|udp|rtmp\w*|rtp|rtsp|pipe|cache|async|tee):/i, 'a URL list (protocol references)'],
  [/^(file\s+'|file\s+\S)/m, 'an FFmpeg concat list (file ...)'],
];
const SUBTITLES: Array<[RegExp, string]> = [
  [/^\d+\s*\r?\n\d{1,2}:\d{2}:\d{2}[,.]\d{1,3}\s*-->/, 'SubRip (SRT) subtitles'],
  [/^WEBVTT/, 'WebVTT subtitles'],
  [/^\[Script Info\]/i, 'ASS/SSA subtitles'],
  [/^\{\d+\}\{\d*\}/, 'MicroDVD subtitles'],
  [/^(<\?xml[^>]*>\s*)?<tt[\s>]/, 'TTML subtitles'],
];

function text(b: Uint8Array): SniffVerdict {
  const t = new TextDecoder('utf-8').decode(b.subarray(0, 4096)).replace(/^\uFEFF/, '').replace(/^\s+/, '');
  for (const [re, what] of PLAYLISTS) if (re.test(t)) return { kind: 'playlist', what };
  for (const [re, what] of SUBTITLES) if (re.test(t)) return { kind: 'text', what };
  if (/^(<\?xml|<!DOCTYPE|<html)/i.test(t)) return { kind: 'text', what: 'an XML/HTML document' };
  return { kind: 'text', what: 'a text file' };
}

function hexHead(b: Uint8Array): string {
  return [...b.subarray(0, 8)].map((x) => x.toString(16).padStart(2, '0')).join(' ');
}

function sniffPartial(head: Uint8Array): Partial {
  if (head.length === 0) return { kind: 'empty' };
  const bin = binary(head);
  if (bin) return bin;
  if (isText(head)) return text(head);
  return { kind: 'unsupported', what: `its first bytes are ${hexHead(head)}` };
}

/**
 * The verdict on a file's head (the first SNIFF_BYTES or fewer). A head that starts with an ID3 tag is
 * judged on the bytes after the tag, when the head holds them (sniffFile reads them otherwise).
 */
export function sniffBytes(head: Uint8Array): SniffVerdict {
  const v = sniffPartial(head);
  if (v.kind !== 'id3') return v;
  return afterId3(head.subarray(Math.min(v.skip, head.length)));
}

// ---------------------------------------------------------------------------------------------------------
// QuickTime data references: moov/trak/mdia/minf/dinf/dref entries ('url ', 'urn ', 'alis', ...) whose
// self-contained flag (bit 0) is clear point at media outside the file. FFmpeg skips them (-enable_drefs is
// off) and then fails mid-encode; Medley refuses such movies up front.

interface Reader {
  size: number;
  read(at: number, len: number): Promise<Uint8Array>;
}

const CONTAINERS = new Set(['moov', 'trak', 'mdia', 'minf', 'dinf']);
/**
 * Boxes looked at, at most (a 2-hour fragmented MP4 in 2 s fragments has about 7200 top-level boxes). A file
 * with more is refused rather than left partly unchecked.
 */
export const MAX_BOXES = 100_000;

/** `type` of every external data reference of an ISO BMFF file ('url ', 'alis', ...), or "cmov". */
export async function externalDataReferences(r: Reader): Promise<string[]> {
  const found: string[] = [];
  let visited = 0;
  const walk = async (start: number, end: number, depth: number): Promise<void> => {
    let at = start;
    while (at + 8 <= end && visited++ < MAX_BOXES) {
      const h = await r.read(at, 16);
      if (h.length < 8) return;
      let size = u32(h, 0);
      const type = ascii(h, 4, 4);
      let headerLen = 8;
      if (size === 1) {
        if (h.length < 16) return;
        size = u32(h, 8) * 2 ** 32 + u32(h, 12);
        headerLen = 16;
      } else if (size === 0) size = end - at;
      if (size < headerLen) return;
      const boxEnd = Math.min(end, at + size);
      if (type === 'cmov') found.push('cmov');
      else if (type === 'dref' && depth > 0) await drefEntries(at + headerLen, boxEnd);
      else if (CONTAINERS.has(type) && depth < 6) await walk(at + headerLen, boxEnd, depth + 1);
      at += size;
    }
  };
  const drefEntries = async (start: number, end: number): Promise<void> => {
    // Full box: version+flags (4), entry_count (4), then the entries, each a full box itself.
    let at = start + 8;
    while (at + 12 <= end && visited++ < MAX_BOXES) {
      const e = await r.read(at, 12);
      if (e.length < 12) return;
      const size = u32(e, 0);
      const type = ascii(e, 4, 4);
      const selfContained = (e[11]! & 1) === 1;
      if (!selfContained) found.push(type);
      if (size < 12) return;
      at += size;
    }
  };
  await walk(0, r.size, 0);
  if (visited > MAX_BOXES) found.push('box-limit');
  return found;
}

function fileReader(fh: FileHandle, size: number): Reader {
  return {
    size,
    async read(at, len) {
      const buf = Buffer.alloc(Math.max(0, Math.min(len, size - at)));
      if (buf.length === 0) return buf;
      const { bytesRead } = await fh.read(buf, 0, buf.length, at);
      return buf.subarray(0, bytesRead);
    },
  };
}

/** The verdict on a local file; for ISO BMFF also `externalRefs`, the data references pointing outside it. */
export async function sniffFile(path: string): Promise<SniffVerdict & { externalRefs?: string[] }> {
  const fh = await open(path, 'r');
  try {
    const size = (await fh.stat()).size;
    const r = fileReader(fh, size);
    const head = await r.read(0, SNIFF_BYTES);
    let v = sniffPartial(head);
    if (v.kind === 'id3') v = afterId3(v.skip < head.length ? head.subarray(v.skip) : await r.read(v.skip, SNIFF_BYTES));
    if (v.kind === 'media' && v.demuxer === 'mov') {
      const externalRefs = await externalDataReferences(r);
      if (externalRefs.length > 0) return { ...v, externalRefs };
    }
    return v;
  } finally {
    await fh.close();
  }
}

/** The refusal message for a verdict that is not accepted media (undefined when it is). */
export function refusal(v: SniffVerdict & { externalRefs?: string[] }, displayName: string): string | undefined {
  switch (v.kind) {
    case 'empty':
      return `${displayName} could not be read as media: the file is empty`;
    case 'playlist':
      return `${displayName} could not be read as media: it is ${v.what}; playlists, manifests and scripts that name other files are not accepted as sources`;
    case 'text':
      return `${displayName} could not be read as media: it is ${v.what}, not audio or video; text files are not accepted as sources`;
    case 'unsupported':
      return `${displayName} could not be read as media: not a supported media format (${v.what}); accepted are MP3, AAC (ADTS), MP4/M4A/MOV/3GP, WAV, FLAC, Ogg/Opus, AMR, WMA/ASF, MKV/WebM, FLV, MPEG-TS/PS, AC-3, AVI, AIFF and MXF files`;
    case 'media':
      if (v.externalRefs && v.externalRefs.length > 0) {
        const refs = [...new Set(v.externalRefs)];
        if (refs.includes('box-limit')) return `${displayName} could not be read as media: its ISO BMFF structure has more than ${MAX_BOXES} boxes, more than Medley checks`;
        if (refs.includes('cmov')) return `${displayName} could not be read as media: a QuickTime movie with a compressed movie header (cmov) is not accepted`;
        return `${displayName} could not be read as media: a QuickTime/MP4 movie with data references to other files (${refs.map((t) => `'${t}'`).join(', ')} entries); only self-contained movies are accepted as sources`;
      }
      return undefined;
  }
}
