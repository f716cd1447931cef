/**
 * When a stored queue record counts as an existing queue (F029, zaqar-semantics.md §2).
 *
 * Deleting a queue removes its messages, claims and metadata but not its subscriptions:
 * they stay listable, gettable, deletable, keep expiring, and notify again once the queue
 * is re-created. They live in the queue's record (StoredQueue.subscriptions), so a delete
 * that finds subscriptions leaves a *deleted* record (`isDeleted`) holding only them and
 * the seq counter. Why a mark on the queue record rather than records of their own: the
 * record is already what the FSM, the notifier and the snapshot image work on, so every
 * replica applies the same single-record write, the image carries the mark with no new
 * section (an image or store without it reads as "not deleted"), and no store interface
 * changes.
 *
 * Invariants: a deleted record holds at least one subscription (the write that empties it
 * removes the record instead) and no message (delete removed them all, and every write
 * that would add one re-creates the queue first). Every queue read (metadata, listing,
 * counts, quotas through them) treats a deleted record as a missing queue; creating the
 * queue (PUT, post, dead-letter insert, subscription POST) clears the mark and starts
 * from fresh metadata. The seq counter is kept, so the subscriptions' cursors stay valid
 * and a marker from before the delete never points into the re-created queue's messages.
 */
import type { StoredQueue } from '../../log/queue-store.js';

/** The record as a queue, or undefined when missing or deleted (kept for its subscriptions). */
export function existingQueue(stored: StoredQueue | undefined): StoredQueue | undefined {
  return stored?.isDeleted === true ? undefined : stored;
}

/**
 * The record a write that creates the queue starts from: the existing queue as it is,
 * else a fresh one that adopts a deleted record's subscriptions and seq counter.
 */
export function queueToCreate(stored: StoredQueue | undefined, at: { nowMs: number; metadata?: Record<string, unknown> }): StoredQueue {
  if (stored === undefined) return { metadata: at.metadata ?? {}, nextSeq: 1, createdMs: at.nowMs };
  if (stored.isDeleted !== true) return stored;
  const { isDeleted: _deleted, ...kept } = stored;
  return { ...kept, metadata: at.metadata ?? {}, createdMs: at.nowMs };
}

/** What deleting the queue leaves: a deleted record holding its unexpired subscriptions, or nothing. */
export function queueAfterDelete(stored: StoredQueue | undefined, nowMs: number): StoredQueue | undefined {
  const subscriptions = (stored?.subscriptions ?? []).filter((s) => s.expiresMs > nowMs);
  if (stored === undefined || subscriptions.length === 0) return undefined;
  return { metadata: {}, nextSeq: stored.nextSeq, createdMs: stored.createdMs, isDeleted: true, subscriptions };
}
