/**
 * Why a Raft node refused or gave up on a request. Expected outcomes, not bugs: the
 * cluster layer maps them to API errors (not_leader → redirect or forward, overloaded →
 * 503 with retry, stopped/failed → shard_unavailable).
 */
import type { NodeId, ShardId } from './types.js';

export type RaftErrorReason =
  /** This replica is not the leader; `leaderHint` names the one it knows of. */
  | 'not_leader'
  /** Too many proposals or reads are pending: retry later. */
  | 'overloaded'
  /** The group was stopped (shutdown or removed from this host). */
  | 'stopped'
  /** A storage error stopped the group; it neither serves nor votes. */
  | 'failed'
  /** Another entry was committed at the proposal's index: it will never apply. */
  | 'dropped'
  /** The proposal's entry was replaced by a leader's snapshot: it may or may not have committed. */
  | 'outcome_unknown'
  /** The caller's AbortSignal fired; a proposal may still commit. */
  | 'aborted'
  /** A read found no leader answer in time. */
  | 'timeout'
  | 'conf_change_rejected'
  | 'invalid_target';

export class RaftError extends Error {
  readonly reason: RaftErrorReason;
  readonly shardId: ShardId;
  readonly leaderHint: NodeId | undefined;

  constructor(reason: RaftErrorReason, options: { shardId: ShardId; message?: string; leaderHint?: NodeId | undefined; cause?: unknown }) {
    super(options.message ?? `shard ${options.shardId}: ${reason}`, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'RaftError';
    this.reason = reason;
    this.shardId = options.shardId;
    this.leaderHint = options.leaderHint;
  }
}
