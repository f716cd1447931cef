/**
 * RecentEntriesLogStore (src/log/recent-entries.ts) over MemoryLogStore: the RaftLogStore
 * contract (reopen wraps the crashed store anew, as a restarted node would), then what the
 * wrapper itself promises: reads of entries it holds never reach the store, a persist
 * replacing a suffix replaces it in memory too, and the bound drops the oldest entries.
 */
import { describe, expect, test } from 'vitest';
import type { LogStore } from '../../src/log/log-store.js';
import { MemoryLogStore } from '../../src/log/memory/memory-log-store.js';
import { RecentEntriesLogStore } from '../../src/log/recent-entries.js';
import type { Entry, LogIndex, NodeId, ShardId, Snapshot, Term } from '../../src/raft/types.js';
import { entryRange, logStoreContract, type DamageKind, type LogStoreHarness } from './log-store.contract.js';

class RecentEntriesHarness implements LogStoreHarness {
  readonly inner = new MemoryLogStore({ isAutoFlush: true });
  store = new RecentEntriesLogStore(this.inner, 64);

  async reopen(): Promise<LogStore> {
    this.inner.crash();
    this.store = new RecentEntriesLogStore(this.inner, 64);
    return this.store;
  }

  async damageEntry(shardId: ShardId, index: LogIndex, kind: DamageKind): Promise<void> {
    const isDamaged = kind === 'flip' ? this.inner.corruptEntry(shardId, index) : this.inner.truncateEntries(shardId, index);
    if (!isDamaged) throw new Error(`no entry ${index} to damage`);
  }

  async damageSnapshot(shardId: ShardId): Promise<void> {
    if (!this.inner.corruptSnapshot(shardId)) throw new Error('no snapshot to damage');
  }

  async close(): Promise<void> {}
}

logStoreContract('RecentEntriesLogStore', async () => new RecentEntriesHarness(), { isPersistent: true, canDamage: true });

/** A MemoryLogStore that counts the reads reaching it. */
class CountingStore extends MemoryLogStore {
  reads = 0;
  override entries(shardId: ShardId, range: { lo: LogIndex; hi: LogIndex; bytesMax?: number }): Entry[] {
    this.reads += 1;
    return super.entries(shardId, range);
  }
  override term(shardId: ShardId, index: LogIndex): Term | undefined {
    this.reads += 1;
    return super.term(shardId, index);
  }
}

const shard = 1 as ShardId;
const range = (lo: number, hi: number): { lo: LogIndex; hi: LogIndex } => ({ lo: lo as LogIndex, hi: hi as LogIndex });

describe('RecentEntriesLogStore', () => {
  test('answers entries and terms of recent persists from memory, the same objects that were persisted', async () => {
    const inner = new CountingStore({ isAutoFlush: true });
    const store = new RecentEntriesLogStore(inner, 1024);
    store.load(shard);
    const entries = entryRange(1, 6, 2, 16);
    await store.persist(shard, { entries });
    const read = store.entries(shard, range(2, 5));
    expect(read).toEqual(entries.slice(1, 4));
    expect(read[0]).toBe(entries[1]);
    expect(store.term(shard, 5 as LogIndex)).toBe(2);
    expect(inner.reads).toBe(0);
    // bytesMax is honoured as the store does: at least one entry, then whole entries within the bound.
    expect(store.entries(shard, { ...range(1, 6), bytesMax: 40 })).toEqual(entries.slice(0, 2));
    expect(store.entries(shard, { ...range(3, 6), bytesMax: 1 })).toEqual(entries.slice(2, 3));
    expect(inner.reads).toBe(0);
    expect(store.term(shard, 9 as LogIndex)).toBeUndefined();
    expect(inner.reads).toBe(1);
  });

  test('a persist replacing a suffix replaces it in memory as in the store', async () => {
    const inner = new CountingStore({ isAutoFlush: true });
    const store = new RecentEntriesLogStore(inner, 1024);
    store.load(shard);
    await store.persist(shard, { entries: entryRange(1, 8, 1, 8) });
    await store.persist(shard, { entries: entryRange(5, 7, 3, 8) });
    const expected = [...entryRange(1, 5, 1, 8), ...entryRange(5, 7, 3, 8)];
    expect(store.entries(shard, range(1, 7))).toEqual(expected);
    expect(inner.entries(shard, range(1, 7))).toEqual(expected);
    expect(store.term(shard, 6 as LogIndex)).toBe(3);
    expect(store.term(shard, 7 as LogIndex)).toBeUndefined(); // the store's answer: entry 7 was cut
    expect(store.heldBytes).toBe(6 * 8);
  });

  test('drops the oldest persists once over its bound, and reads them from the store', async () => {
    const inner = new CountingStore({ isAutoFlush: true });
    const store = new RecentEntriesLogStore(inner, 100);
    store.load(shard);
    for (let i = 0; i < 10; i++) await store.persist(shard, { entries: entryRange(1 + 2 * i, 3 + 2 * i, 1, 10) });
    expect(store.heldBytes).toBeLessThanOrEqual(100);
    const all = store.entries(shard, range(1, 21));
    expect(all).toEqual(entryRange(1, 21, 1, 10));
    expect(inner.reads).toBe(1);
    store.entries(shard, range(19, 21));
    expect(inner.reads).toBe(1);
  });

  test('compaction, snapshots and a failed persist drop what is held', async () => {
    const inner = new CountingStore({ isAutoFlush: true });
    const store = new RecentEntriesLogStore(inner, 1024);
    const snapshotAt = (index: number, term: number): Snapshot =>
      ({ meta: { index: index as LogIndex, term: term as Term, conf: { voters: [1 as NodeId], learners: [], votersOutgoing: [] } }, data: new Uint8Array(1) });
    store.load(shard);
    const entries = entryRange(1, 8, 1, 8);
    await store.persist(shard, { entries });
    await store.compact(shard, 2 as LogIndex);
    expect(store.heldBytes).toBe(5 * 8);
    // A snapshot the log agrees with at its index (a compaction's local snapshot): the store
    // keeps the entries after it, and so does the wrapper (still the persisted objects).
    await store.persistSnapshot(shard, snapshotAt(4, 1));
    expect(store.heldBytes).toBe(3 * 8);
    const reads = inner.reads;
    expect(store.entries(shard, range(5, 8))[0]).toBe(entries[4]);
    expect(inner.reads).toBe(reads);
    // One it does not agree with replaces the log: nothing is held.
    await store.persistSnapshot(shard, snapshotAt(6, 2));
    expect(store.heldBytes).toBe(0);
    expect(store.entries(shard, range(7, 8))).toEqual([]);
    await store.persist(shard, { entries: entryRange(7, 9, 2, 8) });
    expect(store.heldBytes).toBe(2 * 8);
    inner.isFailing = true;
    await expect(store.persist(shard, { entries: entryRange(7, 8, 1, 8) })).rejects.toThrow();
    expect(store.heldBytes).toBe(0);
  });
});
