/**
 * The part of the Raft log not yet persisted: entries appended since the last Ready, and
 * an incoming snapshot waiting to be installed.
 *
 * Entries (and the snapshot) handed to storage in a Ready but not yet reported durable
 * stay here, so reads still find them, but are not handed out again (etcd's
 * `offsetInProgress`): with asynchronous storage writes the next Ready carries only
 * what came after them.
 *
 * Invariants: when `snapshot` is set, `offset === snapshot.meta.index + 1`; `entries[i]`
 * has index `offset + i`; offset <= offsetInProgress <= offset + entries.length.
 */
import { assert } from '../../common/assert.js';
import type { Entry, LogIndex, Snapshot, Term } from '../types.js';

export class LogUnstable {
  snapshot: Snapshot | undefined;
  entries: Entry[] = [];
  offset: LogIndex;
  /** First index not yet handed to storage. */
  offsetInProgress: LogIndex;
  /** The snapshot was handed to storage and is not yet durable. */
  isSnapshotInProgress = false;

  constructor(offset: LogIndex) {
    this.offset = offset;
    this.offsetInProgress = offset;
  }

  hasNextEntries(): boolean {
    return this.offsetInProgress < this.offset + this.entries.length;
  }

  /** Entries not yet handed to storage. */
  nextEntries(): Entry[] {
    return this.entries.slice(this.offsetInProgress - this.offset);
  }

  /** The snapshot, unless it was already handed to storage. */
  nextSnapshot(): Snapshot | undefined {
    return this.isSnapshotInProgress ? undefined : this.snapshot;
  }

  /** Everything here was handed to storage (a Ready was taken). */
  acceptInProgress(): void {
    this.offsetInProgress = (this.offset + this.entries.length) as LogIndex;
    if (this.snapshot !== undefined) this.isSnapshotInProgress = true;
  }

  maybeFirstIndex(): LogIndex | undefined {
    return this.snapshot === undefined ? undefined : ((this.snapshot.meta.index + 1) as LogIndex);
  }

  maybeLastIndex(): LogIndex | undefined {
    if (this.entries.length > 0) return (this.offset + this.entries.length - 1) as LogIndex;
    return this.snapshot?.meta.index;
  }

  maybeTerm(index: LogIndex): Term | undefined {
    if (index < this.offset) {
      if (this.snapshot !== undefined && this.snapshot.meta.index === index) return this.snapshot.meta.term;
      return undefined;
    }
    return this.entries[index - this.offset]?.term;
  }

  /** Entries up to `index` (with `term`) reached storage. A mismatch means they were replaced meanwhile. */
  stableTo(index: LogIndex, term: Term): void {
    if (index < this.offset || this.maybeTerm(index) !== term) return;
    this.entries = this.entries.slice(index + 1 - this.offset);
    this.offset = (index + 1) as LogIndex;
    if (this.offsetInProgress < this.offset) this.offsetInProgress = this.offset;
  }

  stableSnapTo(index: LogIndex): void {
    if (this.snapshot !== undefined && this.snapshot.meta.index === index) {
      this.snapshot = undefined;
      this.isSnapshotInProgress = false;
    }
  }

  restore(snapshot: Snapshot): void {
    this.offset = (snapshot.meta.index + 1) as LogIndex;
    this.offsetInProgress = this.offset;
    this.entries = [];
    this.snapshot = snapshot;
    this.isSnapshotInProgress = false;
  }

  truncateAndAppend(entries: readonly Entry[]): void {
    const first = entries[0];
    if (first === undefined) return;
    const after = first.index;
    if (after === this.offset + this.entries.length) {
      this.entries.push(...entries);
    } else if (after <= this.offset) {
      // Replaces everything unstable (and, once persisted, the stored suffix from `after`).
      this.offset = after;
      this.offsetInProgress = after;
      this.entries = [...entries];
    } else {
      this.entries = this.entries.slice(0, after - this.offset).concat(entries);
      // Replaced entries already handed to storage are written again (writes land in order).
      if (this.offsetInProgress > after) this.offsetInProgress = after;
    }
  }

  slice(lo: LogIndex, hi: LogIndex): Entry[] {
    assert(lo >= this.offset && hi <= this.offset + this.entries.length, () => `unstable slice [${lo},${hi}) out of [${this.offset},${this.offset + this.entries.length})`);
    return this.entries.slice(lo - this.offset, hi - this.offset);
  }
}
