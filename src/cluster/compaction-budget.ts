/**
 * CompactionBudget: the applied entry data that all the shard logs of one node hold past
 * their last compaction point, so that their logs are bounded together and not only
 * each on its own.
 *
 * Why: each shard compacts after `snapshotEveryBytes` of its own, so a node whose writes
 * spread over many shards held up to that much per shard (16 shards taking writes: ~16
 * MiB of entries, the log file's pages for them, and the recent entries kept in memory
 * for the apply) where a node writing one shard held one. Over the node's bound, the
 * shards holding at least their even share of the total compact early, so the node holds
 * about the bound however its writes are spread (a shard written alone compacts at the
 * lower of the two bounds).
 *
 * Each ShardCompactor reports its bytes since its point as they change (`set`); the
 * budget keeps their sum and how many hold any.
 */
export class CompactionBudget {
  private totalBytes = 0;
  private holders = 0;

  constructor(readonly bytesMax: number) {}

  /** Bytes held over all shards (tests, diagnostics). */
  get heldBytes(): number {
    return this.totalBytes;
  }

  /** A shard's bytes since its compaction point went from `before` to `after`. */
  set(before: number, after: number): void {
    this.totalBytes += after - before;
    if (before === 0 && after > 0) this.holders += 1;
    else if (before > 0 && after === 0) this.holders -= 1;
  }

  /** Whether a shard holding `bytes` should compact early: the node is over its bound and the shard holds its even share. */
  isDue(bytes: number): boolean {
    return bytes > 0 && this.totalBytes >= this.bytesMax && bytes * this.holders >= this.totalBytes;
  }
}
