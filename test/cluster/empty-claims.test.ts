/**
 * A claim that finds nothing claimable answers 204 from a read barrier on the node that
 * serves it and writes no log entry (sharded-broker.ts mayClaim): real `zaqar-ts serve`
 * processes, one node and a 3-node cluster, claims through the shard's leader and
 * through a follower. The shard's last log index on every node must not move over a
 * run of empty claims (and does move for one that claims, so the index read is the
 * right one). A message whose post was acknowledged must be claimable at once by a
 * claim through any other node: the barrier, not luck, makes the follower see it.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { NodeId, ShardId } from '../../src/common/ids.js';
import { preferredLeader } from '../../src/cluster/placement.js';
import { ClusterLauncher } from '../support/cluster-launcher.js';
import { ZaqarHttp } from '../support/zaqar-http.js';
import { shardOf } from './support/load.js';

const shardCount = 2;
const emptyClaims = 20;
const rounds = 12;

/** Starts the cluster before the suite's tests, once every shard has its preferred leader (no move later), and stops it after. */
function clusterForSuite(nodes: number): () => ClusterLauncher {
  let cluster: ClusterLauncher | undefined;
  beforeAll(async () => {
    cluster = await ClusterLauncher.start({ nodes, shards: shardCount });
    const started = cluster;
    const members = Array.from({ length: nodes }, (_, i) => (i + 1) as NodeId);
    const preferred = Array.from({ length: shardCount }, (_, shardId) => preferredLeader(shardId as ShardId, { voters: members, members }));
    await ClusterLauncher.waitFor('every shard led by its preferred voter', 30_000, async () => {
      const leaders = await started.leaders();
      return preferred.every((leader, shardId) => leaders?.get(shardId) === leader) ? true : undefined;
    });
  }, 60_000);
  afterAll(async () => {
    await cluster?.stop();
  });
  return () => {
    if (cluster === undefined) throw new Error('the cluster did not start');
    return cluster;
  };
}

/** The shard's last log index (and term) on every running node. */
async function logPositions(cluster: ClusterLauncher, shardId: number): Promise<Map<number, { lastIndex: number; term: number }>> {
  const positions = new Map<number, { lastIndex: number; term: number }>();
  for (const node of cluster.running()) {
    const shard = (await cluster.status(node.id)).shards.find((s) => s.shardId === shardId);
    if (shard === undefined) throw new Error(`node ${node.id} reports no shard ${shardId}`);
    positions.set(node.id, { lastIndex: shard.lastIndex, term: shard.term });
  }
  return positions;
}

/** A queue name of `project` on `shardId`. */
function queueOn(project: string, shardId: number, prefix: string): string {
  for (let i = 0; ; i++) if (shardOf(project, `${prefix}-${i}`, shardCount) === shardId) return `${prefix}-${i}`;
}

/** Empty claims through each of `via` in turn, then claims that take one message: the shard's log grows only for those. */
async function expectEmptyClaimsWriteNothing(cluster: ClusterLauncher, via: readonly number[]): Promise<void> {
  const project = `p-${randomUUID()}`;
  const shardId = 1;
  const queue = queueOn(project, shardId, 'drained');
  const missing = queueOn(project, shardId, 'missing');
  const client = (id: number): ZaqarHttp => new ZaqarHttp(cluster.node(id).url, project);
  // A queue that had a message, claimed and deleted: its index entry is gone again.
  const [id] = await client(via[0] ?? 1).postMessages(queue, [{ body: 'once' }]);
  const claimed = await client(via[0] ?? 1).post(`/v2/queues/${queue}/claims`);
  expect(claimed.status, claimed.text).toBe(201);
  const claimId = claimed.headers.get('location')?.split('/').pop() ?? '';
  expect((await client(via[0] ?? 1).delete(`/v2/queues/${queue}/messages/${id}?claim_id=${claimId}`)).status).toBe(204);
  await ClusterLauncher.waitFor('every replica at the same last index', 10_000, async () => {
    const indexes = new Set([...(await logPositions(cluster, shardId)).values()].map((p) => p.lastIndex));
    return indexes.size === 1 ? true : undefined;
  });

  const before = await logPositions(cluster, shardId);
  for (let i = 0; i < emptyClaims; i++) {
    const node = via[i % via.length] ?? 1;
    const reply = await client(node).post(`/v2/queues/${i % 2 === 0 ? queue : missing}/claims?limit=5`, { json: { ttl: 60, grace: 60 } });
    expect(reply.status, `empty claim ${i} through node ${node}: ${reply.text}`).toBe(204);
  }
  expect(await logPositions(cluster, shardId)).toEqual(before);

  // The same claims write an entry once there is something to claim.
  await client(via[0] ?? 1).postMessages(queue, [{ body: 'again' }]);
  const afterPost = await logPositions(cluster, shardId);
  for (const node of via) {
    const reply = await client(node).post(`/v2/queues/${queue}/claims?limit=5`, { json: { ttl: 60, grace: 60 } });
    expect([201, 204], reply.text).toContain(reply.status);
  }
  const leader = await cluster.leaderOf(shardId);
  expect((await logPositions(cluster, shardId)).get(leader)?.lastIndex).toBeGreaterThan(afterPost.get(leader)?.lastIndex ?? Infinity);
}

describe('1 node', () => {
  const cluster = clusterForSuite(1);

  test('an empty claim answers 204 and writes no log entry', { timeout: 60_000 }, async () => {
    await expectEmptyClaimsWriteNothing(cluster(), [1]);
  });
});

describe('3 nodes', () => {
  const cluster = clusterForSuite(3);

  test('an empty claim through the leader or a follower answers 204 and writes no log entry', { timeout: 60_000 }, async () => {
    const leader = (await cluster().leaders())?.get(1);
    if (leader === undefined) throw new Error('shard 1 has no leader');
    const followers = [1, 2, 3].filter((id) => id !== leader);
    await expectEmptyClaimsWriteNothing(cluster(), [leader, ...followers]);
  });

  test('a message posted through one node is claimed at once through a follower', { timeout: 60_000 }, async () => {
    const project = `p-${randomUUID()}`;
    const shardId = 0;
    const queue = queueOn(project, shardId, 'post-then-claim');
    const leader = (await cluster().leaders())?.get(shardId);
    if (leader === undefined) throw new Error(`shard ${shardId} has no leader`);
    const followers = [1, 2, 3].filter((id) => id !== leader);
    const client = (id: number): ZaqarHttp => new ZaqarHttp(cluster().node(id).url, project);
    for (let round = 0; round < rounds; round++) {
      // Posted through the leader or the other follower, claimed through a follower.
      const claimer = followers[round % 2] ?? 0;
      const poster = round % 3 === 0 ? leader : followers[(round + 1) % 2] ?? 0;
      const what = `round ${round}: posted through node ${poster}, claimed through node ${claimer}`;
      const [id] = await client(poster).postMessages(queue, [{ body: round }]);
      const claim = await client(claimer).post(`/v2/queues/${queue}/claims?limit=5`, { json: { ttl: 60, grace: 60 } });
      expect(claim.status, `${what}: ${claim.text}`).toBe(201);
      const messages = (claim.body as { messages: { id: string }[] }).messages;
      expect(messages.map((m) => m.id), what).toEqual([id]);
      const claimId = claim.headers.get('location')?.split('/').pop() ?? '';
      expect((await client(claimer).delete(`/v2/queues/${queue}/messages/${id}?claim_id=${claimId}`)).status, what).toBe(204);
      expect((await client(claimer).post(`/v2/queues/${queue}/claims`)).status, what).toBe(204);
    }
  });
});
