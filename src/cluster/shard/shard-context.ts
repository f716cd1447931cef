/**
 * What the command handlers of one shard work on while applying: the store, the claim
 * index and the shard's outbox/inbox counters. Handlers run synchronously inside
 * `QueueFsm.apply`, take time only from their command, and keep the index and the
 * store in step (every write to one is mirrored in the other).
 */
import { assert } from '../../common/assert.js';
import type { ShardId } from '../../common/ids.js';
import type { QueueKey, QueueStore, StoredMessage } from '../../log/queue-store.js';
import { type ClaimIndex, queueKeyOf } from './claim-index.js';

export interface ShardContext {
  readonly shardId: ShardId;
  readonly store: QueueStore;
  readonly index: ClaimIndex;
  /** Allocates the next outbox seq and stores `data` under it. */
  appendOutbox(data: Uint8Array): number;
  /** Records a delivery from `sourceShard`; false when it was received before. */
  acceptInbox(sourceShard: number, outboxSeq: number): boolean;
}

export function queueKey(context: ShardContext, project: string, queue: string): QueueKey {
  return { shardId: context.shardId, project, queue };
}

/** Removes a message from the store and from wherever the index holds it. */
export function removeStoredMessage(context: ShardContext, key: QueueKey, message: StoredMessage): void {
  const indexKey = queueKeyOf(key.project, key.queue);
  const claim = message.claimId === null ? undefined : context.index.claim(indexKey, message.claimId);
  const wasIndexed = (claim !== undefined && context.index.removeClaimed(claim, message.seq)) || context.index.removeFree(indexKey, message.seq);
  assert(wasIndexed, () => `message ${message.id} (seq ${message.seq}) missing from the claim index`);
  context.store.removeMessage(key, message);
}
