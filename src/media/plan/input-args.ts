/**
 * The options put before every `-i` (ffprobe and ffmpeg alike), built per input from the demuxer the
 * engine's sniffer chose from the file's first bytes (engine/sniff.ts). Pure, so the planner can build them.
 *
 * Why: FFmpeg picks a demuxer by probing the content, and some demuxers read other files — HLS and DASH
 * follow the segment URIs of a playlist or manifest, concat/ffconcat the paths of a script, image2 a file
 * pattern, mov the data references (`dref`) of a movie. `-protocol_whitelist file` alone still lets them
 * read any local file into the output. So every input is opened with a forced single-file demuxer (`-f`)
 * AND a `-format_whitelist` of single-file demuxers (which also holds for anything a demuxer would open
 * nested), and its own name carries no extension hint.
 */

/** Demuxers that only ever read the one file they are given. Keys are FFmpeg's demuxer names. */
export const SINGLE_FILE_DEMUXERS = [
  'mp3', // MPEG audio layers 1-3 (ID3 or frame sync)
  'aac', // raw ADTS AAC
  'mov', // ISO BMFF / QuickTime: mp4, m4a, mov, 3gp (data references refused by the sniffer, -enable_drefs 0)
  'wav', // RIFF/RF64 WAVE
  'flac',
  'ogg', // Vorbis, Opus, FLAC, Speex in Ogg
  'amr', // AMR-NB / AMR-WB storage format
  'asf', // wma, wmv
  'matroska', // mkv, mka, webm
  'flv',
  'mpegts', // 188- and 192-byte (M2TS) packets
  'mpeg', // MPEG program stream
  'ac3',
  'eac3',
  'avi',
  'aiff',
  'mxf', // Material eXchange Format (op1a, as Medley also writes it)
] as const;

export type SingleFileDemuxer = (typeof SINGLE_FILE_DEMUXERS)[number];

/** The `-format_whitelist` value: every single-file demuxer, comma separated. */
export const FORMAT_WHITELIST = SINGLE_FILE_DEMUXERS.join(',');

export function isSingleFileDemuxer(name: string): name is SingleFileDemuxer {
  return (SINGLE_FILE_DEMUXERS as readonly string[]).includes(name);
}

/**
 * The demuxer an input was (or will be) opened with: the sniffed one, else the first token of ffprobe's
 * format_name (`mov,mp4,m4a,3gp,3g2,mj2` -> mov, `matroska,webm` -> matroska), which is the forced
 * demuxer's own name once probing forced it. Throws (a Medley bug) for anything outside the allow-list.
 */
export function inputDemuxer(info: { demuxer?: string; formatName: string }): SingleFileDemuxer {
  const name = info.demuxer ?? (info.formatName.split(',')[0] ?? '').trim();
  if (!isSingleFileDemuxer(name)) throw new Error(`input demuxer ${JSON.stringify(name)} is not a single-file demuxer`);
  return name;
}

/**
 * Per-input options: the forced demuxer and the whitelists, local files only, bounded probing
 * (probesize in bytes = 20 MB, analyzeduration in microseconds = 20 s). QuickTime data references stay off
 * explicitly (-enable_drefs is a mov demuxer option, so only mov inputs get it).
 */
export function inputArgs(demuxer: SingleFileDemuxer): string[] {
  if (!isSingleFileDemuxer(demuxer)) throw new Error(`input demuxer ${JSON.stringify(demuxer)} is not a single-file demuxer`);
  return [
    '-f',
    demuxer,
    '-format_whitelist',
    FORMAT_WHITELIST,
    '-protocol_whitelist',
    'file',
    '-probesize',
    '20000000',
    '-analyzeduration',
    '20000000',
    ...(demuxer === 'mov' ? ['-enable_drefs', '0', '-use_absolute_path', '0'] : []),
  ];
}
