/** One object's ACL and a presigned URL with a chosen expiry (signed on the server; the secret stays there). */
import { useEffect, useState } from 'preact/hooks';
import { ErrorLine, message } from '../ui.js';
import { getAcl, MAX_PRESIGN_SECONDS, OBJECT_ACLS, presign, setAcl, type ObjectAcl, type Presigned } from '../admin.js';

const UNITS = [
  ['seconds', 1],
  ['minutes', 60],
  ['hours', 3600],
  ['days', 86400],
] as const;

export function SharePanel({ bucket, objectKey, onClose }: { bucket: string; objectKey: string; onClose: () => void }) {
  const [acl, setAclValue] = useState<string>();
  const [aclNote, setAclNote] = useState<string>();
  const [amount, setAmount] = useState('1');
  const [unit, setUnit] = useState<number>(3600);
  const [version, setVersion] = useState<'v4' | 'v1'>('v4');
  const [link, setLink] = useState<Presigned>();
  const [copied, setCopied] = useState(false);
  const [error, setError] = useState<string>();

  useEffect(() => {
    getAcl(bucket, objectKey).then(setAclValue, (e) => setError(message(e)));
  }, [bucket, objectKey]);

  const changeAcl = async (value: ObjectAcl) => {
    setError(undefined);
    setAclNote(undefined);
    try {
      await setAcl(value, bucket, objectKey);
      setAclValue(value);
      setAclNote(`Object ACL is now ${value}.`);
    } catch (e) {
      setError(message(e));
    }
  };

  const seconds = Math.round(Number(amount) * unit);
  const valid = Number.isFinite(seconds) && seconds >= 1 && seconds <= MAX_PRESIGN_SECONDS;
  const sign = async (e: Event) => {
    e.preventDefault();
    setError(undefined);
    setCopied(false);
    try {
      setLink(await presign(bucket, objectKey, seconds, version));
    } catch (err) {
      setError(message(err));
    }
  };
  const copy = async () => {
    if (!link) return;
    try {
      await navigator.clipboard.writeText(link.url);
      setCopied(true);
    } catch {
      // No clipboard permission (an insecure origin, a headless browser): the field is selected instead.
      (document.getElementById('presigned-url') as HTMLInputElement | null)?.select();
    }
  };

  return (
    <section class="share card wide" aria-label={`Share ${objectKey}`}>
      <div class="row">
        <h3>{objectKey}</h3>
        <button class="small" onClick={onClose}>
          Close
        </button>
      </div>
      <div class="row">
        <label>
          Object ACL{' '}
          <select name="object-acl" value={acl ?? ''} disabled={acl === undefined} onChange={(e) => void changeAcl(e.currentTarget.value as ObjectAcl)}>
            {acl === undefined && <option value="">…</option>}
            {OBJECT_ACLS.map((a) => (
              <option key={a} value={a}>
                {a === 'default' ? 'default (the bucket’s)' : a}
              </option>
            ))}
          </select>
        </label>
        {aclNote && (
          <span class="muted" role="status">
            {aclNote}
          </span>
        )}
      </div>
      <form class="row" onSubmit={sign}>
        <label>
          Link valid for{' '}
          <input class="num" name="expires" type="number" min="1" step="any" value={amount} onInput={(e) => setAmount(e.currentTarget.value)} required />
        </label>
        <label>
          <span class="sr-only">Unit</span>
          <select name="expires-unit" value={String(unit)} onChange={(e) => setUnit(Number(e.currentTarget.value))}>
            {UNITS.map(([name, s]) => (
              <option key={name} value={String(s)}>
                {name}
              </option>
            ))}
          </select>
        </label>
        <label>
          Signature{' '}
          <select name="signature-version" value={version} onChange={(e) => setVersion(e.currentTarget.value as 'v4' | 'v1')}>
            <option value="v4">V4 (OSS4-HMAC-SHA256)</option>
            <option value="v1">V1 (HMAC-SHA1)</option>
          </select>
        </label>
        <button type="submit" disabled={!valid}>
          Create presigned URL
        </button>
        {!valid && <span class="error">The expiry must be from 1 second to 7 days.</span>}
      </form>
      {link && (
        <div class="row">
          <label class="grow">
            Presigned URL (GET, until {new Date(link.expiresAt).toLocaleString()})
            <input id="presigned-url" name="presigned-url" readOnly value={link.url} onFocus={(e) => e.currentTarget.select()} />
          </label>
          <button type="button" onClick={() => void copy()}>
            {copied ? 'Copied' : 'Copy'}
          </button>
        </div>
      )}
      <ErrorLine error={error} />
    </section>
  );
}
