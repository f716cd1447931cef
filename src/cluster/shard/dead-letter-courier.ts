/**
 * Delivers dead-lettered messages from a shard's outbox to their DLQ's shard.
 *
 * Exactly-once effect: entries of one source shard are delivered strictly in outbox-seq
 * order, one at a time, and the target shard ignores any seq at or below the highest it
 * has received from that source (QueueFsm inbox); only then is the entry acknowledged
 * (removed) at the source. A crash between delivery and acknowledgement therefore
 * re-delivers harmlessly, and a failed delivery stops the line (later entries wait) so
 * no seq is ever skipped. `retry()` (periodic, and at start) resumes stopped lines.
 */
import { assert } from '../../common/assert.js';
import type { Clock } from '../../common/clock.js';
import type { ShardId } from '../../common/ids.js';
import type { QueueStore } from '../../log/queue-store.js';
import { decodeOutboxEntry } from './dead-letter.js';
import type { ShardCommand } from './commands.js';
import type { ShardLog } from './shard-log.js';

export interface CourierDeps {
  readonly store: QueueStore;
  readonly clock: Clock;
  readonly logOf: (shardId: ShardId) => ShardLog;
  /** An outbox line after a read barrier (from a replica of the shard when this node holds none); undefined once acknowledged. */
  readonly readOutbox?: (shardId: ShardId, seq: number) => Promise<Uint8Array | undefined>;
  /** Proposes a dlqInsert on the dead-letter queue's shard, wherever that queue lives. */
  readonly insert: (command: Extract<ShardCommand, { type: 'dlqInsert' }>) => Promise<void>;
}

interface Waiter {
  resolve(): void;
  reject(error: unknown): void;
}

interface Line {
  /** Outbox seqs not yet delivered, ascending. */
  pending: number[];
  readonly waiters: Map<number, Waiter[]>;
  running: Promise<void> | undefined;
}

export class DeadLetterCourier {
  private readonly lines = new Map<ShardId, Line>();

  constructor(private readonly deps: CourierDeps) {}

  /** Resolves once the given entries of `shardId` are delivered (rejects if delivery fails now). */
  deliver(shardId: ShardId, seqs: readonly number[]): Promise<void> {
    const line = this.line(shardId);
    const done = seqs.map(
      (seq) =>
        new Promise<void>((resolve, reject) => {
          const waiters = line.waiters.get(seq) ?? [];
          waiters.push({ resolve, reject });
          line.waiters.set(seq, waiters);
        }),
    );
    this.add(line, seqs);
    this.run(shardId, line);
    return Promise.all(done).then(() => undefined);
  }

  /** Picks up every entry still in the shard's outbox (after a restart or a failure). */
  async retry(shardId: ShardId): Promise<void> {
    await this.deps.store.committed();
    const line = this.line(shardId);
    this.add(line, [...this.deps.store.outbox(shardId)].map((r) => r.seq));
    await this.run(shardId, line);
  }

  /** Resolves when no delivery is in progress. */
  async idle(): Promise<void> {
    await Promise.all([...this.lines.values()].map((line) => line.running));
  }

  private line(shardId: ShardId): Line {
    let line = this.lines.get(shardId);
    if (line === undefined) {
      line = { pending: [], waiters: new Map(), running: undefined };
      this.lines.set(shardId, line);
    }
    return line;
  }

  private add(line: Line, seqs: readonly number[]): void {
    const all = new Set([...line.pending, ...seqs]);
    line.pending = [...all].sort((a, b) => a - b);
  }

  private run(shardId: ShardId, line: Line): Promise<void> {
    line.running ??= this.drain(shardId, line).then((isDrained) => {
      line.running = undefined;
      // Entries added while the loop was finishing would otherwise wait for retry().
      if (isDrained && line.pending.length > 0) void this.run(shardId, line);
    });
    return line.running;
  }

  /** Delivers in order until empty (true) or until a delivery fails (false). */
  private async drain(shardId: ShardId, line: Line): Promise<boolean> {
    for (let seq = line.pending[0]; seq !== undefined; seq = line.pending[0]) {
      try {
        await this.deliverOne(shardId, seq);
      } catch (error) {
        // Stop the line: later entries must not overtake this one.
        for (const pendingSeq of line.pending) this.settle(line, pendingSeq, error);
        return false;
      }
      line.pending.shift();
      this.settle(line, seq, undefined);
    }
    return true;
  }

  private async deliverOne(shardId: ShardId, seq: number): Promise<void> {
    const data = this.deps.readOutbox === undefined ? this.deps.store.getOutbox(shardId, seq) : await this.deps.readOutbox(shardId, seq);
    if (data === undefined) return; // acknowledged before
    const entry = decodeOutboxEntry(data);
    await this.deps.insert({
      type: 'dlqInsert',
      nowMs: this.deps.clock.nowMs(),
      project: entry.project,
      queue: entry.queue,
      sourceShard: shardId,
      outboxSeq: seq,
      message: entry.message,
    });
    const ack = await this.deps.logOf(shardId).propose({ type: 'outboxAck', nowMs: this.deps.clock.nowMs(), outboxSeq: seq });
    assert(ack.acked, () => `outbox entry ${seq} of shard ${shardId} not acknowledged`);
  }

  private settle(line: Line, seq: number, error: unknown): void {
    const waiters = line.waiters.get(seq) ?? [];
    line.waiters.delete(seq);
    for (const waiter of waiters) {
      if (error === undefined) waiter.resolve();
      else waiter.reject(error);
    }
  }
}
