/**
 * Throw-away certificates for the TLS suites, made with the openssl CLI in a temp
 * directory: a CA and leaf certificates it signs (SAN IP:127.0.0.1 and localhost, so
 * they serve as both server and client certificates). EC P-256 keys keep it fast.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface LeafFiles {
  readonly certFile: string;
  readonly keyFile: string;
}

export class TestCertificates {
  readonly dir: string;

  constructor() {
    this.dir = mkdtempSync(join(tmpdir(), 'zaqar-certs-'));
    writeFileSync(join(this.dir, 'leaf.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  }

  /** A self-signed CA named `name`; returns its certificate file. */
  ca(name: string): string {
    const key = join(this.dir, `${name}.key`);
    const cert = join(this.dir, `${name}.crt`);
    openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', key,
      '-out', cert, '-days', '2', '-subj', `/CN=${name}`]);
    return cert;
  }

  /** A leaf `name` signed by the CA `caName` (made with `ca` first). */
  leaf(name: string, caName: string): LeafFiles {
    const keyFile = join(this.dir, `${name}.key`);
    const csr = join(this.dir, `${name}.csr`);
    const certFile = join(this.dir, `${name}.crt`);
    openssl(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', keyFile, '-out', csr,
      '-subj', `/CN=${name}`]);
    openssl(['x509', '-req', '-in', csr, '-CA', join(this.dir, `${caName}.crt`), '-CAkey', join(this.dir, `${caName}.key`),
      '-CAcreateserial', '-out', certFile, '-days', '2', '-extfile', join(this.dir, 'leaf.ext')]);
    return { certFile, keyFile };
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

function openssl(args: string[]): void {
  execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}
