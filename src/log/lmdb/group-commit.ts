/**
 * Group commit: every log write requested during one event-loop turn, from any number of
 * groups, goes into one LMDB transaction and waits for one flush.
 *
 * A write is a run of lmdb-js asynchronous puts and removes, issued at once. lmdb-js puts
 * every asynchronous write of one event-loop turn in the same transaction (its event-turn
 * batching, on by default), which makes each write atomic. (The queue store's puts of a
 * round's apply go to the queue state's environment, a file of its own with its own
 * write thread: lmdb-env.ts.) The write thread runs such a transaction from start to
 * commit on its own. A transaction callback (`env.transaction`) instead has the write thread open the
 * transaction and wait while the main thread runs the callback: one more hop each way
 * between the threads per round, measured at 1–3 ms of a 3–9 ms round on a loaded machine.
 *
 * Invariants: a write's promise resolves only after its transaction is committed and the
 * environment reports it flushed (lmdb's `flushed` is per environment, so it is read right
 * after the write is issued); if the transaction fails every write in it rejects. A write
 * does all its reads before its first put or remove, and reads only committed state: a
 * write that throws rejects, and whatever it had issued still commits (lmdb-js cannot take
 * an issued write back), so a write may throw only before its first put.
 */
import { isLmdbEnvOpen, type LmdbEnv } from './lmdb-env.js';

export class GroupCommit {
  private transactionCount = 0;
  /** The commit promise of the last write: lmdb-js gives every unconditional write of a transaction the same one. */
  private lastCommit: Promise<unknown> | undefined;

  constructor(private readonly env: LmdbEnv) {}

  /** Transactions that carried writes so far (each carries every write of its turn). */
  get transactions(): number {
    return this.transactionCount;
  }

  /**
   * Issues `write` (asynchronous puts/removes; returns the promise of its last one) and
   * resolves once that is durable; rejects if it throws or its transaction fails.
   */
  enqueue(write: () => Promise<unknown>): Promise<void> {
    if (!isLmdbEnvOpen(this.env)) return Promise.reject(new Error('the LMDB environment is closed'));
    let committed: Promise<unknown>;
    let flushed: Promise<unknown>;
    try {
      committed = write();
      // Taken synchronously after the write so it is the flush of its transaction (or later).
      flushed = new Promise((resolve, reject) => {
        this.env.flushed.then(resolve, reject);
      });
    } catch (error) {
      return Promise.reject(error);
    }
    if (committed !== this.lastCommit) {
      this.lastCommit = committed;
      this.transactionCount += 1;
    }
    return Promise.all([committed, flushed]).then(() => undefined);
  }
}
