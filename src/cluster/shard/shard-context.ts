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

/**
 * Removes a message from the store and from wherever the index holds it; a claim left
 * holding nothing goes too (its record with it). A claim keeping other messages keeps its
 * record as it was: the removed seq has no stored message left for the record to name.
 */
export function removeStoredMessage(context: ShardContext, key: QueueKey, message: Pick<StoredMessage, 'id' | 'seq'>): void {
  removeStoredMessages(context, key, [message]);
}

/** `removeStoredMessage` for several messages of one queue, removed from the store in one go (`QueueStore.removeMessages`). */
export function removeStoredMessages(context: ShardContext, key: QueueKey, messages: readonly Pick<StoredMessage, 'id' | 'seq'>[]): void {
  const indexKey = queueKeyOf(key.project, key.queue);
  for (const message of messages) {
    const claim = context.index.holder(indexKey, message.seq);
    if (claim === undefined) {
      assert(context.index.removeFree(indexKey, message.seq), () => `message ${message.id} (seq ${message.seq}) missing from the claim index`);
    } else {
      context.index.removeClaimed(claim, message.seq);
      if (claim.messages.length === 0) context.store.removeClaim(key, claim.id);
    }
  }
  context.store.removeMessages(key, messages);
}
