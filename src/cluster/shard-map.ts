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

const fnvOffset = 0x811c9dc5;

/**
 * Runs on every request: an ASCII name's UTF-8 bytes are its character codes, so it is
 * hashed without encoding it first; any other name is hashed over its encoded bytes.
 */
export function queueHash(project: string, queue: string): number {
  // `project`, a NUL, `queue`, walked in place rather than concatenated first.
  const first = asciiHash(fnvOffset, project);
  const hash = first < 0 ? -1 : asciiHash(fnvStep(first, 0), queue);
  return hash >= 0 ? hash : bytesHash(Buffer.from(`${project}\u0000${queue}`, 'utf8'));
}

/** `hash` stepped over the character codes of ASCII `text`; -1 for any other text. */
function asciiHash(hash: number, text: string): number {
  let next = hash;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code >= 0x80) return -1;
    next = fnvStep(next, code);
  }
  return next;
}

function bytesHash(bytes: Uint8Array): number {
  let hash = fnvOffset;
  for (let i = 0; i < bytes.length; i++) hash = fnvStep(hash, bytes[i] ?? 0);
  return hash;
}

function fnvStep(hash: number, byte: number): number {
  return Math.imul(hash ^ byte, 0x01000193) >>> 0;
}
