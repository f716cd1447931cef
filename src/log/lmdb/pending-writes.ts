/**
 * Read-your-writes overlay for one lmdb-js database with tuple keys.
 *
 * lmdb-js commits asynchronous writes at the end of the event-loop turn; until then a
 * plain `get` returns the old value, and its own `cache` option skips object keys. This
 * overlay remembers each written value (or removal) until the commit that carries it
 * resolves, so point reads during apply see the applied state at once.
 *
 * Cost: lmdb-js hands every unconditional write of one transaction the same promise
 * (write.js: `commitPromise`, reset only where a new transaction starts). So the writes
 * under one promise are one batch, a map of their own, released whole by a single
 * continuation: a put is one Map.set, with no object per write and no per-key work at
 * the commit.
 *
 * Invariant: a value is dropped only by the commit of the transaction that wrote it (or
 * of a later one: LMDB has one writer and commits transactions in the order lmdb-js
 * queued them), never by an earlier one. Reads look at the newest batch first, so a
 * later write to a key shadows an earlier one still pending.
 */
import type { Database, Key } from 'lmdb';

export const removed: unique symbol = Symbol('removed');

interface Batch<V> {
  readonly commit: Promise<unknown>;
  readonly values: Map<string, V | typeof removed>;
}

export class PendingWrites<V> {
  /** Batches whose commit has not resolved, oldest first (a few at most: one per turn in flight). */
  private batches: Batch<V>[] = [];
  private lastCommit: Promise<unknown> = Promise.resolve();
  private failure: unknown = undefined;

  constructor(
    private readonly db: Database<V, Key>,
    private readonly onFailure: (error: unknown) => void,
  ) {}

  get(key: readonly (string | number)[]): V | undefined {
    const pending = this.peek(key);
    if (pending !== undefined) return pending === removed ? undefined : pending;
    return this.db.get(key as Key);
  }

  /** The pending state of `key`: a value, `removed`, or undefined when nothing is pending. */
  peek(key: readonly (string | number)[]): V | typeof removed | undefined {
    const batches = this.batches;
    if (batches.length === 0) return undefined;
    const k = keyString(key);
    for (let i = batches.length - 1; i >= 0; i--) {
      const value = batches[i]!.values.get(k);
      if (value !== undefined) return value;
    }
    return undefined;
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
    if (commit !== this.lastCommit) this.startBatch(commit);
    this.batches[this.batches.length - 1]!.values.set(keyString(key), value);
  }

  private startBatch(commit: Promise<unknown>): void {
    const batch: Batch<V> = { commit, values: new Map() };
    this.lastCommit = commit;
    this.batches.push(batch);
    commit.then(
      () => {
        const at = this.batches.indexOf(batch);
        if (at >= 0) this.batches = this.batches.slice(at + 1);
      },
      (error: unknown) => {
        this.failure = error;
        this.onFailure(error);
      },
    );
  }
}

function keyString(key: readonly (string | number)[]): string {
  let k = String(key[0]);
  for (let i = 1; i < key.length; i++) k += '\u0000' + String(key[i]);
  return k;
}
