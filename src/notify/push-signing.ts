/**
 * Signing of MNS HTTP pushes (spec/oss.md §6.2). MNS signs every push with its RSA key and tells the
 * receiver where to fetch the X.509 certificate (`x-mns-signing-cert-url`, base64). Medley ships its own
 * key pair with a self-signed certificate, kept in the database (`loadOrCreateSharedPushSigningKeys`) so
 * every node on it signs alike. `loadOrCreatePushSigningKeys` is the older data-dir form
 * (`<dataDir>/mns-signing.pem`, mode 0600, and `mns-signing.crt`), read once to carry an existing pair over.
 *
 * StringToSign = "POST\n" + Content-MD5 + "\n" + Content-Type + "\n" + Date + "\n"
 *              + sorted("x-mns-<name>:<value>\n") + <request path>
 * Signature    = base64(RSA-SHA1 PKCS#1 v1.5 (StringToSign)), sent as the Authorization header.
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes, sign, verify, X509Certificate, type KeyObject } from 'node:crypto';
import { chmod, link, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Db } from '../db/connection.js';
import { headerValue, type HeaderRecord } from '../auth/canonical.js';
import { mnsStringToSign } from '../auth/mns-signature.js';

export const SIGNING_KEY_FILE = 'mns-signing.pem';
export const SIGNING_CERT_FILE = 'mns-signing.crt';

export interface PushSigningKeyPair {
  /** PKCS#8 PEM. */
  privateKeyPem: string;
  /** X.509 PEM: what the certificate URL must serve. */
  certificatePem: string;
}

export interface PushSigningKeys extends PushSigningKeyPair {
  keyFile: string;
  certFile: string;
}

export type PushHeaders = HeaderRecord;

/** The canonical string both sides sign/verify: the MNS request StringToSign. `path` is the request target (path and query). */
export function pushStringToSign(method: string, path: string, headers: PushHeaders): string {
  return mnsStringToSign(method, headers, path);
}

/** The Authorization header value: base64 RSA-SHA1 (PKCS#1 v1.5) over the StringToSign. */
export function signPush(method: string, path: string, headers: PushHeaders, privateKey: string | KeyObject): string {
  return sign('sha1', Buffer.from(pushStringToSign(method, path, headers), 'utf8'), privateKey).toString('base64');
}

/**
 * What a receiver does: checks `Authorization` against the StringToSign with the certificate's public
 * key. `headers` as Node's IncomingMessage gives them (any case); false on any mismatch or bad input.
 */
export function verifyPush(method: string, path: string, headers: PushHeaders, certificatePem: string | Buffer): boolean {
  const signature = headerValue(headers, 'authorization') ?? '';
  if (!signature) return false;
  try {
    const key = new X509Certificate(certificatePem).publicKey;
    return verify('sha1', Buffer.from(pushStringToSign(method, path, headers), 'utf8'), key, Buffer.from(signature, 'base64'));
  } catch {
    return false;
  }
}


function spkiDer(key: KeyObject): Buffer {
  return key.export({ type: 'spki', format: 'der' });
}

/**
 * A self-signed certificate for an existing key (selfsigned accepts a key pair in its synchronous form).
 * selfsigned (with node-forge, ~2 MB of heap) is loaded only here, when a key pair is new.
 */
async function certificateFor(privateKeyPem: string): Promise<string> {
  const { default: selfsigned } = await import('selfsigned');
  const publicKeyPem = createPublicKey(createPrivateKey(privateKeyPem)).export({ type: 'spki', format: 'pem' }).toString();
  const opts = { days: 3650, algorithm: 'sha256', keyPair: { privateKey: privateKeyPem, publicKey: publicKeyPem } };
  const generate = selfsigned.generate as (attrs: { name: string; value: string }[], o: typeof opts) => { cert: string };
  return generate(
    [
      { name: 'commonName', value: 'Medley MNS push signing' },
      { name: 'organizationName', value: 'Medley' },
    ],
    opts,
  ).cert;
}

function matches(privateKeyPem: string, certificatePem: string): boolean {
  try {
    return spkiDer(createPublicKey(createPrivateKey(privateKeyPem))).equals(spkiDer(new X509Certificate(certificatePem).publicKey));
  } catch {
    return false;
  }
}

async function readIfExists(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

/** Writes `file` whole or not at all (temp file + rename), with `mode`. */
async function writeAtomically(file: string, data: string, mode: number): Promise<void> {
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  await writeFile(tmp, data, { mode, flag: 'wx' });
  await rename(tmp, file);
}

/**
 * Loads the signing key and certificate from `dataDir`, creating them on first start. Safe when several
 * processes start at once: the key is published with link(2), which fails if another process got there
 * first (then its key is used). A missing or mismatched certificate is regenerated from the key.
 */
export async function loadOrCreatePushSigningKeys(dataDir: string): Promise<PushSigningKeys> {
  const keyFile = join(dataDir, SIGNING_KEY_FILE);
  const certFile = join(dataDir, SIGNING_CERT_FILE);
  let privateKeyPem = await readIfExists(keyFile);
  if (privateKeyPem === undefined) {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const tmp = `${keyFile}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
    await writeFile(tmp, pem, { mode: 0o600, flag: 'wx' });
    try {
      await link(tmp, keyFile);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    } finally {
      await unlink(tmp);
    }
    privateKeyPem = await readFile(keyFile, 'utf8');
  }
  // An older or hand-made file may be more open than it should be.
  await chmod(keyFile, 0o600);
  let certificatePem = await readIfExists(certFile);
  if (certificatePem === undefined || !matches(privateKeyPem, certificatePem)) {
    certificatePem = await certificateFor(privateKeyPem);
    await writeAtomically(certFile, certificatePem, 0o644);
  }
  return { privateKeyPem, certificatePem, keyFile, certFile };
}

/** The id of the one row in `push_signing_keys`. */
const SHARED_KEY_ROW = 'default';

async function readSharedKeys(db: Db): Promise<PushSigningKeyPair | undefined> {
  const row = await db.selectFrom('push_signing_keys').select(['private_key_pem', 'certificate_pem']).where('id', '=', SHARED_KEY_ROW).executeTakeFirst();
  return row && { privateKeyPem: row.private_key_pem, certificatePem: row.certificate_pem };
}

/**
 * The signing key pair every node shares, kept in the database: nodes with their own data directories
 * then sign pushes alike and serve one certificate. Created once, race-safe (insert … on conflict do
 * nothing, then read what won). On the first start after an upgrade, an existing `<dataDir>/mns-signing.pem`
 * (with its certificate when it matches) becomes the shared pair, so receivers that pinned the
 * certificate keep verifying; otherwise a new pair is generated. The data-dir files are left as they are.
 */
export async function loadOrCreateSharedPushSigningKeys(db: Db, dataDir: string): Promise<PushSigningKeyPair> {
  const stored = await readSharedKeys(db);
  if (stored) return stored;
  const legacyKey = await readIfExists(join(dataDir, SIGNING_KEY_FILE));
  let privateKeyPem: string;
  let certificatePem: string | undefined;
  if (legacyKey !== undefined) {
    privateKeyPem = legacyKey;
    const legacyCert = await readIfExists(join(dataDir, SIGNING_CERT_FILE));
    if (legacyCert !== undefined && matches(privateKeyPem, legacyCert)) certificatePem = legacyCert;
  } else {
    privateKeyPem = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  }
  certificatePem ??= await certificateFor(privateKeyPem);
  await db
    .insertInto('push_signing_keys')
    .values({ id: SHARED_KEY_ROW, private_key_pem: privateKeyPem, certificate_pem: certificatePem, created_at: Date.now() })
    .onConflict((oc) => oc.column('id').doNothing())
    .execute();
  const won = await readSharedKeys(db);
  if (!won) throw new Error('the shared MNS push signing key could not be stored');
  return won;
}
