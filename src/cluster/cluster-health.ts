/**
 * What a node reports about the cluster in the detailed health document: each shard
 * replica it hosts (role, leader, term, commit and applied index, and on the leader how
 * far each replica lags) and its view of the peers (connected or not). Plain JSON data.
 */
import type { ShardId } from '../common/ids.js';

export interface ShardHealth {
  readonly shardId: ShardId;
  readonly role: string;
  /** 0 when no leader is known. */
  readonly leader: number;
  readonly term: number;
  readonly commit: number;
  readonly applied: number;
  readonly lastIndex: number;
  readonly voters: readonly number[];
  /** Leader only: entries each replica lacks behind the leader's last index. */
  readonly lagEntries: Readonly<Record<string, number>>;
  readonly isFailed: boolean;
}

export interface PeerHealth {
  readonly nodeId: number;
  readonly address: string;
  readonly isConnected: boolean;
  /** Messages waiting in this node's bounded queue for the peer. */
  readonly queuedMessages: number;
}

export interface ClusterHealthReport {
  readonly nodeId: number;
  readonly shards: readonly ShardHealth[];
  readonly peers: readonly PeerHealth[];
}
