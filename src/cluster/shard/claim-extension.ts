/**
 * The §5.2 lifetime extension: a claim keeps every message it holds alive until at least
 * the claim's expiry + grace, and the extension stays after the claim ends.
 *
 * Where it is kept: in the claim (its record's and index entry's `graceSeconds`), not in
 * the messages, so a claim writes one record however many messages it extends, and a
 * message deleted under its claim (the common consumer path) is never rewritten. Readers
 * see a held message through its claim (`effectiveMessage`); the index holds each held
 * message's effective expiry. The extension is written into a message's own record only
 * when it has to outlive the claim: when the claim is released or expires, and when a
 * renewal would otherwise lose part of it (`writeExtensions`).
 *
 * A claim without `graceSeconds` (records written before it existed, claims installed
 * from a shard image) has its extension in its messages already. Writing it again is a
 * no-op: extending is idempotent.
 */
import { assert } from '../../common/assert.js';
import type { QueueKey, StoredMessage } from '../../log/queue-store.js';
import type { ClaimEntry, ClaimIndex } from './claim-index.js';
import type { ShardContext } from './shard-context.js';

export interface Extension {
  readonly expiresMs: number;
  readonly ttlSeconds: number;
  readonly graceSeconds: number;
}

/** §5.2: messages that would die before the claim lapses live until claim expiry + grace. */
export function extendLifetime(message: StoredMessage, claim: Extension): StoredMessage {
  if (message.expiresMs >= claim.expiresMs) return message;
  return { ...message, expiresMs: claim.expiresMs + claim.graceSeconds * 1000, ttlSeconds: claim.ttlSeconds + claim.graceSeconds };
}

/** The extension a claim holds and its messages' records do not, if any. */
export function pendingExtension(claim: { expiresMs: number; ttlSeconds: number; graceSeconds?: number | undefined }): Extension | undefined {
  const { graceSeconds } = claim;
  return graceSeconds === undefined ? undefined : { expiresMs: claim.expiresMs, ttlSeconds: claim.ttlSeconds, graceSeconds };
}

/** `message` with the extension `claim` keeps in its record, if it keeps one. */
export function extendedBy(claim: Parameters<typeof pendingExtension>[0], message: StoredMessage): StoredMessage {
  const extension = pendingExtension(claim);
  return extension === undefined ? message : extendLifetime(message, extension);
}

/** A stored message as every reader sees it: with the extension of the claim holding it, if any (active or not). */
export function effectiveMessage(index: ClaimIndex, indexKey: string, message: StoredMessage): StoredMessage {
  const claim = index.holder(indexKey, message.seq);
  return claim === undefined ? message : extendedBy(claim, message);
}

/**
 * Writes the claim's pending extension into the records of its held messages that the
 * extension lengthens and `when` selects (all by default). The index already holds their
 * extended expiries; only the records lag behind.
 */
export function writeExtensions(context: ShardContext, key: QueueKey, claim: ClaimEntry, when?: (expiresMs: number) => boolean): void {
  const extension = pendingExtension(claim);
  if (extension === undefined) return;
  for (const held of claim.messages) {
    if (when !== undefined && !when(held.expiresMs)) continue;
    const message = context.store.getMessage(key, held.seq);
    assert(message !== undefined, () => `claim ${claim.id} lost seq ${held.seq}`);
    const extended = extendLifetime(message, extension);
    if (extended === message) continue;
    assert(extended.expiresMs === held.expiresMs, () => `seq ${held.seq}: extended to ${extended.expiresMs}, indexed ${held.expiresMs}`);
    context.store.updateMessage(key, extended);
  }
}
