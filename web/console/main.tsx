/** The Medley web console (Preact). Hash routes: #/buckets, #/b/<bucket>/<prefix>, #/o/<bucket>/<key>, #/tasks, #/compose. */
import { render } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import * as api from './api.js';
import type { Listing, SessionInfo, TaskView } from './api.js';

type Route = { page: 'buckets' } | { page: 'bucket'; bucket: string; prefix: string } | { page: 'object'; bucket: string; key: string } | { page: 'tasks' } | { page: 'compose'; bucket?: string };

function parseRoute(hash: string): Route {
  const parts = hash.replace(/^#\/?/, '').split('/');
  const [head, b, ...rest] = parts;
  const dec = (s: string) => decodeURIComponent(s);
  if (head === 'b' && b) return { page: 'bucket', bucket: dec(b), prefix: rest.map(dec).join('/') };
  if (head === 'o' && b) return { page: 'object', bucket: dec(b), key: rest.map(dec).join('/') };
  if (head === 'tasks') return { page: 'tasks' };
  if (head === 'compose') return { page: 'compose', bucket: b ? dec(b) : undefined };
  return { page: 'buckets' };
}

const encPath = (s: string) => s.split('/').map(encodeURIComponent).join('/');
export const href = {
  bucket: (b: string, prefix = '') => `#/b/${encodeURIComponent(b)}/${encPath(prefix)}`,
  object: (b: string, k: string) => `#/o/${encodeURIComponent(b)}/${encPath(k)}`,
};

function useRoute(): Route {
  const [r, setR] = useState(parseRoute(location.hash));
  useEffect(() => {
    const on = () => setR(parseRoute(location.hash));
    addEventListener('hashchange', on);
    return () => removeEventListener('hashchange', on);
  }, []);
  return r;
}

const size = (n: number) => (n < 1024 ? `${n} B` : n < 1048576 ? `${(n / 1024).toFixed(1)} KiB` : n < 1073741824 ? `${(n / 1048576).toFixed(1)} MiB` : `${(n / 1073741824).toFixed(2)} GiB`);
const message = (e: unknown) => (e instanceof api.ApiError ? `${e.code}: ${e.message}` : String(e));

function ErrorLine({ error }: { error?: string }) {
  return error ? (
    <p class="error" role="alert">
      {error}
    </p>
  ) : null;
}

function SignIn({ onSignedIn }: { onSignedIn: (s: SessionInfo) => void }) {
  const [id, setId] = useState('');
  const [secret, setSecret] = useState('');
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      const s = await api.signIn(id.trim(), secret);
      setSecret('');
      onSignedIn(s);
    } catch (err) {
      setError(message(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <main class="signin">
      <form onSubmit={submit} class="card">
        <h1>Medley console</h1>
        <p class="muted">Sign in with an AccessKey pair: the root key or a scoped key.</p>
        <label>
          AccessKeyId
          <input name="accessKeyId" autocomplete="username" value={id} onInput={(e) => setId(e.currentTarget.value)} required />
        </label>
        <label>
          AccessKeySecret
          <input name="accessKeySecret" type="password" autocomplete="current-password" value={secret} onInput={(e) => setSecret(e.currentTarget.value)} required />
        </label>
        <button type="submit" disabled={busy}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
        <ErrorLine error={error} />
      </form>
    </main>
  );
}

function Buckets({ session }: { session: SessionInfo }) {
  const [buckets, setBuckets] = useState<string[]>();
  const [name, setName] = useState('');
  const [error, setError] = useState<string>();
  const load = () => api.listBuckets(session).then(setBuckets, (e) => setError(message(e)));
  useEffect(() => void load(), []);
  const create = async (e: Event) => {
    e.preventDefault();
    setError(undefined);
    try {
      await api.createBucket(name.trim());
      setName('');
      await load();
    } catch (err) {
      setError(message(err));
    }
  };
  const remove = async (b: string) => {
    if (!confirm(`Delete bucket ${b}? It must be empty.`)) return;
    try {
      await api.deleteBucket(b);
      await load();
    } catch (err) {
      setError(message(err));
    }
  };
  return (
    <section>
      <h2>Buckets</h2>
      {session.root ? (
        <form class="row" onSubmit={create}>
          <input name="bucket" placeholder="new-bucket-name" value={name} onInput={(e) => setName(e.currentTarget.value)} required />
          <button type="submit">Create bucket</button>
        </form>
      ) : (
        <p class="muted">This key is scoped: it sees the buckets it has grants on.</p>
      )}
      <ErrorLine error={error} />
      {buckets === undefined ? (
        <p class="muted">Loading…</p>
      ) : buckets.length === 0 ? (
        <p class="muted">No buckets yet.</p>
      ) : (
        <table class="list">
          <thead>
            <tr>
              <th>Name</th>
              <th>Access</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {buckets.map((b) => (
              <tr key={b}>
                <td>
                  <a href={href.bucket(b)} class="bucket-link">
                    {b}
                  </a>
                </td>
                <td>{session.root ? 'owner' : session.buckets[b]}</td>
                <td class="actions">{session.root && <button class="danger small" onClick={() => remove(b)}>Delete</button>}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

interface UploadState {
  name: string;
  loaded: number;
  total: number;
  error?: string;
  done?: boolean;
}

function Bucket({ bucket, prefix }: { bucket: string; prefix: string }) {
  const [pages, setPages] = useState<Listing[]>([]);
  const [error, setError] = useState<string>();
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [uploads, setUploads] = useState<UploadState[]>([]);
  const [drag, setDrag] = useState(false);
  const fileInput = useRef<HTMLInputElement>(null);

  const load = async (token?: string) => {
    try {
      const page = await api.listFolder(bucket, prefix, token);
      setPages((p) => (token ? [...p, page] : [page]));
    } catch (e) {
      setError(message(e));
    }
  };
  useEffect(() => {
    setPages([]);
    setSelected(new Set());
    setError(undefined);
    void load();
  }, [bucket, prefix]);

  const send = async (files: File[]) => {
    const start = uploads.length;
    setUploads((u) => [...u, ...files.map((f) => ({ name: f.name, loaded: 0, total: f.size }))]);
    const update = (i: number, patch: Partial<UploadState>) => setUploads((u) => u.map((x, j) => (j === start + i ? { ...x, ...patch } : x)));
    // Three at a time: many files without opening a connection per file at once.
    let next = 0;
    const worker = async () => {
      while (next < files.length) {
        const i = next++;
        const f = files[i]!;
        try {
          await api.upload(bucket, prefix + f.name, f, (loaded, total) => update(i, { loaded, total }));
          update(i, { done: true, loaded: f.size });
        } catch (e) {
          update(i, { error: message(e) });
        }
      }
    };
    await Promise.all([worker(), worker(), worker()]);
    await load();
  };

  const removeSelected = async () => {
    const keys = [...selected];
    if (keys.length === 0 || !confirm(`Delete ${keys.length} object${keys.length > 1 ? 's' : ''}? This cannot be undone.`)) return;
    try {
      await api.deleteObjects(bucket, keys);
      setSelected(new Set());
      await load();
    } catch (e) {
      setError(message(e));
    }
  };

  const toggle = (k: string) =>
    setSelected((s) => {
      const n = new Set(s);
      if (n.has(k)) n.delete(k);
      else n.add(k);
      return n;
    });

  const crumbs = prefix.split('/').filter(Boolean);
  const prefixes = pages.flatMap((p) => p.prefixes);
  const objects = pages.flatMap((p) => p.objects);
  const next = pages.at(-1)?.next;
  return (
    <section
      class={drag ? 'dropzone dragging' : 'dropzone'}
      onDragOver={(e) => {
        e.preventDefault();
        setDrag(true);
      }}
      onDragLeave={() => setDrag(false)}
      onDrop={(e) => {
        e.preventDefault();
        setDrag(false);
        const files = [...(e.dataTransfer?.files ?? [])];
        if (files.length) void send(files);
      }}
    >
      <nav class="crumbs">
        <a href="#/buckets">Buckets</a> / <a href={href.bucket(bucket)}>{bucket}</a>
        {crumbs.map((c, i) => (
          <span key={i}>
            {' / '}
            <a href={href.bucket(bucket, crumbs.slice(0, i + 1).join('/') + '/')}>{c}</a>
          </span>
        ))}
      </nav>
      <div class="row">
        <button onClick={() => fileInput.current?.click()}>Upload files</button>
        <input
          ref={fileInput}
          type="file"
          multiple
          class="hidden"
          name="files"
          onChange={(e) => {
            const files = [...(e.currentTarget.files ?? [])];
            e.currentTarget.value = '';
            if (files.length) void send(files);
          }}
        />
        <button class="danger" disabled={selected.size === 0} onClick={removeSelected}>
          Delete selected ({selected.size})
        </button>
        <a class="button" href={`#/compose/${encodeURIComponent(bucket)}`}>
          Compose audio
        </a>
        <span class="muted">or drop files here</span>
      </div>
      {uploads.length > 0 && (
        <ul class="uploads">
          {uploads.map((u, i) => (
            <li key={i} class={u.error ? 'failed' : u.done ? 'done' : ''}>
              <span>{u.name}</span>
              <progress max={u.total || 1} value={u.loaded} />
              <span class="muted">{u.error ?? (u.done ? 'uploaded' : `${Math.round((100 * u.loaded) / (u.total || 1))} %`)}</span>
            </li>
          ))}
        </ul>
      )}
      <ErrorLine error={error} />
      <table class="list objects">
        <thead>
          <tr>
            <th />
            <th>Name</th>
            <th>Size</th>
            <th>Last modified</th>
          </tr>
        </thead>
        <tbody>
          {prefixes.map((p) => (
            <tr key={p} class="folder">
              <td />
              <td>
                <a href={href.bucket(bucket, p)}>{p.slice(prefix.length)}</a>
              </td>
              <td>folder</td>
              <td />
            </tr>
          ))}
          {objects.map((o) => (
            <tr key={o.key} class="object">
              <td>
                <input type="checkbox" aria-label={`select ${o.key}`} checked={selected.has(o.key)} onChange={() => toggle(o.key)} />
              </td>
              <td>
                <a href={href.object(bucket, o.key)}>{o.key.slice(prefix.length)}</a>
              </td>
              <td>{size(o.size)}</td>
              <td>{new Date(o.lastModified).toLocaleString()}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {pages.length > 0 && prefixes.length === 0 && objects.length === 0 && <p class="muted">This folder is empty.</p>}
      {next && (
        <button class="more" onClick={() => load(next)}>
          Load more
        </button>
      )}
    </section>
  );
}

const AUDIO = /\.(mp3|m4a|aac|wav|flac|ogg|oga|opus|amr|ac3)$/i;
const VIDEO = /\.(mp4|m4v|mov|webm|mkv|ts|flv)$/i;

function ObjectPage({ bucket, objectKey }: { bucket: string; objectKey: string }) {
  const [meta, setMeta] = useState<Record<string, string>>();
  const [info, setInfo] = useState<unknown>();
  const [error, setError] = useState<string>();
  const [taskProcess, setTaskProcess] = useState('');
  const [submitted, setSubmitted] = useState<string>();
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
      {kind === 'audio' && <audio controls preload="metadata" src={src} class="player" />}
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
            <pre class="info">{info === undefined ? 'Probing…' : JSON.stringify(info, null, 2)}</pre>
          </div>
        )}
      </div>
      {kind && (
        <form class="process" onSubmit={submit}>
          <h3>Run a media task on this object</h3>
          <textarea name="process" rows={2} value={taskProcess} onInput={(e) => setTaskProcess(e.currentTarget.value)} />
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

function Tasks() {
  const [tasks, setTasks] = useState<Map<string, TaskView>>(new Map());
  const [error, setError] = useState<string>();
  const [live, setLive] = useState(false);
  useEffect(() => {
    api.listTasks().then(
      (list) => setTasks((m) => new Map([...list.map((t) => [t.taskId, t] as const), ...m])),
      (e) => setError(message(e)),
    );
    // Live progress: the server pushes every change (server-sent events), the page never polls.
    const es = new EventSource('/-/console/api/events');
    es.onopen = () => setLive(true);
    es.onerror = () => setLive(false);
    es.addEventListener('task', (e) => {
      const t = JSON.parse((e as MessageEvent<string>).data) as TaskView;
      setTasks((m) => new Map(m).set(t.taskId, t));
    });
    return () => es.close();
  }, []);
  const list = [...tasks.values()].sort((a, b) => b.createdAt.localeCompare(a.createdAt));
  return (
    <section>
      <h2>
        Tasks <span class={live ? 'badge live' : 'badge'}>{live ? 'live' : 'offline'}</span>
      </h2>
      <ErrorLine error={error} />
      {list.length === 0 ? (
        <p class="muted">No tasks you may see.</p>
      ) : (
        <ul class="tasks">
          {list.map((t) => (
            <li key={t.taskId} class={`task ${t.status.toLowerCase()}`} data-task-id={t.taskId}>
              <div class="task-head">
                <code>{t.taskId}</code>
                <span class="status">{t.status}</span>
                <span class="progress-text">{t.progress} %</span>
              </div>
              <progress max={100} value={t.progress} />
              {t.process && <code class="process-string">{t.process}</code>}
              <div class="muted">
                {t.projectName} · {new Date(t.createdAt).toLocaleString()} · from {t.sources.join(', ')}
              </div>
              {t.code && (
                <p class="error">
                  {t.code}: {t.message}
                </p>
              )}
              {t.outputs.length > 0 && (
                <div class="outputs">
                  Outputs:{' '}
                  {t.outputs.map((o) => {
                    const m = /^oss:\/\/([^/]+)\/(.+)$/.exec(o);
                    return m ? (
                      <a key={o} href={href.object(m[1]!, m[2]!)}>
                        {o}
                      </a>
                    ) : (
                      <span key={o}>{o}</span>
                    );
                  })}
                </div>
              )}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

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

function Compose({ session, bucket: initial }: { session: SessionInfo; bucket?: string }) {
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

function App() {
  const [session, setSession] = useState<SessionInfo | null>();
  const route = useRoute();
  useEffect(() => {
    api.session().then(
      (s) => setSession(s ?? null),
      () => setSession(null),
    );
  }, []);
  if (session === undefined) return <p class="muted">Loading…</p>;
  if (session === null) return <SignIn onSignedIn={setSession} />;
  const out = async () => {
    await api.signOut().catch(() => undefined);
    setSession(null);
  };
  return (
    <>
      <header class="top">
        <strong>Medley</strong>
        <nav>
          <a href="#/buckets" class={route.page === 'buckets' || route.page === 'bucket' || route.page === 'object' ? 'active' : ''}>
            Buckets
          </a>
          <a href="#/tasks" class={route.page === 'tasks' ? 'active' : ''}>
            Tasks
          </a>
          <a href="#/compose" class={route.page === 'compose' ? 'active' : ''}>
            Compose
          </a>
        </nav>
        <span class="who">
          {session.accessKeyId} {session.root ? '(root)' : '(scoped)'}
        </span>
        <button class="small" onClick={out}>
          Sign out
        </button>
      </header>
      <main>
        {route.page === 'buckets' && <Buckets session={session} />}
        {route.page === 'bucket' && <Bucket bucket={route.bucket} prefix={route.prefix} />}
        {route.page === 'object' && <ObjectPage bucket={route.bucket} objectKey={route.key} key={`${route.bucket}/${route.key}`} />}
        {route.page === 'tasks' && <Tasks />}
        {route.page === 'compose' && <Compose session={session} bucket={route.bucket} />}
      </main>
    </>
  );
}

render(<App />, document.getElementById('app')!);
