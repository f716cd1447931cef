/**
 * Read-your-writes overlay for one lmdb-js database with tuple keys.
 *
 * lmdb-js commits asynchronous writes at the end of the event-loop turn; until then a
 * plain `get` returns the old value, and its own `cache` option skips object keys. This
 * overlay remembers each written value (or removal) until the commit that carries it
 * resolves, so point reads during apply see the applied state at once.
 *
 * Invariant: an entry is dropped only by the commit of the write that created it, never
 * by an earlier one (a later write to the same key replaces the entry and its promise).
 */
import type { Database, Key } from 'lmdb';

export const removed: unique symbol = Symbol('removed');

interface Pending<V> {
  readonly value: V | typeof removed;
  readonly commit: Promise<unknown>;
}

export class PendingWrites<V> {
  private readonly entries = new Map<string, Pending<V>>();
  private lastCommit: Promise<unknown> = Promise.resolve();
  private failure: unknown = undefined;

  constructor(
    private readonly db: Database<V, Key>,
    private readonly onFailure: (error: unknown) => void,
  ) {}

  get(key: readonly (string | number)[]): V | undefined {
    const pending = this.entries.get(keyString(key));
    if (pending !== undefined) return pending.value === removed ? undefined : pending.value;
    return this.db.get(key as Key);
  }

  /** The pending state of `key`: a value, `removed`, or undefined when nothing is pending. */
  peek(key: readonly (string | number)[]): V | typeof removed | undefined {
    return this.entries.get(keyString(key))?.value;
  }

  put(key: readonly (string | number)[], value: V): void {
    this.track(key, value, this.db.put(key as Key, value));
  }

  remove(key: readonly (string | number)[]): void {
    this.track(key, removed, this.db.remove(key as Key));
  }

  committed(): Promise<void> {
    if (this.failure !== undefined) return Promise.reject(this.failure);
    return this.lastCommit.then(() => undefined);
  }

  private track(key: readonly (string | number)[], value: V | typeof removed, commit: Promise<unknown>): void {
    const k = keyString(key);
    const pending: Pending<V> = { value, commit };
    this.entries.set(k, pending);
    this.lastCommit = commit;
    commit.then(
      () => {
        if (this.entries.get(k) === pending) this.entries.delete(k);
      },
      (error: unknown) => {
        this.failure = error;
        this.onFailure(error);
      },
    );
  }
}

function keyString(key: readonly (string | number)[]): string {
  return key.join('\u0000');
}
