/**
 * What the broker asks of the place its shards' logs come from: the node-local
 * LocalLog (shard/local-shard-log.ts) or the Raft groups of a cluster
 * (cluster-shard-logs.ts). The optional members are what only a cluster has.
 */
import type { NodeId, ShardId } from '../common/ids.js';
import type { RaftGroupReport } from '../raft/metrics.js';
import type { ClusterHealthReport } from './cluster-health.js';
import type { MembershipChange } from './membership.js';
import type { PlacedShard } from './placed-shards.js';
import type { ShardPlacement } from './placement.js';
import type { QueuePlacement } from './shard/queue-placement.js';
import type { QueueFsm } from './shard/queue-fsm.js';
import type { ShardLog } from './shard/shard-log.js';
import type { ShardReads } from './shard/shard-query.js';

/**
 * Opens each shard's log over its FSM (LocalLog, or Raft groups in a cluster). `drain`
 * settles in-flight proposals and stops the source; close() calls it before the stores close.
 */
export interface ShardLogSource {
  /** `replicas`: for a shard a pool owns, its voters as last known (a routing hint). */
  openShard(fsm: QueueFsm, replicas?: readonly NodeId[]): ShardLog;
  /** How the shard is read; absent: `local` (the log's read barrier, then this node's state). */
  openReads?(fsm: QueueFsm, local: ShardReads): ShardReads;
  /** Whether this node holds a replica of the shard (background work runs only there); absent: every shard. */
  isHosted?(shardId: ShardId): boolean;
  drain(): Promise<void>;
  readonly stats: { readonly flushes: number; readonly proposals: number };
  /** Raft position of each group held here (metrics); absent: single node, every shard led here. */
  raftReports?(): readonly RaftGroupReport[];
  /** The shards whose group this node leads, without building reports (the notifier asks every tick); absent: from raftReports. */
  ledShards?(): ShardId[];
  /** Every shard held here has a leader and this replica has applied what it knows committed (readiness). */
  isCaughtUp?(): boolean;
  /** Hands leadership of the shards led here to other replicas, best effort (shutdown). */
  transferLeadershipAway?(): Promise<void>;
  /** Replication state for the detailed health report; absent for the local log. */
  health?(): ClusterHealthReport;
  /**
   * Adds a node to, or removes it from, the cluster (rebalancing the replicas, pool shards
   * within their pools); resolves with the voters each pool shard ended with. Absent for the local log.
   */
  changeMembership?(change: MembershipChange, poolShards: readonly PlacedShard[]): Promise<ShardPlacement[]>;
  /** Tells the source how to open a shard a pool owns that a peer names (bootstrap, a leader's messages). */
  attach?(openPlacedShard: (placement: QueuePlacement) => void): void;
  /** Shards pools own that this node's store holds a replica of (reopened at start). */
  storedPlacedShards?(): readonly ShardId[];
  /** Starts a pool's new shard group on each of its voters; absent for the local log (no pools of nodes). */
  bootstrapShard?(placement: QueuePlacement): Promise<void>;
}
