/** The explanation `medley process --explain` prints and the console's plan view shows (media/explain.ts). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { explainJob, explanationText, shellQuote } from '../../src/media/explain.js';
import { parseProcessString } from '../../src/media/request/process-string.js';
import type { MediaInfo } from '../../src/media/media-info.js';
import type { Plan } from '../../src/media/plan/types.js';

const job = parseProcessString(`audio/concat,f_mp3,ss_1000,t_2000/sur,o_${Buffer.from('b.wav').toString('base64url')}|sys/saveas,o_${Buffer.from('out.mp3').toString('base64url')}`, { bucket: 'bkt', key: 'a.mp3' });
const info = (codec: string, sec: number): MediaInfo => ({ durationSec: sec, formatName: codec, audio: { index: 0, codec, sampleRate: 44100, channels: 2 } });
const plan = { args: ['-f', 'mp3', '-i', '/work/t-1/in-0', '-f', 'wav', '-i', '/work/t-1/in-1', '-c:a', 'libmp3lame', '/work/t-1/out/output.mp3'], decisions: ['clip #1 audio: resampled'], expectedDurationSec: 6 } as unknown as Plan;

test('the CLI text: inputs with the align mark and trims, decisions, output, the quoted command', () => {
  const e = explainJob(job, { plan, infos: [info('mp3', 10), info('pcm_s16le', 4)] }, { ffmpeg: '/opt/ff mpeg', output: '/tmp/out.mp3', names: ['a.mp3', 'b.wav'] });
  assert.equal(
    explanationText(e),
    [
      'Inputs (in output order):',
      '  0 (align): a.mp3 — mp3, 10.000 s, audio mp3 44100 Hz 2 ch [from 1 s, 2 s long]',
      '  1: b.wav — pcm_s16le, 4.000 s, audio pcm_s16le 44100 Hz 2 ch',
      'Decisions:',
      '  - clip #1 audio: resampled',
      'Output: /tmp/out.mp3 (expected 6.000 s)',
      'Command:',
      "  '/opt/ff mpeg' -hide_banner -nostdin -y -nostats -loglevel error -progress pipe:1 -f mp3 -i /work/t-1/in-0 -f wav -i /work/t-1/in-1 -c:a libmp3lame /work/t-1/out/output.mp3",
      '',
    ].join('\n'),
  );
});

test('path names replace local paths in the command (the console shows object names, never server paths)', () => {
  const e = explainJob(job, { plan, infos: [info('mp3', 10), info('wav', 4)] }, { ffmpeg: 'ffmpeg', output: 'oss://bkt/out.mp3', names: ['oss://bkt/a.mp3', 'oss://bkt/b.wav'], pathNames: [['/work/t-1/in-0', 'oss://bkt/a.mp3'], ['/work/t-1/in-1', 'oss://bkt/b.wav'], ['/work/t-1/out', '<output dir>']] });
  assert.equal(e.command, "ffmpeg -hide_banner -nostdin -y -nostats -loglevel error -progress pipe:1 -f mp3 -i oss://bkt/a.mp3 -f wav -i oss://bkt/b.wav -c:a libmp3lame '<output dir>/output.mp3'");
  assert.equal(e.inputs[0]!.trim, 'from 1 s, 2 s long');
  assert.equal(e.inputs[1]!.trim, undefined);
  for (const [arg, quoted] of [['plain-1.mp3', 'plain-1.mp3'], ["it's", "'it'\\''s'"], ['[0:a]concat', "'[0:a]concat'"]]) assert.equal(shellQuote(arg!), quoted);
});
