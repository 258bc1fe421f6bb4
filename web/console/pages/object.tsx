/** One object: metadata, the player (with the server-computed waveform for audio) and the media facts, a task on it. */
import { useEffect, useState } from 'preact/hooks';
import * as api from '../api.js';
import { href } from '../routes.js';
import { ErrorLine, message } from '../ui.js';
import { Waveform } from '../waveform.js';

export const AUDIO = /\.(mp3|m4a|aac|wav|flac|ogg|oga|opus|amr|ac3)$/i;
export const VIDEO = /\.(mp4|m4v|mov|webm|mkv|ts|flv)$/i;

export function ObjectPage({ bucket, objectKey }: { bucket: string; objectKey: string }) {
  const [meta, setMeta] = useState<Record<string, string>>();
  const [info, setInfo] = useState<unknown>();
  const [error, setError] = useState<string>();
  const [taskProcess, setTaskProcess] = useState('');
  const [submitted, setSubmitted] = useState<string>();
  const [player, setPlayer] = useState<HTMLAudioElement | null>(null);
  const src = api.ossPath(bucket, objectKey);
  const type = meta?.['content-type'] ?? '';
  const kind = type.startsWith('video/') || VIDEO.test(objectKey) ? 'video' : type.startsWith('audio/') || AUDIO.test(objectKey) ? 'audio' : undefined;
  useEffect(() => {
    api.headObject(bucket, objectKey).then(setMeta, (e) => setError(message(e)));
  }, [bucket, objectKey]);
  useEffect(() => {
    if (kind) api.mediaInfo(bucket, objectKey, kind).then(setInfo, (e) => setInfo({ error: message(e) }));
    const base = objectKey.replace(/\.[^./]*$/, '');
    setTaskProcess(`audio/convert,f_mp3,ab_128000|sys/saveas,o_${api.b64(`${base}-converted.mp3`)},b_${api.b64(bucket)}`);
  }, [kind, bucket, objectKey]);
  const submit = async (e: Event) => {
    e.preventDefault();
    try {
      setSubmitted(await api.submitProcess(bucket, objectKey, taskProcess));
    } catch (err) {
      setError(message(err));
    }
  };
  const slash = objectKey.lastIndexOf('/');
  return (
    <section>
      <nav class="crumbs">
        <a href="#/buckets">Buckets</a> / <a href={href.bucket(bucket, slash >= 0 ? objectKey.slice(0, slash + 1) : '')}>{bucket}</a> / <strong>{objectKey}</strong>
      </nav>
      <ErrorLine error={error} />
      <div class="row">
        <a class="button" href={`${src}?response-content-disposition=${encodeURIComponent(`attachment; filename="${objectKey.slice(slash + 1).replace(/"/g, '')}"`)}`} download>
          Download
        </a>
      </div>
      {kind === 'audio' && <audio controls preload="metadata" src={src} class="player" ref={setPlayer} />}
      {kind === 'audio' && <Waveform bucket={bucket} objectKey={objectKey} media={player} label={`Waveform of ${objectKey}`} />}
      {kind === 'video' && <video controls preload="metadata" src={src} class="player" />}
      <div class="cols">
        <div>
          <h3>Metadata</h3>
          {meta ? (
            <dl class="meta">
              {Object.entries(meta).map(([k, v]) => (
                <>
                  <dt>{k}</dt>
                  <dd>{v}</dd>
                </>
              ))}
            </dl>
          ) : (
            <p class="muted">Loading…</p>
          )}
        </div>
        {kind && (
          <div>
            <h3>{kind}/info</h3>
            <pre class="info" tabIndex={0} aria-label={`${kind}/info`}>{info === undefined ? 'Probing…' : JSON.stringify(info, null, 2)}</pre>
          </div>
        )}
      </div>
      {kind && (
        <form class="process" onSubmit={submit}>
          <h3 id="process-heading">Run a media task on this object</h3>
          <textarea name="process" rows={2} aria-labelledby="process-heading" value={taskProcess} onInput={(e) => setTaskProcess(e.currentTarget.value)} />
          <button type="submit">Submit task</button>
          {submitted && (
            <p>
              Task <code>{submitted}</code> submitted: <a href="#/tasks">watch it in Tasks</a>.
            </p>
          )}
        </form>
      )}
    </section>
  );
}
