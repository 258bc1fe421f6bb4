/** The IMM task list with live progress over server-sent events. */
import { useEffect, useState } from 'preact/hooks';
import * as api from '../api.js';
import type { TaskView } from '../api.js';
import { href } from '../routes.js';
import { ErrorLine, message } from '../ui.js';

export function Tasks() {
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
