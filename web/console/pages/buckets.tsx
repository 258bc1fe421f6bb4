/** The bucket list: create (with an ACL) and delete buckets. */
import { useEffect, useState } from 'preact/hooks';
import * as api from '../api.js';
import type { SessionInfo } from '../api.js';
import { href } from '../routes.js';
import { BUCKET_ACLS, createBucketWithAcl, type BucketAcl } from '../admin.js';
import { ErrorLine, message } from '../ui.js';

export function Buckets({ session }: { session: SessionInfo }) {
  const [buckets, setBuckets] = useState<string[]>();
  const [name, setName] = useState('');
  const [acl, setAclChoice] = useState<BucketAcl>('private');
  const [error, setError] = useState<string>();
  const load = () => api.listBuckets(session).then(setBuckets, (e) => setError(message(e)));
  useEffect(() => void load(), []);
  const create = async (e: Event) => {
    e.preventDefault();
    setError(undefined);
    try {
      await createBucketWithAcl(name.trim(), acl);
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
          <label>
            New bucket name{' '}
            <input name="bucket" placeholder="new-bucket-name" value={name} onInput={(e) => setName(e.currentTarget.value)} required />
          </label>
          <label>
            ACL{' '}
            <select name="bucket-acl" value={acl} onChange={(e) => setAclChoice(e.currentTarget.value as BucketAcl)}>
              {BUCKET_ACLS.map((a) => (
                <option key={a} value={a}>
                  {a}
                </option>
              ))}
            </select>
          </label>
          <button type="submit">Create bucket</button>
        </form>
      ) : (
        <p class="muted">This key is scoped: it sees the buckets it has grants on.</p>
      )}
      <ErrorLine error={error} />
      {buckets === undefined ? (
        <p class="muted">Loading…</p>
      ) : buckets.length === 0 ? (
        <p class="muted empty">{session.root ? 'No buckets yet: create one above (3-63 lowercase letters, digits and hyphens), then open it to upload files.' : 'This key has no bucket grants: ask the account owner to grant one (medley keys add --bucket <name>=read-write).'}</p>
      ) : (
        <table class="list">
          <thead>
            <tr>
              <th>Name</th>
              <th>Access</th>
              <th>
                <span class="sr-only">Actions</span>
              </th>
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
                <td class="actions">
                  {session.root && (
                    <button class="danger small" aria-label={`Delete bucket ${b}`} onClick={() => remove(b)}>
                      Delete
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
