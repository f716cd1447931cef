/**
 * The part of the Raft log not yet persisted: entries appended since the last Ready, and
 * an incoming snapshot waiting to be installed.
 *
 * Invariant: when `snapshot` is set, `offset === snapshot.meta.index + 1`; `entries[i]`
 * has index `offset + i`.
 */
import { assert } from '../../common/assert.js';
import type { Entry, LogIndex, Snapshot, Term } from '../types.js';

export class LogUnstable {
  snapshot: Snapshot | undefined;
  entries: Entry[] = [];
  offset: LogIndex;

  constructor(offset: LogIndex) {
    this.offset = offset;
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
  }

  stableSnapTo(index: LogIndex): void {
    if (this.snapshot !== undefined && this.snapshot.meta.index === index) this.snapshot = undefined;
  }

  restore(snapshot: Snapshot): void {
    this.offset = (snapshot.meta.index + 1) as LogIndex;
    this.entries = [];
    this.snapshot = snapshot;
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
      this.entries = [...entries];
    } else {
      this.entries = this.entries.slice(0, after - this.offset).concat(entries);
    }
  }

  slice(lo: LogIndex, hi: LogIndex): Entry[] {
    assert(lo >= this.offset && hi <= this.offset + this.entries.length, () => `unstable slice [${lo},${hi}) out of [${this.offset},${this.offset + this.entries.length})`);
    return this.entries.slice(lo - this.offset, hi - this.offset);
  }
}
