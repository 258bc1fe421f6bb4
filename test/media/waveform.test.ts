/** Peak reduction (media/waveform.ts): bins of min/max over s16le samples, chunk boundaries anywhere. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PeakReducer, peakArgs, samplesPerBin } from '../../src/media/waveform.js';
import { assertSafeArgv } from '../../src/media/engine/run.js';

const pcm = (...samples: number[]) => {
  const b = Buffer.alloc(samples.length * 2);
  samples.forEach((s, i) => b.writeInt16LE(s, i * 2));
  return b;
};

test('min/max per bin, the last bin partial', () => {
  const r = new PeakReducer(3);
  r.push(pcm(0, 16384, -16384, 32767, -32768, 0, 8192));
  assert.deepEqual(r.finish(), { min: [-0.5, -1, 0.25], max: [0.5, 1, 0.25], samples: 7 });
});

test('a sample split across chunks (odd chunk lengths) reads the same as one chunk', () => {
  const all = pcm(100, -200, 3000, -32768, 32767, 5, -5, 12345);
  const whole = new PeakReducer(2);
  whole.push(all);
  for (const cuts of [[1], [3, 4], [1, 2, 3, 5, 7, 9, 11, 15]]) {
    const r = new PeakReducer(2);
    let at = 0;
    for (const c of [...cuts, all.length]) {
      r.push(all.subarray(at, c));
      at = c;
    }
    assert.deepEqual(r.finish(), whole.finish(), `cuts ${cuts.join(',')}`);
  }
});

test('samples per bin: a 1-hour source in 4000 bins at 8 kHz is 7200; never below 1', () => {
  const table: Array<[number, number, number]> = [
    [3600, 4000, 7200],
    [12, 4000, 24],
    [0, 4000, 1],
    [0.01, 4000, 1],
  ];
  for (const [sec, bins, want] of table) assert.equal(samplesPerBin(sec, bins), want, `${sec} s / ${bins}`);
  assert.throws(() => new PeakReducer(0));
});

test('the decode argv opens the input as tasks do (the safety check passes on everything but the PCM pipe)', () => {
  const args = peakArgs('/w/source', 'mp3');
  assert.equal(args.at(-1), 'pipe:1');
  assertSafeArgv(args.slice(0, -1));
  assert.throws(() => assertSafeArgv(args), /protocol other than a local file/);
});
