/**
 * The Raft log as the core sees it: the persisted part (read synchronously through a
 * `LogReader` over the node's store) followed by `LogUnstable`, plus the commit and apply
 * cursors.
 *
 * Invariants: applied <= applying <= committed <= lastIndex(); the persisted bounds
 * tracked here (`stableFirst`, `stableLast`, the stored snapshot's index/term) describe
 * what the store holds durably, because only the node loop's report that a Ready was
 * persisted (`advance`, or `persisted` with asynchronous storage writes) and
 * `compacted` move them.
 *
 * With asynchronous storage writes (`isApplyingOnlyDurable`) committed entries are
 * handed out for applying only once they are durable here: the state machine never
 * gets ahead of what a restart of this replica finds in its own log.
 */
import { assert } from '../../common/assert.js';
import type { Entry, LogIndex, RaftGroupState, RaftLogStore, ShardId, Snapshot, SnapshotMeta, Term } from '../types.js';
import { LogUnstable } from './log-unstable.js';

/** Synchronous reads of one group's persisted log (lmdb reads are synchronous). */
export interface LogReader {
  entries(range: { lo: LogIndex; hi: LogIndex; bytesMax?: number }): Entry[];
  term(index: LogIndex): Term | undefined;
  snapshot(): Snapshot | undefined;
}

export class RaftLog {
  readonly unstable: LogUnstable;
  committed: LogIndex;
  applied: LogIndex;
  /** Last index handed out for applying (equal to `applied` once the loop reported it). */
  applying: LogIndex;
  /** Apply only entries below `unstable.offset` (asynchronous storage writes). */
  isApplyingOnlyDurable = false;
  private stableFirst: LogIndex;
  private stableLast: LogIndex;
  private snapIndex: LogIndex;
  private snapTerm: Term;

  constructor(
    private readonly reader: LogReader,
    state: RaftGroupState,
  ) {
    this.snapIndex = state.snapshotMeta?.index ?? (0 as LogIndex);
    this.snapTerm = state.snapshotMeta?.term ?? (0 as Term);
    this.stableFirst = state.firstIndex;
    this.stableLast = state.lastIndex;
    assert(this.stableFirst === this.snapIndex + 1, () => `first index ${this.stableFirst} does not follow snapshot ${this.snapIndex}`);
    assert(this.stableLast >= this.snapIndex, 'last index before the snapshot');
    this.unstable = new LogUnstable((this.stableLast + 1) as LogIndex);
    // A damaged store may have lost entries the commit index covers; commit is only
    // local knowledge, so clamping it is safe (the leader re-sends what is missing).
    this.committed = Math.min(state.hardState.commit, this.stableLast) as LogIndex;
    if (this.committed < this.snapIndex) this.committed = this.snapIndex;
    this.applied = this.snapIndex;
    this.applying = this.snapIndex;
  }

  /** Last index known durable in the store (meaningful while no snapshot is pending). */
  durableLastIndex(): LogIndex {
    return (this.unstable.offset - 1) as LogIndex;
  }

  firstIndex(): LogIndex {
    return this.unstable.maybeFirstIndex() ?? this.stableFirst;
  }

  lastIndex(): LogIndex {
    return this.unstable.maybeLastIndex() ?? this.stableLast;
  }

  lastTerm(): Term {
    const term = this.term(this.lastIndex());
    assert(term !== undefined, 'term of the last index is unknown');
    return term;
  }

  /** Term of the entry at `index`, or undefined when it is compacted away or beyond the end. */
  term(index: LogIndex): Term | undefined {
    const dummy = (this.firstIndex() - 1) as LogIndex;
    if (index < dummy || index > this.lastIndex()) return undefined;
    const unstable = this.unstable.maybeTerm(index);
    if (unstable !== undefined) return unstable;
    if (index === this.snapIndex) return this.snapTerm;
    if (index === 0) return 0 as Term;
    return this.reader.term(index);
  }

  matchTerm(index: LogIndex, term: Term): boolean {
    return this.term(index) === term;
  }

  isUpToDate(lastIndex: LogIndex, term: Term): boolean {
    const ourTerm = this.lastTerm();
    return term > ourTerm || (term === ourTerm && lastIndex >= this.lastIndex());
  }

  /** Appends a leader's entries after (index, logTerm); returns the last new index, or undefined on mismatch. */
  maybeAppend(index: LogIndex, logTerm: Term, committed: LogIndex, entries: readonly Entry[]): LogIndex | undefined {
    if (!this.matchTerm(index, logTerm)) return undefined;
    const lastNew = (index + entries.length) as LogIndex;
    const conflict = this.findConflict(entries);
    if (conflict !== 0) {
      assert(conflict > this.committed, () => `entry ${conflict} conflicts with committed ${this.committed}`);
      const first = entries[0];
      assert(first !== undefined, 'conflict without entries');
      this.append(entries.slice(conflict - first.index));
    }
    this.commitTo(Math.min(committed, lastNew) as LogIndex);
    return lastNew;
  }

  append(entries: readonly Entry[]): LogIndex {
    const first = entries[0];
    if (first === undefined) return this.lastIndex();
    assert(first.index - 1 >= this.committed, () => `append at ${first.index} below commit ${this.committed}`);
    this.unstable.truncateAndAppend(entries);
    if (first.index <= this.stableLast) this.stableLast = (first.index - 1) as LogIndex;
    return this.lastIndex();
  }

  /** First index whose entry differs from ours (or is new), 0 when all are present. */
  private findConflict(entries: readonly Entry[]): LogIndex {
    for (const entry of entries) {
      if (!this.matchTerm(entry.index, entry.term)) return entry.index;
    }
    return 0 as LogIndex;
  }

  /** Largest index <= `index` whose term is <= `term`: where a rejected append may resume. */
  findConflictByTerm(index: LogIndex, term: Term): LogIndex {
    let at = index;
    for (;;) {
      const ourTerm = this.term(at);
      if (ourTerm === undefined || ourTerm <= term || at === 0) return at;
      at = (at - 1) as LogIndex;
    }
  }

  /** Entries in [lo, hi) from storage and unstable, at most `bytesMax` bytes (at least one entry). */
  slice(lo: LogIndex, hi: LogIndex, bytesMax: number): Entry[] {
    if (lo >= hi) return [];
    assert(lo >= this.firstIndex() && hi <= this.lastIndex() + 1, () => `slice [${lo},${hi}) out of bounds`);
    const result: Entry[] = [];
    const unstableFrom = this.unstable.offset;
    if (lo < unstableFrom) {
      const stored = this.reader.entries({ lo, hi: Math.min(hi, unstableFrom) as LogIndex, bytesMax });
      assert(stored.length > 0 && stored[0]?.index === lo, () => `storage lacks entry ${lo}`);
      result.push(...stored);
      if (lo + stored.length < Math.min(hi, unstableFrom)) return result;
    }
    let bytes = entriesBytes(result);
    for (const entry of this.unstable.slice(Math.max(lo, unstableFrom) as LogIndex, Math.max(hi, unstableFrom) as LogIndex)) {
      bytes += entry.data.byteLength;
      if (result.length > 0 && bytes > bytesMax) break;
      result.push(entry);
    }
    return result;
  }

  /** Entries from `index` on (bounded by bytes), or undefined when `index` is compacted. */
  entriesFrom(index: LogIndex, bytesMax: number): Entry[] | undefined {
    if (index < this.firstIndex()) return undefined;
    return this.slice(index, (this.lastIndex() + 1) as LogIndex, bytesMax);
  }

  /** Committed entries not yet handed out for applying; marks them handed out. */
  nextCommitted(bytesMax: number): Entry[] {
    const lo = (Math.max(this.applying, this.firstIndex() - 1) + 1) as LogIndex;
    const entries = this.slice(lo, (this.applicableIndex() + 1) as LogIndex, bytesMax);
    const last = entries[entries.length - 1];
    if (last !== undefined) this.applying = last.index;
    return entries;
  }

  hasNextCommitted(): boolean {
    return this.applicableIndex() > this.applying && this.unstable.snapshot === undefined;
  }

  private applicableIndex(): LogIndex {
    if (!this.isApplyingOnlyDurable) return this.committed;
    return Math.min(this.committed, this.durableLastIndex()) as LogIndex;
  }

  commitTo(index: LogIndex): void {
    if (index <= this.committed) return;
    assert(index <= this.lastIndex(), () => `commit ${index} beyond last index ${this.lastIndex()}`);
    this.committed = index;
  }

  appliedTo(index: LogIndex): void {
    assert(index <= this.committed && index >= this.applied, () => `applied ${index} outside [${this.applied}, ${this.committed}]`);
    this.applied = index;
    if (this.applying < index) this.applying = index;
  }

  maybeCommit(index: LogIndex, term: Term): boolean {
    if (index > this.committed && this.term(index) === term) {
      this.commitTo(index);
      return true;
    }
    return false;
  }

  /** Replaces the whole log with a leader's snapshot (installed by the next Ready). */
  restore(snapshot: Snapshot): void {
    this.committed = snapshot.meta.index;
    this.unstable.restore(snapshot);
  }

  stableTo(index: LogIndex, term: Term): void {
    const before = this.unstable.offset;
    this.unstable.stableTo(index, term);
    if (this.unstable.offset !== before) this.stableLast = index;
  }

  /** The snapshot reached storage, which keeps later entries only if they match it. */
  stableSnapTo(meta: SnapshotMeta): void {
    this.unstable.stableSnapTo(meta.index);
    this.snapIndex = meta.index;
    this.snapTerm = meta.term;
    this.stableFirst = (meta.index + 1) as LogIndex;
    this.stableLast = meta.index;
    if (meta.index > this.applied) this.applied = meta.index;
    if (meta.index > this.applying) this.applying = meta.index;
  }

  /** The node loop compacted storage up to `meta.index` (a snapshot of applied state). */
  compacted(meta: SnapshotMeta): void {
    assert(meta.index <= this.applied, 'compacted past applied');
    if (meta.index < this.stableFirst) return;
    this.snapIndex = meta.index;
    this.snapTerm = meta.term;
    this.stableFirst = (meta.index + 1) as LogIndex;
  }

  storedSnapshot(): Snapshot | undefined {
    return this.reader.snapshot();
  }
}

export function entriesBytes(entries: readonly Entry[]): number {
  let bytes = 0;
  for (const entry of entries) bytes += entry.data.byteLength;
  return bytes;
}

/** Binds a node's store to one group, as the core reads it. */
export function logReaderOf(store: RaftLogStore, shardId: ShardId): LogReader {
  return {
    entries: (range) => store.entries(shardId, range),
    term: (index) => store.term(shardId, index),
    snapshot: () => store.snapshot(shardId),
  };
}
