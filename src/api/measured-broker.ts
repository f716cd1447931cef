/**
 * A Broker that counts acknowledged message traffic into ApiMetrics and otherwise
 * passes every call through unchanged. Counting at this boundary covers both transports
 * and every Broker implementation; failed calls count nothing.
 *
 * Bulk delete by ids counts the ids of an accepted request: ids that named no message
 * are included, because the Broker does not say which existed.
 */
import type { Broker, ClaimOptions, ListMessagesOptions, ListQueuesOptions } from './broker.js';
import type { ApiMetrics } from './metrics.js';
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

export class MeasuredBroker implements Broker {
  constructor(
    private readonly broker: Broker,
    private readonly metrics: ApiMetrics,
  ) {}

  listQueues(project: string, options: ListQueuesOptions): Promise<{ queues: QueueRecord[]; count: number }> {
    return this.broker.listQueues(project, options);
  }

  createQueue(ref: QueueRef, metadata: QueueMetadata, placement?: QueuePlacement): Promise<{ created: boolean }> {
    return this.broker.createQueue(ref, metadata, placement);
  }

  getQueueMetadata(ref: QueueRef): Promise<QueueMetadata | null> {
    return this.broker.getQueueMetadata(ref);
  }

  peekQueueMetadata(ref: QueueRef): Promise<QueueMetadata | null> {
    return this.broker.peekQueueMetadata(ref);
  }

  setQueueMetadata(ref: QueueRef, metadata: QueueMetadata): Promise<boolean> {
    return this.broker.setQueueMetadata(ref, metadata);
  }

  deleteQueue(ref: QueueRef): Promise<void> {
    return this.broker.deleteQueue(ref);
  }

  queueStats(ref: QueueRef): Promise<QueueStatsRecord> {
    return this.broker.queueStats(ref);
  }

  purgeQueue(ref: QueueRef, what: { messages: boolean; subscriptions: boolean }): Promise<void> {
    return this.broker.purgeQueue(ref, what);
  }

  async postMessages(ref: QueueRef, request: { clientId: string; messages: readonly NewMessage[] }): Promise<{ ids: string[] }> {
    const result = await this.broker.postMessages(ref, request);
    this.metrics.messagesPosted(result.ids.length);
    return result;
  }

  async postMessagesExpecting(
    ref: QueueRef,
    request: { clientId: string; messages: readonly NewMessage[]; expectedMetadata: QueueMetadata },
  ): Promise<{ ids: string[] } | 'metadata_changed'> {
    const result = await this.broker.postMessagesExpecting(ref, request);
    if (result !== 'metadata_changed') this.metrics.messagesPosted(result.ids.length);
    return result;
  }

  listMessages(ref: QueueRef, options: ListMessagesOptions): Promise<MessageRecord[]> {
    return this.broker.listMessages(ref, options);
  }

  listMessagePage(ref: QueueRef, options: ListMessagesOptions): Promise<{ messages: MessageRecord[]; includesDelayed: boolean }> {
    return this.broker.listMessagePage(ref, options);
  }

  getMessages(ref: QueueRef, ids: readonly string[]): Promise<MessageRecord[]> {
    return this.broker.getMessages(ref, ids);
  }

  async deleteMessages(ref: QueueRef, request: { ids: readonly string[]; claimIds?: readonly string[] }): Promise<boolean> {
    const isDeleted = await this.broker.deleteMessages(ref, request);
    if (isDeleted) this.metrics.messagesDeleted(request.ids.length);
    return isDeleted;
  }

  async popMessages(ref: QueueRef, limit: number): Promise<MessageRecord[]> {
    const messages = await this.broker.popMessages(ref, limit);
    this.metrics.messagesDeleted(messages.length);
    return messages;
  }

  async deleteMessage(ref: QueueRef, request: { id: string; claimId?: string }): Promise<DeleteMessageOutcome> {
    const outcome = await this.broker.deleteMessage(ref, request);
    if (outcome === 'deleted') this.metrics.messagesDeleted(1);
    return outcome;
  }

  async createClaim(ref: QueueRef, options: ClaimOptions): Promise<ClaimRecord | null> {
    const claim = await this.broker.createClaim(ref, options);
    if (claim !== null) this.metrics.messagesClaimed(claim.messages.length);
    return claim;
  }

  getClaim(ref: QueueRef, claimId: string): Promise<ClaimRecord | null> {
    return this.broker.getClaim(ref, claimId);
  }

  renewClaim(ref: QueueRef, request: { claimId: string; ttlSeconds: number; graceSeconds: number }): Promise<boolean> {
    return this.broker.renewClaim(ref, request);
  }

  releaseClaim(ref: QueueRef, claimId: string): Promise<void> {
    return this.broker.releaseClaim(ref, claimId);
  }

  changeSubscriptions(ref: QueueRef, change: SubscriptionChange): Promise<SubscriptionResult> {
    return this.broker.changeSubscriptions(ref, change);
  }

  listSubscriptions(ref: QueueRef): Promise<SubscriptionRecord[]> {
    return this.broker.listSubscriptions(ref);
  }

  isHealthy(): Promise<boolean> {
    return this.broker.isHealthy();
  }

  clusterHealth(): ClusterHealthReport | undefined {
    return this.broker.clusterHealth?.();
  }

  async changeMembership(change: { kind: 'add' | 'remove'; nodeId: number }): Promise<void> {
    if (this.broker.changeMembership === undefined) throw new Error('membership changes are not supported by this broker');
    await this.broker.changeMembership(change);
  }

  async createPlacedShards(request: PoolShardRequest): Promise<QueuePlacement[]> {
    if (this.broker.createPlacedShards === undefined) throw new Error('pools of nodes are not supported by this broker');
    return this.broker.createPlacedShards(request);
  }

  async placedShards(): Promise<PlacedShard[]> {
    return (await this.broker.placedShards?.()) ?? [];
  }
}
