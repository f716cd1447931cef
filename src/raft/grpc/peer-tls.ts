/**
 * Mutual TLS for the cluster gRPC port (Raft streams and request forwarding). Every
 * member holds a certificate signed by the cluster CA; the server demands a client
 * certificate and verifies it against that CA (`checkClientCertificate`), and the client
 * verifies the server the same way. A stranger without a CA-signed certificate fails
 * the TLS handshake, so it never reaches the Raft stream handler: it can neither vote
 * nor append. Without PeerTls the port is plaintext (single host, tests, trusted
 * networks) — the composition root logs that.
 */
import { readFileSync } from 'node:fs';
import * as grpc from '@grpc/grpc-js';

/** PEM bytes of the cluster CA and this member's certificate and key. */
export interface PeerTls {
  readonly caPem: Buffer;
  readonly certPem: Buffer;
  readonly keyPem: Buffer;
}

/** Reads the three PEM files (paths from config); a missing file fails the start. */
export function loadPeerTls(files: { readonly caFile: string; readonly certFile: string; readonly keyFile: string }): PeerTls {
  return { caPem: readFileSync(files.caFile), certPem: readFileSync(files.certFile), keyPem: readFileSync(files.keyFile) };
}

export function serverCredentials(tls: PeerTls | undefined): grpc.ServerCredentials {
  if (tls === undefined) return grpc.ServerCredentials.createInsecure();
  return grpc.ServerCredentials.createSsl(tls.caPem, [{ private_key: tls.keyPem, cert_chain: tls.certPem }], true);
}

export function channelCredentials(tls: PeerTls | undefined): grpc.ChannelCredentials {
  if (tls === undefined) return grpc.credentials.createInsecure();
  return grpc.credentials.createSsl(tls.caPem, tls.keyPem, tls.certPem);
}
