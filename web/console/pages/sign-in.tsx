/** Sign in with an AccessKey pair: the server checks it and sets the session cookie. */
import { useState } from 'preact/hooks';
import * as api from '../api.js';
import type { SessionInfo } from '../api.js';
import { ErrorLine, message } from '../ui.js';

export function SignIn({ onSignedIn }: { onSignedIn: (s: SessionInfo) => void }) {
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
