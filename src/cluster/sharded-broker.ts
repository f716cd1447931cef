/**
 * The single-node engine behind the api's Broker interface: queues are placed on shards
 * (ShardMap); each shard is a QueueFsm fed by its ShardLog (today a LocalShardLog with
 * group commit; a Raft group later) and read through a ShardReader.
 *
 * Writes mint their ids and take their time here (the proposer), then propose one
 * command to the queue's shard and resolve with its apply result only once the entry is
 * durable: a resolved post survives kill -9. Reads wait for the shard's read barrier
 * and answer from applied state with this node's clock. Every read is a ShardQuery on
 * the shard's ShardReads, so the broker never asks where a shard's replicas are: in a
 * cluster whose shards have fewer replicas than nodes, the source routes reads of a shard
 * held elsewhere to one of its replicas (RoutedShardReads) and proposals to its leader.
 *
 * Background: every `gcIntervalMs` each shard held here with expired messages gets a gc
 * command, and dead-letter outbox lines that stopped on an error are retried; shards held
 * elsewhere are their replicas' business.
 */
import type { Clock } from '../common/clock.js';
import { newObjectId, type ShardId } from '../common/ids.js';
import { SystemTimers, type Timers } from '../common/timers.js';
import type { RaftGroupReport } from '../raft/metrics.js';
import type { LogStore } from '../log/log-store.js';
import { MeasuredLogStore, noLogMetrics, type LogMetrics } from '../log/metrics.js';
import { openLmdbEnv } from '../log/lmdb/lmdb-env.js';
import { LmdbLogStore } from '../log/lmdb/lmdb-log-store.js';
import { LmdbQueueStore } from '../log/lmdb/lmdb-queue-store.js';
import type { QueueStore } from '../log/queue-store.js';
import type { ClusterHealthReport } from './cluster-health.js';
import type { MembershipChange } from './membership.js';
import { ShardUnavailableError } from './errors.js';
import { noClusterMetrics, type ClusterMetrics, type ShardReport } from './metrics.js';
import type {
  ClaimRecord,
  DeleteMessageOutcome,
  MessageRecord,
  NewMessage,
  QueueMetadata,
  QueueRecord,
  QueueRef,
  QueueStatsRecord,
} from './records.js';
import { RecentMetadata } from './recent-metadata.js';
import { ShardMap } from './shard-map.js';
import { encodeBody } from './shard/body-codec.js';
import { messageChecksum } from './shard/checksum.js';
import { DeadLetterCourier } from './shard/dead-letter-courier.js';
import { LocalLog } from './shard/local-shard-log.js';
import { QueueFsm } from './shard/queue-fsm.js';
import type { ShardLog } from './shard/shard-log.js';
import { type MessageListing, type QueueListing, ShardReader } from './shard/shard-reads.js';
import { localShardReads, type ShardReads } from './shard/shard-query.js';
import type { SubscriptionChange, SubscriptionRecord, SubscriptionResult } from './subscription-records.js';
import type { NotificationSource } from './notify/notifier.js';

export interface ShardedBrokerOptions {
  readonly dataDir: string;
  readonly shardCount?: number;
  readonly clock: Clock;
  readonly enableChecksum?: boolean;
  readonly timers?: Timers;
  /** Period of background gc and dead-letter retries. */
  readonly gcIntervalMs?: number;
  /** Expired messages one gc command may remove. */
  readonly gcRemovalsMax?: number;
  readonly proposalsPendingMax?: number;
  /** Where the shards' logs come from; default: the node-local, group-committed LocalLog. */
  readonly shardLogs?: (stores: BrokerStores) => ShardLogSource;
  /** Expired and dead-lettered messages; none when absent. */
  readonly metrics?: ClusterMetrics;
  /** Log persist latency (wraps the LMDB log store); none when absent. */
  readonly logMetrics?: LogMetrics;
}

/**
 * Opens each shard's log over its FSM (LocalLog, or Raft groups in a cluster). `drain`
 * settles in-flight proposals and stops the source; close() calls it before the stores close.
 */
export interface ShardLogSource {
  openShard(fsm: QueueFsm): ShardLog;
  /** How the shard is read; absent: `local` (the log's read barrier, then this node's state). */
  openReads?(fsm: QueueFsm, local: ShardReads): ShardReads;
  /** Whether this node holds a replica of the shard (background work runs only there); absent: every shard. */
  isHosted?(shardId: ShardId): boolean;
  drain(): Promise<void>;
  readonly stats: { readonly flushes: number; readonly proposals: number };
  /** Raft position of each group held here (metrics); absent: single node, every shard led here. */
  raftReports?(): readonly RaftGroupReport[];
  /** Every shard held here has a leader and this replica has applied what it knows committed (readiness). */
  isCaughtUp?(): boolean;
  /** Hands leadership of the shards led here to other replicas, best effort (shutdown). */
  transferLeadershipAway?(): Promise<void>;
  /** Replication state for the detailed health report; absent for the local log. */
  health?(): ClusterHealthReport;
  /** Adds a node to, or removes it from, the cluster (rebalancing the replicas); absent for the local log. */
  changeMembership?(change: MembershipChange): Promise<void>;
}

/** The stores a broker runs on, and how to release them. */
export interface BrokerStores {
  readonly logStore: LogStore;
  readonly queueStore: QueueStore;
  close(): Promise<void>;
}

interface Shard {
  readonly fsm: QueueFsm;
  readonly log: ShardLog;
  readonly reads: ShardReads;
}

/** The node's one LMDB environment holding the Raft log and the queue state of every shard. */
function openLmdbStores(dataDir: string, measure: { clock: Clock; metrics: LogMetrics }): BrokerStores {
  const env = openLmdbEnv(dataDir);
  return {
    logStore: measure.metrics === noLogMetrics ? new LmdbLogStore(env) : new MeasuredLogStore(new LmdbLogStore(env), measure),
    queueStore: new LmdbQueueStore(env),
    close: () => env.close(),
  };
}

const defaultGcIntervalMs = 10_000;
const defaultGcRemovalsMax = 10_000;
/** ~100 bytes of key plus the (small, size-capped) metadata each. */
const recentMetadataEntriesMax = 4096;

export class ShardedBroker {
  private readonly stopTimer: () => void;
  private isClosed = false;
  /** Metadata last read of queues on shards held elsewhere (peekQueueMetadata). */
  private readonly recentMetadata = new RecentMetadata(recentMetadataEntriesMax);

  private constructor(
    private readonly shardMap: ShardMap,
    private readonly shards: ReadonlyMap<ShardId, Shard>,
    private readonly deps: {
      readonly clock: Clock;
      readonly enableChecksum: boolean;
      readonly localLog: ShardLogSource;
      readonly courier: DeadLetterCourier;
      readonly stores: BrokerStores;
      readonly timers: Timers;
      readonly gcIntervalMs: number;
      readonly gcRemovalsMax: number;
      readonly metrics: ClusterMetrics;
    },
  ) {
    this.stopTimer = deps.timers.every(deps.gcIntervalMs, () => {
      void this.runBackgroundWork().catch(() => undefined);
    });
  }

  /** Opens (or recovers) the node's shards in `dataDir`. */
  static async open(options: ShardedBrokerOptions): Promise<ShardedBroker> {
    const measure = { clock: options.clock, metrics: options.logMetrics ?? noLogMetrics };
    return ShardedBroker.openOn(openLmdbStores(options.dataDir, measure), options);
  }

  /** Opens on given stores (memory stores in simulations). */
  static async openOn(stores: BrokerStores, options: Omit<ShardedBrokerOptions, 'dataDir'>): Promise<ShardedBroker> {
    const shardMap = new ShardMap(options.shardCount);
    const localLog: ShardLogSource = options.shardLogs?.(stores) ?? new LocalLog(stores.logStore, { proposalsPendingMax: options.proposalsPendingMax });
    const shards = new Map<ShardId, Shard>();
    for (const shardId of shardMap.shardIds) {
      const fsm = new QueueFsm(shardId, stores.queueStore);
      const log = localLog.openShard(fsm);
      const local = localShardReads(log, fsm);
      shards.set(shardId, { fsm, log, reads: localLog.openReads?.(fsm, local) ?? local });
    }
    const logOf = (shardId: ShardId): ShardLog => {
      const shard = shards.get(shardId);
      if (shard === undefined) throw new ShardUnavailableError(shardId, `shard ${shardId} is not served here`);
      return shard.log;
    };
    const courier = new DeadLetterCourier({
      store: stores.queueStore,
      clock: options.clock,
      logOf,
      // A line of a shard held elsewhere is read from one of its replicas.
      readOutbox: async (shardId, seq) => (await shards.get(shardId)?.reads.query({ kind: 'outbox', seq })) ?? undefined,
      shardOf: (project, queue) => shardMap.shardOf(project, queue),
    });
    const broker = new ShardedBroker(shardMap, shards, {
      clock: options.clock,
      enableChecksum: options.enableChecksum ?? false,
      localLog,
      courier,
      stores,
      timers: options.timers ?? new SystemTimers(),
      gcIntervalMs: options.gcIntervalMs ?? defaultGcIntervalMs,
      gcRemovalsMax: options.gcRemovalsMax ?? defaultGcRemovalsMax,
      metrics: options.metrics ?? noClusterMetrics,
    });
    // Dead-letter moves interrupted by a crash complete before the broker serves.
    await Promise.all(shardMap.shardIds.filter((shardId) => localLog.isHosted?.(shardId) ?? true).map((shardId) => courier.retry(shardId)));
    return broker;
  }

  /** Group-commit counters of the local log (persist rounds vs proposals). */
  get logStats(): { readonly flushes: number; readonly proposals: number } {
    return this.deps.localLog.stats;
  }

  private shard(ref: QueueRef): Shard & { shardId: ShardId } {
    const shardId = this.shardMap.shardOf(ref.project, ref.queue);
    const shard = this.shards.get(shardId);
    if (shard === undefined || this.isClosed) throw new ShardUnavailableError(shardId, `shard ${shardId} is not served here`);
    return { ...shard, shardId };
  }

  private isHosted(shardId: ShardId): boolean {
    return this.deps.localLog.isHosted?.(shardId) ?? true;
  }

  /** The shards this node holds a replica of. */
  private hostedShards(): [ShardId, Shard][] {
    return [...this.shards.entries()].filter(([shardId]) => this.isHosted(shardId));
  }

  async listQueues(project: string, options: QueueListing & { withCount: boolean }): Promise<{ queues: QueueRecord[]; count: number }> {
    const pages = await Promise.all([...this.shards.values()].map((shard) => shard.reads.query({ kind: 'listQueues', project, listing: options })));
    const queues = pages
      .flatMap((page) => page.queues)
      .sort((a, b) => Buffer.compare(Buffer.from(a.name), Buffer.from(b.name)))
      .slice(0, options.limit);
    return { queues, count: pages.reduce((sum, page) => sum + page.count, 0) };
  }

  async createQueue(ref: QueueRef, metadata: QueueMetadata): Promise<{ created: boolean }> {
    return this.shard(ref).log.propose({ type: 'createQueue', nowMs: this.deps.clock.nowMs(), ...ref, metadata });
  }

  async getQueueMetadata(ref: QueueRef): Promise<QueueMetadata | null> {
    const shard = this.shard(ref);
    const metadata = await shard.reads.query({ kind: 'metadata', ref: refOf(ref) });
    if (!this.isHosted(shard.shardId)) this.recentMetadata.set(ref, metadata);
    return metadata;
  }

  /**
   * The metadata without a read barrier, possibly stale: the local replica's applied
   * state, or without a replica here the last barrier read (one now when there is none).
   */
  async peekQueueMetadata(ref: QueueRef): Promise<QueueMetadata | null> {
    const shard = this.shard(ref);
    if (this.isHosted(shard.shardId)) return new ShardReader(shard.fsm).getMetadata(ref.project, ref.queue);
    const recent = this.recentMetadata.get(ref);
    return recent !== undefined ? recent : this.getQueueMetadata(ref);
  }

  async setQueueMetadata(ref: QueueRef, metadata: QueueMetadata): Promise<boolean> {
    const result = await this.shard(ref).log.propose({ type: 'setMetadata', nowMs: this.deps.clock.nowMs(), ...ref, metadata });
    return result.found;
  }

  async deleteQueue(ref: QueueRef): Promise<void> {
    await this.shard(ref).log.propose({ type: 'deleteQueue', nowMs: this.deps.clock.nowMs(), ...ref });
  }

  async queueStats(ref: QueueRef): Promise<QueueStatsRecord> {
    return this.shard(ref).reads.query({ kind: 'stats', ref: refOf(ref), nowMs: this.deps.clock.nowMs() });
  }

  async purgeQueue(ref: QueueRef, what: { messages: boolean; subscriptions: boolean }): Promise<void> {
    if (what.messages) await this.shard(ref).log.propose({ type: 'purge', nowMs: this.deps.clock.nowMs(), ...ref });
    if (what.subscriptions) await this.changeSubscriptions(ref, { op: 'purge' });
  }

  async postMessages(ref: QueueRef, request: { clientId: string; messages: readonly NewMessage[] }): Promise<{ ids: string[] }> {
    const { ids } = await this.post(ref, request);
    return { ids };
  }

  /** Posts only while the queue's metadata holds `expectedMetadata` (shard/expected-metadata.ts). */
  async postMessagesExpecting(
    ref: QueueRef,
    request: { clientId: string; messages: readonly NewMessage[]; expectedMetadata: QueueMetadata },
  ): Promise<{ ids: string[] } | 'metadata_changed'> {
    const { ids, isMetadataStale } = await this.post(ref, request, request.expectedMetadata);
    return isMetadataStale ? 'metadata_changed' : { ids };
  }

  private async post(
    ref: QueueRef,
    request: { clientId: string; messages: readonly NewMessage[] },
    expectedMetadata?: QueueMetadata,
  ): Promise<{ ids: string[]; isMetadataStale: boolean }> {
    const shard = this.shard(ref);
    const nowMs = this.deps.clock.nowMs();
    const messages = request.messages.map((m) => ({
      id: newObjectId(nowMs),
      body: encodeBody(m.body),
      ttlSeconds: m.ttlSeconds,
      delaySeconds: m.delaySeconds,
      checksum: this.deps.enableChecksum ? messageChecksum(m.body) : null,
    }));
    const result = await shard.log.propose({
      type: 'post', nowMs, ...ref, clientId: request.clientId, messages, ...(expectedMetadata === undefined ? {} : { expectedMetadata }),
    });
    return { ids: messages.map((m) => m.id), isMetadataStale: result.isMetadataStale === true };
  }

  async listMessages(ref: QueueRef, options: MessageListing): Promise<MessageRecord[]> {
    return this.shard(ref).reads.query({ kind: 'listMessages', ref: refOf(ref), listing: options, nowMs: this.deps.clock.nowMs() });
  }

  async getMessages(ref: QueueRef, ids: readonly string[]): Promise<MessageRecord[]> {
    return this.shard(ref).reads.query({ kind: 'getMessages', ref: refOf(ref), ids, nowMs: this.deps.clock.nowMs() });
  }

  async deleteMessages(ref: QueueRef, request: { ids: readonly string[]; claimIds?: readonly string[] }): Promise<boolean> {
    const result = await this.shard(ref).log.propose({
      type: 'deleteMessages',
      nowMs: this.deps.clock.nowMs(),
      ...ref,
      ids: [...request.ids],
      claimIds: request.claimIds === undefined ? null : [...request.claimIds],
    });
    return result.deleted;
  }

  async popMessages(ref: QueueRef, limit: number): Promise<MessageRecord[]> {
    const result = await this.shard(ref).log.propose({ type: 'pop', nowMs: this.deps.clock.nowMs(), ...ref, limit });
    return [...result.messages];
  }

  async deleteMessage(ref: QueueRef, request: { id: string; claimId?: string }): Promise<DeleteMessageOutcome> {
    const nowMs = this.deps.clock.nowMs();
    const result = await this.shard(ref).log.propose({ type: 'deleteMessage', nowMs, ...ref, id: request.id, claimId: request.claimId ?? null });
    return result.outcome;
  }

  /** Resolves after any dead-letter moves it caused are in their DLQ. */
  async createClaim(ref: QueueRef, options: { limit: number; ttlSeconds: number; graceSeconds: number }): Promise<ClaimRecord | null> {
    const shard = this.shard(ref);
    const nowMs = this.deps.clock.nowMs();
    const result = await shard.log.propose({ type: 'claim', nowMs, ...ref, claimId: newObjectId(nowMs), ...options });
    if (result.outboxSeqs.length > 0) {
      // One outbox line per message moved to its dead-letter queue.
      this.deps.metrics.messagesDeadLettered(shard.shardId, result.outboxSeqs.length);
      await this.deps.courier.deliver(shard.shardId, result.outboxSeqs);
    }
    return result.claim;
  }

  async getClaim(ref: QueueRef, claimId: string): Promise<ClaimRecord | null> {
    return this.shard(ref).reads.query({ kind: 'getClaim', ref: refOf(ref), claimId, nowMs: this.deps.clock.nowMs() });
  }

  async renewClaim(ref: QueueRef, request: { claimId: string; ttlSeconds: number; graceSeconds: number }): Promise<boolean> {
    const result = await this.shard(ref).log.propose({ type: 'renew', nowMs: this.deps.clock.nowMs(), ...ref, ...request });
    return result.renewed;
  }

  async releaseClaim(ref: QueueRef, claimId: string): Promise<void> {
    await this.shard(ref).log.propose({ type: 'release', nowMs: this.deps.clock.nowMs(), ...ref, claimId });
  }

  async changeSubscriptions(ref: QueueRef, change: SubscriptionChange): Promise<SubscriptionResult> {
    const nowMs = this.deps.clock.nowMs();
    const op = change.op === 'create' ? { ...change, id: newObjectId(nowMs) } : change;
    return this.shard(ref).log.propose({ type: 'subscription', nowMs, ...ref, op });
  }

  async listSubscriptions(ref: QueueRef): Promise<SubscriptionRecord[]> {
    return this.shard(ref).reads.query({ kind: 'subscriptions', ref: refOf(ref), nowMs: this.deps.clock.nowMs() });
  }

  /** Adds or removes a cluster node; the source rebalances the shards' replicas over the new node set. */
  async changeMembership(change: MembershipChange): Promise<void> {
    if (this.deps.localLog.changeMembership === undefined) throw new ShardUnavailableError(0, 'this node is not clustered');
    await this.deps.localLog.changeMembership(change);
  }

  /** What the notifier reads and writes: the queue store, the shards led here, subscription changes. */
  notificationSource(): NotificationSource {
    return {
      store: this.deps.stores.queueStore,
      ledShards: () => (this.isClosed ? [] : this.raftReports().filter((r) => r.role === 'leader').map((r) => r.shardId)),
      changeSubscriptions: (ref, change) => this.changeSubscriptions(ref, change),
    };
  }

  /** Each hosted shard's Raft state and the peers as this node sees them; undefined without a cluster. */
  clusterHealth(): ClusterHealthReport | undefined {
    return this.deps.localLog.health?.();
  }

  async isHealthy(): Promise<boolean> {
    if (this.isClosed) return false;
    const barriers = await Promise.allSettled(this.hostedShards().map(([, shard]) => shard.log.readBarrier()));
    return barriers.every((b) => b.status === 'fulfilled');
  }

  /**
   * One round of background work: a gc command for each shard holding expired
   * messages (checked locally first, so idle shards append nothing), then retries of
   * stopped dead-letter lines. Exposed for tests that drive time themselves.
   */
  async runBackgroundWork(): Promise<void> {
    if (this.isClosed) return;
    const nowMs = this.deps.clock.nowMs();
    await Promise.all(
      this.hostedShards().map(async ([shardId, shard]) => {
        if (shard.fsm.index.expiredFree(nowMs, 1).length > 0) {
          const result = await shard.log.propose({ type: 'gc', nowMs, removalsMax: this.deps.gcRemovalsMax });
          this.deps.metrics.messagesExpired(shardId, result.removed);
        }
        await this.deps.courier.retry(shardId);
      }),
    );
  }

  /** Message depth and claimed count of every shard held here, from the in-memory index (metrics). */
  shardReports(): ShardReport[] {
    return this.hostedShards().map(([shardId, shard]) => {
      const counts = shard.fsm.index.messageCounts();
      return { shardId, messages: counts.messages, claimedMessages: counts.claimed };
    });
  }

  /**
   * Raft position of every shard held here, from the log source; the node-local LocalLog
   * (no Raft) leads all of its shards at a constant term. Another source without
   * reports reports nothing rather than a made-up position.
   */
  raftReports(): readonly RaftGroupReport[] {
    const fromSource = this.deps.localLog.raftReports?.();
    if (fromSource !== undefined) return fromSource;
    if (!(this.deps.localLog instanceof LocalLog)) return [];
    return [...this.shards.entries()].map(([shardId, shard]) => ({
      shardId, role: 'leader', term: 1, hasLeader: true, commitIndex: shard.fsm.appliedIndex, appliedIndex: shard.fsm.appliedIndex,
      followerLag: new Map(),
    }));
  }

  /**
   * Whether this node may take traffic: open, and every shard held here has a leader and
   * has applied all it knows committed (the source's own answer when it has one).
   */
  isCaughtUp(): boolean {
    if (this.isClosed) return false;
    const fromSource = this.deps.localLog.isCaughtUp?.();
    if (fromSource !== undefined) return fromSource;
    return this.raftReports().every((group) => group.hasLeader && group.appliedIndex >= group.commitIndex);
  }

  /** Before close at shutdown: leadership of the shards led here moves to other replicas. */
  async transferLeadershipAway(): Promise<void> {
    await this.deps.localLog.transferLeadershipAway?.();
  }

  /** Stops background work, waits for in-flight proposals, flushes and closes the stores. */
  async close(): Promise<void> {
    if (this.isClosed) return;
    this.isClosed = true;
    this.stopTimer();
    await this.deps.courier.idle();
    await this.deps.localLog.drain();
    await this.deps.stores.queueStore.flushed();
    await this.deps.stores.close();
  }
}

/** Only the queue's name: the api's refs may carry more fields, which must not cross a forward. */
function refOf(ref: QueueRef): QueueRef {
  return { project: ref.project, queue: ref.queue };
}
