/**
 * AppliedWindow: a shard's record of the commands it applied recently, by dedup key
 * (command-ids.ts), with the result each one's first apply returned. The FSM answers a
 * repeated command from here instead of applying it again, so a proposer may propose a
 * command again when the first proposal's outcome is unknown.
 *
 * Replicated state: commands are added and evicted only while applying, from the
 * command's (clamped) time and the apply order, never from a clock, so every replica
 * holds the same window at the same index. The commands one apply batch remembers are
 * stored as one QueueStore record (applied-records.ts), written at the end of the batch
 * in its transaction (so it survives restarts with the applied index) and removed once
 * the last of its commands is evicted: one put and at most one removal per batch.
 * Until then the record still holds its evicted commands, so a window rebuilt from the
 * store (a restart) evicts again at the FSM's time, which drops exactly those: an
 * evicted command was older than the age bound (and the FSM's time never goes back)
 * or had `commandsMax` later commands behind it (all in the store, or themselves
 * evicted for age, and then it is too). The shard image carries the window's commands
 * one record each, the form stores held before batch records, so images keep their
 * format and the window its exact content on every replica.
 *
 * Bounds: at most `commandsMax` commands, none older than `ageMs` of FSM time (oldest
 * evicted first). In memory: one small entry per command (key string + index + time +
 * its record, ~200 bytes; 8192 × 200 B ≈ 1.6 MiB per shard at the default); the results
 * stay in the store and are read back only for a repeat (its record decoded whole). On
 * disk: each command holds its result in the form applied-result.ts gives it (small: a
 * claim is stored by reference to its messages, rebuilt on a repeat; only pop results
 * carry their messages' bodies).
 *
 * A repeat is recognised only while its first apply is still in the window: the
 * defaults keep a minute of commands (far beyond a route deadline of a few seconds)
 * unless a shard applies more than `commandsMax` keyed commands in that time.
 */
import { assert } from '../../common/assert.js';
import type { ShardId } from '../../common/ids.js';
import type { AppliedRecord, QueueStore } from '../../log/queue-store.js';
import type { ClaimIndex } from './claim-index.js';
import { repeatResultOf, storedResultOf } from './applied-result.js';
import { type AppliedCommand, batchRecordOf, commandRecordOf, commandsOf } from './applied-records.js';
import type { ShardCommand, ShardCommandType } from './commands.js';
import type { AnyCommandResult } from './results.js';

/** Part of the state machine's definition: every replica of a shard must use the same. */
export interface AppliedWindowLimits {
  readonly commandsMax: number;
  readonly ageMs: number;
}

export const defaultAppliedWindowLimits: AppliedWindowLimits = { commandsMax: 8192, ageMs: 60_000 };

/** One stored record of the window, or the apply batch in progress (not stored yet). */
interface WindowRecord {
  /** The record's key: its first command's index (known once a batch is stored). */
  index: number;
  /** How many of its commands are still in the window: its last `live` ones (eviction goes in index order). */
  live: number;
  isStored: boolean;
}

interface WindowEntry {
  readonly index: number;
  readonly nowMs: number;
  readonly record: WindowRecord;
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
  /** The apply batch in progress, once it remembered a command, and its commands. */
  private batch: WindowRecord | undefined;
  private batchCommands: AppliedCommand[] = [];

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

  /**
   * Replaces the in-memory entries with the commands of `records` (in index order, of
   * either form: the store's, an image's), then evicts at FSM time `nowMs` what a batch
   * record still holds of commands evicted before. Returns whether that removed a
   * record from the store (never, for records this window wrote: it removes a record
   * with its last command).
   */
  load(records: Iterable<AppliedRecord>, nowMs: number): boolean {
    this.entries.clear();
    this.order = [];
    this.head = 0;
    this.batch = undefined;
    this.batchCommands = [];
    let lastIndex = 0;
    for (const stored of records) {
      const commands = commandsOf(stored);
      const record: WindowRecord = { index: stored.index, live: commands.length, isStored: true };
      for (const [index, key, , commandNowMs] of commands) {
        // Equal for the commands of one batch entry (commands.ts BatchCommand).
        assert(index >= lastIndex, () => `shard ${this.shardId}: applied window out of index order at ${index}`);
        lastIndex = index;
        this.entries.set(key, { index, nowMs: commandNowMs, record });
        this.order.push(key);
      }
    }
    return this.evict(nowMs);
  }

  /**
   * The answer to a repeat of the command applied under `key`, if it is still in the
   * window: its first result, or for a claim that result rebuilt at FSM time `nowMs`
   * (applied-result.ts).
   */
  resultOf(key: string, { type, nowMs }: { type: ShardCommandType; nowMs: number }): AnyCommandResult | undefined {
    const entry = this.entries.get(key);
    if (entry === undefined) return undefined;
    const command = this.commandsOf(entry.record).find((c) => c[1] === key);
    assert(command !== undefined, () => `shard ${this.shardId}: applied window record ${entry.record.index} lacks key ${key}`);
    const [, , storedType, , stored] = command;
    assert(storedType === type, () => `shard ${this.shardId}: key ${key} of a ${type} was applied as a ${storedType}`);
    return repeatResultOf(stored, { store: this.store, index: this.index, shardId: this.shardId, nowMs });
  }

  /** Records the command applied at `index` (FSM time `nowMs`) and its result, stored when its batch ends. */
  remember(at: { index: number; nowMs: number }, applied: { key: string; command: ShardCommand; result: AnyCommandResult }): void {
    const { key, command, result } = applied;
    assert(!this.entries.has(key), () => `shard ${this.shardId}: key ${key} applied twice`);
    const batch = (this.batch ??= { index: at.index, live: 0, isStored: false });
    batch.live++;
    this.batchCommands.push([at.index, key, command.type, at.nowMs, storedResultOf(command, result)]);
    this.entries.set(key, { index: at.index, nowMs: at.nowMs, record: batch });
    this.order.push(key);
  }

  /** Ends the apply batch: stores the commands it remembered that are still in the window, as one record. */
  endBatch(): void {
    const batch = this.batch;
    if (batch === undefined) return;
    const commands = this.batchCommands;
    this.batch = undefined;
    this.batchCommands = [];
    batch.isStored = true;
    // Evicted within their own batch (a window smaller than the batch): nothing to store.
    if (batch.live === 0) return;
    const record = batchRecordOf(batch.live === commands.length ? commands : commands.slice(commands.length - batch.live));
    batch.index = record.index;
    this.store.putApplied(this.shardId, record);
  }

  /**
   * Drops the oldest commands beyond the count bound or older than the age bound at
   * `nowMs`, and a stored record with its last command. Returns whether it removed one.
   */
  evict(nowMs: number): boolean {
    const { order } = this;
    let removed = false;
    for (; this.head < order.length; this.head++) {
      const key = order[this.head]!;
      const entry = this.entries.get(key);
      assert(entry !== undefined, () => `shard ${this.shardId}: applied window lost key ${key}`);
      const isOver = this.entries.size > this.limits.commandsMax || entry.nowMs <= nowMs - this.limits.ageMs;
      if (!isOver) break;
      const { record } = entry;
      record.live--;
      if (record.live === 0 && record.isStored) {
        this.store.removeApplied(this.shardId, record.index);
        removed = true;
      }
      this.entries.delete(key);
    }
    // Drop the evicted keys' slots now and then, not on every eviction.
    if (this.head > 1024 && this.head * 2 > order.length) {
      this.order = order.slice(this.head);
      this.head = 0;
    }
    return removed;
  }

  /** The window's commands as command records (the form shard images carry), in index order. */
  commandRecords(): AppliedRecord[] {
    const records: AppliedRecord[] = [];
    let last: WindowRecord | undefined;
    for (let i = this.head; i < this.order.length; i++) {
      const { record } = this.entries.get(this.order[i]!)!;
      if (record === last) continue;
      last = record;
      const commands = this.commandsOf(record);
      for (let c = commands.length - record.live; c < commands.length; c++) records.push(commandRecordOf(commands[c]!));
    }
    assert(records.length === this.entries.size, () => `shard ${this.shardId}: applied window holds ${this.entries.size} commands, its records ${records.length}`);
    return records;
  }

  private commandsOf(record: WindowRecord): readonly AppliedCommand[] {
    if (!record.isStored) return this.batchCommands;
    const data = this.store.getApplied(this.shardId, record.index);
    assert(data !== undefined, () => `shard ${this.shardId}: applied window record ${record.index} is missing`);
    return commandsOf({ index: record.index, data });
  }
}
