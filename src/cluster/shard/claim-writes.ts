/**
 * Command handlers for claims (semantics §5): create (oldest first, best effort, with
 * the lifetime extension of §5.2 and the claim counting / dead-lettering of §5.7),
 * renew, release and expiry. Claims of one shard never overlap: the index hands out only
 * free messages and every claim command runs alone in apply order.
 *
 * Storage: a claim is one record (StoredClaim) however many messages it holds, and which
 * claim holds a message is read from the index, so creating, renewing, releasing or
 * expiring a claim writes one record. The §5.2 extension is kept in the claim too
 * (claim-extension.ts) and written into a message's record only when the claim ends
 * without deleting it. A message's own record is otherwise rewritten only for its claim
 * count on a queue with a dead-letter policy (§5.7).
 */
import { assert } from '../../common/assert.js';
import type { QueueKey, StoredClaim, StoredMessage } from '../../log/queue-store.js';
import type { ClaimRecord } from '../records.js';
import { type Extension, extendLifetime, writeExtensions } from './claim-extension.js';
import { type ClaimEntry, type HeldEntry, queueKeyOf, queueOfKey } from './claim-index.js';
import type { ShardCommand } from './commands.js';
import { type DeadLetterConfig, deadLetterConfig, encodeOutboxEntry } from './dead-letter.js';
import { toMessageRecord } from './message-view.js';
import type { CommandResults } from './results.js';
import { queueKey, removeStoredMessage, type ShardContext } from './shard-context.js';

type Command<T extends ShardCommand['type']> = Extract<ShardCommand, { type: T }>;

export function storedClaimOf(claim: ClaimEntry): StoredClaim {
  const stored = { id: claim.id, expiresMs: claim.expiresMs, updatedMs: claim.updatedMs, ttlSeconds: claim.ttlSeconds };
  const seqs = claim.messages.map((m) => m.seq);
  return claim.graceSeconds === undefined ? { ...stored, seqs } : { ...stored, graceSeconds: claim.graceSeconds, seqs };
}

export function applyClaim(context: ShardContext, command: Command<'claim'>, nowMs: number): CommandResults['claim'] {
  const key = queueKey(context, command.project, command.queue);
  const queue = context.store.getQueue(key);
  if (queue === undefined) return { claim: null, outboxSeqs: [] };
  const deadLetter = deadLetterConfig(queue.metadata);
  const indexKey = queueKeyOf(command.project, command.queue);
  const extension: Extension = { expiresMs: nowMs + command.ttlSeconds * 1000, ttlSeconds: command.ttlSeconds, graceSeconds: command.graceSeconds };
  const held: { message: StoredMessage; body: Uint8Array; entry: HeldEntry }[] = [];
  const outboxSeqs: number[] = [];
  for (const candidate of context.index.candidates(indexKey, nowMs, command.limit)) {
    const found = context.store.getMessageWithBody(key, candidate.seq);
    assert(found !== undefined, () => `free seq ${candidate.seq} has no stored message`);
    const { message, body } = found;
    if (deadLetter !== undefined && message.claimCount >= deadLetter.maxClaimCount) {
      outboxSeqs.push(moveToDeadLetter(context, key, { message, body }, { deadLetter, nowMs }));
      continue;
    }
    // Counted only where a dead-letter policy reads the count (§5.7); the extension stays in the claim.
    const counted = deadLetter === undefined ? message : { ...message, claimCount: message.claimCount + 1 };
    if (counted !== message) context.store.updateMessage(key, counted);
    const claimed = extendLifetime(counted, extension);
    held.push({ message: claimed, body, entry: { seq: claimed.seq, expiresMs: claimed.expiresMs, visibleMs: claimed.visibleMs, id: claimed.id } });
  }
  if (held.length === 0) return { claim: null, outboxSeqs };
  const stored: StoredClaim = {
    id: command.claimId,
    expiresMs: extension.expiresMs,
    updatedMs: nowMs,
    ttlSeconds: command.ttlSeconds,
    graceSeconds: command.graceSeconds,
    seqs: held.map((h) => h.entry.seq),
  };
  context.index.addClaim(indexKey, { ...stored, messages: held.map((h) => h.entry) });
  context.store.putClaim(key, stored);
  const claim: ClaimRecord = {
    id: command.claimId,
    ttlSeconds: command.ttlSeconds,
    updatedMs: nowMs,
    messages: held.map((h) => toMessageRecord(h.message, h.body, command.claimId)),
  };
  return { claim, outboxSeqs };
}

/** §5.7 recommended: same id and body, appended unclaimed at the DLQ tail, claim count kept. */
function moveToDeadLetter(
  context: ShardContext,
  key: QueueKey,
  { message, body }: { message: StoredMessage; body: Uint8Array },
  options: { deadLetter: DeadLetterConfig; nowMs: number },
): number {
  const ttlSeconds = options.deadLetter.ttlSeconds;
  const data = encodeOutboxEntry({
    project: key.project,
    queue: options.deadLetter.queue,
    message: {
      id: message.id,
      body,
      clientId: message.clientId,
      createdMs: message.createdMs,
      ttlSeconds: ttlSeconds ?? message.ttlSeconds,
      expiresMs: ttlSeconds === undefined ? message.expiresMs : options.nowMs + ttlSeconds * 1000,
      claimCount: message.claimCount,
      checksum: message.checksum,
    },
  });
  removeStoredMessage(context, key, message);
  return context.appendOutbox(data);
}

export function applyRenew(context: ShardContext, command: Command<'renew'>, nowMs: number): CommandResults['renew'] {
  const key = queueKey(context, command.project, command.queue);
  const claim = context.index.claim(queueKeyOf(command.project, command.queue), command.claimId);
  if (claim === undefined) return { renewed: false };
  const extension: Extension = { expiresMs: nowMs + command.ttlSeconds * 1000, ttlSeconds: command.ttlSeconds, graceSeconds: command.graceSeconds };
  // Messages that live past the new expiry keep the lifetime they have: the old extension is
  // written into those it lengthened, as the new one will not reach them. The others are
  // extended from the new expiry, which the renewed record holds.
  writeExtensions(context, key, claim, (expiresMs) => expiresMs >= extension.expiresMs);
  for (const held of claim.messages) {
    if (held.expiresMs >= extension.expiresMs) continue;
    context.index.setClaimedExpiry(claim, held.seq, extension.expiresMs + extension.graceSeconds * 1000);
  }
  context.index.renew(claim, { expiresMs: extension.expiresMs, updatedMs: nowMs, ttlSeconds: command.ttlSeconds, graceSeconds: command.graceSeconds });
  context.store.putClaim(key, storedClaimOf(claim));
  return { renewed: true };
}

export function applyRelease(context: ShardContext, command: Command<'release'>): CommandResults['release'] {
  const claim = context.index.claim(queueKeyOf(command.project, command.queue), command.claimId);
  if (claim === undefined) return { released: false };
  const key = queueKey(context, command.project, command.queue);
  writeExtensions(context, key, claim);
  context.index.release(claim);
  context.store.removeClaim(key, command.claimId);
  return { released: true };
}

/** Returns the messages of claims lapsed at `nowMs` to their queues and drops the claims' records. */
export function expireClaims(context: ShardContext, nowMs: number): void {
  const keyOf = (claim: ClaimEntry): QueueKey => {
    const { project, queue } = queueOfKey(claim.queueKey);
    return queueKey(context, project, queue);
  };
  const expired = context.index.expireClaims(nowMs, (claim) => writeExtensions(context, keyOf(claim), claim));
  for (const claim of expired) context.store.removeClaim(keyOf(claim), claim.id);
}
