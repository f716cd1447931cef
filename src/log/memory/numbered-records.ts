/**
 * MemoryNumberedRecords: per shard, opaque byte records keyed by a number and listed in
 * number order; the in-memory twin of LmdbNumberedRecords (outbox, dedup window).
 */
import type { ShardId } from '../../common/ids.js';

export class MemoryNumberedRecords {
  private readonly shards = new Map<ShardId, Map<number, Uint8Array>>();

  get(shardId: ShardId, number: number): Uint8Array | undefined {
    return this.shards.get(shardId)?.get(number);
  }
  put(shardId: ShardId, number: number, data: Uint8Array): void {
    let records = this.shards.get(shardId);
    if (records === undefined) {
      records = new Map();
      this.shards.set(shardId, records);
    }
    records.set(number, data);
  }
  remove(shardId: ShardId, number: number): void {
    this.shards.get(shardId)?.delete(number);
  }

  *range(shardId: ShardId): Iterable<{ number: number; data: Uint8Array }> {
    const records = this.shards.get(shardId);
    if (records === undefined) return;
    for (const number of [...records.keys()].sort((a, b) => a - b)) {
      const data = records.get(number);
      if (data !== undefined) yield { number, data };
    }
  }
}
