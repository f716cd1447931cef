/**
 * RaftCore with asynchronous storage writes: proves the rules that make taking the next
 * Ready before the previous persist is durable safe — entries handed to storage are not
 * handed out again, a leader commits only what its own log holds durably, a candidate
 * wins only once its vote is durable, append and vote answers (and anything sent under a
 * term not yet durable) wait for the persist, and committed entries are applied only once
 * durable here. Cores run over MemoryLogStores; the test plays the node loop by hand.
 */
import { describe, expect, test } from 'vitest';
import { SeededRandom } from '../../common/random.js';
import { MemoryLogStore } from '../../log/memory/memory-log-store.js';
import type { LogIndex, NodeId, ShardId } from '../types.js';
import { raftConfig } from './config.js';
import { type Message, MessageType } from './messages.js';
import { RaftCore } from './raft.js';
import { logReaderOf } from './raft-log.js';
import type { Ready } from './ready.js';

const shardId = 1 as ShardId;
const data = (text: string): Uint8Array => new TextEncoder().encode(text);

type TestNode = { core: RaftCore; store: MemoryLogStore };

function newCore(id: number, peers: readonly number[]): TestNode {
  const store = new MemoryLogStore();
  const config = raftConfig({ id: id as NodeId, shardId, peers: peers as NodeId[], isAsyncStorageWrites: true, isPreVote: false });
  const core = new RaftCore(config, { reader: logReaderOf(store, shardId), state: store.load(shardId), random: new SeededRandom(id) });
  return { core, store };
}

function take(core: RaftCore): Ready {
  const ready = core.takeReady();
  if (ready === undefined) throw new Error('no Ready');
  return ready;
}

/** The store write of a Ready (a MemoryLogStore with auto flush: durable at once). */
function write(store: MemoryLogStore, ready: Ready): void {
  void store.persist(shardId, { entries: ready.entries, ...(ready.hardState === undefined ? {} : { hardState: ready.hardState }) });
}

/** Plays the loop until every core is idle, delivering every message. */
function settle(nodes: readonly TestNode[]): void {
  for (let round = 0; round < 100; round++) {
    const mail: Message[] = [];
    let isBusy = false;
    for (const { core, store } of nodes) {
      const ready = core.takeReady();
      if (ready === undefined) continue;
      isBusy = true;
      write(store, ready);
      core.applied(ready);
      core.persisted(ready);
      mail.push(...ready.messages, ...ready.messagesAfterPersist);
    }
    for (const m of mail) nodes.find(({ core }) => core.id === m.to)?.core.step(m);
    if (!isBusy && mail.length === 0) return;
  }
  throw new Error('did not settle');
}

/** Three voters, settled; node 1 elected leader when `isElected`. */
function trio(options: { isElected: boolean }): [TestNode, TestNode, TestNode] {
  const nodes: [TestNode, TestNode, TestNode] = [newCore(1, [1, 2, 3]), newCore(2, [1, 2, 3]), newCore(3, [1, 2, 3])];
  settle(nodes);
  if (options.isElected) {
    nodes[0].core.campaign();
    settle(nodes);
  }
  return nodes;
}

describe('RaftCore with asynchronous storage writes', () => {
  test('a single voter wins its election only once its vote is durable, and commits only durable entries', () => {
    const { core, store } = newCore(1, [1]);
    core.campaign();
    const vote = take(core);
    expect(vote.hardState).toMatchObject({ term: 2, vote: 1 });
    expect(core.role).toBe('candidate');
    write(store, vote);
    core.applied(vote);
    core.persisted(vote);
    expect(core.role).toBe('leader');

    const noop = take(core);
    expect(noop.entries.map((e) => e.index)).toEqual([2]);
    core.applied(noop);
    write(store, noop);
    core.propose(data('a'));
    const next = take(core);
    // The no-op is being persisted: only the new entry is handed out.
    expect(next.entries.map((e) => e.index)).toEqual([3]);
    core.applied(next);
    expect(core.status().commit).toBe(1);
    core.persisted(noop);
    expect(core.status().commit).toBe(2);
    write(store, next);
    core.persisted(next);
    expect(core.status().commit).toBe(3);
    const apply = take(core);
    expect(apply.committed.map((e) => e.index)).toEqual([2, 3]);
  });

  test('the persisted report must come in the order the Readys were taken', () => {
    const { core, store } = newCore(1, [1]);
    core.campaign();
    const first = take(core);
    core.propose(data('x'));
    expect(core.takeReady()).toBeUndefined(); // a candidate refuses proposals; nothing new
    write(store, first);
    core.persisted(first);
    const second = take(core);
    core.propose(data('y'));
    const third = take(core);
    expect(() => core.persisted(third)).toThrow(/out of order/);
    core.persisted(second);
  });

  test('a follower acknowledges appends and grants votes only after the persist, and applies only durable entries', () => {
    const [n1, n2] = trio({ isElected: true });
    expect(n1.core.role).toBe('leader');

    n1.core.propose(data('a'));
    const leaderReady = take(n1.core);
    // The leader replicates before its own persist (its term is durable already).
    const app = leaderReady.messages.find((m) => m.type === MessageType.App && m.to === 2);
    expect(app?.entries.length).toBe(1);
    expect(leaderReady.messagesAfterPersist).toEqual([]);
    if (app === undefined) throw new Error('no append');
    n2.core.step({ ...app, commit: app.index + 1 } as Message); // as if the entry were committed already
    const follower = take(n2.core);
    expect(follower.messages.filter((m) => m.type === MessageType.AppResp)).toEqual([]);
    expect(follower.messagesAfterPersist.map((m) => [m.type, m.index])).toEqual([[MessageType.AppResp, app.index + 1]]);
    // Committed but not durable here: not handed out for applying.
    expect(follower.committed.map((e) => e.index)).not.toContain(app.index + 1);
    write(n2.store, follower);
    n2.core.applied(follower);
    n2.core.persisted(follower);
    const after = take(n2.core);
    expect(after.committed.map((e) => e.index)).toContain(app.index + 1);
  });

  test('everything a node sends under a term or vote not yet durable waits for the persist', () => {
    const [n1, n2] = trio({ isElected: false });
    n1.core.campaign();
    const candidate = take(n1.core);
    expect(candidate.messages).toEqual([]);
    expect(candidate.messagesAfterPersist.map((m) => m.type)).toEqual([MessageType.Vote, MessageType.Vote]);
    const request = candidate.messagesAfterPersist.find((m) => m.to === 2);
    if (request === undefined) throw new Error('no vote request');
    n2.core.step(request);
    const voter = take(n2.core);
    expect(voter.hardState).toMatchObject({ term: request.term, vote: 1 });
    expect(voter.messages).toEqual([]);
    expect(voter.messagesAfterPersist.map((m) => [m.type, m.reject])).toEqual([[MessageType.VoteResp, false]]);
  });

  test('an empty Ready taken behind an unfinished persist still holds its answers back', () => {
    const [n1, n2] = trio({ isElected: true });
    n1.core.propose(data('a'));
    const app = take(n1.core).messages.find((m) => m.type === MessageType.App && m.to === 2);
    if (app === undefined) throw new Error('no append');
    n2.core.step(app);
    const first = take(n2.core);
    n2.core.step(app); // a duplicate: nothing new to persist, but the answer vouches for the entry
    const second = take(n2.core);
    expect(second.entries).toEqual([]);
    expect(second.messagesAfterPersist.map((m) => m.type)).toEqual([MessageType.AppResp]);
    expect(n2.core.persistsOutstanding()).toBe(2);
    write(n2.store, first);
    n2.core.persisted(first);
    n2.core.persisted(second);
    expect(n2.core.persistsOutstanding()).toBe(0);
    expect(n2.core.log.durableLastIndex()).toBe((app.index + 1) as LogIndex);
  });
});
