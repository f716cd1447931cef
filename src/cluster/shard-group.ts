/**
 * ShardGroup: this node's replica of one shard's Raft group, as the host drives it.
 *
 * Inputs (peer messages, ticks, proposals, read requests) are queued and fed to the
 * core only by the host, between Readys (the core's contract: nothing is stepped while
 * a Ready is outstanding); a tick that finds the core idle is stepped at once. Every
 * queued input calls `wake`, which tells the host this group may have output (the host
 * asks only such groups for a Ready). Proposers wait for their entry to be applied: a waiter is
 * keyed by the entry's index and resolved with the apply result when the entry applied
 * at that index has the proposal's term, or rejected as dropped (never committed, safe
 * to retry) when another term's entry took the index. Readers wait for a ReadIndex
 * answer and then for the apply cursor to reach it.
 *
 * Every waiter carries a deadline (injected Delays) so a proposal or read whose leader
 * vanished fails as unavailable instead of hanging; queues are bounded.
 */
import { assert } from '../common/assert.js';
import type { LogIndex, NodeId, ShardId, Term } from '../common/ids.js';
import type { Delays } from '../common/timers.js';
import type { ConfChange } from '../raft/core/conf-change.js';
import type { RaftCore, RaftStatus } from '../raft/core/raft.js';
import type { ReadState, Ready } from '../raft/core/ready.js';
import type { RaftMetrics } from '../raft/metrics.js';
import type { RaftMessage } from '../raft/types.js';
import { OverloadedError, ShardUnavailableError } from './errors.js';
import type { ShardFsmAdapter } from './shard-fsm-adapter.js';
import { NotLeaderError, ProposalDroppedError } from './routing-errors.js';
import type { AnyCommandResult } from './shard/results.js';

export interface ShardGroupLimits {
  /** Proposals and reads queued for the core, plus those waiting to apply. */
  readonly waitersMax: number;
  /** How long a proposal or read may wait for its entry / read index before failing. */
  readonly waitMs: number;
  /** Peer messages queued between two Readys before new ones are dropped (raft retries). */
  readonly inboxMax: number;
}

interface Waiter<T> {
  resolve(value: T): void;
  reject(error: unknown): void;
  cancelDeadline: () => void;
}

interface QueuedProposal extends Waiter<AnyCommandResult | undefined> {
  readonly data: Uint8Array;
  /** The node that took the command from its client (undefined: not known). */
  readonly origin: NodeId | undefined;
}

interface PendingRead extends Waiter<void> {
  index: LogIndex | undefined;
}

/** A tick queued in the inbox (between the peer messages it came before and after). */
const queuedTick = Symbol('tick');

export class ShardGroup {
  /**
   * Peer messages and queued ticks in the order they came: a tick that came before a
   * message is stepped before it (a follower's election clock restarts at a heartbeat, and
   * a tick counted after it that came before it would shorten the leader's lease, see
   * raft/core/lease.ts).
   */
  private inbox: (RaftMessage | typeof queuedTick)[] = [];
  private isCampaignRequested = false;
  private queuedProposals: QueuedProposal[] = [];
  private queuedReads: { context: string; read: PendingRead }[] = [];
  private readonly confChanges: { change: ConfChange; resolve(ok: boolean): void }[] = [];
  private transferTo: NodeId | undefined;
  private readonly applyWaiters = new Map<number, { term: Term; waiter: Waiter<AnyCommandResult | undefined> }>();
  private readonly reads = new Map<string, PendingRead>();
  private readContextSeq = 0;
  failure: unknown = undefined;
  /** Rounds that fed this group and asked it for a Ready (the host counts them: tests, metrics). */
  visits = 0;
  /** The leader last reported by the core (0: none), to count leader changes. */
  private knownLeader: NodeId | 0 = 0;
  /** Called once at the next change of the leader this replica knows of (requests waiting for a leader). */
  private readonly leaderWatchers = new Set<() => void>();
  /** Commands the core took as leader since `takeTraffic`, by the node that took each from its client. */
  private traffic = new Map<NodeId, number>();

  constructor(
    readonly core: RaftCore,
    readonly fsm: ShardFsmAdapter,
    private readonly deps: { readonly delays: Delays; readonly limits: ShardGroupLimits; readonly wake: () => void; readonly metrics?: RaftMetrics },
  ) {}

  get shardId(): ShardId {
    return this.core.shardId;
  }

  status(): RaftStatus {
    return this.core.status();
  }

  /** The leader this replica knows of, or undefined. */
  leader(): NodeId | undefined {
    const lead = this.core.lead;
    return lead === 0 ? undefined : lead;
  }

  isLeader(): boolean {
    return this.core.role === 'leader';
  }

  // ---- inputs (any time) -----------------------------------------------------------

  receive(message: RaftMessage): void {
    if (this.failure !== undefined || this.inbox.length >= this.deps.limits.inboxMax) return;
    this.inbox.push(message);
    this.deps.wake();
  }

  /**
   * One tick of the Raft clock. Stepped into the core at once when it is idle and no
   * message or tick is queued before it (so the order `feed` keeps is kept), otherwise
   * queued for `feed`. Returns whether the group may now have output: a tick that fired
   * a timeout, or a queued one. Most ticks of a follower change only a counter, so the
   * host need not ask such a group for a Ready.
   */
  tick(): boolean {
    if (this.failure !== undefined) return false;
    if (this.inbox.length > 0 || !this.core.isIdle()) {
      this.inbox.push(queuedTick);
      return true;
    }
    this.core.tick();
    return this.core.hasReady();
  }

  /** Calls `watcher` once, when the leader this replica knows of next changes (an election or transfer ended, or began); returns a function that forgets it. */
  onLeaderChange(watcher: () => void): () => void {
    this.leaderWatchers.add(watcher);
    return () => this.leaderWatchers.delete(watcher);
  }

  requestCampaign(): void {
    this.isCampaignRequested = true;
    this.deps.wake();
  }

  requestTransfer(to: NodeId): void {
    this.transferTo = to;
    this.deps.wake();
  }

  proposeConfChange(change: ConfChange): Promise<boolean> {
    return new Promise((resolve) => {
      this.confChanges.push({ change, resolve });
      this.deps.wake();
    });
  }

  /** `origin`: the node that took the command from its client, counted in `takeTraffic` once the core takes it. */
  propose(data: Uint8Array, origin?: NodeId): Promise<AnyCommandResult | undefined> {
    const refusal = this.refusal();
    if (refusal !== undefined) return Promise.reject(refusal);
    return new Promise((resolve, reject) => {
      const proposal: QueuedProposal = { data, origin, resolve, reject, cancelDeadline: () => {} };
      proposal.cancelDeadline = this.deadline(proposal, () => {
        this.queuedProposals = this.queuedProposals.filter((p) => p !== proposal);
      });
      this.queuedProposals.push(proposal);
      this.deps.wake();
    });
  }

  /** The commands counted since the last call, by origin (traffic-leadership.ts); starts a new count. */
  takeTraffic(): ReadonlyMap<NodeId, number> {
    const traffic = this.traffic;
    this.traffic = new Map();
    return traffic;
  }

  readBarrier(): Promise<void> {
    const refusal = this.refusal();
    if (refusal !== undefined) return Promise.reject(refusal);
    return new Promise((resolve, reject) => {
      const context = `${this.core.id}:${++this.readContextSeq}`;
      const read: PendingRead = { index: undefined, resolve, reject, cancelDeadline: () => {} };
      read.cancelDeadline = this.deadline(read, () => {
        this.reads.delete(context);
        this.queuedReads = this.queuedReads.filter((q) => q.read !== read);
      });
      this.queuedReads.push({ context, read });
      this.deps.wake();
    });
  }

  private refusal(): Error | undefined {
    if (this.failure !== undefined) return this.refused('failed', new ShardUnavailableError(this.shardId, `shard ${this.shardId} failed`, { cause: this.failure }));
    const waiting = this.queuedProposals.length + this.applyWaiters.size + this.queuedReads.length + this.reads.size;
    if (waiting >= this.deps.limits.waitersMax) return this.refused('overloaded', new OverloadedError(this.shardId, `shard ${this.shardId} has ${waiting} requests waiting`));
    return undefined;
  }

  /** Counts a refused proposal or read in the raft metrics; returns the error to raise. */
  private refused<E extends Error>(reason: string, error: E): E {
    this.deps.metrics?.proposalRejected(this.shardId, reason);
    return error;
  }

  private deadline(waiter: Waiter<never> | Waiter<AnyCommandResult | undefined> | Waiter<void>, forget: () => void): () => void {
    return this.deps.delays.after(this.deps.limits.waitMs, () => {
      forget();
      for (const [index, entry] of this.applyWaiters) if (entry.waiter === waiter) this.applyWaiters.delete(index);
      waiter.reject(this.refused('timeout', new ShardUnavailableError(this.shardId, `shard ${this.shardId}: no commit within ${this.deps.limits.waitMs} ms`)));
    });
  }

  // ---- host side (core idle) --------------------------------------------------------

  /** Feeds every queued input to the core. Called by the host only between Readys. */
  feed(): void {
    if (this.failure !== undefined) return;
    const core = this.core;
    for (const input of this.inbox) {
      if (input === queuedTick) core.tick();
      else core.step(input);
    }
    this.inbox = [];
    if (this.isCampaignRequested) {
      this.isCampaignRequested = false;
      if (core.role !== 'leader') core.campaign();
    }
    if (this.transferTo !== undefined) {
      core.transferLeadership(this.transferTo);
      this.transferTo = undefined;
    }
    for (const { change, resolve } of this.confChanges.splice(0)) resolve(core.proposeConfChange(change).ok);
    this.feedProposals();
    this.feedReads();
  }

  private feedProposals(): void {
    const proposals = this.queuedProposals;
    if (proposals.length === 0) return;
    this.queuedProposals = [];
    const result = this.core.proposeBatch(proposals.map((p) => p.data));
    if (!result.ok) {
      const error = result.reason === 'overloaded'
        ? new OverloadedError(this.shardId, `shard ${this.shardId}: too many uncommitted entries`)
        : new NotLeaderError(this.shardId, result.leaderHint);
      for (let i = 0; i < proposals.length; i++) this.refused(result.reason, error);
      for (const p of proposals) this.settle(p, () => p.reject(error));
      return;
    }
    proposals.forEach((p, i) => {
      this.applyWaiters.set(result.index + i, { term: result.term, waiter: p });
      if (p.origin !== undefined) this.traffic.set(p.origin, (this.traffic.get(p.origin) ?? 0) + 1);
    });
  }

  private feedReads(): void {
    for (const { context, read } of this.queuedReads) {
      const result = this.core.readIndex(context);
      if (result.ok) {
        this.reads.set(context, read);
        continue;
      }
      const error = result.reason === 'overloaded'
        ? new OverloadedError(this.shardId, `shard ${this.shardId}: too many reads pending`)
        : new NotLeaderError(this.shardId, result.leaderHint);
      this.refused(result.reason, error);
      this.settle(read, () => read.reject(error));
    }
    this.queuedReads = [];
  }

  /** After the Ready's entries are durable and its messages sent: apply and answer. */
  applyReady(ready: Ready): void {
    // A failed group (storage failure, or a replica removed from its group) applies nothing more.
    if (this.failure !== undefined) return;
    if (ready.softState !== undefined && ready.softState.leader !== this.knownLeader) {
      this.knownLeader = ready.softState.leader;
      this.deps.metrics?.leaderChanged(this.shardId);
      const watchers = [...this.leaderWatchers];
      this.leaderWatchers.clear();
      for (const watcher of watchers) watcher();
      this.askReadsAgain();
    }
    if (ready.committed.length > 0) {
      for (const applied of this.fsm.applyEntries(ready.committed)) {
        const entry = this.applyWaiters.get(applied.index);
        if (entry === undefined) continue;
        this.applyWaiters.delete(applied.index);
        const { waiter } = entry;
        if (entry.term === applied.term) this.settle(waiter, () => waiter.resolve(applied.result));
        else this.settle(waiter, () => waiter.reject(new ProposalDroppedError(this.shardId)));
      }
    }
    this.noteReadStates(ready.readStates);
    this.releaseReads();
  }

  /**
   * A leader that steps down drops the ReadIndex requests it has not answered, and a
   * follower's request or its answer may be lost with the old leader: after a leader
   * change, reads still without their index are asked again (of the new leader, or
   * refused at once while there is none), instead of waiting out their deadline. An
   * answer to the earlier request, should one still come, is as good.
   */
  private askReadsAgain(): void {
    let isQueued = false;
    for (const [context, read] of this.reads) {
      if (read.index !== undefined) continue;
      this.reads.delete(context);
      this.queuedReads.push({ context, read });
      isQueued = true;
    }
    if (isQueued) this.deps.wake();
  }

  private noteReadStates(readStates: readonly ReadState[]): void {
    for (const state of readStates) {
      const read = this.reads.get(state.context);
      if (read !== undefined) read.index = state.index;
    }
  }

  private releaseReads(): void {
    const applied = this.fsm.appliedIndex;
    for (const [context, read] of this.reads) {
      if (read.index === undefined || read.index > applied) continue;
      this.reads.delete(context);
      this.settle(read, () => read.resolve());
    }
  }

  /**
   * A leader's snapshot replaced this replica's state up to `index`: proposals waiting
   * for an entry it covers will never see their result applied here (outcome unknown).
   */
  snapshotInstalled(index: LogIndex): void {
    for (const [at, { waiter }] of this.applyWaiters) {
      if (at > index) continue;
      this.applyWaiters.delete(at);
      this.settle(waiter, () => waiter.reject(new ShardUnavailableError(this.shardId, `shard ${this.shardId}: entry ${at} is covered by an installed snapshot, its outcome is unknown`)));
    }
  }

  /** A storage failure: the group stops (no votes, no service) until the node restarts. */
  fail(cause: unknown): void {
    this.failure ??= cause ?? new Error('unknown failure');
    const error = new ShardUnavailableError(this.shardId, `shard ${this.shardId} failed`, { cause });
    for (const p of this.queuedProposals) this.settle(p, () => p.reject(error));
    for (const { read } of this.queuedReads) this.settle(read, () => read.reject(error));
    for (const { waiter } of this.applyWaiters.values()) this.settle(waiter, () => waiter.reject(error));
    for (const read of this.reads.values()) this.settle(read, () => read.reject(error));
    this.queuedProposals = [];
    this.queuedReads = [];
    this.applyWaiters.clear();
    this.reads.clear();
  }

  private settle(waiter: { cancelDeadline: () => void }, settle: () => void): void {
    waiter.cancelDeadline();
    settle();
  }
}
