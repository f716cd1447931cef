/**
 * A command forwarded to the shard leader whose reply is lost after the leader served
 * it (the connection dropped, e.g. the leader was killed with the entry already on its
 * followers) has an unknown outcome. The router proposes the same encoded command again
 * and the shard FSM applies it at most once: the retry is answered with the first
 * apply's result, and nothing is applied twice (a second post stored two messages with
 * one id, which two claims could then hold; a second pop removed more messages and lost
 * the first ones). Only when every reply is lost until the route deadline does the
 * request fail as unavailable, with the command applied once. The same holds for a
 * proposal on the leader's own replica whose commit wait timed out with the entry
 * still in the log.
 */
import { afterEach, describe, expect, test, vi } from 'vitest';
import type { ShardId } from '../../src/common/ids.js';
import { MessageType } from '../../src/raft/core/messages.js';
import { InProcessCluster, threeNodes, waitFor } from './support/in-process.js';
import { bodyOf } from '../engine/support/broker-steps.js';

const listOptions = { clientId: 'c', limit: 20, echo: true, includeClaimed: true, includeDelayed: true };
let cluster: InProcessCluster | undefined;

const keep = (opened: InProcessCluster): void => {
  cluster = opened;
};

afterEach(async () => {
  await cluster?.closeAll();
  cluster = undefined;
});


describe('forwarding with a lost reply', () => {
  test('a forwarded post whose reply is lost is retried, answered once, and stored once', async () => {
    const { c, leader, follower } = await threeNodes(keep);
    const ref = { project: 'p', queue: 'q' };
    await leader.broker.createQueue(ref, {});

    c.lostForwardReplies = 1;
    const served = c.forwardsServed;
    const { ids } = await follower.broker.postMessages(ref, { clientId: 'c', messages: [{ body: 'once', ttlSeconds: 600, delaySeconds: 0 }] });
    // The leader served the post, its reply was lost, and it served the retry (a loaded
    // machine may add retries of its own: at least one retry, and the post stored once).
    expect(c.forwardsServed - served).toBeGreaterThanOrEqual(2);

    const marker = await leader.broker.postMessages(ref, { clientId: 'c', messages: [{ body: 'marker', ttlSeconds: 600, delaySeconds: 0 }] });
    const listed = await leader.broker.listMessages(ref, listOptions);
    expect(listed.map((m) => m.id)).toEqual([...ids, ...marker.ids]);
    expect(listed.map(bodyOf)).toEqual(['once', 'marker']);
  });

  test('a forwarded pop whose reply is lost is answered with the messages the first pop removed', async () => {
    const { c, leader, follower } = await threeNodes(keep);
    const ref = { project: 'p', queue: 'q' };
    const posted = await leader.broker.postMessages(ref, {
      clientId: 'c',
      messages: ['m1', 'm2', 'm3'].map((body) => ({ body, ttlSeconds: 600, delaySeconds: 0 })),
    });

    c.lostForwardReplies = 1;
    const served = c.forwardsServed;
    const popped = await follower.broker.popMessages(ref, 1);
    expect(c.forwardsServed - served).toBeGreaterThanOrEqual(2);
    expect(popped.map(bodyOf)).toEqual(['m1']);
    expect((await leader.broker.listMessages(ref, listOptions)).map((m) => m.id)).toEqual(posted.ids.slice(1));
  });

  test('a forward whose replies are lost until the deadline fails as unavailable, applied once', async () => {
    const { c, leader, follower } = await threeNodes(keep);
    const ref = { project: 'p', queue: 'q' };
    await leader.broker.createQueue(ref, {});

    c.lostForwardReplies = Number.MAX_SAFE_INTEGER;
    const served = c.forwardsServed;
    const post = follower.broker.postMessages(ref, { clientId: 'c', messages: [{ body: 'once', ttlSeconds: 600, delaySeconds: 0 }] });
    await expect(post).rejects.toMatchObject({ name: 'ShardUnavailableError', message: expect.stringContaining('outcome is unknown') });
    c.lostForwardReplies = 0;
    expect(c.forwardsServed - served).toBeGreaterThan(1);

    const marker = await leader.broker.postMessages(ref, { clientId: 'c', messages: [{ body: 'marker', ttlSeconds: 600, delaySeconds: 0 }] });
    const listed = await leader.broker.listMessages(ref, listOptions);
    expect(listed.map(bodyOf)).toEqual(['once', 'marker']);
    expect(listed.at(-1)?.id).toBe(marker.ids[0]);
  });

  test('a forward that never reached the leader is retried', async () => {
    const { c, leader, follower } = await threeNodes(keep);
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

describe('a local proposal whose commit wait times out', () => {
  test('is proposed again, and the entry that commits late is applied once', async () => {
    // A commit wait of half the route wait (3 s): time enough to commit after the retry.
    const { c, leader } = await threeNodes(keep, { routeWaitMs: 6_000 });
    const ref = { project: 'p', queue: 'q' };
    await leader.broker.createQueue(ref, {});
    const group = leader.logs.group(0 as ShardId);
    if (group === undefined) throw new Error('the leader hosts no shard 0');
    const propose = vi.spyOn(group, 'propose');

    // Followers store the leader's entries but their acknowledgements are lost: nothing
    // commits, heartbeats keep the leader in place, its commit wait times out.
    c.network.dropIf = (message) => message.to === leader.id && message.type === MessageType.AppResp;
    const post = leader.broker.postMessages(ref, { clientId: 'c', messages: [{ body: 'once', ttlSeconds: 600, delaySeconds: 0 }] });
    await waitFor('the proposal retried', 10_000, () => (propose.mock.calls.length >= 2 ? true : undefined));
    c.network.dropIf = undefined;

    const { ids } = await post;
    expect(propose.mock.calls[0]?.[0]).toEqual(propose.mock.calls[1]?.[0]);
    const listed = await leader.broker.listMessages(ref, listOptions);
    expect(listed.map((m) => m.id)).toEqual(ids);
  });
});
