/**
 * Placement by flavor (README "Pools and flavors") on a 4-node cluster of real
 * processes (4 hash shards, 3 replicas each). A pool on nodes {3, 4} with 2 replicas
 * owns shard groups whose voters are exactly nodes 3 and 4; a flavor names it and a
 * queue created with `_flavor` lives there: a client talking only to node 1 (which holds
 * no replica of those shards) creates, posts, lists, claims, deletes and reads stats, and
 * other nodes see the same queue, over HTTP and WebSocket. A queue without flavor goes by hash. A second pool of
 * weight 0 on nodes {1, 2} is never chosen. Node 3 restarts and reopens its pool shards.
 * At the end every node's LMDB store is read (the nodes stopped): the flavored queue's
 * messages are on nodes 3 and 4 only, in a pool shard, and the hash shards hold only
 * the binding record naming that shard.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { ShardId } from '../../src/common/ids.js';
import { logEnvFile, openLmdbEnv } from '../../src/log/lmdb/lmdb-env.js';
import { LmdbLogStore } from '../../src/log/lmdb/lmdb-log-store.js';
import { LmdbQueueStore } from '../../src/log/lmdb/lmdb-queue-store.js';
import { adminHeaders, ClusterLauncher, type ClusterReport } from '../support/cluster-launcher.js';
import { ZaqarHttp, type HttpReply } from '../support/zaqar-http.js';
import { exchange, RawWs } from '../ws/raw-ws.js';

const nodeCount = 4;
const shardCount = 4;
const placedShardBase = 1_000_000;
const admin = { headers: { 'X-Roles': 'admin' } };

function poolShards(report: ClusterReport): ClusterReport['shards'] {
  return report.shards.filter((s) => s.shardId >= placedShardBase);
}

function claimIdOf(reply: HttpReply): string {
  const location = reply.headers.get('location') ?? '';
  return location.slice(location.lastIndexOf('/') + 1);
}

describe('placement by flavor', () => {
  let cluster: ClusterLauncher;
  const project = `p-${randomUUID()}`;
  let via1: ZaqarHttp;
  const bodies = Array.from({ length: 6 }, (_, i) => ({ ttl: 300, body: { i } }));

  beforeAll(async () => {
    cluster = await ClusterLauncher.start({ nodes: nodeCount, shards: shardCount, replicas: 3 });
    await ClusterLauncher.waitFor('a leader for every shard', 30_000, async () => ((await cluster.leaders())?.size === shardCount ? true : undefined));
    via1 = new ZaqarHttp(cluster.node(1).url, project);
  });

  afterAll(async () => {
    await cluster?.stop();
  });

  test('pool options are validated: 400 with a JSON error body', async () => {
    const pools = new ZaqarHttp(cluster.node(2).url, adminHeaders['X-Project-ID']);
    const bad: unknown[] = [{ nodes: [9] }, { nodes: [] }, { nodes: [3, 4], replicas: 3 }, { nodes: [3, 4], shards: 0 }, { replicas: 2 }];
    for (const options of bad) {
      const reply = await pools.put('/v2/pools/bad', { json: { uri: 'zaqar-ts://bad', weight: 1, options }, ...admin });
      expect(reply.status, JSON.stringify(options)).toBe(400);
      expect(reply.body, JSON.stringify(options)).toMatchObject({ title: expect.any(String), description: expect.any(String) });
    }
    expect((await pools.get('/v2/pools/bad', admin)).status).toBe(404);
  });

  test('a pool on nodes 3 and 4 owns shard groups whose voters are exactly those nodes', async () => {
    const pools = new ZaqarHttp(cluster.node(2).url, adminHeaders['X-Project-ID']);
    const created = await pools.put('/v2/pools/near', { json: { uri: 'zaqar-ts://near', weight: 5, options: { nodes: [3, 4], replicas: 2 } }, ...admin });
    expect(created.status, created.text).toBe(201);
    const idle = await pools.put('/v2/pools/idle', { json: { uri: 'zaqar-ts://idle', weight: 0, options: { nodes: [1, 2], replicas: 2, shards: 1 } }, ...admin });
    expect(idle.status, idle.text).toBe(201);
    // A placed pool keeps its nodes.
    const moved = await pools.patch('/v2/pools/near', { json: { options: { nodes: [1, 2], replicas: 2 } }, ...admin });
    expect(moved.status).toBe(400);
    expect(moved.body).toMatchObject({ description: expect.stringContaining('cannot change') });

    const reports = await ClusterLauncher.waitFor('leaders for the pool shards', 30_000, async () => {
      const all: ClusterReport[] = [];
      for (const node of cluster.running()) all.push(await cluster.status(node.id));
      const led = all.flatMap((r) => poolShards(r).filter((s) => s.role === 'leader'));
      return led.length === 3 ? all : undefined;
    });
    const near = (reports[2] ?? { shards: [] } as unknown as ClusterReport);
    const nearShards = poolShards(near).map((s) => s.shardId).sort();
    expect(nearShards.length).toBe(2);
    for (const report of reports) {
      const hosted = poolShards(report);
      const hostedNear = hosted.filter((s) => nearShards.includes(s.shardId));
      expect(hostedNear.map((s) => s.shardId).sort(), `near shards on node ${report.nodeId}`).toEqual(report.nodeId >= 3 ? nearShards : []);
      for (const shard of hostedNear) expect([...shard.voters].sort()).toEqual([3, 4]);
      // The weight-0 pool's one shard is on nodes 1 and 2.
      expect(hosted.length - hostedNear.length, `idle shards on node ${report.nodeId}`).toBe(report.nodeId <= 2 ? 1 : 0);
    }
  });

  test('a queue created with _flavor lives on the pool and any node serves it', { timeout: 120_000 }, async () => {
    const flavor = await via1.put('/v2/flavors/fast', { json: { pool_list: ['near', 'idle'] }, ...admin });
    expect(flavor.status, flavor.text).toBe(201);
    const unknown = await via1.put('/v2/queues/nowhere', { json: { _flavor: 'slow' } });
    expect(unknown.status).toBe(400);

    expect((await via1.put('/v2/queues/flavored', { json: { _flavor: 'fast', note: 'n' } })).status).toBe(201);
    expect((await via1.put('/v2/queues/flavored', { json: { _flavor: 'fast' } })).status).toBe(204);
    expect((await via1.put('/v2/queues/plain', { json: {} })).status).toBe(201);
    // More names of the flavor: every one goes to the weighted pool, none to weight 0 (checked in the stores).
    for (let i = 0; i < 8; i++) expect((await via1.put(`/v2/queues/more-${i}`, { json: { _flavor: 'fast' } })).status).toBe(201);

    const ids = await via1.postMessages('flavored', bodies);
    expect(ids.length).toBe(bodies.length);
    const via2 = via1.as(project);
    const node2 = new ZaqarHttp(cluster.node(2).url, project, via1.clientId);
    expect((await node2.get('/v2/queues/flavored')).body).toMatchObject({ _flavor: 'fast', note: 'n' });
    const listedOn2 = await node2.get('/v2/queues/flavored/messages?echo=true&limit=10');
    expect((listedOn2.body as { messages: unknown[] }).messages.length).toBe(bodies.length);

    const claim = await via2.post('/v2/queues/flavored/claims?limit=2', { json: { ttl: 60, grace: 60 } });
    expect(claim.status).toBe(201);
    const claimed = (claim.body as { messages: { id: string }[] }).messages;
    expect(claimed.length).toBe(2);
    const claimId = claimIdOf(claim);
    const held = (await new ZaqarHttp(cluster.node(3).url, project).get(`/v2/queues/flavored/claims/${claimId}`)).body as { messages: { id: string }[] };
    expect(held.messages.map((m) => m.id).sort()).toEqual(claimed.map((m) => m.id).sort());
    for (const message of claimed) {
      expect((await via1.delete(`/v2/queues/flavored/messages/${message.id}?claim_id=${claimId}`)).status).toBe(204);
    }
    const stats = await new ZaqarHttp(cluster.node(4).url, project).get('/v2/queues/flavored/stats');
    expect(stats.body).toMatchObject({ messages: { total: bodies.length - 2, claimed: 0, free: bodies.length - 2 } });

    // A message dead-lettered from a queue placed by hash into a flavored one lands on the pool.
    await via1.put('/v2/queues/poisoned', { json: { _max_claim_count: 1, _dead_letter_queue: 'more-1' } });
    const [poison] = await via1.postMessages('poisoned', [{ body: 'poison', ttl: 300 }]);
    const first = await via1.post('/v2/queues/poisoned/claims', { json: { ttl: 300, grace: 60 } });
    expect((await via1.delete(`/v2/queues/poisoned/claims/${claimIdOf(first)}`)).status).toBe(204);
    expect((await via1.post('/v2/queues/poisoned/claims', { json: { ttl: 300, grace: 60 } })).status).toBe(204);
    const dead = (await node2.get('/v2/queues/more-1/messages?echo=true')).body as { messages: { id: string; body: unknown }[] };
    expect(dead.messages.map((m) => [m.id, m.body])).toEqual([[poison, 'poison']]);

    const listed = (await node2.get('/v2/queues?limit=20')).body as { queues: { name: string }[] };
    expect(listed.queues.map((q) => q.name).sort()).toEqual(['flavored', 'plain', 'poisoned', ...Array.from({ length: 8 }, (_, i) => `more-${i}`)].sort());

    // Deleted, then re-created by a post through another node: still on the pool.
    expect((await node2.delete('/v2/queues/more-0')).status).toBe(204);
    expect((await via1.get('/v2/queues/more-0')).body).not.toHaveProperty('_flavor');
    expect((await via1.get('/v2/queues/more-0/stats')).body).toMatchObject({ messages: { total: 0 } });
    await via1.postMessages('more-0', [{ ttl: 300, body: 'again' }]);
  });

  test('over WebSocket too: a flavored queue created and written through node 2 is on the pool', async () => {
    const ws = await RawWs.open(`${cluster.node(2).url.replace('http:', 'ws:')}/`);
    try {
      const headers = { 'Client-ID': via1.clientId, 'X-Project-ID': project };
      const call = async (action: string, body: Record<string, unknown>) =>
        (await exchange(ws, { action, headers, body }, 'json')).document as { headers: { status: number }; body: unknown };
      expect((await call('queue_create', { queue_name: 'ws-flavored', metadata: { _flavor: 'fast' } })).headers.status).toBe(201);
      expect((await call('message_post', { queue_name: 'ws-flavored', messages: [{ ttl: 300, body: 1 }, { ttl: 300, body: 2 }] })).headers.status).toBe(201);
      expect((await call('queue_get_stats', { queue_name: 'ws-flavored' })).body).toMatchObject({ messages: { total: 2 } });
    } finally {
      await ws.close();
    }
    const listed = (await via1.get('/v2/queues/ws-flavored/messages?echo=true')).body as { messages: { body: unknown }[] };
    expect(listed.messages.map((m) => m.body)).toEqual([1, 2]);
  });

  test('a restarted pool node reopens its pool shards and the queue is still served', { timeout: 120_000 }, async () => {
    await cluster.node(3).stop();
    await cluster.node(3).start();
    await ClusterLauncher.waitFor('node 3 to host its pool shards again', 30_000, async () => {
      const shards = poolShards(await cluster.status(3));
      return shards.length === 2 && shards.every((s) => s.leader !== 0) ? true : undefined;
    });
    const listed = await via1.get('/v2/queues/flavored/messages?echo=true&limit=10');
    expect((listed.body as { messages: unknown[] }).messages.length).toBe(bodies.length - 2);
  });

  test('the stores: flavored queues on nodes 3 and 4 only, in pool shards; the hash shards hold only bindings', { timeout: 60_000 }, async () => {
    // Every replica applied every write before the nodes stop.
    await ClusterLauncher.waitFor('replicas to converge', 30_000, async () => {
      for (const node of cluster.running()) {
        for (const shard of (await cluster.status(node.id)).shards) if (shard.applied < shard.commit || shard.leader === 0) return undefined;
      }
      return true;
    });
    const pools = new ZaqarHttp(cluster.node(1).url, adminHeaders['X-Project-ID']);
    const near = (await pools.get('/v2/pools/near?detailed=true', admin)).body as { options: unknown };
    expect(near.options).toEqual({ nodes: [3, 4], replicas: 2 });
    for (const node of cluster.nodes) await node.stop();

    const flavoredNames = ['flavored', 'ws-flavored', ...Array.from({ length: 8 }, (_, i) => `more-${i}`)];
    const bound = new Set<string>();
    for (const node of cluster.nodes) {
      const env = openLmdbEnv(node.dataDir);
      const logEnv = openLmdbEnv(node.dataDir, { file: logEnvFile });
      try {
        const queues = new LmdbQueueStore(env);
        const placedShards = new LmdbLogStore(logEnv).storedGroups(placedShardBase as ShardId);
        const inPool = new Map<string, number>();
        for (const shardId of placedShards) {
          for (const { project: p, name } of queues.allQueues(shardId)) {
            if (p !== project) continue;
            const messages = [...queues.messages({ shardId, project: p, queue: name }, 0)].length;
            inPool.set(name, messages);
          }
        }
        const inHash: string[] = [];
        const bindings: string[] = [];
        for (let shard = 0; shard < shardCount; shard++) {
          for (const { project: p, name } of queues.allQueues(shard as ShardId)) {
            if (p === project) inHash.push(name);
            if (p === `${project}\n#placed`) bindings.push(name);
          }
        }
        if (node.id >= 3) {
          expect([...inPool.keys()].sort(), `pool queues on node ${node.id}`).toEqual(flavoredNames.sort());
          expect(inPool.get('flavored')).toBe(bodies.length - 2);
          expect(inPool.get('more-0')).toBe(1);
          expect(inPool.get('more-1')).toBe(1);
          expect(inPool.get('ws-flavored')).toBe(2);
        } else {
          // Nodes 1 and 2 hold only the weight-0 pool's shard: no queue of the project there.
          expect(inPool.size, `pool queues on node ${node.id}`).toBe(0);
        }
        // Nodes hold 3 of the 4 hash shards each; whatever they hold has the queues without flavor at most.
        expect(inHash.every((name) => name === 'plain' || name === 'poisoned'), `hash shard queues on node ${node.id}: ${inHash.join(',')}`).toBe(true);
        for (const name of bindings) bound.add(name);
      } finally {
        await Promise.all([env.close(), logEnv.close()]);
      }
    }
    // Every flavored name is bound in its hash shard, and nothing else is.
    expect([...bound].sort()).toEqual([...flavoredNames].sort());
  });
});
