/** Hash routes of the console: #/buckets, #/b/<bucket>/<prefix>, #/o/<bucket>/<key>, #/tasks, #/compose, #/notifications. */
import { useEffect, useState } from 'preact/hooks';

export type Route = { page: 'buckets' } | { page: 'bucket'; bucket: string; prefix: string } | { page: 'object'; bucket: string; key: string } | { page: 'tasks' } | { page: 'notifications' } | { page: 'compose'; bucket?: string };

function parseRoute(hash: string): Route {
  const parts = hash.replace(/^#\/?/, '').split('/');
  const [head, b, ...rest] = parts;
  const dec = (s: string) => decodeURIComponent(s);
  if (head === 'b' && b) return { page: 'bucket', bucket: dec(b), prefix: rest.map(dec).join('/') };
  if (head === 'o' && b) return { page: 'object', bucket: dec(b), key: rest.map(dec).join('/') };
  if (head === 'tasks') return { page: 'tasks' };
  if (head === 'notifications') return { page: 'notifications' };
  if (head === 'compose') return { page: 'compose', bucket: b ? dec(b) : undefined };
  return { page: 'buckets' };
}

const encPath = (s: string) => s.split('/').map(encodeURIComponent).join('/');
export const href = {
  bucket: (b: string, prefix = '') => `#/b/${encodeURIComponent(b)}/${encPath(prefix)}`,
  object: (b: string, k: string) => `#/o/${encodeURIComponent(b)}/${encPath(k)}`,
};

export function useRoute(): Route {
  const [r, setR] = useState(parseRoute(location.hash));
  useEffect(() => {
    const on = () => setR(parseRoute(location.hash));
    addEventListener('hashchange', on);
    return () => removeEventListener('hashchange', on);
  }, []);
  return r;
}
