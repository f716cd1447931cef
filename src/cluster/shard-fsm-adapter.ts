/**
 * ShardFsmAdapter: a shard's QueueFsm as the state machine of its Raft group.
 *
 * Raft hands over every committed entry (leader no-ops, ConfChanges, commands); the
 * QueueFsm wants consecutive indexes and treats empty data as a no-op, so ConfChanges
 * are passed on as empty entries. Two more mismatches are bridged here:
 *  - after a restart the core re-delivers committed entries from its snapshot index,
 *    while the FSM's state (written with its applied index) may already cover them:
 *    entries at or below the FSM's applied index are skipped;
 *  - a bootstrapped group's initial ConfChange entries are committed inside the core
 *    and never delivered; the gap before the first delivered entry is read back from
 *    the log store (it is durable: it was persisted in an earlier Ready).
 *
 * Snapshots are the QueueFsm's ShardImage (see shard-image.ts). Both directions read
 * the queue store's committed state, so the host awaits `fsm.awaitCommitted()` before
 * calling them (asserted by the QueueFsm). The image's applied index is the snapshot's
 * index because ConfChanges and no-ops count as applied entries here too.
 */
import { assert } from '../common/assert.js';
import type { LogIndex, ShardId } from '../common/ids.js';
import { type Entry, EntryType, type RaftLogStore, type Snapshot, type StateMachine } from '../raft/types.js';
import { isLocalSnapshot } from './local-snapshot.js';
import type { LogEntryData, QueueFsm } from './shard/queue-fsm.js';
import type { AnyCommandResult } from './shard/results.js';

/** What applying one committed entry produced, for the proposer waiting on it. */
export interface AppliedEntry {
  readonly index: LogIndex;
  readonly term: number;
  readonly result: AnyCommandResult | undefined;
}

export class ShardFsmAdapter implements StateMachine {
  constructor(
    readonly fsm: QueueFsm,
    private readonly logStore: RaftLogStore,
  ) {}

  get shardId(): ShardId {
    return this.fsm.shardId;
  }

  get appliedIndex(): LogIndex {
    return this.fsm.appliedIndex;
  }

  apply(entries: readonly Entry[]): void {
    this.applyEntries(entries);
  }

  /** Applies committed entries; returns what each newly applied entry produced. */
  applyEntries(entries: readonly Entry[]): AppliedEntry[] {
    const fresh = entries.filter((e) => e.index > this.fsm.appliedIndex);
    const first = fresh[0];
    if (first === undefined) return [];
    const gap = first.index > this.fsm.appliedIndex + 1 ? this.readGap(first.index) : [];
    const batch = [...gap, ...fresh];
    const results = this.fsm.apply(batch.map(toFsmEntry));
    return batch.map((entry, i) => ({ index: entry.index, term: entry.term, result: results[i] }));
  }

  private readGap(firstDelivered: LogIndex): Entry[] {
    const lo = (this.fsm.appliedIndex + 1) as LogIndex;
    const gap = this.logStore.entries(this.shardId, { lo, hi: firstDelivered });
    assert(gap.length === firstDelivered - lo, () => `shard ${this.shardId}: entries ${lo}..${firstDelivered - 1} missing before apply`);
    for (const entry of gap) {
      assert(entry.type === EntryType.ConfChange, () => `shard ${this.shardId}: undelivered entry ${entry.index} is not a ConfChange`);
    }
    return gap;
  }

  snapshot(): { index: LogIndex; data: Uint8Array } {
    return this.fsm.snapshot();
  }

  restore(snapshot: Snapshot): void {
    // A local snapshot (no data) is stored only once the queue state covering it is on
    // disk, so the queue state can never be behind it.
    assert(!isLocalSnapshot(snapshot), () => `shard ${this.shardId}: queue state at ${this.fsm.appliedIndex} is behind the local snapshot at ${snapshot.meta.index} (state lost)`);
    this.fsm.restore(snapshot.data);
    assert(this.fsm.appliedIndex === snapshot.meta.index, () => `shard ${this.shardId}: image applied to ${this.fsm.appliedIndex}, snapshot at ${snapshot.meta.index}`);
  }
}

const empty = new Uint8Array(0);

function toFsmEntry(entry: Entry): LogEntryData {
  return { index: entry.index, data: entry.type === EntryType.Normal ? entry.data : empty };
}
