/**
 * What the shard layer reports. Events: messages the background gc removed because
 * their ttl ran out, messages moved to a dead-letter queue, proposals refused before
 * reaching the log (overloaded, shard failed). State, read at scrape time through
 * `ShardReport`: per shard held here, its message depth and claimed count.
 */
import type { ShardId } from '../common/ids.js';

export type ProposalRejection = 'overloaded' | 'unavailable';

export interface ClusterMetrics {
  messagesExpired(shardId: ShardId, count: number): void;
  messagesDeadLettered(shardId: ShardId, count: number): void;
  proposalRejected(shardId: ShardId, reason: ProposalRejection): void;
}

export const noClusterMetrics: ClusterMetrics = {
  messagesExpired: () => undefined,
  messagesDeadLettered: () => undefined,
  proposalRejected: () => undefined,
};

/** One shard replica on this node, as sampled at scrape time. */
export interface ShardReport {
  readonly shardId: ShardId;
  /** Messages stored (free, claimed, delayed, expired not yet collected). */
  readonly messages: number;
  /** Messages under a claim (live or lapsed but not yet returned). */
  readonly claimedMessages: number;
}
