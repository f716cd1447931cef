/**
 * SIGTERM on a clustered node hands its shards' leadership away before it closes. Three
 * real nodes run four shards; the node leading the most shards gets SIGTERM while a
 * producer keeps posting through another node. The drained node must log that it led no
 * shard when it closed (`isLeadershipTransferred: true`, which the hand-off only
 * reports once this node leads none), the other two must agree on a leader for every
 * shard, and every post acknowledged through the surviving node must be readable.
 */
import { afterAll, beforeAll, expect, test } from 'vitest';
import { ClusterLauncher } from '../support/cluster-launcher.js';

const headers = { 'Client-ID': '3381af92-2b9e-11e3-b191-71861300734c', 'X-Project-Id': 'ops-cluster-drain', 'content-type': 'application/json' };
const shardCount = 4;

let cluster: ClusterLauncher;

beforeAll(async () => {
  cluster = await ClusterLauncher.start({ nodes: 3, shards: shardCount });
}, 120_000);

afterAll(async () => {
  await cluster.stop();
});

function jsonLines(log: string): Record<string, unknown>[] {
  return log.split('\n').filter((line) => line.startsWith('{')).map((line) => JSON.parse(line) as Record<string, unknown>);
}

test('a draining node hands off its leaderships; the others keep every shard led and every acknowledged post', async () => {
  const leaders = await ClusterLauncher.waitFor('a leader for every shard', 60_000, async () => {
    const found = await cluster.leaders();
    return found !== undefined && found.size === shardCount ? found : undefined;
  });
  const ledCount = new Map<number, number>();
  for (const nodeId of leaders.values()) ledCount.set(nodeId, (ledCount.get(nodeId) ?? 0) + 1);
  const [drainedId] = [...ledCount.entries()].sort((a, b) => b[1] - a[1])[0] ?? [];
  if (drainedId === undefined) throw new Error('no leader found');
  const survivor = cluster.running().find((node) => node.id !== drainedId);
  if (survivor === undefined) throw new Error('no other node');

  // A producer posts through a surviving node for the whole drain.
  let isProducing = true;
  const acked: string[] = [];
  const producer = (async () => {
    for (let seq = 0; isProducing && seq < 10_000; seq++) {
      const response = await fetch(`${survivor.url}/v2/queues/drain-${seq % 8}/messages`, {
        method: 'POST', headers, body: JSON.stringify({ messages: [{ body: { seq }, ttl: 3600 }] }),
      }).catch(() => undefined);
      if (response?.status === 201) {
        const { resources } = (await response.json()) as { resources: string[] };
        acked.push(...resources);
      } else {
        await response?.body?.cancel();
      }
    }
  })();

  await cluster.node(drainedId).stop();
  const drained = jsonLines(cluster.node(drainedId).log).find((line) => line['msg'] === 'drained: data flushed and closed');
  expect(drained, cluster.node(drainedId).log).toMatchObject({ isLeadershipTransferred: true, abandonedRequests: 0 });

  const after = await ClusterLauncher.waitFor('the two others agree on a leader for every shard', 60_000, async () => {
    const found = await cluster.leaders();
    return found !== undefined && found.size === shardCount ? found : undefined;
  });
  expect([...after.values()].every((nodeId) => nodeId !== drainedId)).toBe(true);
  isProducing = false;
  await producer;
  expect(acked.length).toBeGreaterThan(0);

  for (let i = 0; i < acked.length; i += 20) {
    const batch = acked.slice(i, i + 20);
    const byQueue = new Map<string, string[]>();
    for (const href of batch) {
      const [, queue = '', , id = ''] = /\/v2\/queues\/([^/]+)\/(messages)\/([^/?]+)/.exec(href) ?? [];
      byQueue.set(queue, [...(byQueue.get(queue) ?? []), id]);
    }
    for (const [queue, ids] of byQueue) {
      const response = await fetch(`${survivor.url}/v2/queues/${queue}/messages?ids=${ids.join(',')}`, { headers });
      expect(response.status).toBe(200);
      const { messages } = (await response.json()) as { messages: { id: string }[] };
      expect(messages.map((m) => m.id).sort()).toEqual([...ids].sort());
    }
  }
}, 240_000);
