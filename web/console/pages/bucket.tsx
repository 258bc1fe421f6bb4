/**
 * One bucket: browse by prefix with paging (ListObjectsV2 pages of 100: a 100k-object bucket is never listed
 * whole), resumable uploads, delete, the bucket's ACL, and per object its ACL and a presigned URL.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import * as api from '../api.js';
import type { Listing } from '../api.js';
import { href } from '../routes.js';
import { ErrorLine, message, size } from '../ui.js';
import { BUCKET_ACLS, getAcl, hasPending, setAcl, uploadFile, type BucketAcl } from '../admin.js';
import { SharePanel } from './share.js';

interface UploadState {
  name: string;
  loaded: number;
  total: number;
  error?: string;
  done?: boolean;
  /** Parts already on the server when it continued. */
  resumed?: number;
  /** Kept for "Resume" after a dropped connection. */
  file?: File;
}

/** The bucket's ACL: shown to whoever may read it, changed by the account key (PutBucketAcl is the owner's). */
function BucketAclControl({ bucket }: { bucket: string }) {
  const [acl, setAclValue] = useState<string>();
  const [note, setNote] = useState<string>();
  const [error, setError] = useState<string>();
  useEffect(() => {
    getAcl(bucket).then(setAclValue, (e) => setError(message(e)));
  }, [bucket]);
  const change = async (value: BucketAcl) => {
    setError(undefined);
    setNote(undefined);
    try {
      await setAcl(value, bucket);
      setAclValue(value);
      setNote(`Bucket ACL is now ${value}.`);
    } catch (e) {
      setError(message(e));
    }
  };
  return (
    <div class="row acl">
      <label>
        Bucket ACL{' '}
        <select name="bucket-acl" value={acl ?? ''} disabled={acl === undefined} onChange={(e) => void change(e.currentTarget.value as BucketAcl)}>
          {acl === undefined && <option value="">…</option>}
          {BUCKET_ACLS.map((a) => (
            <option key={a} value={a}>
              {a}
            </option>
          ))}
        </select>
      </label>
      {note && (
        <span class="muted" role="status">
          {note}
        </span>
      )}
      <ErrorLine error={error} />
    </div>
  );
}

export function Bucket({ bucket, prefix }: { bucket: string; prefix: string }) {
  const [pages, setPages] = useState<Listing[]>([]);
  const [error, setError] = useState<string>();
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [uploads, setUploads] = useState<UploadState[]>([]);
  const [drag, setDrag] = useState(false);
  const [share, setShare] = useState<string>();
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
    setShare(undefined);
    void load();
  }, [bucket, prefix]);

  const send = async (files: File[], at?: number) => {
    const start = at ?? uploads.length;
    if (at === undefined) setUploads((u) => [...u, ...files.map((f) => ({ name: f.name, loaded: 0, total: f.size, file: f }))]);
    const update = (i: number, patch: Partial<UploadState>) => setUploads((u) => u.map((x, j) => (j === start + i ? { ...x, ...patch } : x)));
    // Three at a time: many files without opening a connection per file at once.
    let next = 0;
    const worker = async () => {
      while (next < files.length) {
        const i = next++;
        const f = files[i]!;
        update(i, { error: undefined });
        try {
          await uploadFile(bucket, prefix + f.name, f, (p) => update(i, { loaded: p.loaded, total: p.total, resumed: p.resumedParts }));
          update(i, { done: true, loaded: f.size, file: undefined });
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
      <BucketAclControl bucket={bucket} />
      <div class="row">
        <button onClick={() => fileInput.current?.click()}>Upload files</button>
        <input
          ref={fileInput}
          type="file"
          multiple
          class="hidden"
          name="files"
          aria-label="Files to upload"
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
              <span>
                {u.name}
                {u.resumed ? <span class="muted resumed"> (resumed: {u.resumed} parts were already there)</span> : null}
              </span>
              <progress max={u.total || 1} value={u.loaded} aria-label={`upload of ${u.name}`} />
              <span class="muted" role={u.error ? 'alert' : undefined}>
                {u.error ?? (u.done ? 'uploaded' : `${Math.round((100 * u.loaded) / (u.total || 1))} %`)}
              </span>
              {u.error && u.file && hasPending(bucket, prefix + u.file.name, u.file) && (
                <button class="small resume" onClick={() => void send([u.file!], i)}>
                  Resume {u.name}
                </button>
              )}
            </li>
          ))}
        </ul>
      )}
      <ErrorLine error={error} />
      <table class="list objects">
        <thead>
          <tr>
            <th>
              <span class="sr-only">Select</span>
            </th>
            <th>Name</th>
            <th>Size</th>
            <th>Last modified</th>
            <th>
              <span class="sr-only">Actions</span>
            </th>
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
              <td class="actions">
                <button class="small share" aria-expanded={share === o.key} aria-label={`ACL / link: ${o.key}`} onClick={() => setShare(share === o.key ? undefined : o.key)}>
                  ACL / link
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {share !== undefined && <SharePanel bucket={bucket} objectKey={share} key={share} onClose={() => setShare(undefined)} />}
      {pages.length > 0 && prefixes.length === 0 && objects.length === 0 && <p class="muted">This folder is empty. Upload files with the button above or drop them here.</p>}
      {next && (
        <button class="more" onClick={() => load(next)}>
          Load the next {100} entries
        </button>
      )}
    </section>
  );
}
