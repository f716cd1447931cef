/**
 * RaftShardHost: drives every shard group of this node with one loop and one ticker.
 *
 * Each round feeds the queued inputs to every idle core, takes all their Readys, and
 * then follows the Ready contract for all of them together: persist entries + hard
 * state (every group's persist is issued in the same event-loop turn, so LmdbLogStore
 * writes them in one transaction and one flush: group commit across shards), and only
 * after that resolves send the messages, apply the committed entries, answer reads and
 * advance. A group whose persist fails is failed (stops voting and serving).
 *
 * With asynchronous storage writes (`raft.isAsyncStorageWrites`) the loop does not wait
 * for a round's persist before taking the next: PipelinedRounds keeps up to
 * `persistRoundsInFlightMax` rounds in flight (see pipelined-rounds.ts for what is sent
 * and applied when).
 *
 * Only groups that may have output are fed and asked for a Ready: a group is marked when
 * something that can give its core output happens (any queued input, a tick that fired a
 * timeout, a persist completed, being added) and unmarked only when it was asked and had
 * nothing. A group that had a Ready stays marked (its `advance`/`applied`/`persisted`
 * may leave more), so under a load on one queue a round touches one or two groups, not
 * all of them.
 *
 * Incoming peer messages are routed by shard id; a message for a shard this node does
 * not host goes to `onUnknownShard` first (which may add the group: a leader bringing
 * up a new learner), and is dropped when there is still no group (the sender's Raft
 * retries or gives up). `removeGroup` stops a replica that left its group and forgets
 * its Raft state.
 *
 * Snapshots: after each round every group's ShardCompactor may compact the log behind the
 * flushed queue state, and builds the images followers are sent (shard-compactor.ts). A
 * leader's snapshot arriving in a Ready is stored first, then restored into the QueueFsm
 * once its applied state is committed, before the Ready's entries are persisted. At start,
 * a replica whose queue state is older than a leader's snapshot it stored (a crash between
 * the two) restores the snapshot.
 */
import { assert } from '../common/assert.js';
import type { NodeId, ShardId } from '../common/ids.js';
import type { Random } from '../common/random.js';
import type { Clock } from '../common/clock.js';
import type { Delays, Timers } from '../common/timers.js';
import { raftConfig, type RaftConfig } from '../raft/core/config.js';
import { RaftCore } from '../raft/core/raft.js';
import { MessageType } from '../raft/core/messages.js';
import { type Ready, requiredWrite } from '../raft/core/ready.js';
import type { RaftMessage, RaftTransport, Snapshot } from '../raft/types.js';
import type { LogStore } from '../log/log-store.js';
import { CompactionBudget } from './compaction-budget.js';
import { type CompactionPolicy, ShardCompactor, defaultCompactionPolicy } from './shard-compactor.js';
import { ShardFsmAdapter } from './shard-fsm-adapter.js';
import { PipelinedRounds } from './pipelined-rounds.js';
import { ShardGroup, type ShardGroupLimits } from './shard-group.js';
import type { RaftMetrics } from '../raft/metrics.js';
import type { QueueFsm } from './shard/queue-fsm.js';

export interface RaftShardHostOptions {
  readonly nodeId: NodeId;
  readonly logStore: LogStore;
  /** Absent for a cluster of one. */
  readonly transport: RaftTransport | undefined;
  readonly random: Random;
  readonly timers: Timers;
  readonly delays: Delays;
  readonly tickMs: number;
  /**
   * When present, ticks are counted from its monotonic time: a timer that fired late is
   * caught up, and so is each round before it feeds the groups and each peer message
   * before it is queued, so a leader's tick count never lags real time by a tick or more
   * and a follower steps every tick that came before a heartbeat before it (the read
   * lease depends on both, see raft/core/lease.ts). Absent: one tick each time the timer
   * fires (tests that tick by hand).
   */
  readonly clock?: Pick<Clock, 'monotonicMs'>;
  readonly raft?: Partial<Pick<RaftConfig, 'electionTicks' | 'heartbeatTicks' | 'isAsyncStorageWrites' | 'applyBytesMax'>>;
  /** With `raft.isAsyncStorageWrites`: persist rounds in flight at most (default 4). */
  readonly persistRoundsInFlightMax?: number;
  readonly limits?: Partial<ShardGroupLimits>;
  /** Leader changes and refused proposals of every group; none when absent. */
  readonly metrics?: RaftMetrics;
  /** When groups snapshot and compact their logs; defaultCompactionPolicy for what is absent. */
  readonly compaction?: Partial<CompactionPolicy>;
  /** Hears a peer message for a shard not hosted here; may call addGroup before it is delivered. */
  readonly onUnknownShard?: (message: RaftMessage) => void;
}

export const defaultShardGroupLimits: ShardGroupLimits = { waitersMax: 10_000, waitMs: 5_000, inboxMax: 10_000 };

export class RaftShardHost {
  private readonly groups = new Map<ShardId, ShardGroup>();
  private readonly compactors = new Map<ShardId, ShardCompactor>();
  private readonly compaction: CompactionPolicy;
  /** The applied log data of all this node's groups, bounded together (compaction-budget.ts). */
  private readonly compactionBudget: CompactionBudget;
  private readonly limits: ShardGroupLimits;
  /** Groups that may have output: the only ones a round feeds and asks for a Ready. */
  private readonly dirty = new Set<ShardGroup>();
  private wakeup: (() => void) | undefined;
  private isWakeRequested = false;
  private isClosed = false;
  private readonly stopTicker: () => void;
  /** With `clock`: when tick 0 was, and the ticks given to the groups since. */
  private readonly tickEpochMs: number;
  private ticksGiven = 0;
  private readonly loop: Promise<void>;
  /**
   * Rounds that wrote to the log and the Readys written in them (group-commit sharing),
   * and the groups fed and asked for a Ready over all rounds.
   */
  readonly stats = { rounds: 0, readys: 0, visits: 0 };
  /** Present with asynchronous storage writes. */
  private readonly pipelined: PipelinedRounds | undefined;

  constructor(private readonly options: RaftShardHostOptions) {
    this.limits = { ...defaultShardGroupLimits, ...options.limits };
    this.compaction = { ...defaultCompactionPolicy, ...options.compaction };
    this.compactionBudget = new CompactionBudget(this.compaction.nodeBytesMax);
    options.transport?.onMessage((message) => this.receive(message));
    this.tickEpochMs = options.clock?.monotonicMs() ?? 0;
    this.stopTicker = options.timers.every(options.tickMs, () => this.catchUpTicks(options.clock === undefined ? 1 : this.ticksDue()));
    this.pipelined = options.raft?.isAsyncStorageWrites === true
      ? new PipelinedRounds({
          logStore: options.logStore,
          transport: options.transport,
          depthMax: options.persistRoundsInFlightMax ?? 4,
          installSnapshot: (group, snapshot) => this.installSnapshot(group, snapshot),
          noteApplied: (group, committed) => this.compactors.get(group.shardId)?.noteApplied(committed),
          wake: (groups) => {
            for (const group of groups) this.dirty.add(group);
            this.wake();
          },
        })
      : undefined;
    this.loop = this.run();
  }

  get nodeId(): NodeId {
    return this.options.nodeId;
  }

  /** Starts this node's replica of a shard; `peers` are the initial voters of a new group. */
  addGroup(fsm: QueueFsm, peers: readonly NodeId[]): ShardGroup {
    const shardId = fsm.shardId;
    assert(!this.groups.has(shardId), () => `shard ${shardId} hosted twice`);
    const { logStore, nodeId } = this.options;
    const state = logStore.load(shardId);
    // Snapshots for followers come from the compactor (built from the queue state on demand).
    let compactor: ShardCompactor | undefined;
    const core = new RaftCore(raftConfig({ id: nodeId, shardId, peers, ...this.options.raft }), {
      reader: {
        entries: (range) => logStore.entries(shardId, range),
        term: (index) => logStore.term(shardId, index),
        snapshot: () => compactor?.snapshotToSend(),
      },
      state,
      random: this.options.random,
    });
    const adapter = new ShardFsmAdapter(fsm, logStore);
    // The queue state lost (or never had) what the stored snapshot covers.
    const stored = state.snapshotMeta === undefined ? undefined : logStore.snapshot(shardId);
    if (stored !== undefined && fsm.appliedIndex < stored.meta.index) adapter.restore(stored);
    const group: ShardGroup = new ShardGroup(core, adapter, {
      delays: this.options.delays,
      limits: this.limits,
      wake: () => this.markDirty(group),
      ...(this.options.metrics === undefined ? {} : { metrics: this.options.metrics }),
    });
    this.groups.set(shardId, group);
    compactor = new ShardCompactor(group, logStore, this.compaction, this.compactionBudget);
    this.compactors.set(shardId, compactor);
    // A group of one elects itself at once instead of after an election timeout.
    const voters = core.status().conf.voters;
    if (voters.length === 1 && voters[0] === nodeId) group.requestCampaign();
    this.markDirty(group);
    return group;
  }

  group(shardId: ShardId): ShardGroup | undefined {
    return this.groups.get(shardId);
  }

  allGroups(): ShardGroup[] {
    return [...this.groups.values()];
  }

  /** Snapshots stored by this node's replica of a shard so far. */
  compactions(shardId: ShardId): number {
    return this.compactors.get(shardId)?.compactions ?? 0;
  }

  private receive(message: RaftMessage): void {
    // Ticks that came due before the message are stepped before it (shard-group.ts).
    if (this.options.clock !== undefined) this.catchUpTicks(this.ticksDue());
    if (!this.groups.has(message.shardId) && !this.isClosed) this.options.onUnknownShard?.(message);
    this.groups.get(message.shardId)?.receive(message);
  }

  /**
   * Stops this node's replica of a shard (it is no longer in the group's configuration)
   * and forgets its Raft log, hard state and snapshot. The group is failed first, so the
   * loop neither feeds, applies nor compacts it again, and the store removes it only
   * after the group's queued writes. Resolves with the stopped group (undefined if none).
   */
  async removeGroup(shardId: ShardId): Promise<ShardGroup | undefined> {
    const group = this.groups.get(shardId);
    if (group === undefined) return undefined;
    group.fail(new Error(`node ${this.options.nodeId} left the group of shard ${shardId}`));
    this.groups.delete(shardId);
    this.dirty.delete(group);
    this.compactors.get(shardId)?.close();
    this.compactors.delete(shardId);
    await this.options.logStore.removeGroup(shardId);
    return group;
  }

  private markDirty(group: ShardGroup): void {
    this.dirty.add(group);
    this.wake();
  }

  private wake(): void {
    this.isWakeRequested = true;
    const wakeup = this.wakeup;
    this.wakeup = undefined;
    wakeup?.();
  }

  private async run(): Promise<void> {
    const pipelined = this.pipelined;
    while (!this.isClosed) {
      this.isWakeRequested = false;
      if (pipelined?.isFull() === true) {
        await pipelined.oldestSettled();
        continue;
      }
      const round = this.takeRound();
      if (round.length === 0) {
        if (!this.isWakeRequested) await new Promise<void>((resolve) => (this.wakeup = resolve));
        continue;
      }
      this.countWrites(round);
      if (pipelined === undefined) await this.handleRound(round);
      else pipelined.start(round);
      await this.compact(round.map(({ group }) => group));
    }
    await pipelined?.drained();
  }

  private countWrites(round: readonly { ready: Ready }[]): void {
    const written = round.filter(({ ready }) => ready.snapshot !== undefined || requiredWrite(ready) !== undefined).length;
    if (written === 0) return;
    this.stats.rounds++;
    this.stats.readys += written;
  }

  /**
   * Feeds every group that may have output and may be used, and takes its Ready, if any.
   * A group installing a snapshot stays marked (its completion marks it anyway); one
   * that had nothing is unmarked until its next input.
   */
  private takeRound(): { group: ShardGroup; ready: Ready }[] {
    if (this.options.clock !== undefined) this.tickGroups(this.ticksDue());
    const round: { group: ShardGroup; ready: Ready }[] = [];
    for (const group of this.dirty) {
      if (group.failure !== undefined) {
        this.dirty.delete(group);
        continue;
      }
      if (group.core.isSnapshotInProgress()) continue;
      group.feed();
      group.visits++;
      this.stats.visits++;
      const ready = group.core.takeReady();
      if (ready !== undefined) round.push({ group, ready });
      else this.dirty.delete(group);
    }
    return round;
  }

  private catchUpTicks(count: number): void {
    if (count === 0) return;
    this.tickGroups(count);
    if (this.dirty.size > 0) this.wake();
  }

  private tickGroups(count: number): void {
    for (let i = 0; i < count; i++) {
      for (const group of this.groups.values()) if (group.tick()) this.dirty.add(group);
    }
  }

  /** With `clock`: ticks that came due since the last ones given. */
  private ticksDue(): number {
    const { clock, tickMs } = this.options;
    if (clock === undefined) return 0;
    const due = Math.floor((clock.monotonicMs() - this.tickEpochMs) / tickMs) - this.ticksGiven;
    if (due <= 0) return 0;
    this.ticksGiven += due;
    return due;
  }

  private async compact(groups: readonly ShardGroup[]): Promise<void> {
    await Promise.all(groups.map(async (group) => {
      if (group.failure !== undefined || group.core.isSnapshotInProgress()) return;
      try {
        await this.compactors.get(group.shardId)?.maybeCompact();
      } catch (error) {
        group.fail(error);
      }
    }));
  }

  /** Installs a leader's snapshot: stored durably, then restored into the QueueFsm. */
  private async installSnapshot(group: ShardGroup, snapshot: Snapshot): Promise<void> {
    await this.options.logStore.persistSnapshot(group.shardId, snapshot);
    await group.fsm.fsm.awaitCommitted();
    group.fsm.restore(snapshot);
    group.snapshotInstalled(snapshot.meta.index);
    this.compactors.get(group.shardId)?.noteInstalled(snapshot);
  }

  private async handleRound(round: { group: ShardGroup; ready: Ready }[]): Promise<void> {
    const { logStore } = this.options;
    const lateMessages = round.map(({ group, ready }) => this.sendReplicationEarly(group, ready));
    // Issued in one turn: one LMDB transaction and one flush for every group.
    const outcomes = await Promise.allSettled(
      round.map(async ({ group, ready }) => {
        if (ready.snapshot !== undefined) await this.installSnapshot(group, ready.snapshot);
        const write = requiredWrite(ready);
        if (write !== undefined) await logStore.persist(group.shardId, write);
      }),
    );
    round.forEach(({ group, ready }, i) => {
      const outcome = outcomes[i];
      if (outcome?.status !== 'fulfilled') {
        group.fail(outcome?.reason);
        return;
      }
      const late = lateMessages[i] ?? [];
      if (late.length > 0) this.options.transport?.send(late);
      try {
        this.compactors.get(group.shardId)?.noteApplied(ready.committed);
        group.applyReady(ready);
      } catch (error) {
        group.fail(error);
        throw error; // a broken invariant in the FSM: let the process stop
      }
      group.core.advance(ready);
    });
  }

  /**
   * A steady leader replicates in parallel with its own fsync (Raft thesis §10.2.1): its
   * App and Heartbeat messages go out before the persist, so the followers' round overlaps
   * the leader's instead of following it. Safe because the leader's term was persisted in
   * an earlier round (no role change in this Ready), and a commit counting this leader can
   * only be taken in a later round, which starts after this persist resolved. Everything
   * else (votes, answers) still goes after the persist. Returns the messages left to send.
   */
  private sendReplicationEarly(group: ShardGroup, ready: Ready): readonly RaftMessage[] {
    const steadyLeader = group.core.role === 'leader' && ready.softState === undefined && ready.snapshot === undefined;
    if (!steadyLeader || ready.messages.length === 0) return ready.messages;
    const early = ready.messages.filter(isLeaderReplication);
    if (early.length === 0) return ready.messages;
    this.options.transport?.send(early);
    return ready.messages.filter((message) => !isLeaderReplication(message));
  }

  /** Stops ticking and the loop; in-flight waiters fail by their deadlines. */
  async close(): Promise<void> {
    this.isClosed = true;
    this.stopTicker();
    this.wake();
    await this.loop;
  }
}

function isLeaderReplication(message: RaftMessage): boolean {
  return message.type === MessageType.App || message.type === MessageType.Heartbeat;
}
