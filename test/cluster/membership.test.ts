/**
 * Membership changes of a running cluster under a steady produce/claim/delete load:
 * nodes 1-3 form the cluster, node 4 (already in everyone's address book) starts empty
 * and is added through `PUT /v2/cluster/nodes/4`, then node 1 is removed through
 * `DELETE /v2/cluster/nodes/1` and stopped. Proves that every shard ends with voters
 * {2, 3, 4} and a leader, that leaders are spread onto the new node, that every message
 * acknowledged with 201 was delivered or is still stored, that no message was in two
 * claims, and that the remaining replicas converge.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { adminHeaders, ClusterLauncher } from '../support/cluster-launcher.js';
import { allReplicasConverge } from './support/converge.js';
import { ClusterLoad, pause } from './support/load.js';

const shardCount = 4;
const changeTimeoutMs = 120_000;

describe('adding and removing a node while serving', () => {
  let cluster: ClusterLauncher;
  let load: ClusterLoad | undefined;

  beforeAll(async () => {
    cluster = await ClusterLauncher.start({ nodes: 4, shards: shardCount, initialMembers: [1, 2, 3], startNodes: [1, 2, 3] });
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

  test('node 4 joins, node 1 leaves, nothing is lost and shards are rebalanced', { timeout: 240_000 }, async () => {
    const running = new ClusterLoad(cluster, shardCount);
    load = running;
    await running.start({ producers: 3, consumers: 2 });
    await pause(1_000);

    await cluster.node(4).start();
    const addStartMs = Date.now();
    expect(await change(1, 'PUT', 4)).toBe(204);
    console.log(`node 4 added to ${shardCount} shards in ${Date.now() - addStartMs} ms`);
    await ClusterLauncher.waitFor('node 4 to see itself a voter of every shard', 10_000, async () => {
      const shards = (await cluster.status(4)).shards;
      return shards.length === shardCount && shards.every((shard) => [...shard.voters].sort().join() === '1,2,3,4') ? true : undefined;
    });

    const removeStartMs = Date.now();
    expect(await change(2, 'DELETE', 1)).toBe(204);
    console.log(`node 1 removed from ${shardCount} shards in ${Date.now() - removeStartMs} ms`);
    await cluster.node(1).stop();

    await ClusterLauncher.waitFor('voters {2,3,4} and a leader on every shard', 30_000, async () => {
      for (const node of cluster.running()) {
        for (const shard of (await cluster.status(node.id)).shards) {
          if ([...shard.voters].sort().join() !== '2,3,4' || shard.leader === 0 || shard.leader === 1) return undefined;
        }
      }
      return true;
    });
    const leaders = await ClusterLauncher.waitFor('node 4 to lead a shard', 30_000, async () => {
      const found = await cluster.leaders();
      return [...(found?.values() ?? [])].includes(4) ? found : undefined;
    });
    console.log(`leaders after rebalancing: ${JSON.stringify(Object.fromEntries(leaders))}`);
    await pause(1_000);
    await running.stop();
    console.log(`load: ${running.acked.size} messages acknowledged, ${running.claimsOf.size} claimed; replies ${JSON.stringify(Object.fromEntries(running.statusCounts))}`);

    expect(running.doublyClaimed()).toEqual([]);
    const remaining = await running.remaining();
    expect([...running.acked].filter((id) => !running.claimsOf.has(id) && !remaining.has(id))).toEqual([]);
    expect(running.acked.size).toBeGreaterThan(0);
    await allReplicasConverge(cluster);
  });
});
