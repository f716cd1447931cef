/**
 * The LogStore contract (raft's RaftLogStore plus removeGroup): one body of tests run against every implementation
 * (LmdbLogStore, MemoryLogStore), each through a harness that opens a fresh, empty store.
 *
 * Capabilities a store may lack are optional in the harness (reopen for persistent
 * stores, damage injection); the tests that need them are skipped otherwise. Sizes for
 * `bytesMax` count entry data only; the assertions leave room for a small per-entry
 * overhead so implementations may count differently.
 */
import { describe, expect, test } from 'vitest';
import type { Entry, HardState, LogIndex, NodeId, RaftLogStore, ShardId, Snapshot, Term } from '../../src/raft/types.js';
import type { LogStore } from '../../src/log/log-store.js';
import { FaultyLogStore } from '../../src/log/faulty-log-store.js';

export type DamageKind = 'flip' | 'truncate';

export interface LogStoreHarness {
  readonly store: LogStore;
  /** Drops all in-memory state and opens the same storage again (persistent stores only). */
  reopen?(): Promise<LogStore>;
  /** Damages the stored copy of one entry behind the store's back. */
  damageEntry?(shardId: ShardId, index: LogIndex, kind: DamageKind): Promise<void>;
  damageSnapshot?(shardId: ShardId, kind: DamageKind): Promise<void>;
  close(): Promise<void>;
}

const shard = 1 as ShardId;

export function entry(index: number, term: number, dataBytes = 8): Entry {
  const data = new Uint8Array(dataBytes).fill(index % 251);
  return { index: index as LogIndex, term: term as Term, type: 0, data };
}

export function entryRange(lo: number, hi: number, term: number, dataBytes = 8): Entry[] {
  return Array.from({ length: hi - lo }, (_, i) => entry(lo + i, term, dataBytes));
}

function hardState(term: number, vote: number, commit: number): HardState {
  return { term: term as Term, vote: vote as NodeId, commit: commit as LogIndex };
}

function snapshotAt(index: number, term: number): Snapshot {
  const conf = { voters: [1, 2, 3] as NodeId[], learners: [4] as NodeId[], votersOutgoing: [] };
  return { meta: { index: index as LogIndex, term: term as Term, conf }, data: new Uint8Array([index, term, 7]) };
}

/** What hasGroup must answer: whether load() finds anything of the group. */
function loadFindsState(store: RaftLogStore, shardId: ShardId = shard): boolean {
  const state = store.load(shardId);
  return state.lastIndex > 0 || state.snapshotMeta !== undefined || state.hardState.term > 0;
}

function all(store: RaftLogStore, shardId: ShardId = shard): Entry[] {
  const { firstIndex, lastIndex } = store.load(shardId);
  return store.entries(shardId, { lo: firstIndex, hi: (lastIndex + 1) as LogIndex });
}

const lo = (n: number): LogIndex => n as LogIndex;

/** What an implementation supports beyond the core contract. */
export interface LogStoreCapabilities {
  /** The harness implements reopen(). */
  readonly isPersistent: boolean;
  /** The harness implements damageEntry() and damageSnapshot() (and reopen()). */
  readonly canDamage: boolean;
}

export function logStoreContract(
  name: string,
  open: () => Promise<LogStoreHarness>,
  capabilities: LogStoreCapabilities,
): void {
  describe(`${name} satisfies RaftLogStore`, () => {
    async function withStore(body: (h: LogStoreHarness) => Promise<void>): Promise<void> {
      const harness = await open();
      try {
        await body(harness);
      } finally {
        await harness.close();
      }
    }

    test('an unknown group loads empty', () =>
      withStore(async ({ store }) => {
        const state = store.load(shard);
        expect(state).toEqual({ hardState: hardState(0, 0, 0), snapshotMeta: undefined, firstIndex: 1, lastIndex: 0 });
        expect(store.term(shard, lo(1))).toBeUndefined();
        expect(store.snapshot(shard)).toBeUndefined();
      }));

    test('persist appends entries and hard state that load and entries return', () =>
      withStore(async ({ store }) => {
        await store.persist(shard, { entries: entryRange(1, 6, 1), hardState: hardState(1, 2, 3) });
        await store.persist(shard, { entries: entryRange(6, 8, 2) });
        const state = store.load(shard);
        expect(state.hardState).toEqual(hardState(1, 2, 3));
        expect([state.firstIndex, state.lastIndex]).toEqual([1, 7]);
        expect(all(store)).toEqual([...entryRange(1, 6, 1), ...entryRange(6, 8, 2)]);
        expect(store.term(shard, lo(5))).toBe(1);
        expect(store.term(shard, lo(7))).toBe(2);
        expect(store.term(shard, lo(8))).toBeUndefined();
      }));

    test('persist replaces the suffix from the first new entry on', () =>
      withStore(async ({ store }) => {
        await store.persist(shard, { entries: entryRange(1, 8, 1) });
        await store.persist(shard, { entries: entryRange(4, 6, 3, 20) });
        expect(store.load(shard).lastIndex).toBe(5);
        expect(all(store)).toEqual([...entryRange(1, 4, 1), ...entryRange(4, 6, 3, 20)]);
        expect(store.term(shard, lo(6))).toBeUndefined();
        await store.persist(shard, { entries: entryRange(6, 7, 3) });
        expect(all(store).map((e) => e.term)).toEqual([1, 1, 1, 3, 3, 3]);
      }));

    test('persist of a hard state alone keeps the log', () =>
      withStore(async ({ store }) => {
        await store.persist(shard, { entries: entryRange(1, 4, 1), hardState: hardState(1, 1, 0) });
        await store.persist(shard, { entries: [], hardState: hardState(2, 0, 3) });
        const state = store.load(shard);
        expect(state.hardState).toEqual(hardState(2, 0, 3));
        expect(state.lastIndex).toBe(3);
      }));

    test('entries stops at bytesMax but always returns one entry', () =>
      withStore(async ({ store }) => {
        await store.persist(shard, { entries: entryRange(1, 6, 1, 100) });
        expect(store.entries(shard, { lo: lo(1), hi: lo(6), bytesMax: 250 })).toHaveLength(2);
        expect(store.entries(shard, { lo: lo(2), hi: lo(6), bytesMax: 0 })).toEqual([entry(2, 1, 100)]);
        expect(store.entries(shard, { lo: lo(1), hi: lo(6) })).toHaveLength(5);
        expect(store.entries(shard, { lo: lo(3), hi: lo(3) })).toEqual([]);
      }));

    test('groups are independent, also when they persist in the same turn', () =>
      withStore(async ({ store }) => {
        const shards = Array.from({ length: 16 }, (_, i) => (i + 1) as ShardId);
        await Promise.all(
          shards.map((id) => store.persist(id, { entries: entryRange(1, id + 1, id), hardState: hardState(id, 1, id) })),
        );
        await Promise.all(shards.map((id) => store.persist(id, { entries: entryRange(id, id + 2, id + 1) })));
        for (const id of shards) {
          const state = store.load(id);
          expect(state.hardState).toEqual(hardState(id, 1, id));
          expect(all(store, id)).toEqual([...entryRange(1, id, id), ...entryRange(id, id + 2, id + 1)]);
        }
      }));

      test('compact discards entries up to the index', () =>
      withStore(async ({ store }) => {
        await store.persist(shard, { entries: [...entryRange(1, 5, 1), ...entryRange(5, 11, 2)] });
        await store.compact(shard, lo(5));
        const state = store.load(shard);
        expect([state.firstIndex, state.lastIndex]).toEqual([6, 10]);
        expect(store.term(shard, lo(4))).toBeUndefined();
        expect(store.term(shard, lo(6))).toBe(2);
        expect(all(store)).toEqual(entryRange(6, 11, 2));
        await store.compact(shard, lo(3)); // already compacted: no-op
        expect(store.load(shard).firstIndex).toBe(6);
      }));

    test('persistSnapshot keeps the log after a snapshot that matches it', () =>
      withStore(async ({ store }) => {
        await store.persist(shard, { entries: entryRange(1, 11, 1) });
        await store.persistSnapshot(shard, snapshotAt(7, 1));
        const state = store.load(shard);
        expect(state.snapshotMeta).toEqual(snapshotAt(7, 1).meta);
        expect([state.firstIndex, state.lastIndex]).toEqual([8, 10]);
        expect(store.term(shard, lo(7))).toBe(1);
        expect(store.snapshot(shard)).toEqual(snapshotAt(7, 1));
        expect(all(store)).toEqual(entryRange(8, 11, 1));
      }));

    test('persistSnapshot replaces a log that disagrees with it or is shorter', () =>
      withStore(async ({ store }) => {
        await store.persist(shard, { entries: entryRange(1, 11, 1) });
        await store.persistSnapshot(shard, snapshotAt(7, 2));
        let state = store.load(shard);
        expect([state.firstIndex, state.lastIndex]).toEqual([8, 7]);
        expect(store.term(shard, lo(7))).toBe(2);
        await store.persistSnapshot(shard, snapshotAt(20, 3));
        state = store.load(shard);
        expect([state.firstIndex, state.lastIndex]).toEqual([21, 20]);
        await store.persist(shard, { entries: entryRange(21, 23, 3) });
        expect(all(store)).toEqual(entryRange(21, 23, 3));
      }));

    test('removeGroup forgets entries, hard state and snapshot of that group only, after its queued writes', () =>
      withStore(async ({ store }) => {
        await store.persist(shard, { entries: entryRange(1, 11, 2), hardState: hardState(2, 1, 9) });
        await store.persistSnapshot(shard, snapshotAt(5, 2));
        await store.persist(2 as ShardId, { entries: entryRange(1, 3, 1), hardState: hardState(1, 1, 2) });
        const queued = store.persist(shard, { entries: entryRange(11, 13, 2) });
        await Promise.all([queued, store.removeGroup(shard)]);
        expect(store.load(shard)).toEqual({ hardState: hardState(0, 0, 0), snapshotMeta: undefined, firstIndex: 1, lastIndex: 0 });
        expect(store.snapshot(shard)).toBeUndefined();
        expect(store.term(shard, lo(6))).toBeUndefined();
        expect(all(store, 2 as ShardId)).toEqual(entryRange(1, 3, 1));
        // The group starts again like a brand-new one.
        await store.persist(shard, { entries: entryRange(1, 2, 3), hardState: hardState(3, 2, 1) });
        expect(all(store)).toEqual(entryRange(1, 2, 3));
      }));

    test('hasGroup tells whether load finds entries, a snapshot or a hard state with a term', () =>
      withStore(async ({ store }) => {
        const withTermOnly = 2 as ShardId;
        const withEntries = 3 as ShardId;
        const withSnapshot = 4 as ShardId;
        const withTermZero = 5 as ShardId;
        await store.persist(withTermOnly, { entries: [], hardState: hardState(3, 1, 0) });
        await store.persist(withEntries, { entries: entryRange(1, 3, 1) });
        await store.persistSnapshot(withSnapshot, snapshotAt(5, 1));
        await store.persist(withTermZero, { entries: [], hardState: hardState(0, 0, 0) });
        const found = [shard, withTermOnly, withEntries, withSnapshot, withTermZero].map((id) => store.hasGroup(id));
        expect(found).toEqual([false, true, true, true, false]);
        for (const id of [withTermOnly, withEntries, withSnapshot, withTermZero]) expect(store.hasGroup(id)).toBe(loadFindsState(store, id));
        await store.removeGroup(withEntries);
        expect(store.hasGroup(withEntries)).toBe(false);
      }));

    test('a failed write rejects and leaves the store as it was', () =>
      withStore(async ({ store }) => {
        const faulty = new FaultyLogStore(store);
        await faulty.persist(shard, { entries: entryRange(1, 3, 1), hardState: hardState(1, 1, 0) });
        faulty.failWrites(1);
        await expect(faulty.persist(shard, { entries: entryRange(3, 5, 1) })).rejects.toMatchObject({
          name: 'LogStoreError',
          kind: 'write_failed',
        });
        expect(faulty.load(shard).lastIndex).toBe(2);
        faulty.failWrites(1, { timing: 'after' });
        await expect(faulty.compact(shard, lo(1))).rejects.toThrow(/write failed/);
        expect(faulty.load(shard).firstIndex).toBe(2);
      }));

    test('a stalled write completes only once resumed, in order', () =>
      withStore(async ({ store }) => {
        const faulty = new FaultyLogStore(store);
        faulty.stallWrites();
        const order: number[] = [];
        const first = faulty.persist(shard, { entries: entryRange(1, 3, 1) }).then(() => order.push(1));
        const second = faulty.persist(shard, { entries: entryRange(3, 4, 1) }).then(() => order.push(2));
        expect(faulty.stalledWrites).toBe(2);
        expect(store.load(shard).lastIndex).toBe(0);
        faulty.resumeWrites();
        await Promise.all([first, second]);
        expect(order).toEqual([1, 2]);
        expect(store.load(shard).lastIndex).toBe(3);
      }));

    describe.skipIf(!capabilities.isPersistent)('when persistent', () => persistentContract(withStore));
    describe.skipIf(!capabilities.isPersistent)('when persistent, removal', () => removalPersists(withStore));
    describe.skipIf(!capabilities.canDamage)('when damaged', () => damageContract(withStore));
  });
}

type WithStore = (body: (h: LogStoreHarness) => Promise<void>) => Promise<void>;

function reopener(h: LogStoreHarness): () => Promise<LogStore> {
  const { reopen } = h;
  if (reopen === undefined) throw new Error('harness declared persistent but has no reopen()');
  return () => reopen.call(h);
}

function damager(h: LogStoreHarness): Required<Pick<LogStoreHarness, 'damageEntry' | 'damageSnapshot'>> {
  const { damageEntry, damageSnapshot } = h;
  if (damageEntry === undefined || damageSnapshot === undefined) {
    throw new Error('harness declared damageable but cannot damage entries and snapshots');
  }
  return { damageEntry: damageEntry.bind(h), damageSnapshot: damageSnapshot.bind(h) };
}

function persistentContract(withStore: WithStore): void {
  test('reopen restores entries, hard state, compaction and snapshot', () =>
    withStore(async (h) => {
      const reopen = reopener(h);
      await h.store.persist(shard, { entries: entryRange(1, 10, 2), hardState: hardState(2, 3, 6) });
      await h.store.persistSnapshot(shard, snapshotAt(4, 2));
      await h.store.persist(2 as ShardId, { entries: entryRange(1, 2, 1) });
      const store = await reopen();
      // Asked before anything is loaded, so the answer comes from storage alone.
      expect([store.hasGroup(shard), store.hasGroup(2 as ShardId), store.hasGroup(3 as ShardId)]).toEqual([true, true, false]);
      const state = store.load(shard);
      expect(state).toEqual({
        hardState: hardState(2, 3, 6),
        snapshotMeta: snapshotAt(4, 2).meta,
        firstIndex: 5,
        lastIndex: 9,
      });
      expect(all(store)).toEqual(entryRange(5, 10, 2));
      expect(store.snapshot(shard)).toEqual(snapshotAt(4, 2));
      expect(all(store, 2 as ShardId)).toEqual(entryRange(1, 2, 1));
    }));
}

function removalPersists(withStore: WithStore): void {
  test('a removed group stays removed after reopen', () =>
    withStore(async (h) => {
      const reopen = reopener(h);
      await h.store.persist(shard, { entries: entryRange(1, 10, 2), hardState: hardState(2, 3, 6) });
      await h.store.persistSnapshot(shard, snapshotAt(4, 2));
      await h.store.removeGroup(shard);
      const store = await reopen();
      expect(store.hasGroup(shard)).toBe(false);
      expect(store.load(shard)).toEqual({ hardState: hardState(0, 0, 0), snapshotMeta: undefined, firstIndex: 1, lastIndex: 0 });
      expect(store.snapshot(shard)).toBeUndefined();
    }));
}

function damageContract(withStore: WithStore): void {
  for (const kind of ['flip', 'truncate'] as const) {
    test(`load drops entries from a damaged one (${kind}) on and reports the damage`, () =>
      withStore(async (h) => {
        const reopen = reopener(h);
        const { damageEntry } = damager(h);
        await h.store.persist(shard, { entries: entryRange(1, 6, 1, 64), hardState: hardState(1, 1, 5) });
        await damageEntry(shard, lo(3), kind);
        let store = await reopen();
        const state = store.load(shard);
        expect(state.damage).toEqual({ fromIndex: 3, lastIndexSeen: 5 });
        expect(state.lastIndex).toBe(2);
        expect(state.hardState).toMatchObject({ term: 1, vote: 1 });
        expect(all(store)).toEqual(entryRange(1, 3, 1, 64));
        // Peers repair the log: once it again reaches the last index seen, the damage is gone.
        await store.persist(shard, { entries: entryRange(3, 6, 2, 64), hardState: hardState(2, 0, 5) });
        store = await reopen();
        const repaired = store.load(shard);
        expect(repaired.damage).toBeUndefined();
        expect(repaired.hardState).toEqual(hardState(2, 0, 5));
        expect(all(store)).toEqual([...entryRange(1, 3, 1, 64), ...entryRange(3, 6, 2, 64)]);
      }));

    test(`load drops a damaged snapshot (${kind}) and the log that depends on it`, () =>
      withStore(async (h) => {
        const reopen = reopener(h);
        const { damageSnapshot } = damager(h);
        await h.store.persist(shard, { entries: entryRange(1, 9, 1), hardState: hardState(1, 2, 8) });
        await h.store.persistSnapshot(shard, snapshotAt(5, 1));
        await damageSnapshot(shard, kind);
        let store = await reopen();
        const state = store.load(shard);
        expect(state.snapshotMeta).toBeUndefined();
        expect([state.firstIndex, state.lastIndex]).toEqual([1, 0]);
        expect(state.damage).toEqual({ fromIndex: 1, lastIndexSeen: 8 });
        expect(state.hardState).toMatchObject({ term: 1, vote: 2 });
        expect(store.snapshot(shard)).toBeUndefined();
        await store.persistSnapshot(shard, snapshotAt(8, 1));
        store = await reopen();
        const repaired = store.load(shard);
        expect(repaired.damage).toBeUndefined();
        expect(store.snapshot(shard)).toEqual(snapshotAt(8, 1));
      }));

    test(`hasGroup agrees with load on a damaged log (${kind}), before the store loads it`, () =>
      withStore(async (h) => {
        const reopen = reopener(h);
        const { damageEntry, damageSnapshot } = damager(h);
        const termless = 2 as ShardId;
        const termlessSnapshot = 3 as ShardId;
        const withTerm = 4 as ShardId;
        // Entries persisted without a hard state: once the first is damaged nothing is left.
        await h.store.persist(termless, { entries: entryRange(1, 4, 1) });
        await h.store.persistSnapshot(termlessSnapshot, snapshotAt(5, 1));
        await h.store.persist(withTerm, { entries: entryRange(1, 4, 1), hardState: hardState(1, 1, 3) });
        await damageEntry(termless, lo(1), kind);
        await damageSnapshot(termlessSnapshot, kind);
        await damageEntry(withTerm, lo(1), kind);
        const store = await reopen();
        const found = [termless, termlessSnapshot, withTerm].map((id) => store.hasGroup(id));
        expect(found).toEqual([termless, termlessSnapshot, withTerm].map((id) => loadFindsState(store, id)));
        expect(found).toEqual([false, false, true]);
      }));
  }
}
