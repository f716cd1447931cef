/**
 * The log layer's name for raft's RaftLogStore, and the one error type its stores throw.
 *
 * Stores satisfy raft's interface structurally (raft owns it as the consumer); `log`
 * only imports its types. A store signals two failures through LogStoreError:
 *  - `write_failed`: a write (persist, snapshot, compaction) did not become durable. The
 *    group it belongs to is failed from then on: every later write of that group is
 *    rejected with `group_failed` until the store is reopened (the node loop stops the
 *    group; restarting reloads it from what is durable).
 *  - `damaged`: verification failed on a read after load() (the media changed under a
 *    running node). load() itself never throws on damage; it reports it.
 */
import type { RaftLogStore, ShardId } from '../raft/types.js';

/** Raft's store, plus what the cluster needs when a replica leaves its group. */
export interface LogStore extends RaftLogStore {
  /**
   * Whether load() would find anything of the group (entries, a snapshot, or a hard
   * state with term > 0): a replica this node hosts, as opposed to a brand-new group.
   * Answers from a few key lookups, without verifying or loading the whole log, and
   * leaves the store's view of the group as it was.
   */
  hasGroup(shardId: ShardId): boolean;
  /** The groups at or above `from` for which hasGroup holds (a node's pool shards at start). */
  storedGroups(from: ShardId): ShardId[];
  /**
   * Forgets a group durably (entries, hard state, snapshot) after its queued writes:
   * load() then finds a brand-new group. Only for a group this node no longer hosts.
   */
  removeGroup(shardId: ShardId): Promise<void>;
}

export type LogStoreErrorKind = 'write_failed' | 'group_failed' | 'damaged';

export class LogStoreError extends Error {
  readonly kind: LogStoreErrorKind;
  readonly shardId: ShardId;

  constructor(kind: LogStoreErrorKind, shardId: ShardId, message: string, options?: ErrorOptions) {
    super(`shard ${shardId}: ${message}`, options);
    this.name = 'LogStoreError';
    this.kind = kind;
    this.shardId = shardId;
  }
}
