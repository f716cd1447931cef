/**
 * ClusterShardLogs end to end inside one process (real LMDB, loopback Raft messages):
 * a cluster of one serves and recovers its shards through Raft (replaying past the
 * bootstrap entries), group commit shares persist rounds between shards, and in a
 * 3-node cluster writes through a follower are forwarded to the leader, reads on every
 * node see them, a commit costs each node one log write (none for the commit index),
 * and a closed leader is replaced without losing acknowledged writes.
 */
import { afterEach, describe, expect, test } from 'vitest';
import { InProcessCluster, threeNodes, waitFor } from './support/in-process.js';
import { bodyOf } from '../engine/support/broker-steps.js';
import { renderMessage } from '../../src/api/render.js';

const listOptions = { clientId: 'c', limit: 20, echo: true, includeClaimed: true, includeDelayed: true };
let cluster: InProcessCluster | undefined;


const keep = (opened: InProcessCluster): void => {
  cluster = opened;
};

afterEach(async () => {
  await cluster?.closeAll();
  cluster = undefined;
});

describe('ClusterShardLogs', () => {
  test('a cluster of one applies through Raft and recovers its shards on reopen', async () => {
    cluster = new InProcessCluster([1], 2);
    const node = await cluster.open(1);
    const ref = { project: 'p', queue: 'q' };
    const ids = [await node.broker.postMessages(ref, { clientId: 'c', messages: [{ body: 'a', ttlSeconds: 600, delaySeconds: 0 }] })];
    const claim = await node.broker.createClaim(ref, { limit: 1, ttlSeconds: 60, graceSeconds: 60 });
    expect(claim?.messages.map((m) => m.id)).toEqual(ids[0]?.ids);
    await cluster.close(1);
    const reopened = await cluster.open(1, node.dataDir);
    const listed = await reopened.broker.listMessages(ref, listOptions);
    expect(listed.map((m) => m.id)).toEqual(ids[0]?.ids);
    expect(await reopened.broker.createClaim(ref, { limit: 1, ttlSeconds: 60, graceSeconds: 60 })).toBeNull();
  });

  test('concurrent proposals to many shards share persist rounds', async () => {
    cluster = new InProcessCluster([1], 4);
    const node = await cluster.open(1);
    await node.broker.isHealthy();
    const before = node.logs.stats;
    await Promise.all(Array.from({ length: 64 }, (_, i) => node.broker.createQueue({ project: 'p', queue: `q${i}` }, {})));
    const after = node.logs.stats;
    expect(after.proposals - before.proposals).toBeGreaterThan(after.flushes - before.flushes);
  });

  test('three nodes: follower writes are forwarded, every node reads them, a lost leader is replaced', async () => {
    const { c, leader, follower } = await threeNodes(keep);
    const ref = { project: 'p', queue: 'q' };
    const { ids } = await follower.broker.postMessages(ref, { clientId: 'c', messages: [{ body: 'x', ttlSeconds: 600, delaySeconds: 0 }] });
    for (const node of c.nodes.values()) {
      expect((await node.broker.listMessages(ref, listOptions)).map((m) => m.id)).toEqual(ids);
    }
    await c.close(leader.id);
    const next = await waitFor('a new leader', 10_000, () => c.leaderOf(0));
    expect(next.id).not.toBe(leader.id);
    const survivor = [...c.nodes.values()].find((n) => n.id !== next.id) ?? next;
    const second = await survivor.broker.postMessages(ref, { clientId: 'c', messages: [{ body: 'y', ttlSeconds: 600, delaySeconds: 0 }] });
    expect((await next.broker.listMessages(ref, listOptions)).map((m) => m.id)).toEqual([...ids, ...second.ids]);
  });

  test('three nodes: a claim through a follower carries its bodies as stored, which render as the leader\'s listing does', async () => {
    const { c, leader, follower } = await threeNodes(keep);
    const ref = { project: 'p', queue: 'q' };
    const body = { n: [1, 'x'], f: 1.5 };
    await follower.broker.postMessages(ref, { clientId: 'c', messages: [{ body, ttlSeconds: 600, delaySeconds: 0 }] });
    const claim = await follower.broker.createClaim(ref, { limit: 1, ttlSeconds: 60, graceSeconds: 60 });
    const claimed = claim?.messages[0];
    expect(claimed?.body).toBeInstanceOf(Uint8Array);
    expect(claimed === undefined ? undefined : bodyOf(claimed)).toEqual(body);
    const [listed] = await leader.broker.listMessages(ref, listOptions);
    expect(claimed === undefined || listed === undefined ? undefined : JSON.stringify(renderMessage('q', claimed, 0))).toBe(listed === undefined ? '' : JSON.stringify(renderMessage('q', listed, 0)));
  });

  test('three nodes: a sequential post costs each node one log write (a commit index that moved alone is not written)', async () => {
    cluster = new InProcessCluster([1, 2, 3], 1);
    for (const id of [1, 2, 3]) await cluster.open(id);
    const c = cluster;
    const leader = await waitFor('a leader', 10_000, () => c.leaderOf(0));
    const ref = { project: 'p', queue: 'q' };
    const post = (body: string) => leader.broker.postMessages(ref, { clientId: 'c', messages: [{ body, ttlSeconds: 600, delaySeconds: 0 }] });
    // Every replica has applied everything the leader's log holds (so commit-index changes were handled too).
    const settled = () => waitFor('every replica applied the leader\'s log', 10_000, () => {
      const last = leader.logs.group(0 as never)?.status().lastIndex ?? 0;
      return [...c.nodes.values()].every((node) => (node.logs.group(0 as never)?.status().applied ?? -1) >= last) ? true : undefined;
    });
    await post('warm-up');
    await settled();
    const posts = 5;
    const before = [...c.nodes.values()].map((node) => node.logs.stats.flushes);
    for (let i = 0; i < posts; i++) await post(`m${i}`);
    await settled();
    const writes = [...c.nodes.values()].map((node, i) => node.logs.stats.flushes - (before[i] ?? 0));
    // Each post appends one entry everywhere; its commit reaches every replica in a Ready without a write.
    for (const count of writes) expect(count).toBeLessThanOrEqual(posts);
    expect((await leader.broker.listMessages(ref, listOptions)).map(bodyOf)).toEqual(['warm-up', 'm0', 'm1', 'm2', 'm3', 'm4']);
  });

  test('a shard without a majority fails as unavailable within the route wait', async () => {
    cluster = new InProcessCluster([1, 2, 3], 1);
    for (const id of [1, 2, 3]) await cluster.open(id);
    const c = cluster;
    await waitFor('a leader', 10_000, () => c.leaderOf(0));
    await c.close(1);
    await c.close(2);
    const lone = c.nodes.get(3);
    if (lone === undefined) throw new Error('node 3 is not open');
    await expect(lone.broker.postMessages({ project: 'p', queue: 'q' }, { clientId: 'c', messages: [{ body: 'z', ttlSeconds: 600, delaySeconds: 0 }] })).rejects.toMatchObject({ name: 'ShardUnavailableError' });
  });
});
