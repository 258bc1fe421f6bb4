/**
 * Notifications (MNS): topics and their subscriptions, queues (peek without receiving), and the HTTP push
 * deliveries with their attempts and failures. The message service belongs to the account: a key scoped to
 * buckets gets the MNS dialect's own AccessDenied, shown as it comes.
 */
import { useEffect, useState } from 'preact/hooks';
import type { SessionInfo } from '../api.js';
import { ErrorLine, message } from '../ui.js';
import { mns, type PeekedMessage, type PushDelivery, type Queue, type Topic } from '../admin.js';

const FORMATS = ['XML', 'JSON', 'SIMPLIFIED'];
const when = (ms: number) => (ms ? new Date(ms).toLocaleString() : '—');

function Topics({ onChange }: { onChange: () => void }) {
  const [topics, setTopics] = useState<Topic[]>();
  const [name, setName] = useState('');
  const [error, setError] = useState<string>();
  const [note, setNote] = useState<string>();
  const load = () => mns.topics().then((r) => setTopics(r.topics), (e) => setError(message(e)));
  useEffect(() => void load(), []);
  const act = async (what: () => Promise<unknown>, done?: string) => {
    setError(undefined);
    setNote(undefined);
    try {
      await what();
      if (done) setNote(done);
      await load();
      onChange();
    } catch (e) {
      setError(message(e));
    }
  };
  return (
    <section class="mns-topics" aria-labelledby="topics-heading">
      <h3 id="topics-heading">Topics</h3>
      <form
        class="row"
        onSubmit={(e) => {
          e.preventDefault();
          void act(() => mns.createTopic(name.trim()), `Topic ${name.trim()} created.`).then(() => setName(''));
        }}
      >
        <label>
          New topic name <input name="topic-name" value={name} onInput={(e) => setName(e.currentTarget.value)} required pattern="[A-Za-z0-9][A-Za-z0-9\-]*" />
        </label>
        <button type="submit">Create topic</button>
      </form>
      {note && (
        <p class="muted" role="status">
          {note}
        </p>
      )}
      <ErrorLine error={error} />
      {topics === undefined ? (
        !error && <p class="muted">Loading…</p>
      ) : topics.length === 0 ? (
        <p class="muted empty">No topics yet: create one, then subscribe a queue or an http(s) URL to it. Tasks name a topic in their Notification to publish when they end.</p>
      ) : (
        <ul class="mns-list">
          {topics.map((t) => (
            <TopicCard key={t.name} topic={t} act={act} />
          ))}
        </ul>
      )}
    </section>
  );
}

function TopicCard({ topic, act }: { topic: Topic; act: (what: () => Promise<unknown>, done?: string) => Promise<void> }) {
  const [sub, setSub] = useState('');
  const [endpoint, setEndpoint] = useState('');
  const [format, setFormat] = useState('XML');
  const [body, setBody] = useState('');
  const id = `topic-${topic.name}`;
  return (
    <li class="card wide mns-topic" data-topic={topic.name}>
      <div class="row">
        <h4 id={id}>{topic.name}</h4>
        <span class="muted">{topic.messageCount} undelivered push messages · created {when(topic.createdAt)}</span>
        <button
          class="danger small"
          aria-label={`Delete topic ${topic.name}`}
          onClick={() => {
            if (confirm(`Delete topic ${topic.name} and its subscriptions?`)) void act(() => mns.deleteTopic(topic.name), `Topic ${topic.name} deleted.`);
          }}
        >
          Delete
        </button>
      </div>
      {topic.subscriptions.length === 0 ? (
        <p class="muted empty">No subscriptions: subscribe a queue (its name) or an http(s) URL below.</p>
      ) : (
        <table class="list subscriptions" aria-labelledby={id}>
          <thead>
            <tr>
              <th>Subscription</th>
              <th>Endpoint</th>
              <th>Format</th>
              <th>
                <span class="sr-only">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {topic.subscriptions.map((s) => (
              <tr key={s.name}>
                <td>{s.name}</td>
                <td>{s.endpoint}</td>
                <td>{s.notifyContentFormat}</td>
                <td class="actions">
                  <button class="danger small" aria-label={`Unsubscribe ${s.name}`} onClick={() => void act(() => mns.unsubscribe(topic.name, s.name), `Unsubscribed ${s.name}.`)}>
                    Unsubscribe
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <form
        class="row subscribe"
        onSubmit={(e) => {
          e.preventDefault();
          void act(() => mns.subscribe(topic.name, sub.trim(), endpoint.trim(), format), `Subscribed ${sub.trim()}.`).then(() => {
            setSub('');
            setEndpoint('');
          });
        }}
      >
        <label>
          Subscription name <input name="subscription-name" value={sub} onInput={(e) => setSub(e.currentTarget.value)} required />
        </label>
        <label>
          Queue name or URL <input name="endpoint" placeholder="my-queue or https://…" value={endpoint} onInput={(e) => setEndpoint(e.currentTarget.value)} required />
        </label>
        <label>
          Format{' '}
          <select name="format" value={format} onChange={(e) => setFormat(e.currentTarget.value)}>
            {FORMATS.map((f) => (
              <option key={f}>{f}</option>
            ))}
          </select>
        </label>
        <button type="submit">Subscribe</button>
      </form>
      <form
        class="row publish"
        onSubmit={(e) => {
          e.preventDefault();
          void act(() => mns.publish(topic.name, body), 'Published.').then(() => setBody(''));
        }}
      >
        <label>
          Test message <input name="message-body" value={body} onInput={(e) => setBody(e.currentTarget.value)} required />
        </label>
        <button type="submit">Publish</button>
      </form>
    </li>
  );
}

function Queues({ version }: { version: number }) {
  const [queues, setQueues] = useState<Queue[]>();
  const [name, setName] = useState('');
  const [peeked, setPeeked] = useState<{ queue: string; messages: PeekedMessage[] }>();
  const [error, setError] = useState<string>();
  const load = () => mns.queues().then((r) => setQueues(r.queues), (e) => setError(message(e)));
  useEffect(() => void load(), [version]);
  const act = async (what: () => Promise<unknown>) => {
    setError(undefined);
    try {
      await what();
      await load();
    } catch (e) {
      setError(message(e));
    }
  };
  const peek = async (queue: string) => {
    setError(undefined);
    try {
      setPeeked({ queue, messages: (await mns.peek(queue)).messages });
    } catch (e) {
      setError(message(e));
    }
  };
  return (
    <section class="mns-queues" aria-labelledby="queues-heading">
      <h3 id="queues-heading">Queues</h3>
      <form
        class="row"
        onSubmit={(e) => {
          e.preventDefault();
          void act(() => mns.createQueue(name.trim())).then(() => setName(''));
        }}
      >
        <label>
          New queue name <input name="queue-name" value={name} onInput={(e) => setName(e.currentTarget.value)} required />
        </label>
        <button type="submit">Create queue</button>
      </form>
      <ErrorLine error={error} />
      {queues === undefined ? (
        !error && <p class="muted">Loading…</p>
      ) : queues.length === 0 ? (
        <p class="muted empty">No queues yet: create one, then subscribe it to a topic (or send to it with an MNS SDK).</p>
      ) : (
        <table class="list queues">
          <thead>
            <tr>
              <th>Queue</th>
              <th>Active</th>
              <th>In flight</th>
              <th>Delayed</th>
              <th>
                <span class="sr-only">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {queues.map((q) => (
              <tr key={q.name} data-queue={q.name}>
                <td>{q.name}</td>
                <td>{q.activeMessages ?? 0}</td>
                <td>{q.inactiveMessages ?? 0}</td>
                <td>{q.delayMessages ?? 0}</td>
                <td class="actions">
                  <button class="small peek" aria-label={`Peek messages of ${q.name}`} onClick={() => void peek(q.name)}>
                    Peek
                  </button>{' '}
                  <button
                    class="danger small"
                    aria-label={`Delete queue ${q.name}`}
                    onClick={() => {
                      if (confirm(`Delete queue ${q.name} and its messages?`)) void act(() => mns.deleteQueue(q.name));
                    }}
                  >
                    Delete
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {peeked && (
        <div class="peeked" aria-live="polite">
          <h4>
            Messages in {peeked.queue} (peeked: not received, nothing changes)
          </h4>
          {peeked.messages.length === 0 ? (
            <p class="muted empty">No visible messages in {peeked.queue}: publish to a topic it subscribes to, or send one.</p>
          ) : (
            <ul class="messages">
              {peeked.messages.map((m) => (
                <li key={m.messageId}>
                  <code>{m.messageId}</code> <span class="muted">enqueued {when(m.enqueueTime)} · received {m.dequeueCount}×</span>
                  <pre class="info message-body" tabIndex={0} aria-label="Message body">{m.body}</pre>
                </li>
              ))}
            </ul>
          )}
        </div>
      )}
    </section>
  );
}

function Pushes({ version }: { version: number }) {
  const [state, setState] = useState('');
  const [pages, setPages] = useState<PushDelivery[][]>([]);
  const [next, setNext] = useState<number>();
  const [error, setError] = useState<string>();
  const [loaded, setLoaded] = useState(false);
  const load = async (before?: number) => {
    setError(undefined);
    try {
      const r = await mns.pushes(state || undefined, before);
      setPages((p) => (before === undefined ? [r.items] : [...p, r.items]));
      setNext(r.next);
      setLoaded(true);
    } catch (e) {
      setError(message(e));
    }
  };
  useEffect(() => void load(), [state, version]);
  const rows = pages.flat();
  return (
    <section class="mns-pushes" aria-labelledby="pushes-heading">
      <h3 id="pushes-heading">Push deliveries (HTTP subscriptions)</h3>
      <div class="row">
        <label>
          State{' '}
          <select name="push-state" value={state} onChange={(e) => setState(e.currentTarget.value)}>
            <option value="">Any</option>
            <option value="pending">pending (retrying)</option>
            <option value="delivered">delivered</option>
            <option value="failed">failed (gave up)</option>
          </select>
        </label>
        <button class="small" onClick={() => void load()}>
          Refresh
        </button>
      </div>
      <ErrorLine error={error} />
      {loaded && rows.length === 0 ? (
        <p class="muted empty">No push deliveries{state ? ` in state ${state}` : ''}: they appear when a topic with an http(s) subscription gets a message.</p>
      ) : (
        rows.length > 0 && (
          <table class="list pushes">
            <thead>
              <tr>
                <th>Published</th>
                <th>Topic / subscription</th>
                <th>Endpoint</th>
                <th>State</th>
                <th>Attempts</th>
                <th>Last error</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((p) => (
                <tr key={p.id} class={`push ${p.state}`}>
                  <td>{when(p.publishedAt)}</td>
                  <td>
                    {p.topic} / {p.subscription}
                  </td>
                  <td>{p.endpoint}</td>
                  <td>
                    {p.state}
                    {p.state === 'pending' && p.attempts > 0 && <span class="muted"> (next try {when(p.nextAttemptAt)})</span>}
                  </td>
                  <td>{p.attempts}</td>
                  <td class={p.lastError ? 'error' : ''}>{p.lastError || '—'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )
      )}
      {next !== undefined && (
        <button class="more" onClick={() => void load(next)}>
          Older deliveries
        </button>
      )}
    </section>
  );
}

export function Notifications({ session }: { session: SessionInfo }) {
  const [version, setVersion] = useState(0);
  return (
    <section class="notifications">
      <h2>Notifications</h2>
      {!session.root && <p class="muted">The message service belongs to the account: a key scoped to buckets is refused (the MNS API refuses it the same way).</p>}
      <Topics onChange={() => setVersion((v) => v + 1)} />
      <Queues version={version} />
      <Pushes version={version} />
    </section>
  );
}
