/**
 * ShardCompactor: keeps one shard replica's Raft log bounded, and builds the ShardImage a
 * follower behind the compacted log is sent.
 *
 * The queue store is the shard's applied state, durable on its own (with its applied
 * index): once that state at index X is flushed, the log up to X is redundant on this
 * replica. So compacting stores a *local* snapshot: its meta (index, term, conf) and no
 * data, meaning "the queue store holds this state". Nothing proportional to the shard's
 * state is read, encoded or written, and every message body lives once in the log only
 * until the next compaction.
 *
 * Policy, run by the host between Readys (the core idle, nothing applying):
 *  1. Once `snapshotEveryEntries` entries (or `snapshotEveryBytes` bytes of entry data)
 *     were applied since the last compaction point, or the node's shards hold more than
 *     `nodeBytesMax` together and this one at least its even share (compaction-budget.ts),
 *     wait until the queue state at the applied index is flushed (fdatasync) and mark
 *     that index as the next point.
 *  2. The log up to that point is dropped (the local snapshot stored) as soon as the log
 *     may lose those entries: on a leader once every other member's match index reached
 *     it, and on any replica once `tailEntriesMax` more entries were applied, so a dead or
 *     slow follower cannot hold the log back.
 * Hence the log holds at most about `snapshotEveryEntries + tailEntriesMax` applied
 * entries (plus the uncommitted ones).
 *
 * Images for followers: the core asks `snapshotToSend()` when a follower needs entries
 * the log no longer has. A snapshot stored from a leader (it carries data) is sent as is.
 * Otherwise the latest image built here is sent if it covers the compacted log; if none
 * does, the answer is "not yet" (the core retries on a later heartbeat answer) and the
 * next `maybeCompact` builds one at the applied index from the committed queue state. An
 * image is kept in memory only while a follower may still need it.
 *
 * Invariant: a local snapshot is stored only for an index whose queue state is on disk,
 * so at start the queue store's applied index is at or past it (asserted by
 * ShardFsmAdapter.restore, which a local snapshot can never satisfy).
 */
import { assert } from '../common/assert.js';
import type { LogIndex } from '../common/ids.js';
import type { Entry, RaftLogStore, Snapshot, SnapshotMeta } from '../raft/types.js';
import { CompactionBudget } from './compaction-budget.js';
import { isLocalSnapshot, localSnapshotData } from './local-snapshot.js';
import type { ShardGroup } from './shard-group.js';

export interface CompactionPolicy {
  /** Applied entries between two compactions of a shard's log. */
  readonly snapshotEveryEntries: number;
  /** Bytes of applied entry data between two compactions (whichever comes first). */
  readonly snapshotEveryBytes: number;
  /** Entries a compaction may wait for slow followers before the log is compacted anyway. */
  readonly tailEntriesMax: number;
  /**
   * Bytes of applied entry data since their compaction points over all the node's shards,
   * above which the shards holding their even share compact early (compaction-budget.ts).
   */
  readonly nodeBytesMax: number;
}

export const defaultCompactionPolicy: CompactionPolicy = {
  snapshotEveryEntries: 4096,
  // Compaction costs no image, so it can be prompt: entries (and the message bodies they
  // carry, a second copy of the queue store's) stay in the log for ~1 MiB at most. Per
  // shard: with 16 shards taking writes, 8 MiB each held ~170 MB of log pages resident,
  // 1 MiB ~25 MB (every page of the log's file is read when its records are removed:
  // lmdb-env.ts).
  snapshotEveryBytes: 1024 * 1024,
  tailEntriesMax: 1024,
  // As one shard's: a node with writes spread over many shards holds no more log than one
  // with a single busy shard.
  nodeBytesMax: 1024 * 1024,
};


export class ShardCompactor {
  /** Index of the newest compaction point (marked or stored). */
  private pointIndex: LogIndex;
  private bytesSincePoint = 0;
  /** A flushed compaction point waiting until the log may drop its entries. */
  private pending: SnapshotMeta | undefined;
  /** The latest image built for followers, while one may need it. */
  private image: Snapshot | undefined;
  private isImageWanted = false;
  /** Local snapshots stored so far (tests and diagnostics). */
  compactions = 0;
  /** Images built for followers so far (tests and diagnostics). */
  imagesBuilt = 0;

  constructor(
    private readonly group: ShardGroup,
    private readonly logStore: RaftLogStore,
    private readonly policy: CompactionPolicy,
    private readonly budget = new CompactionBudget(policy.nodeBytesMax),
  ) {
    assert(policy.snapshotEveryEntries > 0 && policy.tailEntriesMax >= 0, 'compaction policy out of range');
    this.pointIndex = logStore.snapshot(group.shardId)?.meta.index ?? (0 as LogIndex);
  }

  /** Counts applied entry bytes toward the next compaction. */
  noteApplied(entries: readonly Entry[]): void {
    let bytes = this.bytesSincePoint;
    for (const entry of entries) bytes += entry.data.byteLength;
    this.setBytesSincePoint(bytes);
  }

  /** The group is gone: its bytes leave the node's budget. */
  close(): void {
    this.setBytesSincePoint(0);
  }

  /** A snapshot from the leader replaced the state: the next compaction counts from it. */
  noteInstalled(snapshot: Snapshot): void {
    this.pointIndex = snapshot.meta.index;
    this.setBytesSincePoint(0);
    if (this.pending !== undefined && this.pending.index <= snapshot.meta.index) this.pending = undefined;
    if (this.image !== undefined && this.image.meta.index <= snapshot.meta.index) this.image = undefined;
  }

  /**
   * The snapshot for a follower behind the compacted log (the core's LogReader.snapshot),
   * or undefined while none is ready: one is then built by the next `maybeCompact`.
   */
  snapshotToSend(): Snapshot | undefined {
    const stored = this.logStore.snapshot(this.group.shardId);
    if (stored === undefined) return undefined;
    if (!isLocalSnapshot(stored)) return stored;
    if (this.image !== undefined && this.image.meta.index >= stored.meta.index) return this.image;
    this.isImageWanted = true;
    return undefined;
  }

  /** Builds a wanted image, then compacts as the policy says; the core must be idle. */
  async maybeCompact(): Promise<void> {
    if (this.isImageWanted) await this.buildImage();
    this.dropDeliveredImage();
    if (this.pending === undefined) await this.maybeMarkPoint();
    const pending = this.pending;
    if (pending === undefined || !this.mayDropLogUpTo(pending.index)) return;
    await this.logStore.persistSnapshot(this.group.shardId, { meta: pending, data: localSnapshotData });
    this.pending = undefined;
    this.group.core.compacted(pending);
    this.compactions++;
  }

  private async maybeMarkPoint(): Promise<void> {
    const { core, fsm } = this.group;
    const applied = core.log.applied;
    const isDue = applied - this.pointIndex >= this.policy.snapshotEveryEntries || this.bytesSincePoint >= this.policy.snapshotEveryBytes
      || this.budget.isDue(this.bytesSincePoint);
    // After a restart the FSM may be ahead of the core's replay: wait until they meet.
    if (!isDue || applied <= this.pointIndex || fsm.appliedIndex !== applied) return;
    const term = core.log.term(applied);
    assert(term !== undefined, () => `shard ${this.group.shardId}: no term for applied index ${applied}`);
    const meta: SnapshotMeta = { index: applied, term, conf: core.conf };
    // The queue state at `applied` (and its applied index) must be on disk before the log
    // that could rebuild it is dropped.
    await fsm.fsm.store.flushed();
    if (this.pointIndex >= applied) return; // a leader's snapshot was installed meanwhile
    this.pending = meta;
    this.pointIndex = applied;
    this.setBytesSincePoint(0);
  }

  private setBytesSincePoint(bytes: number): void {
    this.budget.set(this.bytesSincePoint, bytes);
    this.bytesSincePoint = bytes;
  }

  private async buildImage(): Promise<void> {
    const { core, fsm } = this.group;
    const applied = core.log.applied;
    if (fsm.appliedIndex !== applied) return;
    await fsm.fsm.awaitCommitted();
    if (!fsm.fsm.isCommitted || core.log.applied !== applied) return; // applied meanwhile: next time
    const image = fsm.snapshot();
    assert(image.index === applied, () => `shard ${this.group.shardId}: image at ${image.index}, applied ${applied}`);
    const term = core.log.term(applied);
    assert(term !== undefined, () => `shard ${this.group.shardId}: no term for applied index ${applied}`);
    this.image = { meta: { index: applied, term, conf: core.conf }, data: image.data };
    this.isImageWanted = false;
    this.imagesBuilt++;
  }

  /** Frees the image once no follower can need it (every member has its index, or not leading). */
  private dropDeliveredImage(): void {
    const image = this.image;
    if (image === undefined || this.isImageWanted) return;
    const { core } = this.group;
    if (core.role === 'leader') {
      for (const [id, progress] of core.progress) {
        if (id !== core.id && progress.match < image.meta.index) return;
      }
    }
    this.image = undefined;
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
