/** The Medley web console (Preact): the frame (navigation, session) and the page for the current route. */
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import * as api from './api.js';
import type { SessionInfo } from './api.js';
import { useRoute } from './routes.js';
import { SignIn } from './pages/sign-in.js';
import { Buckets } from './pages/buckets.js';
import { Bucket } from './pages/bucket.js';
import { ObjectPage } from './pages/object.js';
import { Tasks } from './pages/tasks.js';
import { Compose } from './pages/compose.js';
import { Notifications } from './pages/notifications.js';

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
          <a href="#/notifications" class={route.page === 'notifications' ? 'active' : ''}>
            Notifications
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
        {route.page === 'notifications' && <Notifications session={session} />}
      </main>
    </>
  );
}

render(<App />, document.getElementById('app')!);
