/**
 * What a leader knows about one follower's log, and the flow-control state machine that
 * decides what to send it next:
 *
 * - probe: the leader does not know where the logs match; one append per heartbeat
 *   interval until an acknowledgement lands.
 * - replicate: logs match up to `match`; appends are pipelined optimistically
 *   (`next` runs ahead of `match`) inside the bounded in-flight window.
 * - snapshot: the follower needs a snapshot; chunks go one at a time, each acknowledged
 *   with the next offset the follower expects.
 *
 * Invariant: match < next.
 */
import type { LogIndex } from '../types.js';
import { Inflights } from './inflights.js';

export type ProgressState = 'probe' | 'replicate' | 'snapshot';

export class Progress {
  match = 0 as LogIndex;
  next: LogIndex;
  state: ProgressState = 'probe';
  /** Probe: an append was sent this heartbeat interval; wait for an answer. */
  probeSent = false;
  /** Heard from since the last check-quorum round. */
  recentActive = false;
  /** Snapshot state: index of the snapshot being sent, and the next byte offset to send. */
  pendingSnapshot = 0 as LogIndex;
  snapshotOffset = 0;
  /** Snapshot state: a chunk ack arrived since the last heartbeat (else the chunk is resent). */
  snapshotAcked = false;
  readonly inflights: Inflights;

  constructor(
    next: LogIndex,
    inflightMax: number,
    public isLearner: boolean,
  ) {
    this.next = next;
    this.inflights = new Inflights(inflightMax);
  }

  private resetState(state: ProgressState): void {
    this.probeSent = false;
    this.pendingSnapshot = 0 as LogIndex;
    this.snapshotOffset = 0;
    this.snapshotAcked = false;
    this.state = state;
    this.inflights.reset();
  }

  becomeProbe(): void {
    if (this.state === 'snapshot') {
      const pending = this.pendingSnapshot;
      this.resetState('probe');
      this.next = (Math.max(this.match + 1, pending + 1) as LogIndex);
    } else {
      this.resetState('probe');
      this.next = (this.match + 1) as LogIndex;
    }
  }

  becomeReplicate(): void {
    this.resetState('replicate');
    this.next = (this.match + 1) as LogIndex;
  }

  becomeSnapshot(snapshotIndex: LogIndex): void {
    this.resetState('snapshot');
    this.pendingSnapshot = snapshotIndex;
  }

  /** An acknowledgement up to `index`; false when it is stale. */
  maybeUpdate(index: LogIndex): boolean {
    let updated = false;
    if (this.match < index) {
      this.match = index;
      updated = true;
      this.probeSent = false;
    }
    if (this.next < index + 1) this.next = (index + 1) as LogIndex;
    return updated;
  }

  /**
   * A rejection of the append after `rejected`; `hint` is the follower's guess of the
   * last index it may share. Returns false when the rejection is stale. A hint below
   * `match` means the follower lost entries it had acknowledged (a damaged store): match
   * is lowered so the log is repaired from there.
   */
  maybeDecrTo(rejected: LogIndex, hint: LogIndex): boolean {
    if (rejected < this.match) return false;
    if (hint < this.match) {
      this.match = hint;
      this.next = (hint + 1) as LogIndex;
      return true;
    }
    if (this.state === 'replicate') {
      if (rejected <= this.match) return false;
      this.next = (this.match + 1) as LogIndex;
      return true;
    }
    if (this.next - 1 !== rejected) return false;
    this.next = Math.max(Math.min(rejected, hint + 1), this.match + 1) as LogIndex;
    this.probeSent = false;
    return true;
  }

  /** The follower's log ends at `lastIndex`, below `match`: it lost entries it acknowledged (damage). */
  lostEntriesAfter(lastIndex: LogIndex): void {
    this.match = lastIndex;
    this.becomeProbe();
  }

  /** Sent entries up to `lastIndex` (or an empty probe when undefined). */
  sentEntries(lastIndex: LogIndex | undefined): void {
    if (this.state === 'replicate') {
      if (lastIndex !== undefined) {
        this.next = (lastIndex + 1) as LogIndex;
        this.inflights.add(lastIndex);
      }
    } else if (this.state === 'probe') {
      this.probeSent = true;
    }
  }

  isPaused(): boolean {
    switch (this.state) {
      case 'probe':
        return this.probeSent;
      case 'replicate':
        return this.inflights.isFull();
      case 'snapshot':
        return true;
    }
  }
}
