/**
 * A 3-node cluster of real processes with `[cluster_tls]` (openssl-made cluster CA and
 * member certificate): the members elect a leader for every shard and every node
 * serves posts and reads for every queue — so Raft streams and request forwarding both
 * run over mutual TLS as configured; a TLS client without a member certificate is
 * refused by a node's cluster port. (That a stranger gets no message delivered is
 * shown on the transport itself in raft-mtls.test.ts.)
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { connect as tlsConnect } from 'node:tls';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { ClusterLauncher } from '../support/cluster-launcher.js';
import { ZaqarHttp } from '../support/zaqar-http.js';
import { TestCertificates } from './test-certs.js';

const shardCount = 2;
let certs: TestCertificates;
let cluster: ClusterLauncher;

beforeAll(async () => {
  certs = new TestCertificates();
  const caFile = certs.ca('cluster-ca');
  const member = certs.leaf('member', 'cluster-ca');
  cluster = await ClusterLauncher.start({ nodes: 3, shards: shardCount, config: {
    cluster_tls: { ca_file: caFile, cert_file: member.certFile, key_file: member.keyFile },
  } });
  await ClusterLauncher.waitFor('a leader for every shard', 60_000, async () => ((await cluster.leaders())?.size === shardCount ? true : undefined));
}, 120_000);

afterAll(async () => {
  await cluster?.stop();
  certs?.remove();
});

test('every node serves every queue over a cluster speaking mutual TLS', async () => {
  const project = `tls-${randomUUID()}`;
  const queues = ['a', 'b', 'c', 'd', 'e', 'f'];
  for (const id of [1, 2, 3]) {
    const http = new ZaqarHttp(cluster.node(id).url, project);
    for (const queue of queues) await http.postMessages(queue, [{ body: { from: id }, ttl: 600 }]);
  }
  const reader = new ZaqarHttp(cluster.node(2).url, project);
  for (const queue of queues) {
    const listing = await reader.get(`/v2/queues/${queue}/messages?echo=true`);
    expect((listing.body as { messages: unknown[] }).messages).toHaveLength(3);
  }
}, 120_000);

/** Opens TLS to node 1's cluster port and speaks a little HTTP/2; says how it ended. */
function probe(options: { cert?: Buffer; key?: Buffer }): Promise<string> {
  const caPem = readFileSync(`${certs.dir}/cluster-ca.crt`);
  return new Promise<string>((resolve) => {
    const socket = tlsConnect({ host: '127.0.0.1', port: cluster.node(1).clusterPort, ca: caPem, ALPNProtocols: ['h2'], ...options });
    socket.on('secureConnect', () => socket.write('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'));
    socket.on('data', () => {
      resolve('served');
      socket.destroy();
    });
    socket.on('error', (error) => resolve(`error: ${error.message}`));
    socket.on('close', () => resolve('closed'));
    socket.setTimeout(10_000, () => resolve('timeout'));
  });
}

test("a node's cluster port serves a member certificate and refuses a client without one", async () => {
  const member = { cert: readFileSync(`${certs.dir}/member.crt`), key: readFileSync(`${certs.dir}/member.key`) };
  expect(await probe(member)).toBe('served');
  expect(await probe({})).toMatch(/certificate required/i);
});
