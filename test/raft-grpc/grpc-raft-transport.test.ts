/**
 * GrpcRaftTransport over real loopback sockets: messages of many groups reach the right
 * node intact in both directions of the one stream per pair; everything sent in one turn
 * travels as one frame; a restarted peer (dialling or accepting side) is reconnected to
 * and gets what was queued for it; the per-peer queue stays bounded while a peer is down,
 * dropping the oldest messages.
 */
import { createServer } from 'node:net';
import { afterEach, describe, expect, test } from 'vitest';
import { SeededRandom } from '../../src/common/random.js';
import { SystemDelays } from '../../src/common/timers.js';
import { GrpcRaftTransport } from '../../src/raft/grpc/grpc-raft-transport.js';
import type { PeerLinkLimits } from '../../src/raft/grpc/peer-link.js';
import type { NodeId, RaftMessage, ShardId, Term } from '../../src/raft/types.js';

interface TestNode {
  readonly id: NodeId;
  transport: GrpcRaftTransport;
  readonly received: RaftMessage[];
}

const open: GrpcRaftTransport[] = [];

afterEach(async () => {
  await Promise.all(open.splice(0).map((transport) => transport.close()));
});

async function listen(id: number, port = 0, limits?: Partial<PeerLinkLimits>): Promise<TestNode> {
  const node: TestNode = { id: id as NodeId, transport: undefined as never, received: [] };
  node.transport = await GrpcRaftTransport.listen({
    nodeId: id as NodeId,
    listenAddress: `127.0.0.1:${port}`,
    random: new SeededRandom(id),
    delays: new SystemDelays(),
    backoff: { baseMs: 20, maxMs: 200 },
    ...(limits === undefined ? {} : { limits }),
  });
  node.transport.onMessage((message) => node.received.push(message));
  open.push(node.transport);
  return node;
}

function connectAll(nodes: readonly TestNode[], ports: ReadonlyMap<NodeId, number>): void {
  const peers = new Map([...ports].map(([id, port]) => [id, `127.0.0.1:${port}`]));
  for (const node of nodes) node.transport.connect(peers);
}

function message(from: number, to: number, shardId: number, seq: number): RaftMessage {
  return {
    shardId: shardId as ShardId,
    from: from as NodeId,
    to: to as NodeId,
    term: 3 as Term,
    type: 4,
    seq,
    entries: [{ term: 3, index: seq, type: 0, data: new Uint8Array([seq % 256, 1, 2]) }],
  };
}

async function waitUntil(predicate: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!predicate()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

async function connected(a: TestNode, b: TestNode): Promise<void> {
  await waitUntil(
    () => a.transport.peerStats(b.id)?.isConnected === true && b.transport.peerStats(a.id)?.isConnected === true,
    `${a.id}<->${b.id} connected`,
  );
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

function seqs(node: TestNode, from: number): unknown[] {
  return node.received.filter((m) => m.from === from).map((m) => m.seq);
}

describe('GrpcRaftTransport', () => {
  test('delivers the messages of many groups between three nodes, both ways over one stream per pair', async () => {
    const nodes = [await listen(1), await listen(2), await listen(3)];
    connectAll(nodes, new Map(nodes.map((n) => [n.id, n.transport.port])));
    const [n1, n2, n3] = nodes as [TestNode, TestNode, TestNode];
    await Promise.all([connected(n1, n2), connected(n1, n3), connected(n2, n3)]);
    for (const from of nodes) {
      for (const to of nodes) {
        if (from !== to) from.transport.send([1, 2, 3].map((shard) => message(from.id, to.id, shard, shard)));
      }
    }
    await waitUntil(() => nodes.every((n) => n.received.length === 6), 'all delivered');
    const received = n2.received.find((m) => m.from === 3 && m.shardId === 2);
    if (received === undefined) throw new Error('message 3->2 of shard 2 missing');
    const { entries, ...rest } = received;
    const { entries: sentEntries, ...sentRest } = message(3, 2, 2, 2);
    expect(rest).toEqual(sentRest);
    // Entry data arrives as bytes (a Buffer, which is a Uint8Array).
    const [entry] = entries as { data: Uint8Array }[];
    const [sentEntry] = sentEntries as { data: Uint8Array }[];
    expect(entry?.data).toBeInstanceOf(Uint8Array);
    expect({ ...entry, data: [...(entry?.data ?? [])] }).toEqual({ ...sentEntry, data: [...(sentEntry?.data ?? [])] });
    // Only the smaller id of each pair dialled: one stream per pair.
    expect(n1.transport.peerStats(n2.id)?.connections).toBe(1);
    expect(n2.transport.peerStats(n1.id)?.connections).toBe(0);
  });

  test('sends everything queued in one turn as one frame', async () => {
    const [a, b] = [await listen(1), await listen(2)];
    connectAll([a, b], new Map([[a.id, a.transport.port], [b.id, b.transport.port]]));
    await connected(a, b);
    const before = { sent: a.transport.peerStats(b.id)?.framesSent ?? 0, received: b.transport.framesReceived };
    for (let seq = 0; seq < 300; seq++) a.transport.send([message(1, 2, seq % 16, seq)]);
    await waitUntil(() => b.received.length === 300, '300 messages');
    expect((a.transport.peerStats(b.id)?.framesSent ?? 0) - before.sent).toBe(1);
    expect(b.transport.framesReceived - before.received).toBe(1);
    expect(seqs(b, 1)).toEqual(Array.from({ length: 300 }, (_, i) => i));
  });

  for (const restarted of ['accepting', 'dialling'] as const) {
    test(`reconnects after the ${restarted} peer restarts and delivers what was queued`, async () => {
      const nodes = [await listen(1), await listen(2)];
      const ports = new Map(nodes.map((n) => [n.id, n.transport.port]));
      connectAll(nodes, ports);
      await connected(nodes[0] as TestNode, nodes[1] as TestNode);
      const victimAt = restarted === 'accepting' ? 1 : 0;
      const victim = nodes[victimAt] as TestNode;
      const survivor = nodes[1 - victimAt] as TestNode;
      await victim.transport.close();
      await waitUntil(() => survivor.transport.peerStats(victim.id)?.isConnected === false, 'disconnect seen');
      survivor.transport.send([message(survivor.id, victim.id, 7, 1), message(survivor.id, victim.id, 7, 2)]);
      const reborn = await listen(victim.id, ports.get(victim.id));
      reborn.transport.connect(new Map([...ports].map(([id, port]) => [id, `127.0.0.1:${port}`])));
      await connected(survivor, reborn);
      await waitUntil(() => reborn.received.length === 2, 'queued messages after restart');
      expect(seqs(reborn, survivor.id)).toEqual([1, 2]);
      reborn.transport.send([message(reborn.id, survivor.id, 7, 3)]);
      await waitUntil(() => seqs(survivor, reborn.id).includes(3), 'reply over the new stream');
    });
  }

  test('keeps at most queueMessagesMax messages for a peer that is down, dropping the oldest', async () => {
    const downPort = await freePort();
    const a = await listen(1, 0, { queueMessagesMax: 10 });
    const peers = new Map([[1 as NodeId, `127.0.0.1:${a.transport.port}`], [2 as NodeId, `127.0.0.1:${downPort}`]]);
    a.transport.connect(peers);
    for (let seq = 0; seq < 25; seq++) a.transport.send([message(1, 2, 1, seq)]);
    expect(a.transport.peerStats(2 as NodeId)).toMatchObject({ queuedMessages: 10, messagesDropped: 15 });
    const b = await listen(2, downPort);
    b.transport.connect(peers);
    await waitUntil(() => b.received.length === 10, 'the newest 10 messages');
    expect(seqs(b, 1)).toEqual(Array.from({ length: 10 }, (_, i) => 15 + i));
  });

  test('connects to a node added later and forgets a removed one', async () => {
    const [a, b] = [await listen(1), await listen(2)];
    const ports = new Map([[a.id, a.transport.port], [b.id, b.transport.port]]);
    connectAll([a, b], ports);
    await connected(a, b);
    const c = await listen(3);
    ports.set(c.id, c.transport.port);
    connectAll([a, b, c], ports); // a and b only add c; c learns everyone
    await Promise.all([connected(a, c), connected(b, c)]);
    a.transport.send([message(1, 3, 5, 1)]);
    c.transport.send([message(3, 2, 5, 2)]);
    await waitUntil(() => seqs(c, 1).includes(1) && seqs(b, 3).includes(2), 'messages to and from the new node');
    a.transport.removePeer(c.id);
    expect(a.transport.peerStats(c.id)).toBeUndefined();
    a.transport.send([message(1, 3, 5, 3)]);
    expect(a.transport.messagesRejected).toBe(1);
    expect(a.transport.peerStats(b.id)?.isConnected).toBe(true);
  });

  test('drops messages for nodes it does not know', async () => {
    const a = await listen(1);
    a.transport.connect(new Map([[1 as NodeId, `127.0.0.1:${a.transport.port}`]]));
    a.transport.send([message(1, 9, 1, 1)]);
    expect(a.transport.messagesRejected).toBe(1);
  });
});
