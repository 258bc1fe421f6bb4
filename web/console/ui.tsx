/** Small shared pieces of the console's pages: byte sizes, error text, the error line. */
import * as api from './api.js';

export const size = (n: number) => (n < 1024 ? `${n} B` : n < 1048576 ? `${(n / 1024).toFixed(1)} KiB` : n < 1073741824 ? `${(n / 1048576).toFixed(1)} MiB` : `${(n / 1073741824).toFixed(2)} GiB`);
export const message = (e: unknown) => (e instanceof api.ApiError ? `${e.code}: ${e.message}` : String(e));

export function ErrorLine({ error }: { error?: string }) {
  return error ? (
    <p class="error" role="alert">
      {error}
    </p>
  ) : null;
}
