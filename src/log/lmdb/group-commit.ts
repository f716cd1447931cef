/**
 * Group commit: every log write requested during one event-loop turn, from any number of
 * groups, goes into one LMDB transaction and waits for one flush.
 *
 * Why our own queue rather than lmdb-js's event-turn batching alone: we need each write
 * to be atomic (entries + hard state), to await the flush of the transaction that holds
 * it (lmdb's `flushed` is per environment, so we read it right after queueing the
 * transaction), and to know how many transactions ran (tests prove the batching).
 *
 * The transaction is queued with lmdb-js at the first write of a batch and takes every
 * write queued until its callback runs (on lmdb-js's write turn, after the current
 * event-loop turn): the node loops of many groups woken by one network frame all get in.
 * Queued at once rather than on a later `setImmediate` so that it joins lmdb-js's
 * event-turn batch: the queue store's asynchronous puts of the same turn (a round's apply,
 * issued just before the next round's persist) ride in the same LMDB transaction and the
 * same fdatasync instead of a transaction and fdatasync of their own ahead of it on the
 * single write thread (measured: 2 fdatasyncs per round before, 1 after).
 * Invariants: a write's promise resolves only after its transaction is committed and the
 * environment reports it flushed; if the transaction fails every write in it rejects.
 * Each write runs in its own child transaction: lmdb-js commits whatever a throwing
 * transaction callback had written, so without it a write failing half-way would leave
 * half its puts behind. A write that throws rejects alone; the rest of the batch commits.
 */
import type { LmdbEnv } from './lmdb-env.js';

interface PendingWrite {
  readonly write: () => void;
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
}

export class GroupCommit {
  private pending: PendingWrite[] = [];
  private isScheduled = false;
  private transactionCount = 0;

  constructor(private readonly env: LmdbEnv) {}

  /** Transactions started so far (each carries one batch). */
  get transactions(): number {
    return this.transactionCount;
  }

  /**
   * Queues `write` (synchronous puts/removes, run inside the batch's transaction) and
   * resolves once it is durable; rejects, with nothing of it written, if it throws.
   */
  enqueue(write: () => void): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.pending.push({ write, resolve, reject });
      if (!this.isScheduled) {
        this.isScheduled = true;
        this.queueTransaction();
      }
    });
  }

  /** The writes queued so far, which the next transaction (if any) no longer takes. */
  private takeBatch(): PendingWrite[] {
    const batch = this.pending;
    this.pending = [];
    this.isScheduled = false;
    return batch;
  }

  private queueTransaction(): void {
    let batch: PendingWrite[] | undefined;
    const written: PendingWrite[] = [];
    let committed: Promise<unknown>;
    let flushed: Promise<unknown>;
    try {
      committed = this.env.transaction(() => {
        batch = this.takeBatch();
        this.transactionCount += 1;
        for (const item of batch) {
          try {
            // Synchronous inside a write transaction: commits or aborts before returning.
            void this.env.childTransaction(item.write);
            written.push(item);
          } catch (error) {
            item.reject(error);
          }
        }
      });
      // Taken synchronously after queueing so it is the flush of this transaction (or later).
      flushed = new Promise((resolve, reject) => {
        this.env.flushed.then(resolve, reject);
      });
    } catch (error) {
      // A closed environment throws synchronously; callers see it as a failed write.
      for (const item of this.takeBatch()) item.reject(error);
      return;
    }
    Promise.all([committed, flushed]).then(
      () => {
        for (const item of written) item.resolve();
      },
      (error: unknown) => {
        // A transaction that failed before its callback ran still owns the queued writes.
        for (const item of batch ?? this.takeBatch()) item.reject(error);
      },
    );
  }
}
