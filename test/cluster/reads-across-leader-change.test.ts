/**
 * A read barrier whose ReadIndex request was lost with a leader change (the old leader
 * drops requests it had not answered when it steps down, and a follower's request or its
 * answer may be lost on the way) is asked again of the new leader once the replica sees
 * it, instead of waiting out its deadline. The deadline here is a minute, far beyond the
 * test's own timeout, so a read left to it fails the test.
 */
import { afterEach, describe, expect, test } from 'vitest';
import { MessageType } from '../../src/raft/core/messages.js';
import { InProcessCluster, threeNodes, waitFor } from './support/in-process.js';

let cluster: InProcessCluster | undefined;

afterEach(async () => {
  await cluster?.closeAll();
  cluster = undefined;
});

describe('reads across a leader change', () => {
  test('a follower\'s read whose answer was lost completes once leadership moved', { timeout: 20_000 }, async () => {
    const { c, leader, follower } = await threeNodes((opened) => { cluster = opened; }, { routeWaitMs: 120_000 });
    const ref = { project: 'p', queue: 'q' };
    await leader.broker.createQueue(ref, {});
    const { ids } = await leader.broker.postMessages(ref, { clientId: 'c', messages: [{ body: 'm', ttlSeconds: 600, delaySeconds: 0 }] });
    let lost = 0;
    c.network.dropIf = (message) => {
      const isAnswer = message.type === MessageType.ReadIndexResp && message.to === follower.id;
      if (isAnswer) lost++;
      return isAnswer;
    };
    let isRead = false;
    // A list on the follower: a read barrier (ReadIndex through the leader), then its local state.
    const reading = follower.broker.listMessages(ref, { clientId: 'c', limit: 10, echo: true, includeClaimed: true, includeDelayed: true })
      .then((listed) => {
        isRead = true;
        return listed.map((m) => m.id);
      });
    await waitFor('the read\'s answer to be lost', 10_000, () => (lost > 0 ? true : undefined));
    c.network.dropIf = undefined;
    expect(isRead).toBe(false);

    const third = [...c.nodes.values()].find((node) => node.id !== leader.id && node.id !== follower.id);
    if (third === undefined) throw new Error('no third node');
    leader.logs.group(0 as never)?.requestTransfer(third.id as never);
    await waitFor('the third node to lead', 10_000, () => (c.leaderOf(0)?.id === third.id ? true : undefined));
    expect(await reading).toEqual(ids);
  });
});
