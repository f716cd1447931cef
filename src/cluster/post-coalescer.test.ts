/**
 * PostCoalescer: the posts of one lane read in one event-loop turn go as one command at
 * its end, in arrival order, each answered with the ids of its own messages; a later
 * turn's posts go in a command of their own; lanes do not mix; a failed command fails
 * every request it carried; a command carries at most `requestsMax` requests.
 */
import { describe, expect, test } from 'vitest';
import { PostCoalescer, type CoalescedPost, type PostOutcome } from './post-coalescer.js';

interface Sent {
  readonly messages: readonly string[];
  readonly answer: (outcome: PostOutcome | Error) => void;
}

function harness(requestsMax = 3) {
  const sent: Sent[] = [];
  const turnEnds: (() => void)[] = [];
  const coalescer = new PostCoalescer<string, string, string>(
    (_ref, request: CoalescedPost<string>) =>
      new Promise<PostOutcome>((resolve, reject) => {
        sent.push({ messages: request.messages, answer: (outcome) => (outcome instanceof Error ? reject(outcome) : resolve(outcome)) });
      }),
    (ref, clientId, expected) => `${ref}/${clientId}/${expected ?? ''}`,
    requestsMax,
    (flush) => turnEnds.push(flush),
  );
  /** Ends the event-loop turn: runs the flushes it queued. */
  const endTurn = (): void => {
    for (const flush of turnEnds.splice(0)) flush();
  };
  /** Answers command `i` with ids "id-<message>". */
  const commit = (i: number): void => {
    const command = sent[i];
    if (command === undefined) throw new Error(`no command ${i}`);
    command.answer({ ids: command.messages.map((m) => `id-${m}`), isMetadataStale: false });
  };
  const sentMessages = (): (readonly string[])[] => sent.map((s) => s.messages);
  return { sent, sentMessages, coalescer, commit, endTurn };
}

describe('PostCoalescer', () => {
  test('the posts of one turn go as one command at its end, each answered with its own ids; a later turn goes on its own', async () => {
    const { sentMessages, coalescer, commit, endTurn } = harness();
    const turn = [
      coalescer.post('q', { clientId: 'c', messages: ['a'] }),
      coalescer.post('q', { clientId: 'c', messages: ['b', 'c'] }),
      coalescer.post('q', { clientId: 'c', messages: ['d'] }),
    ];
    expect(sentMessages()).toEqual([]);
    endTurn();
    expect(sentMessages()).toEqual([['a', 'b', 'c', 'd']]);
    // The turn's command is still in flight: the next turn's post does not wait for it.
    const later = coalescer.post('q', { clientId: 'c', messages: ['e'] });
    endTurn();
    expect(sentMessages()).toEqual([['a', 'b', 'c', 'd'], ['e']]);
    for (const i of [1, 0]) commit(i);
    expect(await Promise.all(turn)).toEqual([
      { ids: ['id-a'], isMetadataStale: false },
      { ids: ['id-b', 'id-c'], isMetadataStale: false },
      { ids: ['id-d'], isMetadataStale: false },
    ]);
    expect(await later).toEqual({ ids: ['id-e'], isMetadataStale: false });
  });

  test('other queues, clients and expected metadata are lanes of their own', () => {
    const { sentMessages, coalescer, endTurn } = harness();
    void coalescer.post('q', { clientId: 'c', messages: ['a'] });
    void coalescer.post('r', { clientId: 'c', messages: ['b'] });
    void coalescer.post('q', { clientId: 'd', messages: ['c'] });
    void coalescer.post('q', { clientId: 'c', messages: ['d'] }, 'meta');
    void coalescer.post('q', { clientId: 'c', messages: ['e'] });
    void coalescer.post('q', { clientId: 'c', messages: ['f'] });
    endTurn();
    expect(sentMessages()).toEqual([['a', 'e', 'f'], ['b'], ['c'], ['d']]);
  });

  test('a failed command fails every request it carried, and the lane goes on', async () => {
    const { sent, coalescer, commit, endTurn } = harness();
    const failing = [coalescer.post('q', { clientId: 'c', messages: ['a'] }), coalescer.post('q', { clientId: 'c', messages: ['b'] })];
    endTurn();
    sent[0]?.answer(new Error('shard unavailable'));
    for (const post of failing) await expect(post).rejects.toThrow('shard unavailable');
    const after = coalescer.post('q', { clientId: 'c', messages: ['c'] });
    endTurn();
    commit(1);
    expect(await after).toEqual({ ids: ['id-c'], isMetadataStale: false });
  });

  test('a turn with more than requestsMax requests goes as several commands, in order', async () => {
    const { sentMessages, coalescer, commit, endTurn } = harness(2);
    const posts = ['a', 'b', 'c', 'd', 'e', 'f'].map((m) => coalescer.post('q', { clientId: 'c', messages: [m] }));
    endTurn();
    expect(sentMessages()).toEqual([['a', 'b'], ['c', 'd'], ['e', 'f']]);
    for (const i of [0, 1, 2]) commit(i);
    expect((await Promise.all(posts)).map((o) => o.ids)).toEqual([['id-a'], ['id-b'], ['id-c'], ['id-d'], ['id-e'], ['id-f']]);
  });

  test('a stale-metadata answer reaches every request of the command', async () => {
    const { sent, coalescer, endTurn } = harness();
    const posts = [coalescer.post('q', { clientId: 'c', messages: ['a'] }, 'm'), coalescer.post('q', { clientId: 'c', messages: ['b'] }, 'm')];
    endTurn();
    sent[0]?.answer({ ids: [], isMetadataStale: true });
    expect(await Promise.all(posts)).toEqual([{ ids: [], isMetadataStale: true }, { ids: [], isMetadataStale: true }]);
  });
});
