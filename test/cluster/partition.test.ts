/**
 * A network partition of a 3-node cluster through fault-injecting TCP proxies between
 * the nodes' cluster (Raft + forwarding gRPC) ports: node 3 is cut off from nodes 1
 * and 2. Proves that the minority node answers 503 with a Zaqar error body and a
 * Retry-After header within a bounded time (printed) for writes and reads, that the
 * majority keeps serving every shard, and that after healing every replica converges
 * and every node lists the same messages.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ClusterLauncher } from '../support/cluster-launcher.js';
import { ZaqarHttp } from '../support/zaqar-http.js';
import { allReplicasConverge } from './support/converge.js';
import { queuesCoveringShards } from './support/load.js';

const shardCount = 4;
const unavailableBoundMs = 10_000;

describe('3-node cluster, node 3 partitioned away', () => {
  let cluster: ClusterLauncher;

  beforeAll(async () => {
    cluster = await ClusterLauncher.start({ nodes: 3, shards: shardCount, isProxied: true });
    await ClusterLauncher.waitFor('a leader for every shard', 30_000, async () => ((await cluster.leaders())?.size === shardCount ? true : undefined));
  });

  afterAll(async () => {
    await cluster?.stop();
  });

  test('minority answers 503 fast, majority serves, replicas converge after healing', async () => {
    const project = `partition-${randomUUID()}`;
    const queues = queuesCoveringShards(project, shardCount, 1);
    const http = (id: number): ZaqarHttp => new ZaqarHttp(cluster.node(id).url, project, '3fa85f64-5717-4562-b3fc-2c963f66afa6');
    for (const { name } of queues) await http(1).postMessages(name, [{ body: 'before', ttl: 3600 }]);

    cluster.partition([3]);
    for (const { name } of queues) {
      const startMs = Date.now();
      const write = await http(3).post(`/v2/queues/${name}/messages`, { json: { messages: [{ body: 'minority', ttl: 3600 }] } });
      const writeMs = Date.now() - startMs;
      const read = await http(3).get(`/v2/queues/${name}/messages?echo=true`);
      const readMs = Date.now() - startMs - writeMs;
      console.log(`queue ${name}: minority write ${write.status} after ${writeMs} ms, read ${read.status} after ${readMs} ms`);
      for (const [reply, ms] of [[write, writeMs], [read, readMs]] as const) {
        expect(reply.status).toBe(503);
        expect(reply.headers.get('retry-after')).toMatch(/^\d+$/);
        expect((reply.body as { title?: string }).title).toBeTruthy();
        expect(ms).toBeLessThan(unavailableBoundMs);
      }
    }

    for (const { name } of queues) {
      for (const id of [1, 2]) {
        await ClusterLauncher.waitFor(`majority node ${id} to accept a post to ${name}`, 20_000, async () => {
          const reply = await http(id).post(`/v2/queues/${name}/messages`, { json: { messages: [{ body: `majority-${id}`, ttl: 3600 }] } });
          return reply.status === 201 ? true : undefined;
        });
      }
    }

    cluster.heal();
    await allReplicasConverge(cluster);
    for (const { name } of queues) {
      const listings = await Promise.all([1, 2, 3].map(async (id) => {
        const reply = await http(id).get(`/v2/queues/${name}/messages?echo=true&limit=20`);
        expect(reply.status).toBe(200);
        return (reply.body as { messages: { id: string }[] }).messages.map((m) => m.id).sort();
      }));
      expect(listings[0]?.length).toBeGreaterThanOrEqual(3);
      expect(listings[1]).toEqual(listings[0]);
      expect(listings[2]).toEqual(listings[0]);
    }
  });
});
