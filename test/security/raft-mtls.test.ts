/**
 * Mutual TLS on the cluster gRPC port (src/raft/grpc/peer-tls.ts) over real loopback
 * sockets with openssl-generated certificates: members holding certificates of the
 * cluster CA exchange Raft messages; an impersonator claiming a member's node id — with
 * a certificate from another CA, or with no TLS at all — never gets a message
 * delivered, while the control (the same impersonation against a plaintext port) shows
 * that without TLS it would have been accepted.
 */
import { afterAll, afterEach, beforeAll, expect, test } from 'vitest';
import { SeededRandom } from '../../src/common/random.js';
import { SystemDelays } from '../../src/common/timers.js';
import { GrpcRaftTransport } from '../../src/raft/grpc/grpc-raft-transport.js';
import { loadPeerTls, type PeerTls } from '../../src/raft/grpc/peer-tls.js';
import type { NodeId, RaftMessage, ShardId, Term } from '../../src/raft/types.js';
import { TestCertificates } from './test-certs.js';

interface TestNode {
  readonly transport: GrpcRaftTransport;
  readonly received: RaftMessage[];
}

let certs: TestCertificates;
let clusterTls: (name: string) => PeerTls;
let strangerTls: PeerTls;
const open: GrpcRaftTransport[] = [];

beforeAll(() => {
  certs = new TestCertificates();
  const caFile = certs.ca('cluster-ca');
  certs.ca('other-ca');
  clusterTls = (name) => loadPeerTls({ caFile, ...certs.leaf(name, 'cluster-ca') });
  // Trusts the cluster CA (so it accepts the member's server certificate) but holds a foreign certificate.
  strangerTls = loadPeerTls({ caFile, ...certs.leaf('stranger', 'other-ca') });
});

afterAll(() => certs?.remove());

afterEach(async () => {
  await Promise.all(open.splice(0).map((transport) => transport.close()));
});

async function listen(id: number, tls: PeerTls | undefined): Promise<TestNode> {
  const transport = await GrpcRaftTransport.listen({
    nodeId: id as NodeId, listenAddress: '127.0.0.1:0', random: new SeededRandom(id), delays: new SystemDelays(),
    backoff: { baseMs: 20, maxMs: 200 }, ...(tls === undefined ? {} : { tls }),
  });
  const node: TestNode = { transport, received: [] };
  transport.onMessage((message) => node.received.push(message));
  open.push(transport);
  return node;
}

/** A vote request: exactly what a stranger must not get counted. */
function voteRequest(from: number, to: number, term: number): RaftMessage {
  return { shardId: 0 as ShardId, from: from as NodeId, to: to as NodeId, term: term as Term, type: 1, seq: term, entries: [] };
}

async function waitUntil(predicate: () => boolean, what: string): Promise<void> {
  const deadline = performance.now() + 20_000;
  while (!predicate()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Node 2 accepts streams from members it knows; it never dials node 1, so the address is not used. */
function knowsNodeOne(node: TestNode): void {
  node.transport.connect(new Map([[1 as NodeId, '127.0.0.1:9']]));
}

/** Counts the dialer's redials: each one follows a failed (or ended) stream. */
class CountingDelays extends SystemDelays {
  scheduled = 0;
  override after(delayMs: number, task: () => void): () => void {
    this.scheduled += 1;
    return super.after(delayMs, task);
  }
}

/**
 * Node 1 dials node 2 (the smaller id dials), so an impersonator of node 1 gets its
 * vote request to node 2 only if node 2 accepts its stream. Once the impersonator has
 * failed three dials it is closed, and the genuine node 1 connects and sends: when that
 * message has arrived, everything the impersonator could have delivered has too.
 */
async function impersonate(memberTls: PeerTls, impostorTls: PeerTls | undefined): Promise<{ fromImpostor: number; fromGenuine: number }> {
  const target = await listen(2, memberTls);
  knowsNodeOne(target);
  const address = new Map([[2 as NodeId, `127.0.0.1:${target.transport.port}`]]);
  const delays = new CountingDelays();
  const impostor = await GrpcRaftTransport.listen({
    nodeId: 1 as NodeId, listenAddress: '127.0.0.1:0', random: new SeededRandom(9), delays,
    backoff: { baseMs: 20, maxMs: 100 }, ...(impostorTls === undefined ? {} : { tls: impostorTls }),
  });
  open.push(impostor);
  impostor.connect(address);
  impostor.send([voteRequest(1, 2, 666)]);
  await waitUntil(() => delays.scheduled >= 3, 'three failed dials of the impersonator');
  expect(impostor.peerStats(2 as NodeId)?.connections).toBe(0);
  await impostor.close();
  const genuine = await listen(1, clusterTls('node1'));
  genuine.transport.connect(address);
  genuine.transport.send([voteRequest(1, 2, 7)]);
  await waitUntil(() => target.received.some((m) => m.term === 7), 'the genuine member\'s message');
  return {
    fromImpostor: target.received.filter((m) => m.term === 666).length,
    fromGenuine: target.received.filter((m) => m.term === 7).length,
  };
}

test('members with cluster-CA certificates exchange messages both ways', async () => {
  const a = await listen(1, clusterTls('node1'));
  const b = await listen(2, clusterTls('node2'));
  const peers = new Map([[1 as NodeId, `127.0.0.1:${a.transport.port}`], [2 as NodeId, `127.0.0.1:${b.transport.port}`]]);
  a.transport.connect(peers);
  b.transport.connect(peers);
  a.transport.send([voteRequest(1, 2, 3)]);
  b.transport.send([voteRequest(2, 1, 4)]);
  await waitUntil(() => a.received.length === 1 && b.received.length === 1, 'both messages');
  expect(b.received[0]?.term).toBe(3);
  expect(a.received[0]?.term).toBe(4);
}, 60_000);

test('an impersonator with a certificate from another CA is refused at the handshake', async () => {
  expect(await impersonate(clusterTls('node2'), strangerTls)).toEqual({ fromImpostor: 0, fromGenuine: 1 });
}, 60_000);

test('an impersonator without TLS is refused', async () => {
  expect(await impersonate(clusterTls('node2'), undefined)).toEqual({ fromImpostor: 0, fromGenuine: 1 });
}, 60_000);

test('control: on a plaintext port the same impersonator is accepted (what mutual TLS prevents)', async () => {
  const target = await listen(2, undefined);
  knowsNodeOne(target);
  const impostor = await listen(1, undefined);
  impostor.transport.connect(new Map([[2 as NodeId, `127.0.0.1:${target.transport.port}`]]));
  impostor.transport.send([voteRequest(1, 2, 666)]);
  await waitUntil(() => target.received.some((m) => m.term === 666), 'the impersonator\'s vote request');
}, 60_000);
