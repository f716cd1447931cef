/**
 * What the shard layer reports. Events: messages the background gc removed because
 * their ttl ran out, messages moved to a dead-letter queue (refused proposals are the
 * raft metrics' concern). State, read at scrape time through `ShardReport`: per shard
 * held here, its message depth and claimed count.
 */
import type { NodeId, ShardId } from '../common/ids.js';
import type { RaftGroupReport, RaftRole } from '../raft/metrics.js';

export interface ClusterMetrics {
  messagesExpired(shardId: ShardId, count: number): void;
  messagesDeadLettered(shardId: ShardId, count: number): void;
}

export const noClusterMetrics: ClusterMetrics = {
  messagesExpired: () => undefined,
  messagesDeadLettered: () => undefined,
};

/** One shard replica on this node, as sampled at scrape time. */
export interface ShardReport {
  readonly shardId: ShardId;
  /** Messages stored (free, claimed, delayed, expired not yet collected). */
  readonly messages: number;
  /** Messages under a claim (live or lapsed but not yet returned). */
  readonly claimedMessages: number;
}

const raftRoles: ReadonlySet<string> = new Set<RaftRole>(['follower', 'pre_candidate', 'candidate', 'leader']);

/**
 * A shard group's status as the cluster code reads it (RaftCore status plus the FSM's
 * applied index) in the shape raft metrics and readiness want. A source of shard logs
 * backed by Raft implements `raftReports()` as `groups.map(raftReportOf)`.
 */
export function raftReportOf(status: {
  readonly shardId: ShardId;
  readonly role: string;
  /** 0 or undefined: no known leader. */
  readonly leader: number | undefined;
  readonly term: number;
  readonly commit: number;
  readonly applied: number;
  /** Leader only: entries each member lacks, by node id. */
  readonly lagEntries: Readonly<Record<string, number>>;
}): RaftGroupReport {
  const followerLag = new Map<NodeId, number>();
  for (const [nodeId, lag] of Object.entries(status.lagEntries)) {
    if (Number(nodeId) !== 0) followerLag.set(Number(nodeId) as NodeId, lag);
  }
  return {
    shardId: status.shardId,
    role: raftRoles.has(status.role) ? (status.role as RaftRole) : 'follower',
    term: status.term,
    hasLeader: status.leader !== undefined && status.leader !== 0,
    commitIndex: status.commit,
    appliedIndex: status.applied,
    followerLag,
  };
}
