/** Compose an audio/concat from clips of a bucket and run it as a task. */
import { useEffect, useState } from 'preact/hooks';
import * as api from '../api.js';
import type { SessionInfo } from '../api.js';
import { ErrorLine, message } from '../ui.js';
import { AUDIO } from './object.js';

interface Clip {
  key: string;
  ss: string;
  t: string;
}

/** audio/concat: the first clip is the object the request is sent to, the others follow as /sur clips. */
export function concatProcess(bucket: string, clips: Clip[], format: string, output: string): string {
  const ms = (v: string, name: string) => (v.trim() && Number(v) > 0 ? `,${name}_${Math.round(Number(v) * 1000)}` : '');
  const [first, ...rest] = clips;
  if (!first) return '';
  return `audio/concat,f_${format}${ms(first.ss, 'ss')}${ms(first.t, 't')}${rest.map((c) => `/sur,o_${api.b64(c.key)}${ms(c.ss, 'ss')}${ms(c.t, 't')}`).join('')}|sys/saveas,o_${api.b64(output)},b_${api.b64(bucket)}`;
}

export function Compose({ session, bucket: initial }: { session: SessionInfo; bucket?: string }) {
  const [buckets, setBuckets] = useState<string[]>([]);
  const [bucket, setBucket] = useState(initial ?? '');
  const [available, setAvailable] = useState<string[]>([]);
  const [clips, setClips] = useState<Clip[]>([]);
  const [format, setFormat] = useState('mp3');
  const [output, setOutput] = useState('concat/output.mp3');
  const [error, setError] = useState<string>();
  const [submitted, setSubmitted] = useState<string>();
  useEffect(() => void api.listBuckets(session).then(setBuckets, (e) => setError(message(e))), []);
  useEffect(() => {
    if (!bucket) return;
    // One page of the bucket's audio objects (up to 200): enough to pick clips from.
    api.listFolder(bucket, '', undefined, 200).then(
      (l) => setAvailable(l.objects.map((o) => o.key).filter((k) => AUDIO.test(k))),
      (e) => setError(message(e)),
    );
  }, [bucket]);
  const process = concatProcess(bucket, clips, format, output);
  const move = (i: number, d: number) =>
    setClips((c) => {
      const n = [...c];
      const j = i + d;
      if (j < 0 || j >= n.length) return c;
      [n[i], n[j]] = [n[j]!, n[i]!];
      return n;
    });
  const patch = (i: number, p: Partial<Clip>) => setClips((c) => c.map((x, j) => (j === i ? { ...x, ...p } : x)));
  const run = async () => {
    setError(undefined);
    try {
      setSubmitted(await api.submitProcess(bucket, clips[0]!.key, process));
    } catch (e) {
      setError(message(e));
    }
  };
  return (
    <section>
      <h2>Compose audio (audio/concat)</h2>
      <div class="row">
        <label>
          Bucket{' '}
          <select value={bucket} onChange={(e) => setBucket(e.currentTarget.value)}>
            <option value="">choose…</option>
            {buckets.map((b) => (
              <option key={b}>{b}</option>
            ))}
          </select>
        </label>
      </div>
      <div class="cols">
        <div>
          <h3>Audio objects</h3>
          <ul class="pick">
            {available.map((k) => (
              <li key={k}>
                <button class="small" onClick={() => setClips((c) => [...c, { key: k, ss: '', t: '' }])}>
                  Add
                </button>{' '}
                {k}
              </li>
            ))}
          </ul>
        </div>
        <div>
          <h3>Clips, in order</h3>
          <ol class="clips">
            {clips.map((c, i) => (
              <li key={i}>
                <span class="clip-key">{c.key}</span>
                <label>
                  start s <input class="num" value={c.ss} onInput={(e) => patch(i, { ss: e.currentTarget.value })} />
                </label>
                <label>
                  length s <input class="num" value={c.t} onInput={(e) => patch(i, { t: e.currentTarget.value })} />
                </label>
                <button class="small" onClick={() => move(i, -1)} aria-label="move up">
                  ↑
                </button>
                <button class="small" onClick={() => move(i, 1)} aria-label="move down">
                  ↓
                </button>
                <button class="small danger" onClick={() => setClips((cs) => cs.filter((_, j) => j !== i))}>
                  ✕
                </button>
              </li>
            ))}
          </ol>
          <div class="row">
            <label>
              Format{' '}
              <select value={format} onChange={(e) => setFormat(e.currentTarget.value)}>
                {['mp3', 'aac', 'flac', 'oga', 'opus', 'ac3', 'amr'].map((f) => (
                  <option key={f}>{f}</option>
                ))}
              </select>
            </label>
            <label>
              Output key <input value={output} onInput={(e) => setOutput(e.currentTarget.value)} />
            </label>
          </div>
        </div>
      </div>
      <h3>Process string</h3>
      <pre class="info process-preview">{process || 'Add clips to build it.'}</pre>
      <button disabled={clips.length === 0 || !output} onClick={run}>
        Run task
      </button>
      <ErrorLine error={error} />
      {submitted && (
        <p>
          Task <code>{submitted}</code> submitted: <a href="#/tasks">watch it in Tasks</a>.
        </p>
      )}
    </section>
  );
}
