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
 * Held writes: given a DeferredWrites, writes are not issued at once but kept in a held
 * batch (the newest) until the DeferredWrites issues them, with the next log write
 * (deferred-writes.ts). A key written twice while held is issued once, with its last value.
 * `committed()` issues the held batch first, so whoever waits for the writes gets them.
 *
 * Invariant: a value is dropped only by the commit of the transaction that wrote it (or
 * of a later one: LMDB has one writer and commits transactions in the order lmdb-js
 * queued them), never by an earlier one. Reads look at the newest batch first, so a
 * later write to a key shadows an earlier one still pending.
 */
import type { Database, Key } from 'lmdb';
import type { DeferredWrites, HeldWrites } from './deferred-writes.js';

export const removed: unique symbol = Symbol('removed');

interface Batch<V> {
  readonly commit: Promise<unknown>;
  readonly values: Map<string, V | typeof removed>;
}

/** Writes not issued yet: values by key string, and the keys to issue them under. */
interface HeldBatch<V> {
  readonly values: Map<string, V | typeof removed>;
  readonly keys: Map<string, readonly (string | number)[]>;
}

export class PendingWrites<V> implements HeldWrites {
  /** Batches whose commit has not resolved, oldest first (a few at most: one per turn in flight). */
  private batches: Batch<V>[] = [];
  /** Writes held for the DeferredWrites; newer than every batch. */
  private held: HeldBatch<V> | undefined;
  private lastCommit: Promise<unknown> = Promise.resolve();
  private failure: unknown = undefined;

  /** Without `deferred`, every write is issued at once. */
  constructor(
    private readonly db: Database<V, Key>,
    private readonly onFailure: (error: unknown) => void,
    private readonly deferred?: DeferredWrites,
  ) {}

  get(key: readonly (string | number)[]): V | undefined {
    const pending = this.peek(key);
    if (pending !== undefined) return pending === removed ? undefined : pending;
    return this.db.get(key as Key);
  }

  /** The pending state of `key`: a value, `removed`, or undefined when nothing is pending. */
  peek(key: readonly (string | number)[]): V | typeof removed | undefined {
    const batches = this.batches;
    const held = this.held;
    if (batches.length === 0 && held === undefined) return undefined;
    const k = keyString(key);
    const heldValue = held?.values.get(k);
    if (heldValue !== undefined) return heldValue;
    for (let i = batches.length - 1; i >= 0; i--) {
      const value = batches[i]!.values.get(k);
      if (value !== undefined) return value;
    }
    return undefined;
  }

  put(key: readonly (string | number)[], value: V): void {
    if (this.deferred !== undefined) this.hold(key, value);
    else this.track(key, value, this.db.put(key as Key, value));
  }

  remove(key: readonly (string | number)[]): void {
    if (this.deferred !== undefined) this.hold(key, removed);
    else this.track(key, removed, this.db.remove(key as Key));
  }

  committed(): Promise<void> {
    this.issue();
    if (this.failure !== undefined) return Promise.reject(this.failure);
    return this.lastCommit.then(() => undefined);
  }

  /** Issues the held writes (DeferredWrites calls this in the turn of a log write). */
  issue(): void {
    const held = this.held;
    if (held === undefined) return;
    this.held = undefined;
    try {
      for (const [k, value] of held.values) {
        const key = held.keys.get(k) as Key;
        this.trackString(k, value, value === removed ? this.db.remove(key) : this.db.put(key, value));
      }
    } catch (error) {
      // Nobody waits on the issue itself: the store stops taking writes, as on a failed commit.
      this.fail(error);
    }
  }

  fail(error: unknown): void {
    this.failure = error;
    this.onFailure(error);
  }

  private hold(key: readonly (string | number)[], value: V | typeof removed): void {
    let held = this.held;
    if (held === undefined) {
      held = { values: new Map(), keys: new Map() };
      this.held = held;
      this.deferred!.hold(this);
    }
    const k = keyString(key);
    held.values.set(k, value);
    held.keys.set(k, key);
  }

  private track(key: readonly (string | number)[], value: V | typeof removed, commit: Promise<unknown>): void {
    this.trackString(keyString(key), value, commit);
  }

  private trackString(k: string, value: V | typeof removed, commit: Promise<unknown>): void {
    if (commit !== this.lastCommit) this.startBatch(commit);
    this.batches[this.batches.length - 1]!.values.set(k, value);
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
      (error: unknown) => this.fail(error),
    );
  }
}

function keyString(key: readonly (string | number)[]): string {
  let k = String(key[0]);
  for (let i = 1; i < key.length; i++) k += '\u0000' + String(key[i]);
  return k;
}
