/**
 * RecentEntriesLogStore: keeps the entries of the latest persists in memory, so that
 * applying a committed entry (a round or two after it was persisted, on a follower as on
 * the leader) and the terms Raft checks on every AppendEntries are answered without
 * reading the entry back from the store, verifying its checksum and copying its data.
 *
 * What it holds, per group, is one run of consecutive entries exactly as the last
 * persists wrote them (a persist replacing a suffix replaces it here too), so it answers
 * as the store will once its queued writes are durable; Raft reads only indexes it knows
 * are stable. Anything not held is read from the store. Bounded by entry data bytes over
 * all groups (`bytesMax`): the entries of the oldest persists are dropped first. Entry
 * data may be views of a larger buffer (a received gRPC frame), which stays alive while
 * any entry of it is held: the bound counts entry bytes, not the frames behind them.
 *
 * Compactions, and snapshots the log agrees with at their index, drop the entries they
 * cover; any other snapshot, group removal and load() drop all the group's entries (the
 * store answers from then on); so does a write that fails (its group is failed anyway).
 */
import type { Entry, HardState, LogIndex, RaftGroupState, ShardId, Snapshot, Term } from '../raft/types.js';
import type { LogStore } from './log-store.js';
import { LogStoreDecorator } from './log-store-decorator.js';

/** Enough for the entries between their persist and their apply under load; big bodies fall back to the store sooner. */
export const recentEntriesBytesMax = 8 * 1024 * 1024;
/** Persists remembered for eviction at most (their entries may be gone already: compacted, replaced). */
const persistsHeldMax = 4096;

interface HeldRun {
  /** Index of entries[0]. */
  first: number;
  entries: Entry[];
  bytes: number;
}

/** A persist that added entries, oldest first: what to drop once over the bound. */
interface HeldPersist {
  readonly shardId: ShardId;
  readonly lastIndex: number;
}

export class RecentEntriesLogStore extends LogStoreDecorator {
  private readonly runs = new Map<ShardId, HeldRun>();
  private persists: HeldPersist[] = [];
  private persistsHead = 0;
  private bytes = 0;
  /** Reads answered from memory / passed to the store (tests, diagnostics). */
  readonly stats = { hits: 0, misses: 0 };

  constructor(
    inner: LogStore,
    private readonly bytesMax = recentEntriesBytesMax,
  ) {
    super(inner);
  }

  /** Entry data bytes held now. */
  get heldBytes(): number {
    return this.bytes;
  }

  override load(shardId: ShardId): RaftGroupState {
    this.forget(shardId);
    return this.inner.load(shardId);
  }

  override entries(shardId: ShardId, range: { lo: LogIndex; hi: LogIndex; bytesMax?: number }): Entry[] {
    const { lo, hi, bytesMax = Infinity } = range;
    const run = this.runs.get(shardId);
    if (run === undefined || lo < run.first || hi > run.first + run.entries.length || lo >= hi) {
      this.stats.misses += 1;
      return this.inner.entries(shardId, range);
    }
    this.stats.hits += 1;
    const result: Entry[] = [];
    let bytes = 0;
    for (let index = lo; index < hi; index++) {
      const entry = run.entries[index - run.first] as Entry;
      bytes += entry.data.byteLength;
      if (result.length > 0 && bytes > bytesMax) break;
      result.push(entry);
    }
    return result;
  }

  override term(shardId: ShardId, index: LogIndex): Term | undefined {
    const run = this.runs.get(shardId);
    const entry = run === undefined ? undefined : run.entries[index - run.first];
    if (entry !== undefined) return entry.term;
    return this.inner.term(shardId, index);
  }

  override persist(shardId: ShardId, batch: { entries: readonly Entry[]; hardState?: HardState }): Promise<void> {
    if (batch.entries.length > 0) this.hold(shardId, batch.entries);
    return this.inner.persist(shardId, batch).catch((error: unknown) => {
      this.forget(shardId);
      throw error;
    });
  }

  override persistSnapshot(shardId: ShardId, snapshot: Snapshot): Promise<void> {
    // As the store: the entries after a snapshot the log agrees with at its index stay (a
    // compaction's local snapshot at the applied index, taken while later entries await
    // their apply); any other snapshot replaces the whole log.
    const { index, term } = snapshot.meta;
    const run = this.runs.get(shardId);
    const held = run === undefined || index < run.first ? undefined : run.entries[index - run.first];
    if (held !== undefined && held.term === term) this.dropThrough(shardId, index);
    else this.forget(shardId);
    return this.inner.persistSnapshot(shardId, snapshot).catch((error: unknown) => {
      this.forget(shardId);
      throw error;
    });
  }

  override compact(shardId: ShardId, index: LogIndex): Promise<void> {
    this.dropThrough(shardId, index);
    return this.inner.compact(shardId, index);
  }

  override removeGroup(shardId: ShardId): Promise<void> {
    this.forget(shardId);
    return this.inner.removeGroup(shardId);
  }

  private hold(shardId: ShardId, entries: readonly Entry[]): void {
    const first = (entries[0] as Entry).index;
    let run = this.runs.get(shardId);
    if (run !== undefined && (first < run.first || first > run.first + run.entries.length)) {
      this.forget(shardId); // Not adjacent to what is held (some was dropped): start over.
      run = undefined;
    }
    if (run === undefined) {
      run = { first, entries: [], bytes: 0 };
      this.runs.set(shardId, run);
    }
    // A persist starting inside the run replaces its suffix, as in the store.
    const keep = first - run.first;
    for (let i = keep; i < run.entries.length; i++) this.release(run, (run.entries[i] as Entry).data.byteLength);
    run.entries.length = keep;
    for (const entry of entries) {
      run.entries.push(entry);
      run.bytes += entry.data.byteLength;
      this.bytes += entry.data.byteLength;
    }
    this.persists.push({ shardId, lastIndex: (entries[entries.length - 1] as Entry).index });
    this.evict();
  }

  /** Over a bound: drops the oldest persists' entries down to 3/4 of it (so not on every persist). */
  private evict(): void {
    if (this.bytes <= this.bytesMax && this.persists.length - this.persistsHead <= persistsHeldMax) return;
    while (this.persistsHead < this.persists.length
      && (this.bytes > this.bytesMax * 0.75 || this.persists.length - this.persistsHead > persistsHeldMax * 0.75)) {
      const oldest = this.persists[this.persistsHead] as HeldPersist;
      this.persistsHead += 1;
      this.dropThrough(oldest.shardId, oldest.lastIndex);
    }
    this.persists = this.persists.slice(this.persistsHead);
    this.persistsHead = 0;
  }

  /** Drops the group's entries at or below `index`. */
  private dropThrough(shardId: ShardId, index: number): void {
    const run = this.runs.get(shardId);
    if (run === undefined || index < run.first) return;
    const count = Math.min(index - run.first + 1, run.entries.length);
    for (let i = 0; i < count; i++) this.release(run, (run.entries[i] as Entry).data.byteLength);
    if (count === run.entries.length) {
      this.runs.delete(shardId);
      return;
    }
    run.entries = run.entries.slice(count);
    run.first += count;
  }

  private forget(shardId: ShardId): void {
    const run = this.runs.get(shardId);
    if (run === undefined) return;
    this.bytes -= run.bytes;
    this.runs.delete(shardId);
  }

  private release(run: HeldRun, bytes: number): void {
    run.bytes -= bytes;
    this.bytes -= bytes;
  }
}
