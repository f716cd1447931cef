/**
 * RaftNode: the async loop around one group's RaftCore (etcd's Ready contract).
 *
 * For each Ready, strictly in this order: install an incoming snapshot (persist it,
 * restore the state machine), persist entries + hard state and await durability, only
 * then send messages, apply committed entries, `advance`. One Ready is handled at a
 * time; messages, ticks and requests arriving meanwhile queue (bounded) and are fed to
 * the core together, so many proposals share one append, one fsync and one message per
 * follower.
 *
 * With asynchronous storage writes (`config.isAsyncStorageWrites`) the loop does not wait
 * for a persist before taking the next Ready: it sends the Ready's `messages` and applies
 * its `committed` entries at once (both depend only on what is already durable), hands
 * entries + hard state to the store, and keeps up to `persistsInFlightMax` such persists
 * in flight (a PersistPipeline reports them to the core in issue order, then sends
 * `messagesAfterPersist`). A Ready carrying a snapshot is handled alone, start to end.
 * Compaction runs only while no persist is in flight.
 *
 * A storage error (or broken invariant) stops the group: it is marked failed, stops
 * ticking, voting and serving, and every waiter is rejected; nothing half-done is
 * acknowledged, so the replica can be restarted and repaired from its peers.
 */
import { assert } from '../common/assert.js';
import type { Random } from '../common/random.js';
import type { ConfChange } from './core/conf-change.js';
import type { RaftConfig } from './core/config.js';
import { RaftCore, type ProgressStatus } from './core/raft.js';
import { logReaderOf } from './core/raft-log.js';
import { type ConfChangeResult, type ProposeResult, type Ready, type Role, requiredWrite } from './core/ready.js';
import { noRaftMetrics, type RaftGroupReport, type RaftMetrics } from './metrics.js';
import { RaftError, type RaftErrorReason } from './raft-error.js';
import type { ConfState, Entry, LogIndex, NodeId, RaftLogStore, RaftMessage, ShardId, Snapshot, StateMachine, Term } from './types.js';
import { PersistPipeline } from './persist-pipeline.js';
import { Waiter } from './waiter.js';

export interface RaftNodeOptions {
  readonly config: RaftConfig;
  readonly store: RaftLogStore;
  readonly fsm: StateMachine;
  /** Hands messages to the transport (called only after what they depend on is durable). */
  readonly send: (messages: readonly RaftMessage[]) => void;
  readonly random: Random;
  /**
   * Snapshot the state machine and compact the log after this many applied entries.
   * Omitted: never compact (for state machines that cannot snapshot yet).
   */
  readonly compactionEntries?: number;
  /** Peer messages queued while a Ready is handled; more are dropped (raft retries). */
  readonly inboxMessagesMax?: number;
  /** A read not answered within this many ticks fails with reason 'timeout'. */
  readonly readTimeoutTicks?: number;
  /** With asynchronous storage writes: persists in flight at most (default 4). */
  readonly persistsInFlightMax?: number;
  /** Called once when the group stops on a storage error or broken invariant. */
  readonly onFailure?: (error: unknown) => void;
  readonly metrics?: RaftMetrics;
}

export interface RaftNodeStatus {
  readonly shardId: ShardId;
  readonly nodeId: NodeId;
  readonly role: Role;
  readonly term: number;
  readonly leader: NodeId | undefined;
  readonly commit: LogIndex;
  readonly applied: LogIndex;
  readonly firstIndex: LogIndex;
  readonly lastIndex: LogIndex;
  readonly conf: ConfState;
  readonly isDamaged: boolean;
  readonly isFailed: boolean;
  readonly isStopped: boolean;
  /** Leader only: what each member acknowledged (lag = lastIndex - match). */
  readonly followers: ReadonlyMap<NodeId, ProgressStatus>;
}

type QueuedOp =
  | { readonly kind: 'propose'; readonly data: Uint8Array; readonly waiter: Waiter<{ index: LogIndex }> }
  | { readonly kind: 'run'; readonly run: () => void; readonly waiter: { reject(error: unknown): void } };

interface PendingRead {
  readonly waiter: Waiter<{ index: LogIndex }>;
  readonly issuedAtTick: number;
}

export class RaftNode {
  readonly shardId: ShardId;
  readonly nodeId: NodeId;
  private readonly core: RaftCore;
  private state: 'running' | 'stopped' | 'failed' = 'running';
  private inbox: RaftMessage[] = [];
  private queue: QueuedOp[] = [];
  private ticksPending = 0;
  private tickCount = 0;
  private isScheduled = false;
  private isRunning = false;
  private isRerunRequested = false;
  private readCounter = 0;
  /** Distinguishes this run's read contexts from a previous run's still in flight. */
  private readonly incarnation: number;
  private snapshotIndex: LogIndex;
  /** Proposals and conf changes in the log, by index, until applied. */
  private readonly proposals = new Map<LogIndex, Waiter<{ index: LogIndex }>>();
  /** Reads asked of the core, by context, until a ReadState answers. */
  private readonly reads = new Map<string, PendingRead>();
  /** Answered reads waiting for the local state machine to reach their index. */
  private readsAwaitingApply: Waiter<{ index: LogIndex }>[] = [];
  private readonly compactionEntries: number;
  private readonly inboxMessagesMax: number;
  private readonly readTimeoutTicks: number;
  private readonly metrics: RaftMetrics;
  /** Asynchronous storage writes only: the persists in flight. */
  private readonly pipeline: PersistPipeline<Ready, void> | undefined;

  constructor(private readonly options: RaftNodeOptions) {
    const { config, store, fsm } = options;
    this.shardId = config.shardId;
    this.nodeId = config.id;
    this.compactionEntries = options.compactionEntries ?? Number.POSITIVE_INFINITY;
    this.inboxMessagesMax = options.inboxMessagesMax ?? 4096;
    this.readTimeoutTicks = options.readTimeoutTicks ?? 4 * config.electionTicks;
    this.metrics = options.metrics ?? noRaftMetrics;
    this.incarnation = options.random.int(0x7fffffff);
    const state = store.load(this.shardId);
    const snapshot = state.snapshotMeta === undefined ? undefined : store.snapshot(this.shardId);
    if (snapshot !== undefined) fsm.restore(snapshot);
    this.snapshotIndex = snapshot?.meta.index ?? (0 as LogIndex);
    this.core = new RaftCore(config, { reader: logReaderOf(store, this.shardId), state, random: options.random });
    this.pipeline = config.isAsyncStorageWrites
      ? new PersistPipeline<Ready, void>({
          depthMax: options.persistsInFlightMax ?? 4,
          onDurable: (ready) => this.onPersisted(ready),
          onFailure: (_ready, error) => this.fail(error),
        })
      : undefined;
    this.schedule();
  }

  // ---- inputs -------------------------------------------------------------------

  tick(): void {
    if (this.state !== 'running') return;
    this.ticksPending++;
    this.schedule();
  }

  step(message: RaftMessage): void {
    if (this.state !== 'running' || this.inbox.length >= this.inboxMessagesMax) return;
    this.inbox.push(message);
    this.schedule();
  }

  /** Resolves once `data` is committed and applied here; rejects with a RaftError. */
  propose(data: Uint8Array, options: { signal?: AbortSignal } = {}): Promise<{ index: LogIndex }> {
    const waiter = this.newWaiter<{ index: LogIndex }>(options.signal);
    if (this.refuse(waiter)) return waiter.promise;
    this.queue.push({ kind: 'propose', data, waiter });
    this.schedule();
    return waiter.promise;
  }

  /** Resolves once a linearizable read may be served from the local state machine. */
  readIndex(options: { signal?: AbortSignal } = {}): Promise<{ index: LogIndex }> {
    const waiter = this.newWaiter<{ index: LogIndex }>(options.signal);
    if (this.refuse(waiter)) return waiter.promise;
    if (this.reads.size >= this.options.config.readsPendingMax) {
      waiter.reject(this.error('overloaded'));
      return waiter.promise;
    }
    const context = `${this.nodeId}.${this.incarnation}.${++this.readCounter}`;
    this.enqueue(waiter, () => {
      if (waiter.isSettled) return;
      const result = this.core.readIndex(context);
      if (result.ok) this.reads.set(context, { waiter, issuedAtTick: this.tickCount });
      else waiter.reject(this.error(result.reason, result.reason === 'not_leader' ? result.leaderHint : undefined));
    });
    return waiter.promise;
  }

  /** Resolves once the transfer started (watch `status().leader` for its outcome). */
  transferLeadership(to: NodeId): Promise<void> {
    const waiter = this.newWaiter<void>(undefined);
    if (this.refuse(waiter)) return waiter.promise;
    this.enqueue(waiter, () => {
      const result = this.core.transferLeadership(to);
      if (result.ok) waiter.resolve();
      else waiter.reject(result.reason === 'not_leader' ? this.error('not_leader', result.leaderHint) : new RaftError('invalid_target', { shardId: this.shardId, message: result.detail }));
    });
    return waiter.promise;
  }

  /** Adds `id` as a learner: replicated to, not counted, until promoted. */
  addLearner(id: NodeId): Promise<{ index: LogIndex }> {
    return this.changeConf({ kind: 'add_learner', nodeId: id });
  }

  /** Makes a caught-up learner a voter (refused with conf_change_rejected while it lags). */
  promote(id: NodeId): Promise<{ index: LogIndex }> {
    return this.changeConf({ kind: 'promote', nodeId: id });
  }

  removeNode(id: NodeId): Promise<{ index: LogIndex }> {
    return this.changeConf({ kind: 'remove', nodeId: id });
  }

  /** Stops the group: no more ticks or messages; every waiter is rejected with 'stopped'. */
  stop(): void {
    if (this.state !== 'running') return;
    this.state = 'stopped';
    this.rejectAll(this.error('stopped'));
  }

  status(): RaftNodeStatus {
    const s = this.core.status();
    return {
      shardId: this.shardId,
      nodeId: this.nodeId,
      role: s.role,
      term: s.term,
      leader: s.leader === 0 ? undefined : s.leader,
      commit: s.commit,
      applied: s.applied,
      firstIndex: this.core.log.firstIndex(),
      lastIndex: s.lastIndex,
      conf: s.conf,
      isDamaged: s.isDamaged,
      isFailed: this.state === 'failed',
      isStopped: this.state === 'stopped',
      followers: s.progress,
    };
  }

  /** This group's position for metrics (sampled at scrape time). */
  report(): RaftGroupReport {
    const s = this.core.status();
    const followerLag = new Map<NodeId, number>();
    for (const [id, progress] of s.progress) if (id !== this.nodeId) followerLag.set(id, s.lastIndex - progress.match);
    return { shardId: this.shardId, role: s.role, term: s.term, hasLeader: s.leader !== 0, commitIndex: s.commit, appliedIndex: s.applied, followerLag };
  }

  /** Term of the entry at `index` in this replica's log (undefined if compacted or absent): diagnostics and checkers. */
  logTerm(index: LogIndex): Term | undefined {
    return this.core.log.term(index);
  }

  // ---- the loop -------------------------------------------------------------------

  private schedule(): void {
    if (this.isRunning) this.isRerunRequested = true;
    if (this.isScheduled || this.isRunning || this.state !== 'running') return;
    this.isRerunRequested = false;
    this.isScheduled = true;
    // A microtask later, so a burst of synchronous calls lands in one Ready.
    queueMicrotask(() => {
      this.isScheduled = false;
      this.run().catch((error: unknown) => this.fail(error));
    });
  }

  private async run(): Promise<void> {
    if (this.isRunning || this.state !== 'running') return;
    this.isRunning = true;
    try {
      if (this.pipeline !== undefined) await this.runAsync(this.pipeline);
      else await this.runSync();
    } finally {
      this.isRunning = false;
    }
    // A persist completed (or input came) while the loop was finishing: look again.
    if (this.isRerunRequested) this.schedule();
  }

  private async runSync(): Promise<void> {
    for (;;) {
      this.drain();
      const ready = this.core.takeReady();
      if (ready === undefined) return;
      await this.handleReady(ready);
      if (this.state !== 'running') return;
      await this.maybeCompact();
      if (this.state !== 'running') return;
    }
  }

  /** Takes Readys while persists are in flight; returns when idle (a completion reschedules). */
  private async runAsync(pipeline: PersistPipeline<Ready, void>): Promise<void> {
    for (;;) {
      if (pipeline.isFull()) {
        await pipeline.oldestSettled();
        if (this.state !== 'running') return;
        continue;
      }
      this.drain();
      const ready = this.core.takeReady();
      if (ready === undefined) {
        if (pipeline.size > 0 || !this.isCompactionDue()) return;
        await this.maybeCompact();
        if (this.state !== 'running') return;
        continue;
      }
      if (ready.snapshot !== undefined) {
        await this.handleSnapshotReady(ready);
        if (this.state !== 'running') return;
        continue;
      }
      this.startReady(ready, pipeline);
    }
  }

  /** Sends and applies what needs no wait, and hands the rest to storage. */
  private startReady(ready: Ready, pipeline: PersistPipeline<Ready, void>): void {
    if (ready.messages.length > 0) this.options.send(ready.messages);
    this.applyReady(ready);
    const write = requiredWrite(ready);
    pipeline.push(ready, write === undefined ? Promise.resolve() : this.options.store.persist(this.shardId, write));
  }

  /** `ready` and every Ready before it are durable: the answers that vouch for them may go. */
  private onPersisted(ready: Ready): void {
    if (this.state !== 'running') return;
    this.core.persisted(ready);
    if (ready.messagesAfterPersist.length > 0) this.options.send(ready.messagesAfterPersist);
    this.schedule();
  }

  /** A leader's snapshot, with nothing else in flight: install, persist, then everything else. */
  private async handleSnapshotReady(ready: Ready): Promise<void> {
    const { store, fsm } = this.options;
    const { snapshot } = ready;
    assert(snapshot !== undefined && this.pipeline?.size === 0, 'snapshot Ready while persists are in flight');
    await store.persistSnapshot(this.shardId, snapshot);
    if (this.state !== 'running') return;
    fsm.restore(snapshot);
    this.snapshotIndex = snapshot.meta.index;
    this.settleCoveredBySnapshot(snapshot);
    const write = requiredWrite(ready);
    if (write !== undefined) {
      await store.persist(this.shardId, write);
      if (this.state !== 'running') return;
    }
    this.core.persisted(ready);
    const messages = [...ready.messages, ...ready.messagesAfterPersist];
    if (messages.length > 0) this.options.send(messages);
    this.applyReady(ready);
  }

  /** Asynchronous storage writes: applies `ready.committed` (durable here already) and answers. */
  private applyReady(ready: Ready): void {
    if (ready.committed.length > 0) this.options.fsm.apply(ready.committed);
    this.core.applied(ready);
    this.answer(ready);
  }

  /** Feeds everything queued since the last Ready into the core. */
  private drain(): void {
    const ticks = this.ticksPending;
    this.ticksPending = 0;
    for (let i = 0; i < ticks; i++) this.core.tick();
    this.tickCount += ticks;
    if (ticks > 0) this.expireReads();
    const inbox = this.inbox;
    this.inbox = [];
    for (const message of inbox) this.core.step(message);
    const queue = this.queue;
    this.queue = [];
    let batch: Waiter<{ index: LogIndex }>[] = [];
    let data: Uint8Array[] = [];
    for (const op of queue) {
      if (op.kind === 'propose') {
        if (op.waiter.isSettled) continue;
        batch.push(op.waiter);
        data.push(op.data);
        continue;
      }
      this.proposeBatch(batch, data);
      batch = [];
      data = [];
      op.run();
    }
    this.proposeBatch(batch, data);
  }

  private proposeBatch(waiters: readonly Waiter<{ index: LogIndex }>[], data: readonly Uint8Array[]): void {
    if (waiters.length === 0) return;
    let result = this.core.proposeBatch(data);
    if (!result.ok && result.reason === 'overloaded' && waiters.length > 1) {
      // Take what fits, one at a time; refuse the rest.
      waiters.forEach((waiter, i) => {
        result = this.core.proposeBatch([data[i] ?? new Uint8Array(0)]);
        this.track(waiter, result, 0);
      });
      return;
    }
    waiters.forEach((waiter, i) => this.track(waiter, result, i));
  }

  private track(waiter: Waiter<{ index: LogIndex }>, result: ProposeResult | ConfChangeResult, offset: number): void {
    if (!result.ok) {
      waiter.reject(result.reason === 'conf_change_rejected' ? new RaftError('conf_change_rejected', { shardId: this.shardId, message: result.detail }) : this.error(result.reason, result.reason === 'not_leader' ? result.leaderHint : undefined));
      return;
    }
    waiter.index = (result.index + offset) as LogIndex;
    waiter.term = result.term;
    this.proposals.set(waiter.index, waiter);
  }

  private async handleReady(ready: Ready): Promise<void> {
    const { store, fsm } = this.options;
    if (ready.snapshot !== undefined) {
      await store.persistSnapshot(this.shardId, ready.snapshot);
      if (this.state !== 'running') return;
      fsm.restore(ready.snapshot);
      this.snapshotIndex = ready.snapshot.meta.index;
      this.settleCoveredBySnapshot(ready.snapshot);
    }
    const write = requiredWrite(ready);
    if (write !== undefined) {
      await store.persist(this.shardId, write);
      if (this.state !== 'running') return;
    }
    if (ready.messages.length > 0) this.options.send(ready.messages);
    if (ready.committed.length > 0) fsm.apply(ready.committed);
    this.core.advance(ready);
    this.answer(ready);
  }

  /** Settles the proposals and reads `ready` answers (its committed entries were applied). */
  private answer(ready: Ready): void {
    this.settleApplied(ready.committed);
    if (ready.softState !== undefined) this.onLeaderChange(ready.softState.leader);
    for (const read of ready.readStates) {
      const pending = this.reads.get(read.context);
      if (pending === undefined) continue;
      this.reads.delete(read.context);
      pending.waiter.index = read.index;
      this.readsAwaitingApply.push(pending.waiter);
    }
    this.settleReads();
  }

  private settleApplied(entries: readonly Entry[]): void {
    for (const entry of entries) {
      const waiter = this.proposals.get(entry.index);
      if (waiter === undefined) continue;
      this.proposals.delete(entry.index);
      if (waiter.term === entry.term) waiter.resolve({ index: entry.index });
      else waiter.reject(this.error('dropped'));
    }
  }

  private settleCoveredBySnapshot(snapshot: Snapshot): void {
    for (const [index, waiter] of this.proposals) {
      if (index > snapshot.meta.index) continue;
      this.proposals.delete(index);
      waiter.reject(this.error('outcome_unknown'));
    }
  }

  private settleReads(): void {
    const applied = this.core.log.applied;
    const waiting: Waiter<{ index: LogIndex }>[] = [];
    for (const waiter of this.readsAwaitingApply) {
      const index = waiter.index;
      assert(index !== undefined, 'answered read without an index');
      if (index <= applied) waiter.resolve({ index });
      else waiting.push(waiter);
    }
    this.readsAwaitingApply = waiting;
  }

  /** A read asked of an old leader will never be answered by the new one. */
  private onLeaderChange(leader: NodeId | 0): void {
    this.metrics.leaderChanged(this.shardId);
    for (const { waiter } of this.reads.values()) waiter.reject(this.error('not_leader', leader === 0 ? undefined : leader));
    this.reads.clear();
  }

  private expireReads(): void {
    for (const [context, read] of this.reads) {
      if (this.tickCount - read.issuedAtTick < this.readTimeoutTicks) continue;
      this.reads.delete(context);
      read.waiter.reject(this.error('timeout'));
    }
  }

  private isCompactionDue(): boolean {
    return this.core.log.applied - this.snapshotIndex >= this.compactionEntries;
  }

  private async maybeCompact(): Promise<void> {
    const applied = this.core.log.applied;
    if (!this.isCompactionDue()) return;
    const image = this.options.fsm.snapshot();
    assert(image.index === applied, () => `state machine snapshot at ${image.index}, applied ${applied}`);
    const term = this.core.log.term(image.index);
    assert(term !== undefined, 'no term for the applied index');
    const snapshot: Snapshot = { meta: { index: image.index, term, conf: this.core.conf }, data: image.data };
    await this.options.store.persistSnapshot(this.shardId, snapshot);
    if (this.state !== 'running') return;
    this.core.compacted(snapshot.meta);
    this.snapshotIndex = image.index;
  }

  // ---- helpers --------------------------------------------------------------------

  private changeConf(change: ConfChange): Promise<{ index: LogIndex }> {
    const waiter = this.newWaiter<{ index: LogIndex }>(undefined);
    if (this.refuse(waiter)) return waiter.promise;
    this.enqueue(waiter, () => this.track(waiter, this.core.proposeConfChange(change), 0));
    return waiter.promise;
  }

  private enqueue(waiter: { reject(error: unknown): void }, run: () => void): void {
    this.queue.push({ kind: 'run', run, waiter });
    this.schedule();
  }

  /** Rejects at once when the group is not serving or its queue is full. */
  private refuse<T>(waiter: Waiter<T>): boolean {
    if (this.state !== 'running') waiter.reject(this.error(this.state === 'failed' ? 'failed' : 'stopped'));
    else if (this.queue.length >= this.options.config.proposalsPendingMax) waiter.reject(this.error('overloaded'));
    return waiter.isSettled;
  }

  private newWaiter<T>(signal: AbortSignal | undefined): Waiter<T> {
    return new Waiter<T>(signal, () => this.error('aborted'));
  }

  private error(reason: RaftErrorReason, leaderHint?: NodeId): RaftError {
    if (reason !== 'stopped' && reason !== 'failed') this.metrics.proposalRejected(this.shardId, reason);
    return new RaftError(reason, { shardId: this.shardId, leaderHint });
  }

  private fail(error: unknown): void {
    if (this.state !== 'running') return;
    this.state = 'failed';
    this.rejectAll(new RaftError('failed', { shardId: this.shardId, cause: error }));
    this.options.onFailure?.(error);
  }

  private rejectAll(error: RaftError): void {
    for (const op of this.queue) op.waiter.reject(error);
    this.queue = [];
    this.inbox = [];
    for (const waiter of this.proposals.values()) waiter.reject(error);
    this.proposals.clear();
    for (const { waiter } of this.reads.values()) waiter.reject(error);
    this.reads.clear();
    for (const waiter of this.readsAwaitingApply) waiter.reject(error);
    this.readsAwaitingApply = [];
  }
}
