/**
 * Shards with fewer replicas than nodes: a 4-node cluster of real processes started with
 * `--replicas 3` and 4 shards. Proves that every shard's group has exactly 3 voters and
 * every node hosts exactly 3 shards (the round-robin placement), and that a client
 * talking only to node 1 uses queues on the one shard node 1 does not host exactly as
 * on a replica: create, metadata, post, list, get, claim, get claim, delete, stats,
 * subscriptions, dead-lettering into a queue of another shard, and queue listing over
 * every shard. Then the leader of that shard is killed (`kill -9`) and the same client,
 * still on node 1, keeps working once the shard's two other replicas elect a new one.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ClusterLauncher, type ClusterReport } from '../support/cluster-launcher.js';
import { ZaqarHttp, type HttpReply } from '../support/zaqar-http.js';
import { shardOf } from './support/load.js';

const nodeCount = 4;
const shardCount = 4;
const replicas = 3;
const via = 1;

interface Message {
  readonly id: string;
  readonly body: unknown;
}

/** Queue names of `project` on `shard`. */
function queuesOn(project: string, shard: number, count: number): string[] {
  const names: string[] = [];
  for (let i = 0; names.length < count; i++) if (shardOf(project, `q-${i}`, shardCount) === shard) names.push(`q-${i}`);
  return names;
}

function claimIdOf(reply: HttpReply): string {
  const location = reply.headers.get('location') ?? '';
  return location.slice(location.lastIndexOf('/') + 1);
}

describe(`${nodeCount} nodes, ${replicas} replicas per shard`, () => {
  let cluster: ClusterLauncher;
  /** Which nodes host each shard, from every node's own report. */
  const hosts = new Map<number, number[]>();

  beforeAll(async () => {
    cluster = await ClusterLauncher.start({ nodes: nodeCount, shards: shardCount, replicas });
    await ClusterLauncher.waitFor('a leader for every shard', 30_000, async () => ((await cluster.leaders())?.size === shardCount ? true : undefined));
  });

  afterAll(async () => {
    await cluster?.stop();
  });

  test('every shard has exactly 3 voters and every node hosts 3 shards', async () => {
    const reports: ClusterReport[] = [];
    for (const node of cluster.running()) reports.push(await cluster.status(node.id));
    for (const report of reports) {
      expect(report.shards.length, `shards hosted by node ${report.nodeId}`).toBe(replicas);
      for (const shard of report.shards) {
        expect(shard.voters.length, `voters of shard ${shard.shardId}`).toBe(replicas);
        expect(shard.voters).toContain(report.nodeId);
        hosts.set(shard.shardId, [...(hosts.get(shard.shardId) ?? []), report.nodeId]);
      }
    }
    expect([...hosts.keys()].sort()).toEqual([0, 1, 2, 3]);
    for (const [shardId, nodes] of hosts) expect(nodes.length, `replicas of shard ${shardId}`).toBe(replicas);
  });

  test('a node serves queues of the shard it does not host, before and after that shard loses its leader', { timeout: 120_000 }, async () => {
    const remoteShard = [...hosts].find(([, nodes]) => !nodes.includes(via))?.[0];
    if (remoteShard === undefined) throw new Error(`node ${via} hosts every shard`);
    const zaqar = new ZaqarHttp(cluster.node(via).url, `p-${randomUUID()}`);
    const [queue, dlq, later] = queuesOn(zaqar.project, remoteShard, 3) as [string, string, string];
    const elsewhere = queuesOn(zaqar.project, (remoteShard + 1) % shardCount, 1)[0] ?? '';

    await exerciseQueue(zaqar, queue, elsewhere);
    await deadLetterAcrossShards(zaqar, { source: dlq, target: elsewhere });
    const listed = (await zaqar.get('/v2/queues?limit=20')).body as { queues: { name: string }[] };
    expect(listed.queues.map((q) => q.name).sort()).toEqual([queue, dlq, elsewhere].sort());

    const leader = await cluster.leaderOf(remoteShard);
    if (leader === via) throw new Error(`shard ${remoteShard} led by ${leader}`);
    await cluster.node(leader).crash();
    await ClusterLauncher.waitFor(`a new leader of shard ${remoteShard}`, 30_000, async () => {
      for (const node of cluster.running()) {
        const shard = (await cluster.status(node.id)).shards.find((s) => s.shardId === remoteShard);
        if (shard?.role === 'leader') return true;
      }
      return undefined;
    });
    await exerciseQueue(zaqar, later, elsewhere);
  });
});

/** Every queue operation through one node, checked against what a replica would answer. */
async function exerciseQueue(zaqar: ZaqarHttp, queue: string, elsewhere: string): Promise<void> {
  expect((await zaqar.put(`/v2/queues/${queue}`, { json: { colour: 'blue' } })).status).toBe(201);
  expect((await zaqar.put(`/v2/queues/${elsewhere}`)).status).toBeLessThan(300);
  expect((await zaqar.get(`/v2/queues/${queue}`)).body).toMatchObject({ colour: 'blue' });

  const ids = await zaqar.postMessages(queue, [{ body: 'one', ttl: 300 }, { body: 'two', ttl: 300 }, { body: 'three', ttl: 300 }]);
  expect(ids.length).toBe(3);
  const listed = (await zaqar.get(`/v2/queues/${queue}/messages?echo=true`)).body as { messages: Message[] };
  expect(listed.messages.map((m) => m.body)).toEqual(['one', 'two', 'three']);
  const one = (await zaqar.get(`/v2/queues/${queue}/messages/${ids[0]}`)).body as Message;
  expect(one.body).toBe('one');
  const some = (await zaqar.get(`/v2/queues/${queue}/messages?ids=${ids.slice(1).join(',')}`)).body as { messages: Message[] };
  expect(some.messages.map((m) => m.body).sort()).toEqual(['three', 'two']);

  const claim = await zaqar.post(`/v2/queues/${queue}/claims?limit=2`, { json: { ttl: 300, grace: 60 } });
  expect(claim.status).toBe(201);
  const claimed = (claim.body as { messages: Message[] }).messages;
  expect(claimed.length).toBe(2);
  const claimId = claimIdOf(claim);
  const held = (await zaqar.get(`/v2/queues/${queue}/claims/${claimId}`)).body as { messages: Message[] };
  expect(held.messages.map((m) => m.id).sort()).toEqual(claimed.map((m) => m.id).sort());
  expect((await zaqar.get(`/v2/queues/${queue}/stats`)).body).toMatchObject({ messages: { claimed: 2, free: 1, total: 3 } });

  const first = claimed[0];
  if (first === undefined) throw new Error('no claimed message');
  expect((await zaqar.delete(`/v2/queues/${queue}/messages/${first.id}?claim_id=${claimId}`)).status).toBe(204);
  expect((await zaqar.get(`/v2/queues/${queue}/messages/${first.id}`)).status).toBe(404);
  expect((await zaqar.get(`/v2/queues/${queue}/stats`)).body).toMatchObject({ messages: { claimed: 1, free: 1, total: 2 } });

  const subscribed = await zaqar.post(`/v2/queues/${queue}/subscriptions`, { json: { subscriber: 'http://127.0.0.1:9/hook', ttl: 3600 } });
  expect(subscribed.status).toBe(201);
  const subscriptions = (await zaqar.get(`/v2/queues/${queue}/subscriptions`)).body as { subscriptions: { subscriber: string }[] };
  expect(subscriptions.subscriptions.map((s) => s.subscriber)).toEqual(['http://127.0.0.1:9/hook']);
}

/** A message claimed past `_max_claim_count` moves to a dead-letter queue on another shard, and a read right after sees it. */
async function deadLetterAcrossShards(zaqar: ZaqarHttp, queues: { source: string; target: string }): Promise<void> {
  await zaqar.put(`/v2/queues/${queues.source}`, { json: { _max_claim_count: 1, _dead_letter_queue: queues.target } });
  const [id] = await zaqar.postMessages(queues.source, [{ body: 'poison', ttl: 300 }]);
  const claim = await zaqar.post(`/v2/queues/${queues.source}/claims`, { json: { ttl: 300, grace: 60 } });
  expect(claim.status).toBe(201);
  expect((await zaqar.delete(`/v2/queues/${queues.source}/claims/${claimIdOf(claim)}`)).status).toBe(204);
  expect((await zaqar.post(`/v2/queues/${queues.source}/claims`, { json: { ttl: 300, grace: 60 } })).status).toBe(204);
  const moved = (await zaqar.get(`/v2/queues/${queues.target}/messages?echo=true`)).body as { messages: Message[] };
  expect(moved.messages.map((m) => [m.id, m.body])).toEqual([[id, 'poison']]);
}
