/**
 * What a Raft group reports. Events are counted as they happen (a missed leader change
 * between two scrapes would otherwise be invisible); positions (role, term, commit,
 * applied, per-follower match) are sampled at scrape time from `RaftGroupReport`s,
 * which `RaftNode.status()` provides. Labels: shard id, node ids (bounded).
 */
import type { NodeId, ShardId } from './types.js';

export type RaftRole = 'follower' | 'pre_candidate' | 'candidate' | 'leader';

export interface RaftMetrics {
  /** The group's known leader changed (including to "none"). */
  leaderChanged(shardId: ShardId): void;
  /** A proposal or read refused by this replica (reason: a RaftErrorReason). */
  proposalRejected(shardId: ShardId, reason: string): void;
}

export const noRaftMetrics: RaftMetrics = {
  leaderChanged: () => undefined,
  proposalRejected: () => undefined,
};

/** One group's position on this node, as sampled at scrape time. */
export interface RaftGroupReport {
  readonly shardId: ShardId;
  readonly role: RaftRole;
  readonly term: number;
  readonly hasLeader: boolean;
  readonly commitIndex: number;
  readonly appliedIndex: number;
  /** Leader only: entries each follower lacks (leader's last index minus its match). */
  readonly followerLag: ReadonlyMap<NodeId, number>;
}
