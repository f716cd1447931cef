/**
 * PersistPipeline: the storage writes a node loop has in flight with asynchronous storage
 * writes, completed strictly in the order they were issued.
 *
 * The loop pushes one item per write (a Ready, or a host round of Readys) with the
 * write's promise; `onDurable(item, result)` runs once that write and every write pushed
 * before it have settled, so the core hears `persisted()` in Ready order even if a later
 * write's promise happens to settle first. A rejected write is reported to `onFailure`
 * (its item's group stops); a throwing `onDurable` is reported the same way, so the
 * chain never stalls. At most `depthMax` items are in flight: the loop asks `isFull()`
 * and waits for `oldestSettled()` before issuing more.
 *
 * Invariant: items complete in push order, each exactly once (or never, when its write
 * never settles: a crashed store).
 */
import { assert } from '../common/assert.js';

export interface PersistPipelineOptions<T, R> {
  /** Writes in flight at most (at least 1). */
  readonly depthMax: number;
  readonly onDurable: (item: T, result: R) => void;
  readonly onFailure: (item: T, error: unknown) => void;
}

export class PersistPipeline<T, R> {
  private readonly inFlight: Promise<void>[] = [];
  private tail: Promise<void> = Promise.resolve();

  constructor(private readonly options: PersistPipelineOptions<T, R>) {
    assert(Number.isInteger(options.depthMax) && options.depthMax >= 1, () => `pipeline depth ${options.depthMax} out of range`);
  }

  get size(): number {
    return this.inFlight.length;
  }

  isFull(): boolean {
    return this.inFlight.length >= this.options.depthMax;
  }

  /** Adds the write of `item`; its completion runs after every earlier item's. */
  push(item: T, write: Promise<R>): void {
    assert(!this.isFull(), 'persist pipeline over its depth');
    const done = this.tail
      .then(() => write)
      .then(
        (result) => {
          this.inFlight.shift();
          this.options.onDurable(item, result);
        },
        (error: unknown) => {
          this.inFlight.shift();
          this.options.onFailure(item, error);
        },
      )
      .catch((error: unknown) => this.options.onFailure(item, error));
    this.inFlight.push(done);
    this.tail = done;
  }

  /** Settles once the oldest write in flight completed (at once when none is). */
  oldestSettled(): Promise<void> {
    return this.inFlight[0] ?? Promise.resolve();
  }

  /** Settles once every write pushed so far completed. */
  drained(): Promise<void> {
    return this.tail;
  }
}
