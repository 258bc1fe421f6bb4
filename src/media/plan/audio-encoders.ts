/**
 * One small strategy per audio codec: which FFmpeg encoder, which sample rates / channel counts it can take,
 * which sample format to hand it, how ab/aq map onto its options, and its frame size and priming (for the
 * duration tolerance). Every option emitted here was checked against the bundled 2018 build (N-47683).
 */
import type { AudioCodec } from '../job.js';
import { fail } from '../../errors.js';

export interface AudioEncodeParams {
  sampleRate: number;
  channels: number;
  /** bit/s after abopt was applied. */
  bitrate?: number;
  /** 0-100, higher is better. */
  quality?: number;
  bitsPerSample?: 16 | 24;
}

export interface AudioEncoding {
  encoder: string;
  /** ffprobe codec_name of the result. */
  probeCodec: string;
  /** Sample format pinned with aformat before the encoder (one the encoder takes natively). */
  sampleFmt: string;
  /** Encoder options (-c:a and friends; -ar/-ac are added by the caller). */
  args: string[];
  /** The -b:a value when one is emitted. */
  nominalBitrate?: number;
  /** Samples per coded frame at the output rate. */
  frameSamples: number;
  /** Encoder delay (priming) in samples at the output rate. */
  primingSamples: number;
}

export interface AudioCodecSpec {
  codec: AudioCodec;
  /** Sample rates the encoder accepts; null = every rate of the job's list. */
  rates: readonly number[] | null;
  maxChannels: number;
  encode(p: AudioEncodeParams, decisions: string[]): AudioEncoding;
}

/** Target channel count -> FFmpeg channel layout name (aformat / anullsrc). */
const LAYOUTS: Record<number, string> = { 1: 'mono', 2: 'stereo', 3: '3.0', 4: 'quad', 5: '5.0', 6: '5.1', 7: '6.1', 8: '7.1' };

export function channelLayout(channels: number): string {
  const l = LAYOUTS[channels];
  if (!l) fail('InvalidMediaArgument', `unsupported channel count ${channels} (1-8)`);
  return l;
}

const qualityNote = (codec: string, aq: number, what: string): string => `audio: aq ${aq} for ${codec} mapped to ${what}`;

function bitrateArgs(b: number | undefined): string[] {
  return b === undefined ? [] : ['-b:a', String(b)];
}

function nearest(values: readonly number[], x: number): number {
  let best = values[0] ?? x;
  for (const v of values) if (Math.abs(v - x) < Math.abs(best - x)) best = v;
  return best;
}

/** Map aq 0..100 linearly onto [lo, hi] per channel, rounded to 1000 bit/s. */
function qualityToBitrate(aq: number, channels: number, lo: number, hi: number): number {
  return Math.round((channels * (lo + ((hi - lo) * aq) / 100)) / 1000) * 1000;
}

const mp3: AudioCodecSpec = {
  codec: 'mp3',
  rates: [8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000],
  maxChannels: 2,
  encode(p, decisions) {
    let args: string[] = [];
    let nominal: number | undefined;
    if (p.bitrate !== undefined) {
      nominal = p.bitrate;
      args = bitrateArgs(p.bitrate);
    } else if (p.quality !== undefined) {
      // LAME VBR: -q:a 0 is best, 9 worst.
      const q = Math.round(9 - (p.quality * 9) / 100);
      args = ['-q:a', String(q)];
      decisions.push(qualityNote('mp3', p.quality, `LAME VBR -q:a ${q}`));
    }
    return {
      encoder: 'libmp3lame',
      probeCodec: 'mp3',
      sampleFmt: 'fltp',
      args: ['-c:a', 'libmp3lame', ...args],
      nominalBitrate: nominal,
      frameSamples: p.sampleRate >= 32000 ? 1152 : 576,
      primingSamples: 1105,
    };
  },
};

const aac: AudioCodecSpec = {
  codec: 'aac',
  rates: null,
  maxChannels: 8,
  encode(p, decisions) {
    let b = p.bitrate;
    if (b === undefined && p.quality !== undefined) {
      // The native encoder's VBR (-q:a) is experimental: map aq to a bit rate instead, 32..128 kbit/s per
      // channel, capped at the AAC maximum of 6144 bits per channel per 1024-sample frame.
      const cap = Math.floor((6144 * p.sampleRate) / 1024) * p.channels;
      b = Math.min(qualityToBitrate(p.quality, p.channels, 32000, 128000), cap);
      decisions.push(qualityNote('aac', p.quality, `-b:a ${b} (32-128 kbit/s per channel)`));
    }
    return {
      encoder: 'aac',
      probeCodec: 'aac',
      sampleFmt: 'fltp',
      args: ['-c:a', 'aac', ...bitrateArgs(b)],
      nominalBitrate: b,
      frameSamples: 1024,
      primingSamples: 1024,
    };
  },
};

const flac: AudioCodecSpec = {
  codec: 'flac',
  rates: null,
  maxChannels: 8,
  encode(p, decisions) {
    if (p.bitrate !== undefined || p.quality !== undefined) decisions.push('audio: flac is lossless, ab/aq ignored');
    const depth = p.bitsPerSample ?? 16;
    const args = depth === 24 ? ['-sample_fmt', 's32', '-bits_per_raw_sample', '24'] : ['-sample_fmt', 's16'];
    return {
      encoder: 'flac',
      probeCodec: 'flac',
      sampleFmt: depth === 24 ? 's32' : 's16',
      args: ['-c:a', 'flac', ...args],
      frameSamples: p.sampleRate <= 48000 ? 4608 : Math.ceil(p.sampleRate * 0.105),
      primingSamples: 0,
    };
  },
};

const vorbis: AudioCodecSpec = {
  codec: 'vorbis',
  rates: null,
  maxChannels: 8,
  encode(p, decisions) {
    let args = bitrateArgs(p.bitrate);
    if (p.bitrate === undefined && p.quality !== undefined) {
      const q = Math.round(p.quality / 10);
      args = ['-q:a', String(q)];
      decisions.push(qualityNote('vorbis', p.quality, `libvorbis -q:a ${q}`));
    }
    return {
      encoder: 'libvorbis',
      probeCodec: 'vorbis',
      sampleFmt: 'fltp',
      args: ['-c:a', 'libvorbis', ...args],
      nominalBitrate: p.bitrate,
      frameSamples: 2048,
      primingSamples: 0,
    };
  },
};

/** AC-3 bit rates (kbit/s) at 32/44.1/48 kHz. */
const AC3_RATES = [32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384, 448, 512, 576, 640].map((k) => k * 1000);

const ac3: AudioCodecSpec = {
  codec: 'ac3',
  rates: [32000, 44100, 48000],
  maxChannels: 6,
  encode(p, decisions) {
    let b: number | undefined;
    if (p.bitrate !== undefined) {
      b = nearest(AC3_RATES, p.bitrate);
      if (b !== p.bitrate) decisions.push(`audio: ac3 bit rate ${p.bitrate} is not an AC-3 rate, using the nearest ${b}`);
    } else if (p.quality !== undefined) {
      b = nearest(AC3_RATES, qualityToBitrate(p.quality, p.channels, 48000, 160000));
      decisions.push(qualityNote('ac3', p.quality, `-b:a ${b} (48-160 kbit/s per channel, nearest AC-3 rate)`));
    }
    return {
      encoder: 'ac3',
      probeCodec: 'ac3',
      sampleFmt: 'fltp',
      args: ['-c:a', 'ac3', ...bitrateArgs(b)],
      nominalBitrate: b,
      frameSamples: 1536,
      primingSamples: 256,
    };
  },
};

const opus: AudioCodecSpec = {
  codec: 'opus',
  // libopus runs at these rates only; Opus decoders always output 48 kHz (ffprobe reports 48000).
  rates: [8000, 12000, 16000, 24000, 48000],
  maxChannels: 8,
  encode(p, decisions) {
    let b = p.bitrate;
    if (b === undefined && p.quality !== undefined) {
      b = qualityToBitrate(p.quality, p.channels, 16000, 128000);
      decisions.push(qualityNote('opus', p.quality, `-b:a ${b} (16-128 kbit/s per channel)`));
    }
    if (b !== undefined) {
      const clamped = Math.min(Math.max(b, 500), 256000 * p.channels);
      if (clamped !== b) decisions.push(`audio: opus bit rate ${b} clamped to libopus range: ${clamped}`);
      b = clamped;
    }
    return {
      encoder: 'libopus',
      probeCodec: 'opus',
      sampleFmt: 'flt',
      args: ['-c:a', 'libopus', ...bitrateArgs(b)],
      nominalBitrate: b,
      frameSamples: Math.round(p.sampleRate * 0.02),
      primingSamples: Math.round((312 * p.sampleRate) / 48000),
    };
  },
};

const AMR_NB_MODES = [4750, 5150, 5900, 6700, 7400, 7950, 10200, 12200];
const AMR_WB_MODES = [6600, 8850, 12650, 14250, 15850, 18250, 19850, 23050, 23850];

const amr: AudioCodecSpec = {
  codec: 'amr',
  // 8000 Hz: AMR-NB (libopencore_amrnb); 16000 Hz: AMR-WB (libvo_amrwbenc). Mono only.
  rates: [8000, 16000],
  maxChannels: 1,
  encode(p, decisions) {
    const wb = p.sampleRate === 16000;
    const modes = wb ? AMR_WB_MODES : AMR_NB_MODES;
    const top = modes[modes.length - 1] ?? 12200;
    let b: number;
    if (p.bitrate !== undefined) {
      b = nearest(modes, p.bitrate);
      if (b !== p.bitrate) decisions.push(`audio: ${wb ? 'AMR-WB' : 'AMR-NB'} has fixed modes, bit rate ${p.bitrate} -> nearest mode ${b}`);
    } else if (p.quality !== undefined) {
      b = modes[Math.round((p.quality / 100) * (modes.length - 1))] ?? top;
      decisions.push(qualityNote('amr', p.quality, `mode ${b} bit/s`));
    } else {
      b = top;
      decisions.push(`audio: ${wb ? 'AMR-WB' : 'AMR-NB'} default mode ${b} bit/s`);
    }
    const encoder = wb ? 'libvo_amrwbenc' : 'libopencore_amrnb';
    return {
      encoder,
      probeCodec: wb ? 'amr_wb' : 'amr_nb',
      sampleFmt: 's16',
      args: ['-c:a', encoder, '-b:a', String(b)],
      nominalBitrate: b,
      frameSamples: wb ? 320 : 160,
      primingSamples: 0,
    };
  },
};

const pcm: AudioCodecSpec = {
  codec: 'pcm',
  rates: null,
  maxChannels: 8,
  encode(p, decisions) {
    if (p.bitrate !== undefined || p.quality !== undefined) decisions.push('audio: pcm is uncompressed, ab/aq ignored');
    const s24 = p.bitsPerSample === 24;
    const encoder = s24 ? 'pcm_s24le' : 'pcm_s16le';
    return { encoder, probeCodec: encoder, sampleFmt: s24 ? 's32' : 's16', args: ['-c:a', encoder], frameSamples: 1, primingSamples: 0 };
  },
};

const SPECS: Record<AudioCodec, AudioCodecSpec> = { mp3, aac, flac, vorbis, ac3, opus, amr, pcm };

export function audioCodecSpec(codec: AudioCodec): AudioCodecSpec {
  return SPECS[codec];
}
