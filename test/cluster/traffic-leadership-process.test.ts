/**
 * Leadership that follows the traffic between real `zaqar-ts serve` processes: posts
 * through a follower reach the shard's leader over gRPC with their origin, and the
 * shard's leadership moves to that follower within a few one-second windows (the
 * default); with `raft.leaders_follow_traffic` false it stays where it was. Nothing
 * posted is lost either way.
 */
import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, test } from 'vitest';
import type { NodeId, ShardId } from '../../src/common/ids.js';
import { preferredLeader } from '../../src/cluster/placement.js';
import { ClusterLauncher } from '../support/cluster-launcher.js';
import { ZaqarHttp } from '../support/zaqar-http.js';
import { shardOf } from './support/load.js';

const shardCount = 2;
const shardId = 0;
const members = [1, 2, 3] as NodeId[];
let cluster: ClusterLauncher | undefined;

afterEach(async () => {
  await cluster?.stop();
  cluster = undefined;
});

/** Starts 3 nodes and finds shard 0's leader once every shard has settled, a follower of it, and a queue on it. */
async function start(config: Record<string, unknown>): Promise<{ c: ClusterLauncher; leader: number; follower: number; client: ZaqarHttp; queue: string }> {
  const c = await ClusterLauncher.start({ nodes: 3, shards: shardCount, config });
  cluster = c;
  // Every shard at its preferred voter first, so the balancer moves no leader during the test.
  const preferred = Array.from({ length: shardCount }, (_, shard) => preferredLeader(shard as ShardId, { voters: members, members }));
  await ClusterLauncher.waitFor('every shard led by its preferred voter', 30_000, async () => {
    const leaders = await c.leaders();
    return preferred.every((leader, shard) => leaders?.get(shard) === leader) ? true : undefined;
  });
  const leader = await c.leaderOf(shardId);
  const follower = [1, 2, 3].find((id) => id !== leader) ?? 1;
  const project = `p-${randomUUID()}`;
  let queue = '';
  for (let i = 0; queue === ''; i++) if (shardOf(project, `q-${i}`, shardCount) === shardId) queue = `q-${i}`;
  return { c, leader, follower, client: new ZaqarHttp(c.node(follower).url, project), queue };
}

/** Posts one message at a time through `client` until `isDone` or `deadlineMs`; the ids posted. */
async function postUntil(client: ZaqarHttp, queue: string, deadlineMs: number, isDone: () => Promise<boolean>): Promise<string[]> {
  const ids: string[] = [];
  const end = Date.now() + deadlineMs;
  while (Date.now() < end && !(await isDone())) {
    for (let i = 0; i < 10; i++) ids.push(...(await client.postMessages(queue, [{ body: ids.length, ttl: 600 }])));
  }
  return ids;
}

async function listedIds(client: ZaqarHttp, queue: string): Promise<string[]> {
  const ids: string[] = [];
  let path = `/v2/queues/${queue}/messages?echo=true&limit=20`;
  for (;;) {
    const reply = await client.get(path);
    if (reply.status === 204) return ids;
    const body = reply.body as { messages: { id: string }[]; links: { rel: string; href: string }[] };
    if (body.messages.length === 0) return ids;
    ids.push(...body.messages.map((m) => m.id));
    path = body.links.find((link) => link.rel === 'next')?.href ?? '';
  }
}

describe('leadership that follows the traffic, between processes', () => {
  test('moves a shard to the follower its posts come through', { timeout: 90_000 }, async () => {
    const { c, follower, client, queue } = await start({});
    const posted = await postUntil(client, queue, 30_000, async () => (await c.leaders())?.get(shardId) === follower);
    expect((await c.leaders())?.get(shardId)).toBe(follower);
    expect(await listedIds(client, queue)).toEqual(posted);
  });

  test('leaves it where it is with raft.leaders_follow_traffic false', { timeout: 90_000 }, async () => {
    const { c, leader, client, queue } = await start({ raft: { leaders_follow_traffic: false } });
    // Several one-second windows of posts through the follower, far more than a move needs.
    const posted = await postUntil(client, queue, 5_000, async () => false);
    expect(posted.length).toBeGreaterThan(100);
    expect((await c.leaders())?.get(shardId)).toBe(leader);
    expect(await listedIds(client, queue)).toEqual(posted);
  });
});
