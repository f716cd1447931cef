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
 * Placement: a queue lives on its hash shard (ShardMap) unless it was created with a
 * flavor, in which case it lives on a pool's shard and its hash shard holds a binding
 * (shard/queue-placement.ts). Every queue operation goes to the shard the QueueDirectory
 * names, else to the hash shard, which answers `moved` for a bound name; the operation is
 * then noted and repeated on the pool's shard (onQueue). Pool shards are opened here when
 * first needed (openPlacedShard, pool-shard-placement.ts), so the shard map grows at run time.
 *
 * Background: every `gcIntervalMs` the shards held here get their gc and dead-letter
 * retries (shard-background-work.ts). Stores: broker-stores.ts; log sources:
 * shard-log-source.ts; reports: broker-reports.ts.
 */
import type { Clock } from '../common/clock.js';
import { assert } from '../common/assert.js';
import { newObjectId, type ShardId } from '../common/ids.js';
import { SystemTimers, type Timers } from '../common/timers.js';
import type { RaftGroupReport } from '../raft/metrics.js';
import { noLogMetrics, type LogMetrics } from '../log/metrics.js';
import { isCaughtUp, ledShards, raftReports, shardReports } from './broker-reports.js';
import { openShard, type BrokerShard } from './broker-shard.js';
import { openLmdbStores, type BrokerStores } from './broker-stores.js';
import type { ClusterHealthReport } from './cluster-health.js';
import type { MembershipChange } from './membership.js';
import { ShardUnavailableError } from './errors.js';
import { noClusterMetrics, type ClusterMetrics, type ShardReport } from './metrics.js';
import {
  refOf,
  type ClaimRecord,
  type DeleteMessageOutcome,
  type MessageRecord,
  type NewMessage,
  type QueueMetadata,
  type QueueRecord,
  type QueueRef,
  type QueueStatsRecord,
} from './records.js';
import { RecentMetadata } from './recent-metadata.js';
import { isPlacedShard, ShardMap } from './shard-map.js';
import type { BatchedCommand, ShardCommand } from './shard/commands.js';
import { isMoved, type MovedAnswer, type QueuePlacement } from './shard/queue-placement.js';
import type { ResultOf } from './shard/results.js';
import type { AnswerOf, ShardQuery } from './shard/shard-query.js';
import { CommandCoalescer } from './command-coalescer.js';
import { PostCoalescer } from './post-coalescer.js';
import { postedMessages } from './shard/posted-messages.js';
import { DeadLetterCourier } from './shard/dead-letter-courier.js';
import { LocalLog } from './shard/local-shard-log.js';
import type { ShardLog } from './shard/shard-log.js';
import { listsDelayed, type MessageListing, type MessagePage, type QueueListing, ShardReader } from './shard/shard-reads.js';
import { effectiveMessage } from './shard/claim-extension.js';
import { queueKeyOf } from './shard/claim-index.js';
import { answersMessagePage, appliesCommandBatches, postCarriesEntries, postChecksExpectedMetadata, postDerivesIds, postPacksEntries } from './peer-capabilities.js';
import { QueueDirectory } from './queue-directory.js';
import { placedShardReservations, type PlacedShard, type PoolShardRequest } from './placed-shards.js';
import { changePoolMembership, createPlacedShards, openPlacedShard, placeQueue } from './pool-shard-placement.js';
import type { ShardLogSource } from './shard-log-source.js';
import { runShardBackgroundWork } from './shard-background-work.js';
import type { SubscriptionChange, SubscriptionRecord, SubscriptionResult } from './subscription-records.js';
import type { NotificationSource } from './notify/notifier.js';

export interface ShardedBrokerOptions {
  readonly dataDir: string;
  /** How the LMDB environment is mapped (log/lmdb/lmdb-env.ts); default true. */
  readonly lmdbMapInChunks?: boolean;
  /** How long queue-state writes are held to share a transaction (write-hold.ts); absent: defaultQueueCommitDelayMs. */
  readonly queueCommitDelayMs?: number;
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
  /**
   * Whether every other node of the cluster advertised a capability (peer-capabilities.ts);
   * absent: there are no other nodes.
   */
  readonly everyPeerHas?: (capability: string) => boolean;
}

const defaultGcIntervalMs = 10_000;
const defaultGcRemovalsMax = 10_000;
/** ~100 bytes of key plus the (small, size-capped) metadata each. */
const recentMetadataEntriesMax = 4096;
/** What the apply of a claim that finds nothing claimable answers (claim-writes.ts applyClaim). */
const nothingClaimed = { claim: null, outboxSeqs: [] } as const;

export class ShardedBroker {
  private readonly stopTimer: () => void;
  private isClosed = false;
  private readonly directory = new QueueDirectory();
  /** Metadata last read of queues on shards held elsewhere (peekQueueMetadata). */
  private readonly recentMetadata = new RecentMetadata(recentMetadataEntriesMax);
  /** One client's posts to one queue read in the same event-loop turn go as one command (post-coalescer.ts). */
  private readonly posts = new PostCoalescer<QueueRef, NewMessage, QueueMetadata>(
    (ref, request, expected) => this.postNow(ref, request, expected),
    (ref, clientId, expected) => `${ref.project}\0${ref.queue}\0${clientId}\0${expected === undefined ? '' : JSON.stringify(expected)}`,
  );
  /** Consumers' commands to one shard read in the same turn go as one batch entry (command-coalescer.ts). */
  private readonly commands = new CommandCoalescer(() => this.deps.everyPeerHas(appliesCommandBatches));

  private constructor(
    private readonly shardMap: ShardMap,
    /** The hash shards, then the shards of pools as this node learns of them (openPlacedShard). */
    private readonly shards: Map<ShardId, BrokerShard>,
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
      readonly everyPeerHas: (capability: string) => boolean;
    },
  ) {
    this.stopTimer = deps.timers.every(deps.gcIntervalMs, () => {
      void this.runBackgroundWork().catch(() => undefined);
    });
  }

  /** Opens (or recovers) the node's shards in `dataDir`. */
  static async open(options: ShardedBrokerOptions): Promise<ShardedBroker> {
    const measure = { clock: options.clock, metrics: options.logMetrics ?? noLogMetrics };
    return ShardedBroker.openOn(openLmdbStores(options.dataDir, options.lmdbMapInChunks ?? true, measure, options.queueCommitDelayMs), options);
  }

  /** Opens on given stores (memory stores in simulations). */
  static async openOn(stores: BrokerStores, options: Omit<ShardedBrokerOptions, 'dataDir'>): Promise<ShardedBroker> {
    const shardMap = new ShardMap(options.shardCount);
    const localLog: ShardLogSource = options.shardLogs?.(stores) ?? new LocalLog(stores.logStore, { proposalsPendingMax: options.proposalsPendingMax });
    const shards = new Map<ShardId, BrokerShard>();
    for (const shardId of shardMap.shardIds) shards.set(shardId, openShard(shardId, { stores, localLog }));
    const logOf = (shardId: ShardId): ShardLog => {
      const shard = shards.get(shardId);
      if (shard === undefined) throw new ShardUnavailableError(shardId, `shard ${shardId} is not served here`);
      return shard.log;
    };
    let broker: ShardedBroker | undefined;
    const courier = new DeadLetterCourier({
      store: stores.queueStore,
      clock: options.clock,
      logOf,
      // A line of a shard held elsewhere is read from one of its replicas.
      readOutbox: async (shardId, seq) => (await shards.get(shardId)?.reads.query({ kind: 'outbox', seq })) ?? undefined,
      // The dead-letter queue may be placed outside its hash shard, like any queue.
      insert: async (command) => {
        assert(broker !== undefined, 'dead-letter delivery before the broker opened');
        await broker.proposeOn(command, command);
      },
    });
    broker = new ShardedBroker(shardMap, shards, {
      clock: options.clock,
      enableChecksum: options.enableChecksum ?? false,
      localLog,
      courier,
      stores,
      timers: options.timers ?? new SystemTimers(),
      gcIntervalMs: options.gcIntervalMs ?? defaultGcIntervalMs,
      gcRemovalsMax: options.gcRemovalsMax ?? defaultGcRemovalsMax,
      metrics: options.metrics ?? noClusterMetrics,
      everyPeerHas: options.everyPeerHas ?? (() => true),
    });
    const opened = broker;
    localLog.attach?.((placement) => opened.openPlacedShard(placement));
    for (const shardId of localLog.storedPlacedShards?.() ?? []) opened.openPlacedShard({ shardId, replicas: [] });
    // Dead-letter moves interrupted by a crash complete before the broker serves.
    await Promise.all([...shards.keys()].filter((shardId) => localLog.isHosted?.(shardId) ?? true).map((shardId) => courier.retry(shardId)));
    return broker;
  }

  /** Group-commit counters of the local log (persist rounds vs proposals). */
  get logStats(): { readonly flushes: number; readonly proposals: number } {
    return this.deps.localLog.stats;
  }

  /** The shard `ref` lives on as far as this node knows: its placement when known, else its hash shard. */
  private shard(ref: QueueRef): BrokerShard {
    const placement = this.directory.of(ref);
    const shardId = placement?.shardId ?? this.shardMap.shardOf(ref.project, ref.queue);
    const shard = placement === undefined ? this.shards.get(shardId) : this.openPlacedShard(placement);
    if (shard === undefined || this.isClosed) throw new ShardUnavailableError(shardId, `shard ${shardId} is not served here`);
    return shard;
  }

  private shardIdOf(ref: QueueRef): ShardId {
    return this.directory.of(ref)?.shardId ?? this.shardMap.shardOf(ref.project, ref.queue);
  }

  /**
   * Runs `run` on the queue's shard; when that is its hash shard and the name is bound
   * elsewhere (the answer is `moved`), notes the placement and runs it there. A binding
   * never changes and a placed shard binds nothing, so there is at most one such hop.
   */
  private async onQueue<T>(ref: QueueRef, run: (shard: BrokerShard) => Promise<T | MovedAnswer>): Promise<T> {
    const first = await run(this.shard(ref));
    if (!isMoved(first)) return first;
    this.directory.note(ref, first.moved);
    const second = await run(this.shard(ref));
    if (isMoved(second)) throw new ShardUnavailableError(first.moved.shardId, `queue ${ref.queue} moved twice`);
    return second;
  }

  private proposeOn<C extends ShardCommand>(ref: QueueRef, command: C): Promise<ResultOf<C>> {
    return this.onQueue(ref, (shard) => shard.log.propose(command) as Promise<ResultOf<C> | MovedAnswer>);
  }

  /** proposeOn for a command a batch may carry: it goes with the other such commands of this turn to its shard. */
  private proposeBatchable<C extends BatchedCommand>(ref: QueueRef, command: C): Promise<ResultOf<C>> {
    return this.onQueue(ref, (shard) => this.commands.propose(shard.log, command));
  }

  private queryOn<Q extends ShardQuery>(ref: QueueRef, query: Q): Promise<AnswerOf<Q>> {
    return this.onQueue(ref, (shard) => shard.reads.query(query) as Promise<AnswerOf<Q> | MovedAnswer>);
  }

  /**
   * Binds `ref` to `placement` on its hash shard and creates the queue there; a queue
   * that already exists on its hash shard stays where it is, and a name bound before
   * keeps its first placement.
   */
  private async createPlacedQueue(ref: QueueRef, metadata: QueueMetadata, placement: QueuePlacement): Promise<{ created: boolean }> {
    const hashShard = this.shards.get(this.shardMap.shardOf(ref.project, ref.queue));
    if (hashShard === undefined || this.isClosed) throw new ShardUnavailableError(placement.shardId, 'the broker is closed');
    const placed = await placeQueue(hashShard, ref, placement, this.deps.clock.nowMs());
    if (placed !== null) this.directory.note(ref, placed);
    return this.proposeOn(ref, { type: 'createQueue', nowMs: this.deps.clock.nowMs(), ...ref, metadata });
  }

  /** The shard a pool owns, opened here on first use (a routing hint for its replicas, or its replica when hosted). */
  openPlacedShard(placement: QueuePlacement): BrokerShard {
    return openPlacedShard(this.shards, this.deps, placement);
  }

  /** New shards for a pool, one per voter set: their ids reserved (placed-shards.ts), each group started on its voters. */
  createPlacedShards(request: PoolShardRequest): Promise<QueuePlacement[]> {
    return createPlacedShards(this, this.deps.localLog, request);
  }

  private isHosted(shardId: ShardId): boolean {
    return this.deps.localLog.isHosted?.(shardId) ?? true;
  }

  /** The shards this node holds a replica of. */
  private hostedShards(): [ShardId, BrokerShard][] {
    return [...this.shards.entries()].filter(([shardId]) => this.isHosted(shardId));
  }

  async listQueues(project: string, options: QueueListing & { withCount: boolean }): Promise<{ queues: QueueRecord[]; count: number }> {
    const listShards = (shards: readonly BrokerShard[]): Promise<{ queues: QueueRecord[]; count: number }[]> =>
      Promise.all(shards.map((shard) => shard.reads.query({ kind: 'listQueues', project, listing: options })));
    // A reserved project (a newline in its name: catalogue, reservations, bindings) lives on
    // the hash shards only, so its listing does not wait on a pool shard without a leader.
    const isReserved = project.includes('\n');
    const known = [...this.shards.entries()].filter(([shardId]) => !isReserved || !isPlacedShard(shardId)).map(([, shard]) => shard);
    // A client's queues may live on shards of pools this node has not opened yet: their
    // reservations are read alongside, and the shards they add are listed after.
    const [reservations, knownPages] = await Promise.all([
      isReserved ? [] : placedShardReservations(this),
      listShards(known),
    ]);
    const added = reservations.filter((p) => !this.shards.has(p.shardId)).map((p) => this.openPlacedShard(p));
    const pages = [...knownPages, ...(await listShards(added))];
    const queues = pages
      .flatMap((page) => page.queues)
      .sort((a, b) => Buffer.compare(Buffer.from(a.name), Buffer.from(b.name)))
      .slice(0, options.limit);
    return { queues, count: pages.reduce((sum, page) => sum + page.count, 0) };
  }

  /** `placement`: where a new queue of a flavor goes (the api picked a pool's shard); absent: its hash shard. */
  async createQueue(ref: QueueRef, metadata: QueueMetadata, placement?: QueuePlacement): Promise<{ created: boolean }> {
    if (placement !== undefined) return this.createPlacedQueue(ref, metadata, placement);
    return this.proposeOn(ref, { type: 'createQueue', nowMs: this.deps.clock.nowMs(), ...ref, metadata });
  }

  async getQueueMetadata(ref: QueueRef): Promise<QueueMetadata | null> {
    const metadata = await this.queryOn(ref, { kind: 'metadata', ref: refOf(ref) });
    if (!this.isHosted(this.shardIdOf(ref))) this.recentMetadata.set(ref, metadata);
    return metadata;
  }

  /**
   * The metadata without a read barrier, possibly stale: the local replica's applied
   * state, or without a replica here the last barrier read (one now when there is none).
   * A name bound to another shard (queue-placement.ts) is read with the barrier once,
   * which notes where it lives.
   */
  async peekQueueMetadata(ref: QueueRef): Promise<QueueMetadata | null> {
    const shard = this.shard(ref);
    if (this.isHosted(shard.shardId)) {
      if (shard.fsm.placementOf(ref.project, ref.queue) !== undefined) return this.getQueueMetadata(ref);
      return new ShardReader(shard.fsm).getMetadata(ref.project, ref.queue);
    }
    const recent = this.recentMetadata.get(ref);
    return recent !== undefined ? recent : this.getQueueMetadata(ref);
  }

  async setQueueMetadata(ref: QueueRef, metadata: QueueMetadata): Promise<boolean> {
    const result = await this.proposeOn(ref, { type: 'setMetadata', nowMs: this.deps.clock.nowMs(), ...ref, metadata });
    return result.found;
  }

  async deleteQueue(ref: QueueRef): Promise<void> {
    await this.proposeOn(ref, { type: 'deleteQueue', nowMs: this.deps.clock.nowMs(), ...ref });
  }

  async queueStats(ref: QueueRef): Promise<QueueStatsRecord> {
    return this.queryOn(ref, { kind: 'stats', ref: refOf(ref), nowMs: this.deps.clock.nowMs() });
  }

  async purgeQueue(ref: QueueRef, what: { messages: boolean; subscriptions: boolean }): Promise<void> {
    if (what.messages) await this.proposeOn(ref, { type: 'purge', nowMs: this.deps.clock.nowMs(), ...ref });
    if (what.subscriptions) await this.changeSubscriptions(ref, { op: 'purge' });
  }

  async postMessages(ref: QueueRef, request: { clientId: string; messages: readonly NewMessage[] }): Promise<{ ids: string[] }> {
    const { ids } = await this.posts.post(ref, request);
    return { ids };
  }

  /** Posts only while the queue's metadata holds `expectedMetadata` (shard/expected-metadata.ts). */
  async postMessagesExpecting(
    ref: QueueRef,
    request: { clientId: string; messages: readonly NewMessage[]; expectedMetadata: QueueMetadata },
  ): Promise<{ ids: string[] } | 'metadata_changed'> {
    // A replica of an older version would ignore the field and apply what the others
    // reject: until every node checks it, the caller takes the barrier-read path.
    if (!this.deps.everyPeerHas(postChecksExpectedMetadata)) return 'metadata_changed';
    const { ids, isMetadataStale } = await this.posts.post(ref, request, request.expectedMetadata);
    return isMetadataStale ? 'metadata_changed' : { ids };
  }

  private async postNow(
    ref: QueueRef,
    request: { clientId: string; messages: readonly NewMessage[] },
    expectedMetadata?: QueueMetadata,
  ): Promise<{ ids: string[]; isMetadataStale: boolean }> {
    const nowMs = this.deps.clock.nowMs();
    // An older replica would not find the bodies of messages sent as entries, nor the ids of messages without one.
    const asEntries = this.deps.everyPeerHas(postCarriesEntries);
    const derivesIds = asEntries && this.deps.everyPeerHas(postDerivesIds);
    const post = postedMessages(request.messages, {
      nowMs, clientId: request.clientId, enableChecksum: this.deps.enableChecksum, asEntries, derivesIds,
      packsEntries: derivesIds && this.deps.everyPeerHas(postPacksEntries),
    });
    // Object.assign, not spreads: see command-ids.ts withCommandId.
    const command = Object.assign({ type: 'post' as const, nowMs, project: ref.project, queue: ref.queue, clientId: request.clientId }, post.carried,
      expectedMetadata === undefined ? {} : { expectedMetadata });
    const result = await this.proposeOn(ref, command);
    return { ids: post.idsOf(result.seqs), isMetadataStale: result.isMetadataStale === true };
  }

  async listMessages(ref: QueueRef, options: MessageListing): Promise<MessageRecord[]> {
    return this.queryOn(ref, { kind: 'listMessages', ref: refOf(ref), listing: options, nowMs: this.deps.clock.nowMs() });
  }

  /** One read (messagePage) once every node answers it; before, the metadata and then the listing (a rolling upgrade). */
  async listMessagePage(ref: QueueRef, options: MessageListing): Promise<MessagePage> {
    const nowMs = this.deps.clock.nowMs();
    if (this.deps.everyPeerHas(answersMessagePage)) return this.queryOn(ref, { kind: 'messagePage', ref: refOf(ref), listing: options, nowMs });
    const includesDelayed = listsDelayed(await this.getQueueMetadata(ref), options.includeDelayed);
    return { messages: await this.listMessages(ref, { ...options, includeDelayed: includesDelayed }), includesDelayed };
  }

  async getMessages(ref: QueueRef, ids: readonly string[]): Promise<MessageRecord[]> {
    return this.queryOn(ref, { kind: 'getMessages', ref: refOf(ref), ids, nowMs: this.deps.clock.nowMs() });
  }

  async deleteMessages(ref: QueueRef, request: { ids: readonly string[]; claimIds?: readonly string[] }): Promise<boolean> {
    const result = await this.proposeBatchable(ref, {
      type: 'deleteMessages',
      nowMs: this.deps.clock.nowMs(),
      ...ref,
      ids: [...request.ids],
      claimIds: request.claimIds === undefined ? null : [...request.claimIds],
    });
    return result.deleted;
  }

  async popMessages(ref: QueueRef, limit: number): Promise<MessageRecord[]> {
    const result = await this.proposeBatchable(ref, { type: 'pop', nowMs: this.deps.clock.nowMs(), ...ref, limit });
    return [...result.messages];
  }

  async deleteMessage(ref: QueueRef, request: { id: string; claimId?: string }): Promise<DeleteMessageOutcome> {
    const nowMs = this.deps.clock.nowMs();
    const result = await this.proposeBatchable(ref, { type: 'deleteMessage', nowMs, ...ref, id: request.id, claimId: request.claimId ?? null });
    return result.outcome;
  }

  /** Resolves after any dead-letter moves it caused are in their DLQ. */
  async createClaim(ref: QueueRef, options: { limit: number; ttlSeconds: number; graceSeconds: number }): Promise<ClaimRecord | null> {
    const nowMs = this.deps.clock.nowMs();
    const command = { type: 'claim', nowMs, ...ref, claimId: newObjectId(nowMs), ...options } as const;
    const { shardId, result } = await this.onQueue(ref, async (shard) => {
      const mayClaim = await this.mayClaim(shard, ref, nowMs);
      if (mayClaim !== true) return mayClaim === false ? { shardId: shard.shardId, result: nothingClaimed } : mayClaim;
      const answer = await this.commands.propose(shard.log, command);
      return isMoved(answer) ? answer : { shardId: shard.shardId, result: answer };
    });
    if (result.outboxSeqs.length > 0) {
      // One outbox line per message moved to its dead-letter queue.
      this.deps.metrics.messagesDeadLettered(shardId, result.outboxSeqs.length);
      await this.deps.courier.deliver(shardId, result.outboxSeqs);
    }
    return result.claim;
  }

  /**
   * Whether a claim at `nowMs` may take anything, judged on this node's replica, so that
   * a poll of an empty queue costs a read barrier (a ReadIndex: no log entry, no fsync,
   * no apply on every replica) instead of a Raft round, and on a follower no forward;
   * `moved` for a name bound to another shard. An empty claim changes nothing (it
   * answers null and moves no message; ClaimIndex.mayClaim says true whenever its apply
   * would dead-letter a message or expire a lapsed claim), so answering it unapplied is
   * the same answer. True, propose as before, when the replica says something may be
   * claimable, even from state not yet caught up (the applied claim decides, racing
   * other claimers), and without a replica here.
   *
   * Linearizable: "nothing" is answered only after the read barrier, which applies here
   * every entry committed before the claim started, so every post acknowledged before
   * then is in the state read and is claimable by this claim.
   */
  private async mayClaim(shard: BrokerShard, ref: QueueRef, nowMs: number): Promise<boolean | MovedAnswer> {
    if (!this.isHosted(shard.shardId)) return true;
    const reader = new ShardReader(shard.fsm);
    // Undefined: nothing claimable in the state read so far.
    const judge = (): true | MovedAnswer | undefined => {
      // A binding never changes: one seen in any state is in force.
      const placement = shard.fsm.placementOf(ref.project, ref.queue);
      if (placement !== undefined) return { moved: placement };
      // A replica removed meanwhile (its state forgotten) knows nothing: propose.
      return reader.mayClaim(ref.project, ref.queue, nowMs) || !this.isHosted(shard.shardId) ? true : undefined;
    };
    const before = judge();
    if (before !== undefined) return before;
    await shard.log.readBarrier();
    return judge() ?? false;
  }

  async getClaim(ref: QueueRef, claimId: string): Promise<ClaimRecord | null> {
    return this.queryOn(ref, { kind: 'getClaim', ref: refOf(ref), claimId, nowMs: this.deps.clock.nowMs() });
  }

  async renewClaim(ref: QueueRef, request: { claimId: string; ttlSeconds: number; graceSeconds: number }): Promise<boolean> {
    const result = await this.proposeBatchable(ref, { type: 'renew', nowMs: this.deps.clock.nowMs(), ...ref, ...request });
    return result.renewed;
  }

  async releaseClaim(ref: QueueRef, claimId: string): Promise<void> {
    await this.proposeBatchable(ref, { type: 'release', nowMs: this.deps.clock.nowMs(), ...ref, claimId });
  }

  async changeSubscriptions(ref: QueueRef, change: SubscriptionChange): Promise<SubscriptionResult> {
    const nowMs = this.deps.clock.nowMs();
    const op = change.op === 'create' ? { ...change, id: newObjectId(nowMs) } : change;
    return this.proposeOn(ref, { type: 'subscription', nowMs, ...ref, op });
  }

  async listSubscriptions(ref: QueueRef): Promise<SubscriptionRecord[]> {
    return this.queryOn(ref, { kind: 'subscriptions', ref: refOf(ref), nowMs: this.deps.clock.nowMs() });
  }

  /** Adds or removes a cluster node (pool-shard-placement.ts). */
  changeMembership(change: MembershipChange): Promise<void> {
    return changePoolMembership(this, this.deps.localLog, change);
  }

  /** The shards pools own, with the voters last recorded for each (GET pool). */
  placedShards(): Promise<PlacedShard[]> {
    return placedShardReservations(this);
  }

  /** What the notifier reads and writes: the queue store, the shards led here, subscription changes. */
  notificationSource(): NotificationSource {
    const store = this.deps.stores.queueStore;
    return {
      store,
      message: (key, seq) => {
        const stored = store.getMessage(key, seq);
        const fsm = this.shards.get(key.shardId)?.fsm;
        return stored === undefined || fsm === undefined ? stored : effectiveMessage(fsm.index, queueKeyOf(key.project, key.queue), stored);
      },
      ledShards: () => (this.isClosed ? [] : ledShards(this.deps.localLog, this.shards)),
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
    const { clock, gcRemovalsMax, metrics, courier } = this.deps;
    await runShardBackgroundWork(this.hostedShards(), { nowMs: clock.nowMs(), gcRemovalsMax, metrics, courier });
  }

  /** Message depth and claimed count of every shard held here, from the in-memory index (metrics). */
  shardReports(): ShardReport[] {
    return shardReports(this.hostedShards());
  }

  /** Raft position of every shard held here (broker-reports.ts). */
  raftReports(): readonly RaftGroupReport[] {
    return raftReports(this.deps.localLog, this.shards);
  }

  /**
   * Whether this node may take traffic: open, and every shard held here has a leader and
   * has applied all it knows committed (the source's own answer when it has one).
   */
  isCaughtUp(): boolean {
    if (this.isClosed) return false;
    return isCaughtUp(this.deps.localLog, this.shards);
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
