/**
 * Reads of a queue's subscriptions from a shard's applied state. Point reads of the queue
 * record see every applied write (QueueStore), so after the shard's read barrier they
 * reflect every acknowledged change. Expired subscriptions are left out whether or not
 * an `expire` op removed them yet.
 */
import type { StoredSubscription } from '../../log/queue-store.js';
import type { QueueRef } from '../records.js';
import type { SubscriptionRecord } from '../subscription-records.js';
import type { QueueFsm } from './queue-fsm.js';

/** Unexpired subscriptions of the queue with their delivery cursors, in id order. */
export function storedSubscriptions(fsm: QueueFsm, ref: QueueRef, nowMs: number): StoredSubscription[] {
  const queue = fsm.store.getQueue({ shardId: fsm.shardId, project: ref.project, queue: ref.queue });
  return (queue?.subscriptions ?? []).filter((s) => s.expiresMs > nowMs);
}

export function liveSubscriptions(fsm: QueueFsm, ref: QueueRef, nowMs: number): SubscriptionRecord[] {
  return storedSubscriptions(fsm, ref, nowMs).map((s) => ({
    id: s.id,
    subscriber: s.subscriber,
    options: s.options,
    ttlSeconds: s.ttlSeconds,
    createdMs: s.createdMs,
    expiresMs: s.expiresMs,
    confirmed: s.confirmed,
  }));
}
