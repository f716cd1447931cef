/**
 * LmdbNumberedRecords: one LMDB database of opaque byte records keyed by [shard, number],
 * read back per shard in number order. Backs a shard's outbox (numbered by outbox seq)
 * and its dedup window (numbered by log index).
 *
 * Point reads see pending writes (PendingWrites); `range` sees committed records only,
 * minus those with a removal pending, like every range read of LmdbQueueStore.
 */
import type { Database, Key } from 'lmdb';
import { assert } from '../../common/assert.js';
import type { ShardId } from '../../common/ids.js';
import type { LmdbEnv } from './lmdb-env.js';
import { PendingWrites, removed } from './pending-writes.js';
import type { WriteHold } from './write-hold.js';

const numberMax = Number.MAX_SAFE_INTEGER;

export class LmdbNumberedRecords {
  private readonly db: Database<Uint8Array, Key>;
  private readonly pending: PendingWrites<Uint8Array>;

  constructor(env: LmdbEnv, options: { readonly name: string; readonly onFailure: (error: unknown) => void; readonly hold?: WriteHold }) {
    this.db = env.openDB<Uint8Array, Key>({ name: options.name, encoding: 'binary' });
    this.pending = new PendingWrites(this.db, options.onFailure, options.hold);
  }

  get(shardId: ShardId, number: number): Uint8Array | undefined {
    return this.pending.get([shardId, number]);
  }
  put(shardId: ShardId, number: number, data: Uint8Array): void {
    this.pending.put([shardId, number], data);
  }
  remove(shardId: ShardId, number: number): void {
    this.pending.remove([shardId, number]);
  }

  /** Committed records of one shard in number order. */
  *range(shardId: ShardId): Iterable<{ number: number; data: Uint8Array }> {
    for (const { key, value } of this.db.getRange({ start: [shardId, 0], end: [shardId, numberMax], snapshot: false })) {
      const number = (key as unknown[])[1];
      assert(typeof number === 'number', 'malformed numbered record key');
      if (this.pending.peek([shardId, number]) === removed) continue;
      yield { number, data: value };
    }
  }

  committed(): Promise<void> {
    return this.pending.committed();
  }
}
