/**
 * The QueueStore contract, run against every implementation (LMDB and memory): point
 * reads see writes at once; range reads see committed writes in key order, scoped by
 * shard, project and queue; removals hide data from both kinds of read.
 */
import { describe, expect, test } from 'vitest';
import type { ShardId } from '../../src/common/ids.js';
import type { QueueKey, QueueStore, StoredMessage } from '../../src/log/queue-store.js';

export interface OpenedQueueStore {
  readonly store: QueueStore;
  close(): Promise<void>;
}

const shard = 3 as ShardId;
const key: QueueKey = { shardId: shard, project: 'p1', queue: 'q1' };

function message(seq: number, overrides: Partial<StoredMessage> = {}): StoredMessage {
  return {
    id: `00000000000000000000${String(seq).padStart(4, '0')}`,
    seq,
    clientId: 'c',
    createdMs: 1000,
    ttlSeconds: 60,
    expiresMs: 61_000,
    visibleMs: 1000,
    claimId: null,
    claimExpiresMs: 0,
    claimUpdatedMs: 0,
    claimTtlSeconds: 0,
    claimCount: 0,
    checksum: null,
    ...overrides,
  };
}

export function queueStoreContract(name: string, open: () => Promise<OpenedQueueStore>): void {
  describe(`${name} satisfies QueueStore`, () => {
    test('point reads see inserted, updated and removed messages before any commit', async () => {
      const { store, close } = await open();
      store.insertMessage(key, message(1), new Uint8Array([1, 2, 3]));
      expect(store.getMessage(key, 1)).toEqual(message(1));
      expect([...(store.getBody(key, 1) ?? [])]).toEqual([1, 2, 3]);
      expect(store.seqOfId(key, message(1).id)).toBe(1);
      store.updateMessage(key, message(1, { claimId: 'x', claimExpiresMs: 5 }));
      expect(store.getMessage(key, 1)?.claimId).toBe('x');
      store.removeMessage(key, message(1));
      expect(store.getMessage(key, 1)).toBeUndefined();
      expect(store.getBody(key, 1)).toBeUndefined();
      expect(store.seqOfId(key, message(1).id)).toBeUndefined();
      await store.committed();
      expect([...store.messages(key, 0)]).toEqual([]);
      await close();
    });

    test('messages lists committed messages of one queue in seq order after a seq', async () => {
      const { store, close } = await open();
      for (const seq of [3, 1, 2, 10]) store.insertMessage(key, message(seq), new Uint8Array([seq]));
      store.insertMessage({ ...key, queue: 'q2' }, message(4), new Uint8Array([4]));
      store.insertMessage({ ...key, project: 'p2' }, message(5), new Uint8Array([5]));
      store.insertMessage({ ...key, shardId: 4 as ShardId }, message(6), new Uint8Array([6]));
      await store.committed();
      expect([...store.messages(key, 0)].map((m) => m.seq)).toEqual([1, 2, 3, 10]);
      expect([...store.messages(key, 2)].map((m) => m.seq)).toEqual([3, 10]);
      expect([...store.messages({ ...key, queue: 'q2' }, 0)].map((m) => m.seq)).toEqual([4]);
      await close();
    });

    test('queues lists a project’s committed queues by name after a marker', async () => {
      const { store, close } = await open();
      for (const name of ['b', 'a', 'c-1', 'c']) store.putQueue({ ...key, queue: name }, { metadata: { n: name }, nextSeq: 1, createdMs: 0 });
      store.putQueue({ ...key, project: 'p10', queue: 'z' }, { metadata: {}, nextSeq: 1, createdMs: 0 });
      store.putQueue({ ...key, project: 'p', queue: 'y' }, { metadata: {}, nextSeq: 1, createdMs: 0 });
      await store.committed();
      expect([...store.queues(shard, 'p1')].map((q) => q.name)).toEqual(['a', 'b', 'c', 'c-1']);
      expect([...store.queues(shard, 'p1', 'b')].map((q) => q.name)).toEqual(['c', 'c-1']);
      expect(store.getQueue({ ...key, queue: 'b' })?.metadata).toEqual({ n: 'b' });
      expect([...store.allQueues(shard)].length).toBe(6);
      store.removeQueue({ ...key, queue: 'b' });
      expect(store.getQueue({ ...key, queue: 'b' })).toBeUndefined();
      await store.committed();
      expect([...store.queues(shard, 'p1')].map((q) => q.name)).toEqual(['a', 'c', 'c-1']);
      await close();
    });

    test('shard meta and outbox entries are kept per shard', async () => {
      const { store, close } = await open();
      expect(store.getShardMeta(shard)).toBeUndefined();
      const meta = { appliedIndex: 7, lastNowMs: 99, nextOutboxSeq: 3, inbox: { '1': 4 } };
      store.putShardMeta(shard, meta);
      expect(store.getShardMeta(shard)).toEqual(meta);
      store.putOutbox(shard, { seq: 2, data: new Uint8Array([2]) });
      store.putOutbox(shard, { seq: 1, data: new Uint8Array([1]) });
      store.putOutbox(4 as ShardId, { seq: 1, data: new Uint8Array([9]) });
      expect([...(store.getOutbox(shard, 2) ?? [])]).toEqual([2]);
      await store.committed();
      expect([...store.outbox(shard)].map((o) => [o.seq, [...o.data]])).toEqual([
        [1, [1]],
        [2, [2]],
      ]);
      store.removeOutbox(shard, 1);
      expect(store.getOutbox(shard, 1)).toBeUndefined();
      await store.flushed();
      expect([...store.outbox(shard)].map((o) => o.seq)).toEqual([2]);
      await close();
    });

    test('dedup-window records are kept per shard in index order', async () => {
      const { store, close } = await open();
      store.putApplied(shard, { index: 12, data: new Uint8Array([12]) });
      store.putApplied(shard, { index: 3, data: new Uint8Array([3]) });
      store.putApplied(4 as ShardId, { index: 5, data: new Uint8Array([5]) });
      expect([...(store.getApplied(shard, 12) ?? [])]).toEqual([12]);
      await store.committed();
      expect([...store.applied(shard)].map((r) => [r.index, [...r.data]])).toEqual([
        [3, [3]],
        [12, [12]],
      ]);
      store.removeApplied(shard, 3);
      expect(store.getApplied(shard, 3)).toBeUndefined();
      await store.flushed();
      expect([...store.applied(shard)].map((r) => r.index)).toEqual([12]);
      expect([...store.applied(4 as ShardId)].map((r) => r.index)).toEqual([5]);
      await close();
    });
  });
}
