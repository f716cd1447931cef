/**
 * WriteHold: holds the queue state's LMDB writes for a few milliseconds and issues them
 * together, so that rounds applied in that time share one transaction and one flush.
 *
 * Why this is safe: the queue state is not what makes an accepted command durable; the
 * Raft log is, and it is flushed before anything is applied. The queue state records the
 * applied index it describes (in the same transaction as that state), the log keeps every
 * entry past the last *flushed* queue state (shard-compactor.ts awaits `flushed()`, which
 * issues what is held first), and a restart applies the log again from that index. So
 * holding these writes moves no answer and loses nothing; it only makes the state on disk
 * lag the state in memory by up to `delayMs`.
 *
 * Why it pays: each LMDB transaction costs the main thread two wake-ups and lmdb-js's
 * write thread a commit, page writes and an fdatasync, whatever it carries. A lone round
 * (one command: a consumer's claim, a one-message post) paid two of them on every replica,
 * the log's and its apply's; with the apply's held, a node commits its queue state about
 * once per `delayMs` however many rounds it applies.
 *
 * Atomicity: the held writes are issued in one synchronous loop, from a timer or a
 * `setImmediate`, never from inside a write, so they land in one lmdb-js transaction
 * (lmdb-js batches the writes of an event-loop turn) and a round's writes, which one
 * synchronous apply issues, are never split. Reads see held writes through PendingWrites,
 * which holds them under the promise this returns; range reads first await `committed()`,
 * which issues the held writes at once.
 *
 * lmdb-js's own `commitDelay` would do this, but it clears its `setTimeout` handle with
 * `clearImmediate`, which corrupts Node's count of active immediates (Node then aborts in
 * `process.getActiveResourcesInfo`).
 */
import type { Database, Key } from 'lmdb';

/** A held removal (PendingWrites uses the same mark for a pending one). */
export const removed: unique symbol = Symbol('removed');

/**
 * The default hold: several lone rounds long (2–7 ms each here), so sequential commands
 * (a consumer's claim and delete, one-message posts) share a transaction instead of
 * taking one each, and at ~100 rounds a second a node commits its queue state ~20 times;
 * far shorter than anything that waits for the queue state to be flushed (compaction),
 * and readers of committed state have what is held issued at once.
 */
export const defaultQueueCommitDelayMs = 50;

/** Writes issued at once past this many held, so a burst holds bounded memory. */
const maxHeld = 8192;

export class WriteHold {
  private dbs: Database<unknown, Key>[] = [];
  private keys: Key[] = [];
  private values: unknown[] = [];
  private batch: { promise: Promise<unknown>; resolve: (value: unknown) => void; reject: (error: unknown) => void } | undefined;
  private timer: NodeJS.Timeout | undefined;
  private immediate: NodeJS.Immediate | undefined;

  /** `delayMs` 0: every write is issued at once (lmdb-js's own batching per event-loop turn). */
  constructor(readonly delayMs: number) {}

  /** Holds a put (or, with `removed`, a removal); the promise settles with the transaction that carries it. */
  write<V>(db: Database<V, Key>, key: Key, value: V | typeof removed): Promise<unknown> {
    if (this.delayMs <= 0) return value === removed ? db.remove(key) : db.put(key, value);
    this.dbs.push(db as Database<unknown, Key>);
    this.keys.push(key);
    this.values.push(value);
    if (this.batch === undefined) {
      let resolve!: (value: unknown) => void;
      let reject!: (error: unknown) => void;
      const promise = new Promise<unknown>((res, rej) => {
        resolve = res;
        reject = rej;
      });
      this.batch = { promise, resolve, reject };
      this.timer = setTimeout(() => this.issue(), this.delayMs);
      this.timer.unref();
    }
    if (this.keys.length >= maxHeld && this.immediate === undefined) this.immediate = setImmediate(() => this.issue());
    return this.batch.promise;
  }

  /**
   * Issues what is held, now. Only from outside a synchronous run of writes (a timer, an
   * immediate, an awaiting reader): the writes issued here share one transaction.
   */
  issue(): void {
    const batch = this.batch;
    if (batch === undefined) return;
    clearTimeout(this.timer);
    if (this.immediate !== undefined) clearImmediate(this.immediate);
    this.timer = undefined;
    this.immediate = undefined;
    this.batch = undefined;
    const { dbs, keys, values } = this;
    this.dbs = [];
    this.keys = [];
    this.values = [];
    let last: Promise<unknown> = Promise.resolve();
    try {
      for (let i = 0; i < keys.length; i++) {
        const value = values[i];
        last = value === removed ? dbs[i]!.remove(keys[i]!) : dbs[i]!.put(keys[i]!, value);
      }
    } catch (error) {
      batch.reject(error);
      return;
    }
    last.then(batch.resolve, batch.reject);
  }
}
