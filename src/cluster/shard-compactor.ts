/**
 * ShardCompactor: keeps one shard replica's Raft log bounded by snapshotting its QueueFsm
 * and compacting the log behind the snapshot, while leaving a tail of entries for
 * followers that are only slightly behind (they catch up from the log; only a replica
 * behind the compacted log, or a new one, needs the snapshot).
 *
 * Policy, run by the host between Readys (the core idle, nothing applying):
 *  1. Once `snapshotEveryEntries` entries (or `snapshotEveryBytes` bytes of entry data)
 *     were applied since the last image, wait for the applied state to be committed and
 *     take an image at the applied index. It is kept in memory, pending.
 *  2. The pending image becomes the stored snapshot (the log up to its index is dropped)
 *     as soon as the log may lose those entries: on a leader once every other member's
 *     match index reached it, and on any replica once `tailEntriesMax` more entries were
 *     applied, so a dead or slow follower cannot hold the log back.
 * Hence the log holds at most about `snapshotEveryEntries + tailEntriesMax` applied
 * entries (plus the uncommitted ones), and at most one pending image is in memory.
 *
 * The stored snapshot is a full ShardImage, so a replica whose queue state lost its
 * unflushed tail in a crash, or that never had it, restores from it at start (see
 * RaftShardHost.addGroup).
 */
import { assert } from '../common/assert.js';
import type { LogIndex } from '../common/ids.js';
import type { Entry, RaftLogStore, Snapshot } from '../raft/types.js';
import type { ShardGroup } from './shard-group.js';

export interface CompactionPolicy {
  /** Applied entries between two snapshots of a shard. */
  readonly snapshotEveryEntries: number;
  /** Bytes of applied entry data between two snapshots (whichever comes first). */
  readonly snapshotEveryBytes: number;
  /** Entries a snapshot may wait for slow followers before the log is compacted anyway. */
  readonly tailEntriesMax: number;
}

export const defaultCompactionPolicy: CompactionPolicy = {
  snapshotEveryEntries: 4096,
  snapshotEveryBytes: 64 * 1024 * 1024,
  tailEntriesMax: 1024,
};

export class ShardCompactor {
  /** Index of the newest image taken (pending or stored). */
  private imageIndex: LogIndex;
  private bytesSinceImage = 0;
  private pending: Snapshot | undefined;
  /** Snapshots stored so far (tests and diagnostics). */
  compactions = 0;

  constructor(
    private readonly group: ShardGroup,
    private readonly logStore: RaftLogStore,
    private readonly policy: CompactionPolicy,
  ) {
    assert(policy.snapshotEveryEntries > 0 && policy.tailEntriesMax >= 0, 'compaction policy out of range');
    this.imageIndex = logStore.snapshot(group.shardId)?.meta.index ?? (0 as LogIndex);
  }

  /** Counts applied entry bytes toward the next snapshot. */
  noteApplied(entries: readonly Entry[]): void {
    for (const entry of entries) this.bytesSinceImage += entry.data.byteLength;
  }

  /** A snapshot from the leader replaced the state: the next image counts from it. */
  noteInstalled(snapshot: Snapshot): void {
    this.imageIndex = snapshot.meta.index;
    this.bytesSinceImage = 0;
    if (this.pending !== undefined && this.pending.meta.index <= snapshot.meta.index) this.pending = undefined;
  }

  /** Takes and stores snapshots as the policy says; the core must be idle. */
  async maybeCompact(): Promise<void> {
    if (this.pending === undefined) await this.maybeTakeImage();
    const pending = this.pending;
    if (pending === undefined || !this.mayDropLogUpTo(pending.meta.index)) return;
    await this.logStore.persistSnapshot(this.group.shardId, pending);
    this.pending = undefined;
    this.group.core.compacted(pending.meta);
    this.compactions++;
  }

  private async maybeTakeImage(): Promise<void> {
    const { core, fsm } = this.group;
    const applied = core.log.applied;
    const isDue = applied - this.imageIndex >= this.policy.snapshotEveryEntries || this.bytesSinceImage >= this.policy.snapshotEveryBytes;
    // After a restart the FSM may be ahead of the core's replay: wait until they meet.
    if (!isDue || fsm.appliedIndex !== applied) return;
    await fsm.fsm.awaitCommitted();
    if (!fsm.fsm.isCommitted || core.log.applied !== applied) return;
    const image = fsm.snapshot();
    assert(image.index === applied, () => `shard ${this.group.shardId}: image at ${image.index}, applied ${applied}`);
    const term = core.log.term(applied);
    assert(term !== undefined, () => `shard ${this.group.shardId}: no term for applied index ${applied}`);
    this.pending = { meta: { index: applied, term, conf: core.conf }, data: image.data };
    this.imageIndex = applied;
    this.bytesSinceImage = 0;
  }

  private mayDropLogUpTo(index: LogIndex): boolean {
    const { core } = this.group;
    if (core.log.applied - index >= this.policy.tailEntriesMax) return true;
    if (core.role !== 'leader') return false;
    for (const [id, progress] of core.progress) {
      if (id !== core.id && progress.match < index) return false;
    }
    return true;
  }
}
