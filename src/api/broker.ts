/**
 * The operations the api needs from the layer below. The api validates requests
 * (headers, names, parameters, bodies, limits, reserved metadata) and renders
 * responses; a Broker executes already-valid operations against the queue's shard,
 * wherever it lives. Every method is one atomic operation on one shard, so a cluster
 * can forward it to the shard's leader as a unit.
 *
 * Expected "no such thing" outcomes are return values (null, 'missing', false); a
 * shard that cannot serve throws the cluster layer's typed errors (unavailable,
 * overloaded), which `errors.ts` maps to replies.
 */
import type {
  ClaimRecord,
  DeleteMessageOutcome,
  MessageRecord,
  NewMessage,
  QueueMetadata,
  QueueRecord,
  QueueRef,
  QueueStatsRecord,
} from '../cluster/records.js';
import type { ClusterHealthReport } from '../cluster/cluster-health.js';
import type { QueuePlacement } from '../cluster/shard/queue-placement.js';
import type { PlacedShard, PoolShardRequest } from '../cluster/placed-shards.js';
import type { NodeId } from '../common/ids.js';
import type { SubscriptionChange, SubscriptionRecord, SubscriptionResult } from '../cluster/subscription-records.js';

export interface ListQueuesOptions {
  readonly marker?: string;
  readonly limit: number;
  /** Substring of the queue name. */
  readonly name?: string;
  /** Metadata equality filters: keep queues whose metadata[key] === value. */
  readonly filters?: Readonly<Record<string, string | number>>;
  readonly detailed: boolean;
  readonly withCount: boolean;
}

export interface ListMessagesOptions {
  /** Normalised Client-ID of the caller, for echo suppression. */
  readonly clientId: string;
  /** Only messages with seq greater than this. */
  readonly afterSeq?: number;
  readonly limit: number;
  readonly echo: boolean;
  readonly includeClaimed: boolean;
  readonly includeDelayed: boolean;
}

export interface ClaimOptions {
  readonly limit: number;
  readonly ttlSeconds: number;
  readonly graceSeconds: number;
}

export interface Broker {
  listQueues(project: string, options: ListQueuesOptions): Promise<{ queues: QueueRecord[]; count: number }>;
  /**
   * Creates the queue with `metadata` unless it exists (then changes nothing). With
   * `placement` (a pool's shard, for a queue of a flavor) a name not yet a queue is
   * bound to that shard for good, and created there.
   */
  createQueue(ref: QueueRef, metadata: QueueMetadata, placement?: QueuePlacement): Promise<{ created: boolean }>;
  /** Stored metadata (no defaults), or null when the queue does not exist. */
  getQueueMetadata(ref: QueueRef): Promise<QueueMetadata | null>;
  /**
   * Like getQueueMetadata but without the read barrier: cheap, and possibly missing
   * changes acknowledged elsewhere. Only for a write that carries what it read
   * (postMessagesExpecting), which the shard checks.
   */
  peekQueueMetadata(ref: QueueRef): Promise<QueueMetadata | null>;
  /** Replaces the stored metadata; false when the queue does not exist. */
  setQueueMetadata(ref: QueueRef, metadata: QueueMetadata): Promise<boolean>;
  /** Deletes the queue and all its messages and claims (not its subscriptions). */
  deleteQueue(ref: QueueRef): Promise<void>;
  queueStats(ref: QueueRef): Promise<QueueStatsRecord>;
  /** Removes the queue's unclaimed messages and/or its subscriptions. */
  purgeQueue(ref: QueueRef, what: { messages: boolean; subscriptions: boolean }): Promise<void>;

  /** Appends the messages atomically, in order, creating the queue if needed; resolves once durable. */
  postMessages(ref: QueueRef, request: { clientId: string; messages: readonly NewMessage[] }): Promise<{ ids: string[] }>;
  /**
   * postMessages, applied only if the queue's metadata (none for a missing queue) still
   * holds `expectedMetadata` (the values the messages were validated against, null for an
   * absent key); otherwise nothing is posted and it returns 'metadata_changed'. Also
   * 'metadata_changed', without posting, while some node of the cluster runs a version
   * that would not check `expectedMetadata` (a rolling upgrade).
   */
  postMessagesExpecting(
    ref: QueueRef,
    request: { clientId: string; messages: readonly NewMessage[]; expectedMetadata: QueueMetadata },
  ): Promise<{ ids: string[] } | 'metadata_changed'>;
  listMessages(ref: QueueRef, options: ListMessagesOptions): Promise<MessageRecord[]>;
  /**
   * A listing with the reference's delay-queue rule: delayed messages are hidden only on
   * a queue with a truthy `_default_message_delay` and `includeDelayed` false.
   * `includesDelayed` says whether they were included.
   */
  listMessagePage(ref: QueueRef, options: ListMessagesOptions): Promise<{ messages: MessageRecord[]; includesDelayed: boolean }>;
  /** The listed messages that exist (any state but expired); unknown ids are skipped. */
  getMessages(ref: QueueRef, ids: readonly string[]): Promise<MessageRecord[]>;
  /**
   * Deletes the listed messages whatever their claims; with `claimIds`, every claim id
   * must hold at least one of the messages, else nothing is deleted and it returns false.
   */
  deleteMessages(ref: QueueRef, request: { ids: readonly string[]; claimIds?: readonly string[] }): Promise<boolean>;
  /** Removes and returns up to `limit` messages not under an active claim, oldest first. */
  popMessages(ref: QueueRef, limit: number): Promise<MessageRecord[]>;
  deleteMessage(ref: QueueRef, request: { id: string; claimId?: string }): Promise<DeleteMessageOutcome>;

  /** Claims up to `limit` messages oldest first (dead-lettering as configured); null when none. */
  createClaim(ref: QueueRef, options: ClaimOptions): Promise<ClaimRecord | null>;
  /** The active claim with the messages it holds; null when expired, released or empty. */
  getClaim(ref: QueueRef, claimId: string): Promise<ClaimRecord | null>;
  /** Renews an active claim; false when it is not active. */
  renewClaim(ref: QueueRef, request: { claimId: string; ttlSeconds: number; graceSeconds: number }): Promise<boolean>;
  releaseClaim(ref: QueueRef, claimId: string): Promise<void>;

  /** Applies one change to the queue's subscriptions (creating a missing queue on create). */
  changeSubscriptions(ref: QueueRef, change: SubscriptionChange): Promise<SubscriptionResult>;
  /** The queue's unexpired subscriptions in id order; empty when the queue does not exist. */
  listSubscriptions(ref: QueueRef): Promise<SubscriptionRecord[]>;

  /** True when every shard this node hosts a replica of can take writes. */
  isHealthy(): Promise<boolean>;
  /** Replication state of the shards this node hosts and its view of its peers (clustered brokers). */
  clusterHealth?(): ClusterHealthReport | undefined;
  /** Adds a node to, or removes it from, the cluster, rebalancing the shards' replicas (clustered brokers). */
  changeMembership?(change: { kind: 'add' | 'remove'; nodeId: number }): Promise<void>;
  /**
   * A pool's shard groups, one per voter set, started on their voters (clustered
   * brokers); a pool asking again for the same nodes and shard count gets the shards it
   * reserved before (a failed creation retried).
   */
  createPlacedShards?(request: PoolShardRequest): Promise<QueuePlacement[]>;
  /** The shards pools own, with the voters last recorded for each (clustered brokers). */
  placedShards?(): Promise<PlacedShard[]>;
}
