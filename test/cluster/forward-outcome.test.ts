/**
 * A command forwarded to the shard leader whose reply is lost after the leader served
 * it (the connection dropped, e.g. the leader was killed with the entry already on its
 * followers) has an unknown outcome: the router must answer unavailable, never propose
 * it again. A second proposal of the same post stored two messages with one id, which
 * two claims could then hold at once (the failover suite's doubly claimed message).
 */
import { afterEach, describe, expect, test } from 'vitest';
import { InProcessCluster, type InProcessNode, waitFor } from './support/in-process.js';

const listOptions = { clientId: 'c', limit: 20, echo: true, includeClaimed: true, includeDelayed: true };
let cluster: InProcessCluster | undefined;

afterEach(async () => {
  await cluster?.closeAll();
  cluster = undefined;
});

/** A 3-node cluster of one shard, its leader and a follower. */
async function threeNodes(): Promise<{ c: InProcessCluster; leader: InProcessNode; follower: InProcessNode }> {
  const c = new InProcessCluster([1, 2, 3], 1);
  cluster = c;
  for (const id of [1, 2, 3]) await c.open(id);
  const leader = await waitFor('a leader', 10_000, () => c.leaderOf(0));
  const follower = [...c.nodes.values()].find((n) => n.id !== leader.id);
  if (follower === undefined) throw new Error('no follower');
  return { c, leader, follower };
}

describe('forwarding with a lost reply', () => {
  test('a forwarded post whose reply is lost fails as unavailable and is stored once', async () => {
    const { c, leader, follower } = await threeNodes();
    const ref = { project: 'p', queue: 'q' };
    await leader.broker.createQueue(ref, {});

    c.lostForwardReplies = 1;
    const post = follower.broker.postMessages(ref, { clientId: 'c', messages: [{ body: 'once', ttlSeconds: 600, delaySeconds: 0 }] });
    await expect(post).rejects.toMatchObject({ name: 'ShardUnavailableError' });

    // The leader applied the post it served; nothing else was proposed after it.
    const listed = await waitFor('the served post applied', 10_000, async () => {
      const messages = await leader.broker.listMessages(ref, listOptions);
      return messages.length > 0 ? messages : undefined;
    });
    const marker = await leader.broker.postMessages(ref, { clientId: 'c', messages: [{ body: 'marker', ttlSeconds: 600, delaySeconds: 0 }] });
    const all = (await leader.broker.listMessages(ref, listOptions)).map((m) => m.id);
    expect(all).toEqual([listed[0]?.id, ...marker.ids]);
    expect(new Set(all).size).toBe(all.length);
  });

  test('a forward that never reached the leader is retried', async () => {
    const { c, leader, follower } = await threeNodes();
    const ref = { project: 'p', queue: 'q' };
    // The follower cannot reach anyone for a moment: its forwards are refused, then retried.
    c.network.isolated.add(follower.id);
    const post = follower.broker.postMessages(ref, { clientId: 'c', messages: [{ body: 'later', ttlSeconds: 600, delaySeconds: 0 }] });
    await new Promise((resolve) => setTimeout(resolve, 50));
    c.network.isolated.delete(follower.id);
    const { ids } = await post;
    expect((await leader.broker.listMessages(ref, listOptions)).map((m) => m.id)).toEqual(ids);
  });
});
