/**
 * LmdbLogStore against a dumb in-test model: random sequences of appends (with suffix
 * overwrites), hard-state writes, compactions, snapshots and reopens on two groups, some
 * issued concurrently in one turn (group commit), must leave load(), entries(), term()
 * and snapshot() exactly where the model says. Terms only grow and committed entries are
 * never overwritten, as under Raft, so a correct store never reports damage here.
 */
import fc from 'fast-check';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { openLmdbEnv, type LmdbEnv } from '../../src/log/lmdb/lmdb-env.js';
import { LmdbLogStore } from '../../src/log/lmdb/lmdb-log-store.js';
import type { LogStore } from '../../src/log/log-store.js';
import { RecentEntriesLogStore } from '../../src/log/recent-entries.js';
import type { Entry, HardState, LogIndex, NodeId, ShardId, Snapshot, Term } from '../../src/raft/types.js';

class ModelGroup {
  entries: Entry[] = [];
  firstIndex = 1;
  compactedTerm = 0;
  hardState: HardState = { term: 0 as Term, vote: 0, commit: 0 as LogIndex };
  snapshot: Snapshot | undefined;

  get lastIndex(): number {
    return this.firstIndex + this.entries.length - 1;
  }
  term(index: number): number | undefined {
    if (index === this.firstIndex - 1) return this.compactedTerm;
    return this.entries[index - this.firstIndex]?.term;
  }
  append(entries: Entry[]): void {
    const at = (entries[0]?.index ?? this.lastIndex + 1) - this.firstIndex;
    this.entries = [...this.entries.slice(0, at), ...entries];
  }
  compact(index: number): void {
    if (index < this.firstIndex) return;
    this.compactedTerm = this.term(index) ?? -1;
    this.entries = this.entries.slice(index - this.firstIndex + 1);
    this.firstIndex = index + 1;
  }
  install(snapshot: Snapshot): void {
    const { index, term } = snapshot.meta;
    if (index < this.firstIndex - 1 || (this.snapshot !== undefined && index <= this.snapshot.meta.index)) return;
    const keeps = index <= this.lastIndex && this.term(index) === term;
    this.entries = keeps ? this.entries.slice(index - this.firstIndex + 1) : [];
    this.firstIndex = index + 1;
    this.compactedTerm = term;
    this.snapshot = snapshot;
  }
}

/** `isConcurrent`: issued without waiting for the writes before it (same turn or group). */
type Op =
  | { kind: 'append'; shard: number; back: number; count: number; isNewTerm: boolean; isConcurrent: boolean }
  | { kind: 'hardState'; shard: number; vote: number; commitBack: number; isConcurrent: boolean }
  | { kind: 'compact'; shard: number; back: number; isConcurrent: boolean }
  | { kind: 'snapshot'; shard: number; offset: number; isMatching: boolean; isConcurrent: boolean }
  | { kind: 'reopen'; isConcurrent: false };

const shardArb = fc.constantFrom(1, 2);
const isConcurrent = fc.boolean();
const appendArb = fc.record({
  kind: fc.constant('append' as const),
  ...{ shard: shardArb, back: fc.nat(4), count: fc.integer({ min: 1, max: 5 }) },
  ...{ isNewTerm: fc.boolean(), isConcurrent },
});
const hardStateArb = fc.record({
  kind: fc.constant('hardState' as const),
  ...{ shard: shardArb, vote: fc.nat(3), commitBack: fc.nat(3), isConcurrent },
});
const compactArb = fc.record({ kind: fc.constant('compact' as const), shard: shardArb, back: fc.nat(4), isConcurrent });
const snapshotArb = fc.record({
  kind: fc.constant('snapshot' as const),
  ...{ shard: shardArb, offset: fc.integer({ min: -3, max: 3 }), isMatching: fc.boolean(), isConcurrent },
});
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 5, arbitrary: appendArb },
  { weight: 2, arbitrary: hardStateArb },
  { weight: 1, arbitrary: compactArb },
  { weight: 1, arbitrary: snapshotArb },
  { weight: 1, arbitrary: fc.constant({ kind: 'reopen' as const, isConcurrent: false as const }) },
);

function makeEntry(index: number, term: number): Entry {
  return { index: index as LogIndex, term: term as Term, type: 0, data: new Uint8Array([index & 0xff, term & 0xff, 42]) };
}

class Runner {
  private env: LmdbEnv;
  store: LogStore;
  readonly models = new Map<number, ModelGroup>([
    [1, new ModelGroup()],
    [2, new ModelGroup()],
  ]);
  private term = 1;
  private pending: Promise<void>[] = [];

  constructor(
    private readonly dir: string,
    private readonly open: (store: LmdbLogStore) => LogStore,
  ) {
    this.env = openLmdbEnv(dir);
    this.store = open(new LmdbLogStore(this.env));
  }

  async apply(op: Op): Promise<void> {
    if (!op.isConcurrent) await this.settle();
    if (op.kind === 'reopen') {
      await this.env.close();
      this.env = openLmdbEnv(this.dir);
      this.store = this.open(new LmdbLogStore(this.env));
      return;
    }
    const model = this.models.get(op.shard) ?? new ModelGroup();
    const shardId = op.shard as ShardId;
    if (op.kind === 'append') {
      if (op.isNewTerm) this.term += 1;
      // Raft never overwrites a committed entry: suffixes are replaced above the commit only.
      const start = Math.max(model.firstIndex, model.hardState.commit + 1, model.lastIndex + 1 - op.back);
      const entries = Array.from({ length: op.count }, (_, i) => makeEntry(start + i, this.term));
      model.append(entries);
      this.pending.push(this.store.persist(shardId, { entries }));
    } else if (op.kind === 'hardState') {
      const commit = Math.max(0, model.lastIndex - op.commitBack);
      model.hardState = { term: this.term as Term, vote: op.vote as NodeId, commit: commit as LogIndex };
      this.pending.push(this.store.persist(shardId, { entries: [], hardState: model.hardState }));
    } else if (op.kind === 'compact') {
      const index = Math.max(model.firstIndex - 1, model.lastIndex - op.back);
      model.compact(index);
      this.pending.push(this.store.compact(shardId, index as LogIndex));
    } else {
      const index = Math.max(0, model.lastIndex + op.offset);
      // A snapshot never contradicts a committed entry: at or below the commit it matches.
      const isMatching = op.isMatching || index <= model.hardState.commit;
      const term = isMatching ? (model.term(index) ?? this.term) : this.term + 1;
      if (!isMatching) this.term += 1;
      const conf = { voters: [1, 2, 3] as NodeId[], learners: [] as NodeId[], votersOutgoing: [] as NodeId[] };
      const meta = { index: index as LogIndex, term: term as Term, conf };
      const snapshot: Snapshot = { meta, data: Uint8Array.of(index & 0xff) };
      model.install(snapshot);
      this.pending.push(this.store.persistSnapshot(shardId, snapshot));
    }
  }

  async settle(): Promise<void> {
    const pending = this.pending;
    this.pending = [];
    await Promise.all(pending);
  }

  check(): void {
    for (const [shard, model] of this.models) {
      const shardId = shard as ShardId;
      // Read first: load() starts the group afresh (a wrapper may drop what it holds).
      const range = { lo: model.firstIndex as LogIndex, hi: (model.lastIndex + 1) as LogIndex };
      if (model.entries.length > 0) expect(this.store.entries(shardId, range)).toEqual(model.entries);
      for (let index = model.firstIndex; index <= model.lastIndex; index++) {
        expect(this.store.term(shardId, index as LogIndex), `term(${index}) before load`).toBe(model.term(index));
      }
      const state = this.store.load(shardId);
      const snapIndex = model.snapshot?.meta.index ?? 0;
      const commit = Math.min(Math.max(model.hardState.commit, snapIndex), model.lastIndex);
      expect(state).toEqual({
        hardState: { ...model.hardState, commit },
        snapshotMeta: model.snapshot?.meta,
        firstIndex: model.firstIndex,
        lastIndex: model.lastIndex,
      });
      const entries = this.store.entries(shardId, { lo: state.firstIndex, hi: (state.lastIndex + 1) as LogIndex });
      expect(entries).toEqual(model.entries);
      for (let index = model.firstIndex - 1; index <= model.lastIndex + 1; index++) {
        expect(this.store.term(shardId, index as LogIndex), `term(${index})`).toBe(model.term(index));
      }
      expect(this.store.snapshot(shardId)).toEqual(model.snapshot);
    }
  }

  async close(): Promise<void> {
    await this.settle().catch(() => undefined);
    await this.env.close();
  }
}

const stores: [string, (store: LmdbLogStore) => LogStore][] = [
  ['LmdbLogStore', (store) => store],
  // Holding about 10 entries of 3 bytes, so reads come from memory, the store and both.
  ['RecentEntriesLogStore over LmdbLogStore', (store) => new RecentEntriesLogStore(store, 30)],
];

test.each(stores)('%s behaves like the model under random writes, snapshots and reopens', async (_name, open) => {
  await fc.assert(
    fc.asyncProperty(fc.array(opArb, { minLength: 10, maxLength: 40, size: 'max' }), async (ops) => {
      const dir = await mkdtemp(join(tmpdir(), 'zaqar-log-model-'));
      const runner = new Runner(dir, open);
      try {
        for (const op of ops) await runner.apply(op);
        await runner.settle();
        runner.check();
      } finally {
        await runner.close();
        await rm(dir, { recursive: true, force: true });
      }
    }),
    { numRuns: 40 },
  );
});
