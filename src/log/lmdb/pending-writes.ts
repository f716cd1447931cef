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
 *
 * Cost: lmdb-js hands every unconditional write of one transaction the same promise, so
 * the keys written under one promise are kept in one list and released by a single
 * continuation, instead of one continuation per write (three per posted message).
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
  /** Keys written under `lastCommit` (bounded by the writes of one transaction). */
  private lastCommitKeys: string[] = [];
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
    this.entries.set(k, { value, commit });
    if (commit !== this.lastCommit) {
      this.lastCommit = commit;
      this.lastCommitKeys = [];
      this.releaseOnCommit(commit, this.lastCommitKeys);
    }
    this.lastCommitKeys.push(k);
  }

  private releaseOnCommit(commit: Promise<unknown>, keys: readonly string[]): void {
    commit.then(
      () => {
        for (const k of keys) {
          if (this.entries.get(k)?.commit === commit) this.entries.delete(k);
        }
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
