/**
 * LmdbLogStore: the Raft log of every group of a node (entries, hard state, snapshot,
 * bounds) in named databases of the node's log environment (`raft-log.lmdb`, lmdb-env.ts).
 *
 * Invariants:
 *  - A write (persist, persistSnapshot, compact, removeGroup) is one LMDB transaction together with
 *    the writes of every other group requested in the same event-loop turn (group
 *    commit), and its promise resolves only once that transaction is flushed.
 *  - Reads (entries, term, snapshot) see the state of the last resolved write; the bounds
 *    they check come from `views`, updated only after a write is durable, and a group's
 *    writes resolve in the order they were queued.
 *  - A persist stores its entries as one record, a run keyed by its first index (entry-codec.ts);
 *    a run replaced from inside keeps its shadowed tail until compaction passes it, and no
 *    run is stored after the last entry's.
 *  - Every stored entry, snapshot and group record is checksummed; load() verifies the
 *    whole group and reports damage instead of throwing; a later read that fails
 *    verification throws LogStoreError('damaged').
 *  - After a failed write the group is failed: its later writes reject (see log-store.ts).
 *  - persist() is validated synchronously against the state after all queued writes, so
 *    many persists of one group may be queued at once; persistSnapshot() and compact()
 *    first wait for the group's queued writes (they read entries), and later writes of
 *    that group wait for them.
 */
import { assert } from '../../common/assert.js';
import type { Entry, HardState, LogIndex, RaftGroupState, RaftLogStore, ShardId, Snapshot, Term } from '../../raft/types.js';
import { type LogStore, LogStoreError } from '../log-store.js';
import { decodeEntryRun, encodeEntryRun, entrySizeBytes } from './entry-codec.js';
import { GroupCommit } from './group-commit.js';
import { decodeSnapshot, emptyGroupRecord, encodeGroupRecord, encodeSnapshot } from './group-record.js';
import { groupHasState, scanGroup, type GroupView } from './group-scan.js';
import type { LmdbEnv } from './lmdb-env.js';
import { entryKeysBetween, openLogDbs, runAtOrBefore, runsHolding, type EntryKey, type LogDbs } from './log-dbs.js';

const noop = (): void => {};

export class LmdbLogStore implements LogStore {
  private readonly dbs: LogDbs;
  private readonly commits: GroupCommit;
  /** Durable state per group: what reads check their bounds against. */
  private readonly views = new Map<ShardId, GroupView>();
  /** State after every queued write of the group (absent when none is queued). */
  private readonly queuedViews = new Map<ShardId, GroupView>();
  private readonly queuedCounts = new Map<ShardId, number>();
  /** Settles when the group's last queued write settles. */
  private readonly tails = new Map<ShardId, Promise<void>>();
  /** Settles when the group's pending snapshot/compaction has been queued and settled. */
  private readonly barriers = new Map<ShardId, Promise<void>>();
  private readonly failures = new Map<ShardId, unknown>();
  /**
   * Groups whose stored entries are known to end at their queued last index: a write of
   * the group looked for entries after its new last one and removed them, and every
   * later write appended right after the last. An append to such a group skips that
   * look (a cursor over the entries in every persist); load() forgets it.
   */
  private readonly cleanTails = new Set<ShardId>();

  constructor(env: LmdbEnv) {
    this.dbs = openLogDbs(env);
    this.commits = new GroupCommit(env);
  }

  /** LMDB transactions started for log writes so far (one per group-commit batch). */
  get transactions(): number {
    return this.commits.transactions;
  }

  load(shardId: ShardId): RaftGroupState {
    assert(!this.queuedCounts.has(shardId), () => `load of shard ${shardId} while its writes are queued`);
    const { view, damage } = scanGroup(this.dbs, shardId);
    this.views.set(shardId, view);
    this.failures.delete(shardId);
    this.cleanTails.delete(shardId);
    const state = {
      hardState: view.hardState,
      snapshotMeta: view.snapshotMeta,
      firstIndex: view.firstIndex,
      lastIndex: view.lastIndex,
    };
    return damage === undefined ? state : { ...state, damage };
  }

  hasGroup(shardId: ShardId): boolean {
    // A group already read or written here is described by its view; any other is looked up.
    const view = this.queuedViews.get(shardId) ?? this.views.get(shardId);
    if (view === undefined) return groupHasState(this.dbs, shardId);
    return view.lastIndex > 0 || view.snapshotMeta !== undefined || view.hardState.term > 0;
  }

  storedGroups(from: ShardId): ShardId[] {
    // Every write of a group's log rewrites its record in the same transaction (group-record.ts); the snapshot covers a lost one.
    const ids = new Set<number>([...this.dbs.groups.getKeys({ start: from }), ...this.dbs.snapshots.getKeys({ start: from })]);
    for (const shardId of this.queuedViews.keys()) if (shardId >= from) ids.add(shardId);
    return [...ids].map((id) => id as ShardId).filter((shardId) => this.hasGroup(shardId)).sort((a, b) => a - b);
  }

  entries(shardId: ShardId, range: { lo: LogIndex; hi: LogIndex; bytesMax?: number }): Entry[] {
    const { lo, hi, bytesMax = Infinity } = range;
    const view = this.view(shardId);
    assert(lo >= view.firstIndex && lo <= hi && hi <= view.lastIndex + 1, () => {
      return `shard ${shardId}: entries [${lo}, ${hi}) outside the log [${view.firstIndex}, ${view.lastIndex}]`;
    });
    const result: Entry[] = [];
    let bytes = 0;
    for (const run of runsHolding(this.dbs, shardId, lo, hi)) {
      const from = lo + result.length;
      const to = Math.min(hi, run.next);
      if (run.first > from || from >= to) break;
      for (const entry of decodeEntryRun(run.value, from, to)) {
        if (entry.index !== lo + result.length) throw new LogStoreError('damaged', shardId, `entry ${lo + result.length} fails verification`);
        bytes += entrySizeBytes(entry);
        if (result.length > 0 && bytes > bytesMax) return result;
        result.push(entry);
      }
      if (lo + result.length < to) throw new LogStoreError('damaged', shardId, `entry ${lo + result.length} fails verification`);
    }
    if (result.length !== hi - lo) {
      throw new LogStoreError('damaged', shardId, `entry ${lo + result.length} is missing`);
    }
    return result;
  }

  term(shardId: ShardId, index: LogIndex): Term | undefined {
    const view = this.view(shardId);
    if (index === view.firstIndex - 1) return view.compactedTerm;
    if (index < view.firstIndex || index > view.lastIndex) return undefined;
    const run = runAtOrBefore(this.dbs, shardId, index);
    if (run === undefined) throw new LogStoreError('damaged', shardId, `entry ${index} is missing`);
    const [entry] = decodeEntryRun(run.value, index, index + 1);
    if (entry?.index !== index) throw new LogStoreError('damaged', shardId, `entry ${index} fails verification`);
    return entry.term;
  }

  snapshot(shardId: ShardId): Snapshot | undefined {
    if (this.view(shardId).snapshotMeta === undefined) return undefined;
    const bytes = this.dbs.snapshots.getBinary(shardId);
    const snapshot = bytes === undefined ? undefined : decodeSnapshot(bytes);
    if (snapshot === undefined) throw new LogStoreError('damaged', shardId, 'snapshot fails verification');
    return snapshot;
  }

  persist(shardId: ShardId, batch: { entries: readonly Entry[]; hardState?: HardState }): Promise<void> {
    const barrier = this.barriers.get(shardId);
    if (barrier !== undefined) return barrier.then(() => this.persistNow(shardId, batch));
    return this.persistNow(shardId, batch);
  }

  persistSnapshot(shardId: ShardId, snapshot: Snapshot): Promise<void> {
    return this.afterQueuedWrites(shardId, () => this.persistSnapshotNow(shardId, snapshot));
  }

  compact(shardId: ShardId, index: LogIndex): Promise<void> {
    return this.afterQueuedWrites(shardId, () => this.compactNow(shardId, index));
  }

  /**
   * Forgets the group once its queued writes settled: every entry, the hard state and
   * the snapshot, in one durable write; load() then finds a brand-new group. For a
   * replica removed from its group (the node no longer holds the shard).
   */
  removeGroup(shardId: ShardId): Promise<void> {
    return this.afterQueuedWrites(shardId, () => this.removeGroupNow(shardId));
  }

  private async removeGroupNow(shardId: ShardId): Promise<void> {
    this.writableView(shardId);
    this.cleanTails.delete(shardId);
    const next: GroupView = { ...emptyGroupRecord, snapshotMeta: undefined };
    return this.write(shardId, next, () => {
      this.removeKeys(entryKeysBetween(this.dbs, shardId, 0));
      this.dbs.snapshots.remove(shardId);
      return this.dbs.groups.remove(shardId);
    });
  }

  private async persistNow(shardId: ShardId, batch: { entries: readonly Entry[]; hardState?: HardState }): Promise<void> {
    const view = this.writableView(shardId);
    const { entries, hardState = view.hardState } = batch;
    checkAppend(shardId, view, entries);
    assert(hardState.term >= view.hardState.term, () => `shard ${shardId}: hard state term went backwards`);
    const first = entries[0];
    const last = entries[entries.length - 1];
    const lastIndex = last?.index ?? view.lastIndex;
    const next: GroupView = {
      ...view,
      hardState,
      lastIndex,
      lastIndexSeen: lastIndex >= view.lastIndexSeen ? (0 as LogIndex) : view.lastIndexSeen,
      hasStaleSnapshot: false,
    };
    const run = first === undefined ? undefined : encodeEntryRun(entries);
    const record = encodeGroupRecord(next);
    const isCleanAppend = first?.index === view.lastIndex + 1 && this.cleanTails.has(shardId);
    return this.write(shardId, next, () => {
      if (first === undefined || run === undefined) return this.dbs.groups.put(shardId, record);
      // Runs after the new one's first index belong to a replaced suffix (or are damaged
      // leftovers); a run holding that index keeps its tail, which the new run shadows.
      if (!isCleanAppend) {
        this.removeKeys(this.runKeysAfter(shardId, first.index, view.lastIndex));
        this.cleanTails.add(shardId);
      }
      this.dbs.entries.put([shardId, first.index], run);
      if (view.hasStaleSnapshot === true) this.dbs.snapshots.remove(shardId);
      return this.dbs.groups.put(shardId, record);
    });
  }

  private async persistSnapshotNow(shardId: ShardId, snapshot: Snapshot): Promise<void> {
    const view = this.writableView(shardId);
    const { index, term } = snapshot.meta;
    if (index < view.firstIndex - 1 || (view.snapshotMeta !== undefined && index <= view.snapshotMeta.index)) {
      return; // Older than what we hold: nothing to do (raft may race a local snapshot).
    }
    // Like etcd's raftLog.restore: entries after the snapshot survive only if the log
    // agrees with the snapshot at its index; otherwise the whole log is replaced.
    const keepsLog = index <= view.lastIndex && this.term(shardId, index) === term;
    const lastIndex = keepsLog ? view.lastIndex : index;
    const next: GroupView = {
      ...view,
      firstIndex: (index + 1) as LogIndex,
      lastIndex,
      compactedTerm: term,
      lastIndexSeen: lastIndex >= view.lastIndexSeen ? (0 as LogIndex) : view.lastIndexSeen,
      snapshotMeta: snapshot.meta,
      hasStaleSnapshot: false,
    };
    const value = encodeSnapshot(snapshot);
    const record = encodeGroupRecord(next);
    return this.write(shardId, next, () => {
      this.removeKeys(keepsLog ? this.runKeysThrough(shardId, index) : entryKeysBetween(this.dbs, shardId, 0));
      this.dbs.snapshots.put(shardId, value);
      return this.dbs.groups.put(shardId, record);
    });
  }

  private async compactNow(shardId: ShardId, index: LogIndex): Promise<void> {
    const view = this.writableView(shardId);
    if (index < view.firstIndex) return;
    assert(index <= view.lastIndex, () => `shard ${shardId}: compact to ${index} beyond last index ${view.lastIndex}`);
    const compactedTerm = this.term(shardId, index);
    assert(compactedTerm !== undefined, () => `shard ${shardId}: no term at ${index}`);
    const next: GroupView = { ...view, firstIndex: (index + 1) as LogIndex, compactedTerm };
    const record = encodeGroupRecord(next);
    return this.write(shardId, next, () => {
      this.removeKeys(this.runKeysThrough(shardId, index));
      return this.dbs.groups.put(shardId, record);
    });
  }

  /**
   * Keys of the group's runs that start after `index`: those committed (read here) and
   * those that queued, not yet committed writes may have put, up to `queuedLastIndex`.
   */
  private runKeysAfter(shardId: ShardId, index: LogIndex, queuedLastIndex: LogIndex): EntryKey[] {
    const keys = entryKeysBetween(this.dbs, shardId, index + 1);
    const committed = new Set(keys.map(([, first]) => first));
    for (let first = index + 1; first <= queuedLastIndex; first++) {
      if (!committed.has(first)) keys.push([shardId, first]);
    }
    return keys;
  }

  /** Keys of the group's runs that hold only entries up to `index` (the run holding index + 1 stays). */
  private runKeysThrough(shardId: ShardId, index: LogIndex): EntryKey[] {
    const holder = runAtOrBefore(this.dbs, shardId, index + 1);
    return holder === undefined ? [] : entryKeysBetween(this.dbs, shardId, 0, holder.first);
  }

  /** Queues `write` (see GroupCommit) for the group and moves the group's views along with it. */
  private write(shardId: ShardId, next: GroupView, write: () => Promise<unknown>): Promise<void> {
    this.queuedViews.set(shardId, next);
    this.queuedCounts.set(shardId, (this.queuedCounts.get(shardId) ?? 0) + 1);
    const previous = this.tails.get(shardId);
    const enqueued = this.commits.enqueue(write);
    // A group's writes settle in the order they were queued, whatever order their
    // transactions report flushed in, so the durable view never moves back to an older
    // write's (with several persists of a group in flight, Raft trusts it as the log).
    const inOrder = previous === undefined ? enqueued : enqueued.then(
      () => previous,
      (error: unknown) => previous.then(() => Promise.reject(error)),
    );
    const done = inOrder.then(
      () => {
        this.dequeued(shardId);
        if (!this.failures.has(shardId)) this.views.set(shardId, next);
      },
      (error: unknown) => {
        this.dequeued(shardId);
        this.failures.set(shardId, error);
        throw new LogStoreError('write_failed', shardId, 'log write failed', { cause: error });
      },
    );
    this.tails.set(shardId, done.then(noop, noop));
    return done;
  }

  private dequeued(shardId: ShardId): void {
    const count = (this.queuedCounts.get(shardId) ?? 1) - 1;
    if (count > 0) {
      this.queuedCounts.set(shardId, count);
      return;
    }
    this.queuedCounts.delete(shardId);
    this.queuedViews.delete(shardId);
    this.tails.delete(shardId);
  }

  /** Runs `op` once the group's queued writes settled; the group's later writes wait for it. */
  private afterQueuedWrites(shardId: ShardId, op: () => Promise<void>): Promise<void> {
    const previous = this.barriers.get(shardId) ?? Promise.resolve();
    const run = previous.then(() => this.tails.get(shardId)).then(op);
    const barrier = run.then(noop, noop);
    this.barriers.set(shardId, barrier);
    void barrier.then(() => {
      if (this.barriers.get(shardId) === barrier) this.barriers.delete(shardId);
    });
    return run;
  }

  private writableView(shardId: ShardId): GroupView {
    const failure = this.failures.get(shardId);
    if (failure !== undefined) {
      throw new LogStoreError('group_failed', shardId, 'an earlier log write failed', { cause: failure });
    }
    return this.queuedViews.get(shardId) ?? this.view(shardId);
  }

  private view(shardId: ShardId): GroupView {
    const known = this.views.get(shardId);
    if (known !== undefined) return known;
    const { view } = scanGroup(this.dbs, shardId);
    this.views.set(shardId, view);
    return view;
  }

  private removeKeys(keys: readonly EntryKey[]): void {
    for (const key of keys) void this.dbs.entries.remove(key);
  }
}

function checkAppend(shardId: ShardId, view: GroupView, entries: readonly Entry[]): void {
  const first = entries[0];
  if (first === undefined) return;
  assert(first.index >= view.firstIndex && first.index <= view.lastIndex + 1, () => {
    return `shard ${shardId}: append at ${first.index} outside [${view.firstIndex}, ${view.lastIndex + 1}]`;
  });
  for (let i = 1; i < entries.length; i++) {
    const previous = entries[i - 1];
    const entry = entries[i];
    assert(previous !== undefined && entry !== undefined, 'dense batch');
    assert(entry.index === previous.index + 1 && entry.term >= previous.term, () => {
      return `shard ${shardId}: entries ${previous.index}@${previous.term} then ${entry.index}@${entry.term}`;
    });
  }
}
