/**
 * The single-node shard log: proposals are appended to each shard's log through the
 * RaftLogStore interface (consecutive indexes, one constant term), made durable, then
 * applied by the shard's QueueFsm; a proposal resolves with its apply result.
 *
 * Group commit: one LocalLog serves every shard of the node. Proposals arriving while
 * the previous batch is being persisted (or in the same microtask run) wait and are
 * persisted together: one `persist` per shard with entries, all issued in the same
 * event-loop turn so the store writes them in one transaction and one flush. `stats`
 * counts batches against proposals so tests can see the sharing.
 *
 * Ordering: entries are applied strictly in index order, only after their persist has
 * resolved (durable), so an acknowledged write survives kill -9 and a restart replays
 * the log from the FSM's stored applied index.
 */
import { assert } from '../../common/assert.js';
import type { LogIndex, ShardId, Term } from '../../common/ids.js';
import { type Entry, EntryType, type RaftLogStore } from '../../raft/types.js';
import { OverloadedError, ShardUnavailableError } from '../errors.js';
import { type ShardCommand, encodeCommand } from './commands.js';
import type { QueueFsm } from './queue-fsm.js';
import type { AnyCommandResult, ResultOf } from './results.js';
import type { ShardLog } from './shard-log.js';

export interface LocalLogOptions {
  /** Proposals waiting for persistence per shard before new ones are refused. */
  readonly proposalsPendingMax?: number;
  /** Applied entries a shard accumulates before its log is compacted. */
  readonly compactEveryEntries?: number;
}

interface Proposal {
  readonly data: Uint8Array;
  resolve(result: AnyCommandResult | undefined): void;
  reject(error: unknown): void;
}

interface ShardState {
  readonly fsm: QueueFsm;
  readonly term: Term;
  lastIndex: number;
  queued: Proposal[];
  failure: unknown;
  /** Highest index compacted away (or being compacted). */
  compactedIndex: number;
  compaction: Promise<void> | undefined;
}

const defaultProposalsPendingMax = 10_000;
const defaultCompactEveryEntries = 256;
const replayBatchBytesMax = 8 * 1024 * 1024;

export class LocalLog {
  private readonly shards = new Map<ShardId, ShardState>();
  private readonly proposalsPendingMax: number;
  private readonly compactEveryEntries: number;
  private isFlushScheduled = false;
  private isFlushing = false;
  private flushDone: Promise<void> = Promise.resolve();
  private flushCount = 0;
  private proposalCount = 0;

  constructor(
    private readonly logStore: RaftLogStore,
    options: LocalLogOptions = {},
  ) {
    this.proposalsPendingMax = options.proposalsPendingMax ?? defaultProposalsPendingMax;
    this.compactEveryEntries = options.compactEveryEntries ?? defaultCompactEveryEntries;
  }

  /** Persist rounds (each one flush) and proposals persisted so far. */
  get stats(): { readonly flushes: number; readonly proposals: number } {
    return { flushes: this.flushCount, proposals: this.proposalCount };
  }

  /** Replays the shard's log past the FSM's applied index, then serves proposals for it. */
  openShard(fsm: QueueFsm): LocalShardLog {
    const shardId = fsm.shardId;
    assert(!this.shards.has(shardId), () => `shard ${shardId} opened twice`);
    const state = this.logStore.load(shardId);
    assert(state.damage === undefined, () => `shard ${shardId}: damaged log from index ${state.damage?.fromIndex}`);
    assert(fsm.appliedIndex >= state.firstIndex - 1, () => `shard ${shardId}: log starts after the applied index`);
    for (let next = fsm.appliedIndex + 1; next <= state.lastIndex; ) {
      const entries = this.logStore.entries(shardId, { lo: next as LogIndex, hi: (state.lastIndex + 1) as LogIndex, bytesMax: replayBatchBytesMax });
      assert(entries.length > 0, () => `shard ${shardId}: no entries from ${next}`);
      fsm.apply(entries.map((e) => ({ index: e.index, data: e.data })));
      next += entries.length;
    }
    const term = Math.max(1, state.hardState.term) as Term;
    const compactedIndex = state.firstIndex - 1;
    this.shards.set(shardId, { fsm, term, lastIndex: state.lastIndex, queued: [], failure: undefined, compactedIndex, compaction: undefined });
    return new LocalShardLog(this, shardId);
  }

  /** Queues a proposal for the next group-commit round. */
  enqueue(shardId: ShardId, command: ShardCommand): Promise<AnyCommandResult | undefined> {
    const shard = this.shards.get(shardId);
    assert(shard !== undefined, () => `shard ${shardId} is not open`);
    if (shard.failure !== undefined) {
      return Promise.reject(new ShardUnavailableError(shardId, `shard ${shardId} failed`, { cause: shard.failure }));
    }
    if (shard.queued.length >= this.proposalsPendingMax) {
      return Promise.reject(new OverloadedError(shardId, `shard ${shardId} has ${shard.queued.length} proposals pending`));
    }
    const data = encodeCommand(command);
    return new Promise((resolve, reject) => {
      shard.queued.push({ data, resolve, reject });
      this.scheduleFlush();
    });
  }

  /** Resolves once every proposal queued so far has been persisted and applied. */
  async drain(): Promise<void> {
    while (this.isFlushing || this.isFlushScheduled) {
      await this.flushDone;
      await Promise.resolve();
    }
    await Promise.all([...this.shards.values()].map((shard) => shard.compaction));
  }

  private scheduleFlush(): void {
    if (this.isFlushScheduled || this.isFlushing) return;
    this.isFlushScheduled = true;
    // A microtask, not a timer: proposals made in the same synchronous run (and those
    // arriving while a round is on disk) join one round without adding latency.
    queueMicrotask(() => {
      this.isFlushScheduled = false;
      this.flushDone = this.flushRounds();
    });
  }

  private async flushRounds(): Promise<void> {
    this.isFlushing = true;
    try {
      for (;;) {
        const round = this.takeRound();
        if (round.length === 0) return;
        await this.persistRound(round);
      }
    } finally {
      // Cleared in the same step as the last empty check, so a proposal queued from
      // here on always schedules a new round.
      this.isFlushing = false;
    }
  }

  private takeRound(): { shardId: ShardId; shard: ShardState; proposals: Proposal[]; entries: Entry[] }[] {
    const round: { shardId: ShardId; shard: ShardState; proposals: Proposal[]; entries: Entry[] }[] = [];
    for (const [shardId, shard] of this.shards) {
      if (shard.queued.length === 0) continue;
      const proposals = shard.queued;
      shard.queued = [];
      const entries = proposals.map((p, i): Entry => ({
        term: shard.term,
        index: (shard.lastIndex + 1 + i) as LogIndex,
        type: EntryType.Normal,
        data: p.data,
      }));
      round.push({ shardId, shard, proposals, entries });
    }
    return round;
  }

  private async persistRound(round: { shardId: ShardId; shard: ShardState; proposals: Proposal[]; entries: Entry[] }[]): Promise<void> {
    // All persists start in this turn: the store commits (and flushes) them together.
    const outcomes = await Promise.allSettled(
      round.map(({ shardId, shard, entries }) => {
        const last = entries[entries.length - 1];
        assert(last !== undefined, 'empty round for a shard');
        return this.logStore.persist(shardId, { entries, hardState: { term: shard.term, vote: 0, commit: last.index } });
      }),
    );
    this.flushCount++;
    round.forEach(({ shardId, shard, proposals, entries }, i) => {
      this.proposalCount += proposals.length;
      const outcome = outcomes[i];
      if (outcome?.status !== 'fulfilled') {
        this.failShard(shardId, shard, proposals, outcome?.reason);
        return;
      }
      shard.lastIndex += entries.length;
      let results: (AnyCommandResult | undefined)[];
      try {
        results = shard.fsm.apply(entries.map((e) => ({ index: e.index, data: e.data })));
      } catch (error) {
        this.failShard(shardId, shard, proposals, error);
        return;
      }
      proposals.forEach((p, j) => p.resolve(results[j]));
      this.maybeCompact(shardId, shard);
    });
  }

  /**
   * The queue store is this log's snapshot: once the state of applied entries is on
   * disk (with its applied index), those entries are never replayed again and are
   * dropped, so the log does not keep a second copy of every body.
   */
  private maybeCompact(shardId: ShardId, shard: ShardState): void {
    const target = shard.fsm.appliedIndex;
    if (shard.compaction !== undefined || target - shard.compactedIndex < this.compactEveryEntries) return;
    shard.compactedIndex = target;
    shard.compaction = shard.fsm.store
      .flushed()
      .then(() => this.logStore.compact(shardId, target))
      .catch((error: unknown) => this.failShard(shardId, shard, [], error))
      .finally(() => {
        shard.compaction = undefined;
      });
  }

  /** A storage failure or broken invariant: the shard stops serving until restart. */
  private failShard(shardId: ShardId, shard: ShardState, proposals: Proposal[], cause: unknown): void {
    shard.failure ??= cause ?? new Error('unknown failure');
    const error = new ShardUnavailableError(shardId, `shard ${shardId} failed`, { cause });
    for (const p of [...proposals, ...shard.queued]) p.reject(error);
    shard.queued = [];
  }

  isHealthy(shardId: ShardId): boolean {
    return this.shards.get(shardId)?.failure === undefined;
  }
}

/** One shard's view of the LocalLog: the ShardLog the broker talks to. */
export class LocalShardLog implements ShardLog {
  constructor(
    private readonly log: LocalLog,
    readonly shardId: ShardId,
  ) {}

  async propose<C extends ShardCommand>(command: C): Promise<ResultOf<C>> {
    const result = await this.log.enqueue(this.shardId, command);
    assert(result !== undefined, 'a command entry produced no result');
    return result as ResultOf<C>;
  }

  /** Single node: everything applied is already local. */
  readBarrier(): Promise<void> {
    return this.log.isHealthy(this.shardId)
      ? Promise.resolve()
      : Promise.reject(new ShardUnavailableError(this.shardId, `shard ${this.shardId} failed`));
  }
}
