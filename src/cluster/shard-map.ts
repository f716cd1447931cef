/**
 * Places queues on shards: a stable hash (32-bit FNV-1a over the UTF-8 bytes of
 * project, a NUL, and queue name) modulo the shard count. Stable across processes and
 * versions: changing it would strand every stored queue, so it is pinned by tests.
 */
import { assert } from '../common/assert.js';
import type { ShardId } from '../common/ids.js';

export const defaultShardCount = 16;
/**
 * The first id of the shards pools own (README "Pools and flavors"), allocated upward
 * from here; every hash shard id is below it.
 */
export const placedShardBase = 1_000_000;

export function isPlacedShard(shardId: ShardId): boolean {
  return shardId >= placedShardBase;
}

export class ShardMap {
  readonly shardIds: readonly ShardId[];

  constructor(readonly shardCount: number = defaultShardCount) {
    assert(Number.isInteger(shardCount) && shardCount >= 1 && shardCount <= placedShardBase, () => `bad shard count ${shardCount}`);
    this.shardIds = Array.from({ length: shardCount }, (_, i) => i as ShardId);
  }

  shardOf(project: string, queue: string): ShardId {
    return (queueHash(project, queue) % this.shardCount) as ShardId;
  }
}

export function queueHash(project: string, queue: string): number {
  let hash = 0x811c9dc5;
  for (const byte of Buffer.from(`${project}\u0000${queue}`, 'utf8')) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash >>> 0;
}
