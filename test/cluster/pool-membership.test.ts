/**
 * Pools and membership changes (README "Pools and flavors") on a 4-node cluster of real
 * processes (4 hash shards, 3 replicas each). A pool on nodes {2, 3, 4} with 2 replicas
 * owns 2 shards, voters {2, 3} and {3, 4}; a flavored queue holds messages there.
 *
 *  - A pool creation that fails because a pool node is down (503) is retried once the
 *    node is back, and the retry reuses the shard ids the failure reserved: the pools'
 *    shard ids stay contiguous.
 *  - Removing node 3 (a replica of both pool shards) re-homes its replicas onto the
 *    pool's other nodes: each pool shard has 2 voters again, both of {2, 4}, GET pool
 *    reports them and not degraded, and every message of the flavored queue is there.
 *  - Removing node 2 then leaves the pool one node: its shards keep running on node 4
 *    alone, GET pool says degraded and so does the detailed health report, and the
 *    messages are still there.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { adminHeaders, ClusterLauncher } from '../support/cluster-launcher.js';
import { ZaqarHttp } from '../support/zaqar-http.js';

const shardCount = 4;
const placedShardBase = 1_000_000;
const admin = { headers: { 'X-Roles': 'admin' } };
const changeTimeoutMs = 180_000;

interface PoolShard { id: number; replicas: number[]; degraded: boolean }
interface DegradedShard { id: number; pool: string; replicas: number[]; width: number }

describe('pool shards follow membership changes', () => {
  let cluster: ClusterLauncher;
  const project = `p-${randomUUID()}`;
  let via1: ZaqarHttp;
  let pools: ZaqarHttp;
  const bodies = Array.from({ length: 10 }, (_, i) => ({ ttl: 3600, body: { i } }));

  beforeAll(async () => {
    cluster = await ClusterLauncher.start({ nodes: 4, shards: shardCount, replicas: 3 });
    await ClusterLauncher.waitFor('a leader for every shard', 30_000, async () => ((await cluster.leaders())?.size === shardCount ? true : undefined));
    via1 = new ZaqarHttp(cluster.node(1).url, project);
    pools = new ZaqarHttp(cluster.node(1).url, adminHeaders['X-Project-ID']);
  });

  afterAll(async () => {
    await cluster?.stop();
  });

  async function change(via: number, method: 'PUT' | 'DELETE', nodeId: number): Promise<number> {
    const response = await fetch(`${cluster.node(via).url}/v2/cluster/nodes/${nodeId}`, { method, headers: adminHeaders, signal: AbortSignal.timeout(changeTimeoutMs) });
    return response.status;
  }

  async function shardsOf(pool: string): Promise<PoolShard[]> {
    const reply = await pools.get(`/v2/pools/${pool}?detailed=true`, admin);
    expect(reply.status, reply.text).toBe(200);
    return (reply.body as { shards: PoolShard[] }).shards;
  }

  /** The degraded pool shards in node 1's detailed health report. */
  async function healthDegraded(): Promise<DegradedShard[]> {
    const reply = await pools.get('/v2/health', admin);
    expect(reply.status, reply.text).toBe(200);
    return (reply.body as { cluster: { degraded_pool_shards: DegradedShard[] } }).cluster.degraded_pool_shards;
  }

  /** The pool shard's voters as its leader reports them (undefined while it has none). */
  async function leaderVoters(shardId: number): Promise<number[] | undefined> {
    for (const node of cluster.running()) {
      const shard = (await cluster.status(node.id)).shards.find((s) => s.shardId === shardId && s.role === 'leader');
      if (shard !== undefined) return [...shard.voters].sort((a, b) => a - b);
    }
    return undefined;
  }

  async function messageCount(): Promise<number> {
    const listed = await via1.get('/v2/queues/flavored/messages?echo=true&limit=20');
    return ((listed.body as { messages?: unknown[] } | undefined)?.messages ?? []).length;
  }

  test('a pool creation failed on a down node is retried with the shard ids it reserved', { timeout: 120_000 }, async () => {
    await cluster.node(4).stop();
    const failed = await pools.put('/v2/pools/late', { json: { uri: 'zaqar-ts://late', weight: 0, options: { nodes: [1, 4], replicas: 2, shards: 2 } }, ...admin });
    expect(failed.status, failed.text).toBe(503);
    expect(failed.body).toMatchObject({ title: expect.any(String), description: expect.any(String) });
    await cluster.node(4).start();
    await ClusterLauncher.waitFor('a leader for every shard', 30_000, async () => ((await cluster.leaders())?.size === shardCount ? true : undefined));
    // Retried as a client does on 503 (node 1 reconnects to node 4 with a back-off); every 503 reserves nothing new.
    const retried = await ClusterLauncher.waitFor('the retried pool creation', 30_000, async () => {
      const reply = await pools.put('/v2/pools/late', { json: { uri: 'zaqar-ts://late', weight: 0, options: { nodes: [1, 4], replicas: 2, shards: 2 } }, ...admin });
      return reply.status === 503 ? undefined : reply;
    });
    expect(retried.status, retried.text).toBe(201);
    expect((await shardsOf('late')).map((s) => s.id)).toEqual([placedShardBase, placedShardBase + 1]);
  });

  test('a pool on nodes 2, 3 and 4 holds a flavored queue', { timeout: 120_000 }, async () => {
    const created = await pools.put('/v2/pools/main', { json: { uri: 'zaqar-ts://main', weight: 1, options: { nodes: [2, 3, 4], replicas: 2 } }, ...admin });
    expect(created.status, created.text).toBe(201);
    const shards = await shardsOf('main');
    // Contiguous after the retried pool's: the failure reserved nothing extra.
    expect(shards.map((s) => s.id)).toEqual([placedShardBase + 2, placedShardBase + 3]);
    expect(shards.map((s) => s.replicas)).toEqual([[2, 3], [3, 4]]);
    expect(shards.every((s) => !s.degraded)).toBe(true);
    expect((await via1.put('/v2/flavors/fast', { json: { pool_list: ['main'] }, ...admin })).status).toBe(201);
    expect((await via1.put('/v2/queues/flavored', { json: { _flavor: 'fast' } })).status).toBe(201);
    expect((await via1.postMessages('flavored', bodies)).length).toBe(bodies.length);
    expect(await messageCount()).toBe(bodies.length);
  });

  test('removing node 3 re-homes its pool replicas onto nodes 2 and 4', { timeout: 300_000 }, async () => {
    expect(await change(1, 'DELETE', 3)).toBe(204);
    await cluster.node(3).stop();
    const shards = await shardsOf('main');
    expect(shards.map((s) => [...s.replicas].sort((a, b) => a - b))).toEqual([[2, 4], [2, 4]]);
    expect(shards.every((s) => !s.degraded)).toBe(true);
    expect(await healthDegraded()).toEqual([]);
    for (const shard of shards) {
      await ClusterLauncher.waitFor(`voters {2,4} on shard ${shard.id}`, 30_000, async () => ((await leaderVoters(shard.id))?.join() === '2,4' ? true : undefined));
    }
    expect(await messageCount()).toBe(bodies.length);
  });

  test('removing node 2 leaves the pool one node: its shards run degraded on node 4', { timeout: 300_000 }, async () => {
    expect(await change(1, 'DELETE', 2)).toBe(204);
    await cluster.node(2).stop();
    const shards = await shardsOf('main');
    expect(shards.map((s) => s.replicas)).toEqual([[4], [4]]);
    expect(shards.every((s) => s.degraded)).toBe(true);
    expect(await healthDegraded()).toEqual(shards.map((s) => ({ id: s.id, pool: 'main', replicas: [4], width: 2 })));
    for (const shard of shards) {
      await ClusterLauncher.waitFor(`voters {4} on shard ${shard.id}`, 30_000, async () => ((await leaderVoters(shard.id))?.join() === '4' ? true : undefined));
    }
    expect(await messageCount()).toBe(bodies.length);
    expect((await via1.postMessages('flavored', [{ ttl: 60, body: 'after' }])).length).toBe(1);
  });
});
