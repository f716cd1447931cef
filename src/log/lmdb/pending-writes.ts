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
 * continuation: no object per write and no per-key work at the commit. A batch maps a
 * key's leading elements (its queue, for a message) to a map by its last element (the
 * message's seq), and the leading elements of the last key written are remembered: a
 * post's puts then build no string per message (a joined key string and its hash cost
 * ~1.5 µs a put, about half of lmdb-js's own `put`).
 *
 * Invariant: a value is dropped only by the commit of the transaction that wrote it (or
 * of a later one: LMDB has one writer and commits transactions in the order lmdb-js
 * queued them), never by an earlier one. Reads look at the newest batch first, so a
 * later write to a key shadows an earlier one still pending.
 */
import type { Database, Key } from 'lmdb';
import { removed, WriteHold } from './write-hold.js';

export { removed };

type Tuple = readonly (string | number)[];
type Pending<V> = V | typeof removed;

interface Batch<V> {
  readonly commit: Promise<unknown>;
  /** By the key's leading elements (`prefixString`), then by its last element. */
  readonly values: Map<string, Map<string | number, Pending<V>>>;
}

export class PendingWrites<V> {
  /** Batches whose commit has not resolved, oldest first (a few at most: one per turn in flight). */
  private batches: Batch<V>[] = [];
  private lastCommit: Promise<unknown> = Promise.resolve();
  private failure: unknown = undefined;
  /** The last key whose prefix string was built, and that string. */
  private lastKey: Tuple = [];
  private lastPrefix = '';
  /** The newest batch's map for `lastPrefix`, undefined until a write under it. */
  private lastValues: Map<string | number, Pending<V>> | undefined = undefined;

  constructor(
    private readonly db: Database<V, Key>,
    private readonly onFailure: (error: unknown) => void,
    /** Where writes go: held a few milliseconds with the queue state's other writes (write-hold.ts), or at once. */
    private readonly hold: WriteHold = new WriteHold(0),
  ) {}

  get(key: Tuple): V | undefined {
    const pending = this.peek(key);
    if (pending !== undefined) return pending === removed ? undefined : pending;
    return this.db.get(key as Key);
  }

  /** The pending state of `key`: a value, `removed`, or undefined when nothing is pending. */
  peek(key: Tuple): Pending<V> | undefined {
    const batches = this.batches;
    if (batches.length === 0) return undefined;
    const prefix = this.prefixOf(key);
    const last = key[key.length - 1]!;
    for (let i = batches.length - 1; i >= 0; i--) {
      const value = batches[i]!.values.get(prefix)?.get(last);
      if (value !== undefined) return value;
    }
    return undefined;
  }

  /**
   * The pending value (not a removal) whose key has `key`'s leading elements and the
   * greatest number last element at or below `key`'s, with that element; undefined when
   * there is none. Walks the pending keys of that prefix: a turn's writes at most.
   */
  floor(key: Tuple): { last: number; value: V } | undefined {
    const batches = this.batches;
    if (batches.length === 0) return undefined;
    const prefix = this.prefixOf(key);
    const target = key[key.length - 1];
    if (typeof target !== 'number') return undefined;
    let found: { last: number; value: V } | undefined;
    const seen = new Set<string | number>();
    // Newest batch first: the first state met of a key is its current one.
    for (let i = batches.length - 1; i >= 0; i--) {
      const values = batches[i]!.values.get(prefix);
      if (values === undefined) continue;
      for (const [last, state] of values) {
        if (seen.has(last)) continue;
        seen.add(last);
        if (typeof last === 'number' && last <= target && state !== removed && (found === undefined || last > found.last)) found = { last, value: state };
      }
    }
    return found;
  }

  put(key: Tuple, value: V): void {
    this.track(key, value, this.hold.write(this.db, key as Key, value));
  }

  remove(key: Tuple): void {
    this.track(key, removed, this.hold.write(this.db, key as Key, removed));
  }

  committed(): Promise<void> {
    if (this.failure !== undefined) return Promise.reject(this.failure);
    return this.lastCommit.then(() => undefined);
  }

  private track(key: Tuple, value: Pending<V>, commit: Promise<unknown>): void {
    if (commit !== this.lastCommit) this.startBatch(commit);
    const hadPrefix = this.lastValues !== undefined && this.hasLastPrefix(key);
    let values = hadPrefix ? this.lastValues : undefined;
    if (values === undefined) {
      const prefix = this.prefixOf(key);
      const batch = this.batches[this.batches.length - 1]!;
      values = batch.values.get(prefix);
      if (values === undefined) batch.values.set(prefix, (values = new Map()));
      this.lastValues = values;
    }
    values.set(key[key.length - 1]!, value);
  }

  private startBatch(commit: Promise<unknown>): void {
    const batch: Batch<V> = { commit, values: new Map() };
    this.lastCommit = commit;
    this.batches.push(batch);
    this.lastValues = undefined;
    commit.then(
      () => {
        const at = this.batches.indexOf(batch);
        if (at >= 0) this.batches = this.batches.slice(at + 1);
        if (this.batches.length === 0) this.lastValues = undefined;
      },
      (error: unknown) => {
        this.failure = error;
        this.onFailure(error);
      },
    );
  }

  /** `prefixString` of `key`, rebuilt only when its leading elements differ from the last key's. */
  private prefixOf(key: Tuple): string {
    if (this.hasLastPrefix(key)) return this.lastPrefix;
    const prefix = prefixString(key);
    this.lastKey = key.slice(); // a copy: a caller may reuse its array
    this.lastPrefix = prefix;
    this.lastValues = undefined;
    return prefix;
  }

  private hasLastPrefix(key: Tuple): boolean {
    const lastKey = this.lastKey;
    if (key.length !== lastKey.length) return false;
    for (let i = 0; i < key.length - 1; i++) if (key[i] !== lastKey[i]) return false;
    return true;
  }
}

/** The key's elements but the last, typed and joined (a number and its digits as a string differ, as they do in LMDB). */
function prefixString(key: Tuple): string {
  let k = String(key.length);
  for (let i = 0; i < key.length - 1; i++) {
    const element = key[i]!;
    k += (typeof element === 'number' ? '\u0000n' : '\u0000s') + String(element);
  }
  return k;
}
