/**
 * TLS on the client port against the real server process, with openssl-made
 * certificates: HTTPS and WSS (path `/`) work for a client trusting the server's CA and
 * plaintext HTTP gets no answer; with `tls.ca_file` a client certificate signed by
 * another CA is refused at the handshake, so it never reaches the API. uWS cannot make
 * a client certificate mandatory: a client presenting none is served (pinned below).
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { request } from 'node:https';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import WebSocket from 'ws';
import { LaunchedServer } from '../support/server-launcher.js';
import { TestCertificates, type LeafFiles } from './test-certs.js';

let certs: TestCertificates;
let caPem: Buffer;
let serverFiles: LeafFiles;

beforeAll(() => {
  certs = new TestCertificates();
  caPem = readFileSync(certs.ca('client-port-ca'));
  certs.ca('foreign-ca');
  serverFiles = certs.leaf('server', 'client-port-ca');
});

afterAll(() => certs?.remove());

interface TlsClient {
  readonly cert?: Buffer;
  readonly key?: Buffer;
}

function clientFiles(files: LeafFiles): TlsClient {
  return { cert: readFileSync(files.certFile), key: readFileSync(files.keyFile) };
}

/** GET over HTTPS trusting the test CA; resolves with the status or rejects on a TLS failure. */
function httpsGet(url: string, client: TlsClient = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(url, {
      ca: caPem, ...client, agent: false, headers: { 'Client-ID': randomUUID(), 'X-Project-ID': 'tls-project' }, timeout: 10_000,
    }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

function wssPing(url: string, client: TlsClient = {}): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, { ca: caPem, ...client, perMessageDeflate: false });
    socket.on('open', () => socket.send(JSON.stringify({ action: 'queue_list', headers: { 'Client-ID': randomUUID(), 'X-Project-ID': 'p' } })));
    socket.on('message', (data: Buffer) => {
      resolve(JSON.parse(data.toString('utf8')));
      socket.close();
    });
    socket.on('error', reject);
  });
}

describe('HTTPS and WSS on the client port', () => {
  let server: LaunchedServer;

  beforeAll(async () => {
    server = await LaunchedServer.start({ config: { tls: { cert_file: serverFiles.certFile, key_file: serverFiles.keyFile } } });
  }, 60_000);

  afterAll(async () => {
    await server?.stop();
  });

  test('HTTPS and WSS answer a client trusting the CA; plaintext gets nothing', async () => {
    expect(server.url).toMatch(/^https:\/\//);
    expect(await httpsGet(`${server.url}/v2/queues`)).toBe(200);
    expect(await wssPing(`${server.url.replace(/^https/, 'wss')}/`)).toMatchObject({ headers: { status: 200 } });
    await expect(fetch(`${server.url.replace(/^https/, 'http')}/v2/queues`)).rejects.toThrow();
  });
});

describe('client certificates with tls.ca_file', () => {
  let server: LaunchedServer;

  beforeAll(async () => {
    server = await LaunchedServer.start({ config: { tls: {
      cert_file: serverFiles.certFile, key_file: serverFiles.keyFile, ca_file: certs.dir + '/client-port-ca.crt',
    } } });
  }, 60_000);

  afterAll(async () => {
    await server?.stop();
  });

  test('a client certificate of the CA is served, a foreign one refused at the handshake', async () => {
    const member = clientFiles(certs.leaf('device', 'client-port-ca'));
    expect(await httpsGet(`${server.url}/v2/queues`, member)).toBe(200);
    expect(await wssPing(`${server.url.replace(/^https/, 'wss')}/`, member)).toMatchObject({ headers: { status: 200 } });
    // uWS verifies a presented certificate but cannot make one mandatory (no such option in
    // this build): a client without one is served. Documented in the README; pinned here so
    // a change of behaviour is noticed.
    expect(await httpsGet(`${server.url}/v2/queues`)).toBe(200);
    const stranger = clientFiles(certs.leaf('stranger-device', 'foreign-ca'));
    await expect(httpsGet(`${server.url}/v2/queues`, stranger)).rejects.toThrow();
    await expect(wssPing(`${server.url.replace(/^https/, 'wss')}/`, stranger)).rejects.toThrow();
  });
});
