/**
 * A test certificate authority and server certificates it signs, made with the `openssl` CLI (node:crypto
 * cannot sign certificates): EC P-256 keys, SANs 127.0.0.1, localhost and tls-bucket.localhost (a virtual-hosted bucket: node refuses a wildcard under a single-label name), a chosen serial and lifetime.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface TestCa {
  dir: string;
  certFile: string;
  keyFile: string;
  pem: Buffer;
}

export interface ServerPair {
  certFile: string;
  keyFile: string;
  /** Leaf certificate then the CA certificate (a chain, as MEDLEY_TLS_CERT allows). */
  certPem: Buffer;
  keyPem: Buffer;
}

function openssl(args: string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

export function makeCa(dir: string, name = 'Medley Test CA'): TestCa {
  const certFile = join(dir, `${name.replace(/\W+/g, '-')}.pem`);
  const keyFile = join(dir, `${name.replace(/\W+/g, '-')}.key`);
  openssl(
    ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', keyFile, '-out', certFile, '-days', '30', '-subj', `/CN=${name}`,
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'],
    dir,
  );
  return { dir, certFile, keyFile, pem: readFileSync(certFile) };
}

/** A server certificate signed by `ca`, written to `<name>.pem` / `<name>.key` in the CA's directory. */
export function makeServerPair(ca: TestCa, opts: { name: string; serial: number; days: number; cn?: string }): ServerPair {
  const { dir } = ca;
  const keyFile = join(dir, `${opts.name}.key`);
  const csr = join(dir, `${opts.name}.csr`);
  const leaf = join(dir, `${opts.name}.leaf.pem`);
  const ext = join(dir, `${opts.name}.ext`);
  writeFileSync(ext, 'subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:tls-bucket.localhost\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n');
  openssl(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', keyFile, '-out', csr, '-subj', `/CN=${opts.cn ?? 'localhost'}`], dir);
  openssl(['x509', '-req', '-in', csr, '-CA', ca.certFile, '-CAkey', ca.keyFile, '-set_serial', String(opts.serial), '-days', String(opts.days), '-extfile', ext, '-out', leaf], dir);
  const certPem = Buffer.concat([readFileSync(leaf), ca.pem]);
  const certFile = join(dir, `${opts.name}.pem`);
  writeFileSync(certFile, certPem);
  return { certFile, keyFile, certPem, keyPem: readFileSync(keyFile) };
}

/** Puts a pair in place the way certificate tools do: each file written aside, then renamed over the old one. */
export function installPair(pair: { certPem: Buffer | string; keyPem: Buffer | string }, certFile: string, keyFile: string): void {
  writeFileSync(`${certFile}.new`, pair.certPem);
  writeFileSync(`${keyFile}.new`, pair.keyPem);
  renameSync(`${keyFile}.new`, keyFile);
  renameSync(`${certFile}.new`, certFile);
}
