/**
 * RaftShardHost asks only groups that may have output for a Ready: several hosts (1 or 3
 * nodes, real LMDB each, messages delivered on later event-loop turns) with many groups,
 * of which one is driven. Every proposal commits (a group whose input or completed
 * persist was not noticed would stall: no tick runs here to rescue it; a Ready carries
 * one committed entry at most, so a group must be asked again after each), and the
 * groups nobody uses are never fed again after their leaders settled. With the leader
 * gone, ticks alone make the followers elect a new one for every group.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, test } from 'vitest';
import type { NodeId, ShardId } from '../../src/common/ids.js';
import { SeededRandom } from '../../src/common/random.js';
import { ManualTimers, SystemDelays } from '../../src/common/timers.js';
import { RaftShardHost } from '../../src/cluster/raft-shard-host.js';
import type { ShardGroup } from '../../src/cluster/shard-group.js';
import { encodeBody } from '../../src/cluster/shard/body-codec.js';
import { encodeCommand } from '../../src/cluster/shard/commands.js';
import { QueueFsm } from '../../src/cluster/shard/queue-fsm.js';
import { openLmdbEnv, type LmdbEnv } from '../../src/log/lmdb/lmdb-env.js';
import { LmdbLogStore } from '../../src/log/lmdb/lmdb-log-store.js';
import { LmdbQueueStore } from '../../src/log/lmdb/lmdb-queue-store.js';
import type { RaftMessage, RaftTransport } from '../../src/raft/types.js';
import { waitFor } from './support/in-process.js';

const shardCount = 12;
const driven = 3 as ShardId;
const base = { nowMs: 1_000_000, project: 'p', queue: 'q' };

interface Node {
  readonly host: RaftShardHost;
  readonly timers: ManualTimers;
  readonly groups: ShardGroup[];
  readonly env: LmdbEnv;
  readonly dir: string;
}

let nodes: Node[] = [];

afterEach(async () => {
  for (const node of nodes) await node.host.close();
  for (const node of nodes) {
    await node.env.close();
    rmSync(node.dir, { recursive: true, force: true });
  }
  nodes = [];
});

/** Delivers every message on a later event-loop turn, like a socket would. */
function network(): (nodeId: NodeId) => RaftTransport {
  const handlers = new Map<NodeId, (message: RaftMessage) => void>();
  return (nodeId) => ({
    send: (messages) => {
      for (const message of messages) setImmediate(() => handlers.get(message.to)?.(message));
    },
    onMessage: (handler) => handlers.set(nodeId, handler),
    close: async () => {},
  });
}

function open(ids: readonly NodeId[], isAsyncStorageWrites: boolean): Node[] {
  const transportOf = network();
  return ids.map((nodeId) => {
    const dir = mkdtempSync(join(tmpdir(), 'zaqar-idle-groups-'));
    const env = openLmdbEnv(dir);
    const timers = new ManualTimers();
    const host = new RaftShardHost({
      nodeId,
      logStore: new LmdbLogStore(env),
      transport: ids.length === 1 ? undefined : transportOf(nodeId),
      random: new SeededRandom(nodeId),
      timers,
      delays: new SystemDelays(),
      tickMs: 10,
      raft: { isAsyncStorageWrites, applyBytesMax: 1 },
    });
    const groups = Array.from({ length: shardCount }, (_, shardId) => host.addGroup(new QueueFsm(shardId as ShardId, new LmdbQueueStore(env)), ids));
    return { host, timers, groups, env, dir };
  });
}

function post(i: number): Uint8Array {
  const id = i.toString(16).padStart(24, '0');
  return encodeCommand({ ...base, type: 'post', clientId: 'c', messages: [{ id, body: encodeBody({ i }), ttlSeconds: 600, delaySeconds: 0, checksum: null }] });
}

/** Lets the hosts' loops, their persists and the network run until no group is asked for anything more. */
async function settle(): Promise<void> {
  let last = -1;
  await waitFor('the hosts to go idle', 5_000, async () => {
    await new Promise((resolve) => setTimeout(resolve, 50));
    const total = nodes.reduce((sum, node) => sum + node.host.stats.visits, 0);
    if (total === last) return true;
    last = total;
    return undefined;
  });
}

function visits(): number[][] {
  return nodes.map((node) => node.groups.map((group) => group.visits));
}

test.each([
  { nodeCount: 1, isAsync: false },
  { nodeCount: 1, isAsync: true },
  { nodeCount: 3, isAsync: false },
  { nodeCount: 3, isAsync: true },
])('only the driven group of $nodeCount node(s) is asked for output, and all its proposals commit (asynchronous storage writes: $isAsync)', async ({ nodeCount, isAsync }) => {
  const ids = Array.from({ length: nodeCount }, (_, i) => (i + 1) as NodeId);
  nodes = open(ids, isAsync);
  const leader = nodes[0] as Node;
  // Node 1 campaigns for every group (a group of one does so itself): no tick is needed.
  await settle();
  if (nodeCount > 1) for (const group of leader.groups) group.requestCampaign();
  await waitFor('node 1 to lead every group', 5_000, () => (leader.groups.every((group) => group.isLeader()) ? true : undefined));
  // Each leader's first entry committed everywhere it can be: the groups are idle from here.
  for (const group of leader.groups) await group.propose(encodeCommand({ ...base, type: 'createQueue', metadata: {} }));
  await settle();
  const before = visits();

  const group = leader.groups[driven] as ShardGroup;
  for (let i = 0; i < 10; i++) await group.propose(post(i));
  await Promise.all(Array.from({ length: 30 }, (_, i) => group.propose(post(10 + i))));
  await group.readBarrier();
  await settle();

  const after = visits();
  nodes.forEach((_, n) => {
    after[n]?.forEach((count, shardId) => {
      if (shardId === driven) expect(count, `node ${n + 1} shard ${shardId}`).toBeGreaterThan(before[n]?.[shardId] ?? 0);
      else expect(count, `node ${n + 1} shard ${shardId}`).toBe(before[n]?.[shardId]);
    });
  });
  expect(leader.host.stats.visits).toBe(after[0]?.reduce((sum, count) => sum + count, 0));

  // A group left idle until now still takes a proposal.
  await (leader.groups[0] as ShardGroup).propose(post(100));
  if (nodeCount === 1) return;

  // Without node 1, the other two elect a leader for every group on ticks alone.
  await leader.host.close();
  const others = nodes.slice(1);
  const elected = (): boolean => leader.groups.every((_, shardId) => others.some((node) => node.groups[shardId]?.isLeader() === true));
  for (let i = 0; i < 100 && !elected(); i++) {
    for (const node of others) node.timers.runAll();
    await settle();
  }
  expect(elected(), JSON.stringify(others.map((node) => node.groups.map((g) => g.status().role)))).toBe(true);
  const next = others.find((node) => node.groups[driven]?.isLeader() === true)?.groups[driven] as ShardGroup;
  await next.propose(post(101));
});
