/**
 * Tuning of one Raft group, with units in the names. Defaults suit a 100 ms tick.
 */
import type { NodeId, ShardId } from '../types.js';

export interface RaftConfig {
  readonly id: NodeId;
  readonly shardId: ShardId;
  /** Voters of a brand-new group (ignored once the store holds a snapshot). Empty for a node joining later. */
  readonly peers: readonly NodeId[];
  /** Followers campaign after a random timeout in [electionTicks, 2 * electionTicks). */
  readonly electionTicks: number;
  readonly heartbeatTicks: number;
  readonly isPreVote: boolean;
  readonly isCheckQuorum: boolean;
  /**
   * Leader lease for reads (with `isCheckQuorum`): a leader that a quorum answered
   * recently answers ReadIndex at once instead of confirming with a heartbeat round.
   * Bounded in ticks, so the host must tick every replica from a monotonic clock
   * (see lease.ts for the inequality it relies on).
   */
  readonly isLeaseRead: boolean;
  /**
   * How much faster one replica's ticks may run than another's (0.1: 10%); the lease is
   * shortened by this factor.
   */
  readonly leaseClockDriftMax: number;
  /** Bytes of entries per append message (at least one entry is always sent). */
  readonly appendBytesMax: number;
  /** Append messages in flight per follower in replicate state. */
  readonly inflightMessagesMax: number;
  /** Uncommitted entries a leader accepts before proposals are refused as overloaded. */
  readonly proposalsPendingMax: number;
  /** ReadIndex requests waiting for their quorum check. */
  readonly readsPendingMax: number;
  /** Bytes of committed entries handed out per Ready. */
  readonly applyBytesMax: number;
  readonly snapshotChunkBytes: number;
  /** A learner is promotable once it is at most this many entries behind the leader. */
  readonly learnerCatchUpEntriesMax: number;
  /**
   * Asynchronous storage writes (etcd's AsyncStorageWrites): the loop may take the next
   * Ready while earlier ones are still being persisted, and reports durability with
   * `persisted(ready)` and applying with `applied(ready)` instead of `advance(ready)`.
   */
  readonly isAsyncStorageWrites: boolean;
}

export const raftConfigDefaults = {
  electionTicks: 10,
  heartbeatTicks: 1,
  isPreVote: true,
  isCheckQuorum: true,
  isLeaseRead: true,
  leaseClockDriftMax: 0.1,
  appendBytesMax: 1024 * 1024,
  inflightMessagesMax: 64,
  proposalsPendingMax: 4096,
  readsPendingMax: 4096,
  applyBytesMax: 4 * 1024 * 1024,
  snapshotChunkBytes: 1024 * 1024,
  learnerCatchUpEntriesMax: 64,
  isAsyncStorageWrites: false,
} as const satisfies Partial<RaftConfig>;

export type RaftConfigInput = Pick<RaftConfig, 'id' | 'shardId' | 'peers'> & Partial<RaftConfig>;

export function raftConfig(input: RaftConfigInput): RaftConfig {
  return { ...raftConfigDefaults, ...input };
}
