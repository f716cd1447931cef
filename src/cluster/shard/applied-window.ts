/**
 * AppliedWindow: a shard's record of the commands it applied recently, by dedup key
 * (command-ids.ts), with the result each one's first apply returned. The FSM answers a
 * repeated command from here instead of applying it again, so a proposer may propose a
 * command again when the first proposal's outcome is unknown.
 *
 * Replicated state: records are added and evicted only while applying, from the
 * command's (clamped) time and the apply order, never from a clock, so every replica
 * holds the same window at the same index. Each record is a QueueStore record keyed by
 * the log index it was applied at (written in the apply batch's transaction, so it
 * survives restarts with the applied index), and travels in the shard image.
 *
 * Bounds: at most `commandsMax` records, none older than `ageMs` of FSM time (oldest
 * evicted first). In memory: one small entry per record (key string + index + time,
 * ~150 bytes; 8192 × 150 B ≈ 1.2 MiB per shard at the default); the results stay in the
 * store and are read back only for a repeat. On disk: each record holds its result in
 * the form applied-result.ts gives it (small: a claim is stored by reference to its
 * messages, rebuilt on a repeat; only pop results carry their messages' bodies).
 *
 * A repeat is recognised only while its first apply is still in the window: the
 * defaults keep a minute of commands (far beyond a route deadline of a few seconds)
 * unless a shard applies more than `commandsMax` keyed commands in that time.
 */
import { pack, unpack } from 'msgpackr';
import { assert } from '../../common/assert.js';
import type { ShardId } from '../../common/ids.js';
import type { AppliedRecord, QueueStore } from '../../log/queue-store.js';
import type { ClaimIndex } from './claim-index.js';
import { assertStoredResult, repeatResultOf, type StoredResult, storedResultOf } from './applied-result.js';
import type { ShardCommand, ShardCommandType } from './commands.js';
import type { AnyCommandResult } from './results.js';

/** Part of the state machine's definition: every replica of a shard must use the same. */
export interface AppliedWindowLimits {
  readonly commandsMax: number;
  readonly ageMs: number;
}

export const defaultAppliedWindowLimits: AppliedWindowLimits = { commandsMax: 8192, ageMs: 60_000 };

type StoredApplied = {
  readonly key: string;
  readonly type: ShardCommandType;
  readonly nowMs: number;
} & StoredResult;

interface WindowEntry {
  readonly index: number;
  readonly nowMs: number;
}

export class AppliedWindow {
  /** By key. */
  private readonly entries = new Map<string, WindowEntry>();
  /**
   * The keys in apply (index) order from `head` on, oldest first. Not the Map's own
   * iteration order: a Map keeps a deleted entry's slot until it is rehashed, so
   * iterating from its start after evictions steps over up to a table's worth of them,
   * on every apply.
   */
  private order: string[] = [];
  private head = 0;

  constructor(
    private readonly shardId: ShardId,
    private readonly store: QueueStore,
    /** Where a repeated claim finds which of its messages it still holds. */
    private readonly index: ClaimIndex,
    private readonly limits: AppliedWindowLimits,
  ) {
    assert(limits.commandsMax > 0 && limits.ageMs > 0, 'applied window limits must be positive');
  }

  get size(): number {
    return this.entries.size;
  }

  /** Replaces the in-memory entries with `records` (in index order: the store's, an image's). */
  load(records: Iterable<AppliedRecord>): void {
    this.entries.clear();
    this.order = [];
    this.head = 0;
    let lastIndex = 0;
    for (const record of records) {
      assert(record.index > lastIndex, () => `shard ${this.shardId}: applied window out of index order at ${record.index}`);
      lastIndex = record.index;
      const stored = decodeApplied(record.data);
      this.entries.set(stored.key, { index: record.index, nowMs: stored.nowMs });
      this.order.push(stored.key);
    }
  }

  /**
   * The answer to a repeat of the command applied under `key`, if it is still in the
   * window: its first result, or for a claim that result rebuilt at FSM time `nowMs`
   * (applied-result.ts).
   */
  resultOf(key: string, { type, nowMs }: { type: ShardCommandType; nowMs: number }): AnyCommandResult | undefined {
    const entry = this.entries.get(key);
    if (entry === undefined) return undefined;
    const data = this.store.getApplied(this.shardId, entry.index);
    assert(data !== undefined, () => `shard ${this.shardId}: applied window record ${entry.index} is missing`);
    const stored = decodeApplied(data);
    assert(stored.key === key && stored.type === type, () => `shard ${this.shardId}: key ${key} of a ${type} was applied as a ${stored.type}`);
    return repeatResultOf(stored, { store: this.store, index: this.index, shardId: this.shardId, nowMs });
  }

  /** Records the command applied at `index` (FSM time `nowMs`) and its result. */
  remember(at: { index: number; nowMs: number }, applied: { key: string; command: ShardCommand; result: AnyCommandResult }): void {
    assert(!this.entries.has(applied.key), () => `shard ${this.shardId}: key ${applied.key} applied twice`);
    const stored: StoredApplied = { key: applied.key, type: applied.command.type, nowMs: at.nowMs, ...storedResultOf(applied.command, applied.result) };
    this.store.putApplied(this.shardId, { index: at.index, data: pack(stored) });
    this.entries.set(applied.key, { index: at.index, nowMs: at.nowMs });
    this.order.push(applied.key);
  }

  /** Drops the oldest records beyond the count bound or older than the age bound at `nowMs`. */
  evict(nowMs: number): void {
    const { order } = this;
    for (; this.head < order.length; this.head++) {
      const key = order[this.head]!;
      const entry = this.entries.get(key);
      assert(entry !== undefined, () => `shard ${this.shardId}: applied window lost key ${key}`);
      const isOver = this.entries.size > this.limits.commandsMax || entry.nowMs <= nowMs - this.limits.ageMs;
      if (!isOver) break;
      this.store.removeApplied(this.shardId, entry.index);
      this.entries.delete(key);
    }
    // Drop the evicted keys' slots now and then, not on every eviction.
    if (this.head > 1024 && this.head * 2 > order.length) {
      this.order = order.slice(this.head);
      this.head = 0;
    }
  }
}

function decodeApplied(data: Uint8Array): StoredApplied {
  const stored = unpack(data) as StoredApplied;
  assert(typeof stored.key === 'string' && typeof stored.nowMs === 'number' && typeof stored.type === 'string', 'malformed applied window record');
  assertStoredResult(stored);
  return stored;
}
