/**
 * Membership changes as replica rebalancing, on a running cluster of real processes
 * under a steady produce/claim/delete load: nodes 1-3 form a cluster with 3 replicas
 * per shard, node 4 (already in everyone's address book) starts hosting nothing and is
 * added through `PUT /v2/cluster/nodes/4`, then node 1 is removed through
 * `DELETE /v2/cluster/nodes/1` and stopped. Proves that after the add every shard has
 * exactly 3 voters and the 12 replicas are spread evenly (node 4 holds its share, loads
 * differ by at most one) and the leader balancer moves some shard's leadership to node 4; after the removal every shard has 3 voters among {2, 3, 4}
 * and a leader, and leaders are even over those nodes (lead counts differ by at most one); node 2 is then removed while it is down (every shard keeps voters
 * {3, 4}), and once restarted it learns it was removed and drops its replicas; the Raft
 * and queue state of every shard nodes 1 and 2 left is deleted from their LMDB
 * environments; every message acknowledged with 201 was delivered or is still
 * stored, no message was in two claims, and each shard's replicas converge.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { ShardId } from '../../src/common/ids.js';
import { openLmdbEnv } from '../../src/log/lmdb/lmdb-env.js';
import { LmdbLogStore } from '../../src/log/lmdb/lmdb-log-store.js';
import { LmdbQueueStore } from '../../src/log/lmdb/lmdb-queue-store.js';
import { adminHeaders, ClusterLauncher } from '../support/cluster-launcher.js';
import { allReplicasConverge } from './support/converge.js';
import { ClusterLoad, pause } from './support/load.js';

const shardCount = 4;
const replicas = 3;
const changeTimeoutMs = 120_000;

describe('adding and removing a node while serving rebalances the replicas', () => {
  let cluster: ClusterLauncher;
  let load: ClusterLoad | undefined;

  beforeAll(async () => {
    cluster = await ClusterLauncher.start({ nodes: 4, shards: shardCount, replicas, initialMembers: [1, 2, 3], startNodes: [1, 2, 3] });
    await ClusterLauncher.waitFor('a leader for every shard', 30_000, async () => ((await cluster.leaders())?.size === shardCount ? true : undefined));
  });

  afterAll(async () => {
    await load?.stop();
    await cluster?.stop();
  });

  async function change(via: number, method: 'PUT' | 'DELETE', nodeId: number): Promise<number> {
    const response = await fetch(`${cluster.node(via).url}/v2/cluster/nodes/${nodeId}`, { method, headers: adminHeaders, signal: AbortSignal.timeout(changeTimeoutMs) });
    return response.status;
  }

  /** Each shard's voters as its leader reports them, and how many replicas each running node hosts. */
  async function placement(): Promise<{ voters: Map<number, number[]>; hosted: Map<number, number> }> {
    const voters = new Map<number, number[]>();
    const hosted = new Map<number, number>();
    for (const node of cluster.running()) {
      const shards = (await cluster.status(node.id)).shards;
      hosted.set(node.id, shards.length);
      for (const shard of shards) if (shard.role === 'leader') voters.set(shard.shardId, [...shard.voters].sort((a, b) => a - b));
    }
    return { voters, hosted };
  }

  test('node 4 takes its share of the replicas, nodes 1 and 2 hand theirs over, nothing is lost', { timeout: 300_000 }, async () => {
    const running = new ClusterLoad(cluster, shardCount);
    load = running;
    await running.start({ producers: 3, consumers: 2 });
    await pause(1_000);

    await cluster.node(4).start();
    const addStartMs = Date.now();
    expect(await change(1, 'PUT', 4)).toBe(204);
    console.log(`node 4 added in ${Date.now() - addStartMs} ms`);
    const afterAdd = await ClusterLauncher.waitFor('3 voters per shard and every node hosting 3 replicas', 30_000, async () => {
      const found = await placement();
      const isSettled = found.voters.size === shardCount && [...found.voters.values()].every((v) => v.length === replicas)
        && [...found.hosted.values()].every((count) => count === (shardCount * replicas) / 4);
      return isSettled ? found : undefined;
    });
    console.log(`after adding node 4: ${JSON.stringify(Object.fromEntries(afterAdd.voters))}`);
    const loads = [1, 2, 3, 4].map((id) => [...afterAdd.voters.values()].filter((v) => v.includes(id)).length);
    expect(Math.max(...loads) - Math.min(...loads)).toBeLessThanOrEqual(1);
    // The balancer hands each shard to its preferred voter, which for some shard is now node 4.
    const leadersWithNode4 = await ClusterLauncher.waitFor('node 4 to lead a shard', 30_000, async () => {
      const leaders = await cluster.leaders();
      return leaders !== undefined && [...leaders.values()].includes(4) ? leaders : undefined;
    });
    console.log(`leaders after adding node 4: ${JSON.stringify(Object.fromEntries(leadersWithNode4))}`);

    const removeStartMs = Date.now();
    expect(await change(2, 'DELETE', 1)).toBe(204);
    console.log(`node 1 removed in ${Date.now() - removeStartMs} ms`);
    await ClusterLauncher.waitFor('node 1 to host no replica', 30_000, async () => ((await cluster.status(1)).shards.length === 0 ? true : undefined));
    await cluster.node(1).stop();

    const afterRemove = await ClusterLauncher.waitFor('voters {2,3,4} and a leader on every shard', 30_000, async () => {
      const found = await placement();
      return found.voters.size === shardCount && [...found.voters.values()].every((v) => v.join() === '2,3,4') ? found : undefined;
    });
    console.log(`after removing node 1: ${JSON.stringify(Object.fromEntries(afterRemove.voters))}`);
    // The balancer hands each shard to its preferred voter: leaders end up even over {2, 3, 4}.
    const spreadLeaders = await ClusterLauncher.waitFor('leaders spread evenly over nodes 2, 3 and 4', 30_000, async () => {
      const leaders = await cluster.leaders();
      if (leaders?.size !== shardCount) return undefined;
      const counts = [2, 3, 4].map((id) => [...leaders.values()].filter((leader) => leader === id).length);
      return Math.max(...counts) - Math.min(...counts) <= 1 ? leaders : undefined;
    });
    console.log(`leaders after removing node 1: ${JSON.stringify(Object.fromEntries(spreadLeaders))}`);

    // Node 2 is down while it is removed: it never hears of it until it restarts and asks.
    await cluster.node(2).stop();
    expect(await change(3, 'DELETE', 2)).toBe(204);
    await ClusterLauncher.waitFor('voters {3,4} on every shard', 30_000, async () => {
      const found = await placement();
      return found.voters.size === shardCount && [...found.voters.values()].every((v) => v.join() === '3,4') ? true : undefined;
    });
    await cluster.node(2).start();
    await ClusterLauncher.waitFor('restarted node 2 to drop the replicas it was removed from', 30_000, async () => ((await cluster.status(2)).shards.length === 0 ? true : undefined));
    await pause(1_000);
    await running.stop();
    console.log(`load: ${running.acked.size} messages acknowledged, ${running.claimsOf.size} claimed; replies ${JSON.stringify(Object.fromEntries(running.statusCounts))}`);

    expect(running.doublyClaimed()).toEqual([]);
    const remaining = await running.remaining();
    expect([...running.acked].filter((id) => !running.claimsOf.has(id) && !remaining.has(id))).toEqual([]);
    expect(running.acked.size).toBeGreaterThan(0);
    await allReplicasConverge(cluster);
    await cluster.node(2).stop();
    for (const id of [1, 2]) await expectNoShardState(cluster.node(id).dataDir);
  });
});

/** The stopped node's LMDB environment holds no Raft state and no queue of any shard. */
async function expectNoShardState(dataDir: string): Promise<void> {
  const env = openLmdbEnv(dataDir);
  try {
    const logStore = new LmdbLogStore(env);
    const queueStore = new LmdbQueueStore(env);
    for (let shard = 0; shard < shardCount; shard++) {
      const shardId = shard as ShardId;
      const state = logStore.load(shardId);
      expect({ shard, lastIndex: state.lastIndex, term: state.hardState.term, snapshot: state.snapshotMeta }).toEqual({ shard, lastIndex: 0, term: 0, snapshot: undefined });
      expect([...queueStore.allQueues(shardId)]).toEqual([]);
      expect([...queueStore.outbox(shardId)]).toEqual([]);
    }
  } finally {
    await env.close();
  }
}
