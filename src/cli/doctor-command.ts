/** `medley doctor`: which FFmpeg engines were found, their versions, and which of Medley's encoders each has. */
import { MediaEngine } from '../media/engine/index.js';

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

export async function runDoctor(opts: { ffmpeg?: string; ffprobe?: string; json?: boolean }, env: NodeJS.ProcessEnv): Promise<number> {
  const engine = await MediaEngine.start({ ffmpeg: opts.ffmpeg, ffprobe: opts.ffprobe, env });
  const d = engine.describe();
  if (opts.json) {
    process.stdout.write(`${JSON.stringify(d, null, 2)}\n`);
    return engine.available ? 0 : 1;
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
