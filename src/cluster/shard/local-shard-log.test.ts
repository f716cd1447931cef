/**
 * LocalLog on a MemoryLogStore (wrapped in FaultyLogStore for the error paths): entries
 * get consecutive indexes and are replayed into a fresh FSM on reopen; a full proposal
 * queue refuses with OverloadedError; a failed persist fails the shard (its proposals
 * and read barrier reject with ShardUnavailableError) while other shards keep serving.
 */
import { describe, expect, test } from 'vitest';
import type { ShardId } from '../../common/ids.js';
import { FaultyLogStore } from '../../log/faulty-log-store.js';
import { MemoryLogStore } from '../../log/memory/memory-log-store.js';
import { MemoryQueueStore } from '../../log/memory/memory-queue-store.js';
import { OverloadedError, ShardUnavailableError } from '../errors.js';
import { encodeBody } from './body-codec.js';
import type { ShardCommand } from './commands.js';
import { LocalLog } from './local-shard-log.js';
import { QueueFsm } from './queue-fsm.js';

const shardA = 0 as ShardId;
const shardB = 1 as ShardId;

function postCommand(n: number): ShardCommand {
  return {
    type: 'post',
    nowMs: 1000,
    project: 'p',
    queue: 'q',
    clientId: 'c',
    messages: [{ id: String(n).padStart(24, '0'), body: encodeBody(n), ttlSeconds: 60, delaySeconds: 0, checksum: null }],
  };
}

describe('LocalLog', () => {
  test('appends consecutive entries and replays them into a fresh state machine', async () => {
    const logStore = new MemoryLogStore();
    const log = new LocalLog(logStore);
    const shard = log.openShard(new QueueFsm(shardA, new MemoryQueueStore()));
    const results = await Promise.all([1, 2, 3].map((n) => shard.propose(postCommand(n))));
    expect(results).toEqual([{ seqs: [1] }, { seqs: [2] }, { seqs: [3] }]);
    expect(logStore.load(shardA).lastIndex).toBe(3);
    expect(log.stats).toEqual({ flushes: 1, proposals: 3 });

    const replayed = new QueueFsm(shardA, new MemoryQueueStore());
    const reopened = new LocalLog(logStore).openShard(replayed);
    expect(replayed.appliedIndex).toBe(3);
    expect([...replayed.store.messages({ shardId: shardA, project: 'p', queue: 'q' }, 0)].map((m) => m.seq)).toEqual([1, 2, 3]);
    expect(await reopened.propose(postCommand(4))).toEqual({ seqs: [4] });
  });

  test('refuses proposals beyond the pending bound while a persist is stalled', async () => {
    const faulty = new FaultyLogStore(new MemoryLogStore());
    const log = new LocalLog(faulty, { proposalsPendingMax: 2 });
    const shard = log.openShard(new QueueFsm(shardA, new MemoryQueueStore()));
    faulty.stallWrites();
    const first = shard.propose(postCommand(1));
    await Promise.resolve();
    await Promise.resolve();
    const queued = [shard.propose(postCommand(2)), shard.propose(postCommand(3))];
    await expect(shard.propose(postCommand(4))).rejects.toBeInstanceOf(OverloadedError);
    faulty.resumeWrites();
    expect(await first).toEqual({ seqs: [1] });
    expect(await Promise.all(queued)).toEqual([{ seqs: [2] }, { seqs: [3] }]);
  });

  test('a failed persist fails only that shard', async () => {
    const faulty = new FaultyLogStore(new MemoryLogStore());
    const log = new LocalLog(faulty);
    const a = log.openShard(new QueueFsm(shardA, new MemoryQueueStore()));
    const b = log.openShard(new QueueFsm(shardB, new MemoryQueueStore()));
    faulty.failWrites(1);
    await expect(a.propose(postCommand(1))).rejects.toBeInstanceOf(ShardUnavailableError);
    await expect(a.propose(postCommand(2))).rejects.toBeInstanceOf(ShardUnavailableError);
    await expect(a.readBarrier()).rejects.toBeInstanceOf(ShardUnavailableError);
    expect(await b.propose(postCommand(3))).toEqual({ seqs: [1] });
    await expect(b.readBarrier()).resolves.toBeUndefined();
  });

  test('drops entries whose applied state is on disk, and reopens from the stored state', async () => {
    const logStore = new MemoryLogStore();
    const queueStore = new MemoryQueueStore();
    const log = new LocalLog(logStore, { compactEveryEntries: 2 });
    const shard = log.openShard(new QueueFsm(shardA, queueStore));
    for (let n = 1; n <= 5; n++) await shard.propose(postCommand(n));
    await log.drain();
    expect(logStore.load(shardA).firstIndex).toBeGreaterThan(1);

    const reopened = new QueueFsm(shardA, queueStore);
    const again = new LocalLog(logStore).openShard(reopened);
    expect(reopened.appliedIndex).toBe(5);
    expect(await again.propose(postCommand(6))).toEqual({ seqs: [6] });
  });
});
