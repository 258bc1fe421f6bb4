/**
 * `medley doctor`: Medley's and Node's versions, which FFmpeg engines were found, their versions, which of
 * Medley's encoders each has, and the data volume's free space against the reserve (MEDLEY_MIN_FREE_DISK).
 */
import { dirname, resolve } from 'node:path';
import { statfs } from 'node:fs/promises';
import { MediaEngine } from '../media/engine/index.js';
import { VERSION } from '../version.js';
import { formatBytes, parseDiskReserve, reserveBytes } from '../storage/disk-space.js';

/** The encoders behind each output codec Medley offers. */
export const CODEC_ENCODERS: Record<string, string> = {
  mp3: 'libmp3lame',
  aac: 'aac',
  flac: 'flac',
  vorbis: 'libvorbis',
  ac3: 'ac3',
  opus: 'libopus',
  'amr (8 kHz)': 'libopencore_amrnb',
  'amr (16 kHz)': 'libvo_amrwbenc',
  pcm: 'pcm_s16le',
  h264: 'libx264',
  h265: 'libx265',
  vp9: 'libvpx-vp9',
};

export interface DiskReport {
  dataDir: string;
  /** The directory statfs was asked about (the data dir, or its nearest existing parent before first start). */
  checked: string;
  freeBytes: number;
  totalBytes: number;
  reserve: string;
  reserveBytes: number;
  writable: boolean;
}

/** Free space of the volume holding `dataDir` against the reserve; undefined when neither can be read. */
export async function diskReport(dataDir: string, reserveText: string): Promise<DiskReport | { error: string }> {
  const reserve = parseDiskReserve(reserveText);
  if (!reserve) return { error: `MEDLEY_MIN_FREE_DISK "${reserveText}" is not a size or a percentage` };
  let checked = resolve(dataDir);
  for (;;) {
    try {
      const s = await statfs(checked);
      const totalBytes = s.blocks * s.bsize;
      const freeBytes = s.bavail * s.bsize;
      const bytes = reserveBytes(reserve, totalBytes);
      return { dataDir: resolve(dataDir), checked, freeBytes, totalBytes, reserve: reserveText, reserveBytes: bytes, writable: freeBytes >= bytes };
    } catch (e) {
      const parent = dirname(checked);
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT' || parent === checked) return { error: `cannot read the free space of ${checked}: ${(e as Error).message}` };
      checked = parent;
    }
  }
}

export async function runDoctor(opts: { ffmpeg?: string; ffprobe?: string; json?: boolean; dataDir?: string; minFreeDisk?: string }, env: NodeJS.ProcessEnv): Promise<number> {
  const engine = await MediaEngine.start({ ffmpeg: opts.ffmpeg, ffprobe: opts.ffprobe, env });
  const d = engine.describe();
  const disk = await diskReport(opts.dataDir ?? './data', opts.minFreeDisk ?? '1GiB');
  if (opts.json) {
    process.stdout.write(`${JSON.stringify({ version: VERSION, node: process.version, ...d, disk }, null, 2)}\n`);
    return engine.available ? 0 : 1;
  }
  process.stdout.write(`Medley ${VERSION} on Node.js ${process.version}\n`);
  if ('error' in disk) process.stdout.write(`Data volume: ${disk.error}\n`);
  else {
    process.stdout.write(
      `Data volume (${disk.dataDir}): ${formatBytes(disk.freeBytes)} free of ${formatBytes(disk.totalBytes)}; reserve ${disk.reserve} = ${formatBytes(disk.reserveBytes)}: ${disk.writable ? 'writes accepted' : 'BELOW THE RESERVE, writes and new media tasks are refused (503)'}\n`,
    );
  }
  if (d.engines.length === 0) process.stdout.write('No usable FFmpeg engine was found: media requests will fail.\n');
  d.engines.forEach((e, i) => {
    process.stdout.write(`${i === 0 ? 'Preferred engine' : `Engine ${i + 1}`} (${e.source}):\n  ffmpeg  ${e.ffmpeg}\n          ${e.version}\n  ffprobe ${e.ffprobe}\n          ${e.ffprobeVersion}\n  encoders:\n`);
    for (const [codec, encoder] of Object.entries(CODEC_ENCODERS)) {
      process.stdout.write(`    ${e.encoders.includes(encoder) ? 'ok     ' : 'MISSING'} ${codec.padEnd(13)} ${encoder}\n`);
    }
  });
  for (const x of d.dropped) process.stdout.write(`Not usable: ${JSON.stringify(x)}\n`);
  return engine.available ? 0 : 1;
}
