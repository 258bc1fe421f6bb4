/**
 * The IMM task list: filters (project, status, time range) and paging through ListTasks' own NextToken (the
 * task service, as the session's key), each task's request, state, timings, error and outputs with a
 * player, and live progress over server-sent events (the page never polls).
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import { ossPath } from '../api.js';
import { href } from '../routes.js';
import { ErrorLine, message } from '../ui.js';
import { listTaskPage, type TaskDetail, type TaskFilter } from '../admin.js';

const STATUSES = ['Running', 'Succeeded', 'Failed'];
const AUDIO = /\.(mp3|m4a|aac|wav|flac|ogg|opus|amr|wma)$/i;
const VIDEO = /\.(mp4|webm|mov|mkv|m4v|flv|ts)$/i;

function duration(from?: string, to?: string): string {
  if (!from || !to) return '—';
  const ms = new Date(to).getTime() - new Date(from).getTime();
  return ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(1)} s`;
}

function matches(t: TaskDetail, f: TaskFilter): boolean {
  if (f.project && t.projectName !== f.project) return false;
  if (f.status && t.status !== f.status) return false;
  if (f.from && t.createdAt < new Date(f.from).toISOString()) return false;
  if (f.to && t.createdAt > new Date(f.to).toISOString()) return false;
  return true;
}

function Output({ uri }: { uri: string }) {
  const m = /^oss:\/\/([^/]+)\/(.+)$/.exec(uri);
  if (!m) return <span>{uri}</span>;
  const [, bucket, key] = m as unknown as [string, string, string];
  return (
    <div class="output">
      <a href={href.object(bucket, key)}>{uri}</a>
      {AUDIO.test(key) && <audio class="player" controls preload="none" src={ossPath(bucket, key)} aria-label={`play ${key}`} />}
      {VIDEO.test(key) && <video class="player" controls preload="none" src={ossPath(bucket, key)} aria-label={`play ${key}`} />}
    </div>
  );
}

function TaskCard({ t }: { t: TaskDetail }) {
  return (
    <li class={`task ${t.status.toLowerCase()}`} data-task-id={t.taskId}>
      <div class="task-head">
        <code>{t.taskId}</code>
        <span class="status">{t.status}</span>
        <span class="progress-text">{t.progress} %</span>
      </div>
      <progress max={100} value={t.progress} aria-label={`progress of ${t.taskId}`} />
      {t.process && <code class="process-string">{t.process}</code>}
      <div class="muted">
        {t.projectName} · {new Date(t.createdAt).toLocaleString()} · from {t.sources.join(', ')}
      </div>
      {t.code && (
        <p class="error task-error">
          {t.code}: {t.message}
        </p>
      )}
      {t.outputs.length > 0 && (
        <div class="outputs">
          Outputs:{' '}
          {t.outputs.map((o) => (
            <Output key={o} uri={o} />
          ))}
        </div>
      )}
      <details class="task-details">
        <summary>Request and timings</summary>
        <dl class="meta">
          <dt>Type</dt>
          <dd>{t.type ?? '—'}</dd>
          <dt>State</dt>
          <dd>{t.state}</dd>
          <dt>Accepted</dt>
          <dd>{new Date(t.createdAt).toLocaleString()}</dd>
          <dt>Started</dt>
          <dd>{t.startedAt ? new Date(t.startedAt).toLocaleString() : '—'}</dd>
          <dt>Ended</dt>
          <dd>{t.endedAt ? new Date(t.endedAt).toLocaleString() : '—'}</dd>
          <dt>Waited</dt>
          <dd>{duration(t.createdAt, t.startedAt)}</dd>
          <dt>Ran</dt>
          <dd>{duration(t.startedAt, t.endedAt)}</dd>
          <dt>Attempts</dt>
          <dd>{t.attempts ?? '—'}</dd>
          {t.notifyTopic && (
            <>
              <dt>Notifies</dt>
              <dd>{t.notifyTopic}</dd>
            </>
          )}
        </dl>
        {t.request !== undefined && <pre class="info request" tabIndex={0} aria-label="Request">{typeof t.request === 'string' ? t.request : JSON.stringify(t.request, null, 2)}</pre>}
      </details>
    </li>
  );
}

export function Tasks() {
  const [filter, setFilter] = useState<TaskFilter>({});
  const [draft, setDraft] = useState<TaskFilter>({});
  const [projects, setProjects] = useState<string[]>([]);
  const [tasks, setTasks] = useState<Map<string, TaskDetail>>(new Map());
  const [tokens, setTokens] = useState<string[]>([]);
  const [next, setNext] = useState('');
  const [more, setMore] = useState(false);
  const [loaded, setLoaded] = useState(false);
  const [error, setError] = useState<string>();
  const [live, setLive] = useState(false);
  const view = useRef({ filter, firstPage: true });
  view.current = { filter, firstPage: tokens.length === 0 };

  const load = async (f: TaskFilter, token?: string) => {
    setError(undefined);
    try {
      const page = await listTaskPage(f, token);
      setProjects(page.projects);
      setTasks(new Map(page.tasks.map((t) => [t.taskId, t] as const)));
      setNext(page.nextToken);
      setMore(page.more === true);
      setLoaded(true);
    } catch (e) {
      setError(message(e));
    }
  };

  useEffect(() => {
    void load(filter);
    // Live progress: the server pushes every change (server-sent events), the page never polls.
    const es = new EventSource('/-/console/api/events');
    es.onopen = () => setLive(true);
    es.onerror = () => setLive(false);
    es.addEventListener('task', (e) => {
      const t = JSON.parse((e as MessageEvent<string>).data) as TaskDetail;
      setTasks((m) => {
        const old = m.get(t.taskId);
        // Shown tasks update in place; another appears only when it is new (newer than every task shown), the
        // page is the first and it matches the filters: the stream's first burst (every visible task) does
        // not overfill a page.
        if (old) return new Map(m).set(t.taskId, { ...old, ...t });
        const newest = [...m.values()].reduce((x, y) => (y.createdAt > x ? y.createdAt : x), '');
        if (!view.current.firstPage || !matches(t, view.current.filter) || t.createdAt <= newest) return m;
        return new Map(m).set(t.taskId, t);
      });
    });
    return () => es.close();
  }, []);

  const apply = (e: Event) => {
    e.preventDefault();
    setFilter(draft);
    setTokens([]);
    void load(draft);
  };
  const nextPage = () => {
    setTokens((t) => [...t, next]);
    void load(filter, next);
  };
  const firstPage = () => {
    setTokens([]);
    void load(filter);
  };
  const set = (patch: Partial<TaskFilter>) => setDraft((d) => ({ ...d, ...patch }));

  const list = [...tasks.values()].sort((a, b) => b.createdAt.localeCompare(a.createdAt));
  const filtered = Boolean(filter.project || filter.status || filter.from || filter.to);
  return (
    <section>
      <h2>
        Tasks <span class={live ? 'badge live' : 'badge'}>{live ? 'live' : 'offline'}</span>
      </h2>
      <form class="row filters" onSubmit={apply} aria-label="Task filters">
        <label>
          Project{' '}
          <select name="project" value={draft.project ?? ''} onChange={(e) => set({ project: e.currentTarget.value || undefined })}>
            <option value="">All projects</option>
            {projects.map((p) => (
              <option key={p} value={p}>
                {p}
              </option>
            ))}
          </select>
        </label>
        <label>
          Status{' '}
          <select name="status" value={draft.status ?? ''} onChange={(e) => set({ status: e.currentTarget.value || undefined })}>
            <option value="">Any</option>
            {STATUSES.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </label>
        <label>
          Accepted from <input type="datetime-local" name="from" value={draft.from ?? ''} onInput={(e) => set({ from: e.currentTarget.value || undefined })} />
        </label>
        <label>
          to <input type="datetime-local" name="to" value={draft.to ?? ''} onInput={(e) => set({ to: e.currentTarget.value || undefined })} />
        </label>
        <label>
          Per page{' '}
          <select name="max" value={String(draft.max ?? 20)} onChange={(e) => set({ max: Number(e.currentTarget.value) })}>
            {[5, 20, 50, 100].map((n) => (
              <option key={n} value={String(n)}>
                {n}
              </option>
            ))}
          </select>
        </label>
        <button type="submit">Apply filters</button>
      </form>
      <p class="muted note">
        Cancel: the IMM API (2020-09-30) has no operation that cancels or stops a media-convert task, so neither does Medley: a task runs until it is Succeeded or Failed.
      </p>
      <ErrorLine error={error} />
      {loaded && list.length === 0 ? (
        <p class="muted empty">{filtered ? 'No task matches these filters: widen the time range or choose another status or project.' : 'No tasks you may see yet: submit one from an object page (x-oss-async-process), from Compose, or with CreateMediaConvertTask.'}</p>
      ) : (
        <ul class="tasks">
          {list.map((t) => (
            <TaskCard key={t.taskId} t={t} />
          ))}
        </ul>
      )}
      <div class="row pager">
        {tokens.length > 0 && (
          <button class="small" onClick={firstPage}>
            First page
          </button>
        )}
        {next && (
          <button class="small next-page" onClick={nextPage}>
            Next page
          </button>
        )}
        {!filter.project && more && <span class="muted">More tasks exist: choose a project to page through them.</span>}
        {tokens.length > 0 && <span class="muted">Page {tokens.length + 1}</span>}
      </div>
    </section>
  );
}
