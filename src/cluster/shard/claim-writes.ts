/**
 * Command handlers for claims (semantics §5): create (oldest first, best effort, with
 * the lifetime extension of §5.2 and the claim counting / dead-lettering of §5.7),
 * renew, release and expiry. Claims of one shard never overlap: the index hands out only
 * free messages and every claim command runs alone in apply order.
 *
 * Storage: a claim is one record (StoredClaim) however many messages it holds, and which
 * claim holds a message is read from the index, so creating, renewing, releasing or
 * expiring a claim writes one record. A message's own record is rewritten only for what
 * outlives the claim: its claim count on a queue with a dead-letter policy (§5.7), and a
 * lifetime extended by §5.2, which stays extended after the claim ends.
 */
import { assert } from '../../common/assert.js';
import type { QueueKey, StoredClaim, StoredMessage } from '../../log/queue-store.js';
import type { ClaimRecord } from '../records.js';
import { type ClaimEntry, queueKeyOf, queueOfKey } from './claim-index.js';
import type { ShardCommand } from './commands.js';
import { type DeadLetterConfig, deadLetterConfig, encodeOutboxEntry } from './dead-letter.js';
import { toMessageRecord } from './message-view.js';
import type { CommandResults } from './results.js';
import type { SeqEntry } from './seq-set.js';
import { queueKey, removeStoredMessage, type ShardContext } from './shard-context.js';

type Command<T extends ShardCommand['type']> = Extract<ShardCommand, { type: T }>;

interface Extension {
  readonly expiresMs: number;
  readonly ttlSeconds: number;
  readonly graceSeconds: number;
}

/** §5.2: messages that would die before the claim lapses live until claim expiry + grace. */
function extendLifetime(message: StoredMessage, claim: Extension): StoredMessage {
  if (message.expiresMs >= claim.expiresMs) return message;
  return { ...message, expiresMs: claim.expiresMs + claim.graceSeconds * 1000, ttlSeconds: claim.ttlSeconds + claim.graceSeconds };
}

export function storedClaimOf(claim: ClaimEntry): StoredClaim {
  return { id: claim.id, expiresMs: claim.expiresMs, updatedMs: claim.updatedMs, ttlSeconds: claim.ttlSeconds, seqs: claim.messages.map((m) => m.seq) };
}

export function applyClaim(context: ShardContext, command: Command<'claim'>, nowMs: number): CommandResults['claim'] {
  const key = queueKey(context, command.project, command.queue);
  const queue = context.store.getQueue(key);
  if (queue === undefined) return { claim: null, outboxSeqs: [] };
  const deadLetter = deadLetterConfig(queue.metadata);
  const indexKey = queueKeyOf(command.project, command.queue);
  const extension: Extension = { expiresMs: nowMs + command.ttlSeconds * 1000, ttlSeconds: command.ttlSeconds, graceSeconds: command.graceSeconds };
  const held: { message: StoredMessage; body: Uint8Array; entry: SeqEntry }[] = [];
  const outboxSeqs: number[] = [];
  for (const candidate of context.index.candidates(indexKey, nowMs, command.limit)) {
    const found = context.store.getMessageWithBody(key, candidate.seq);
    assert(found !== undefined, () => `free seq ${candidate.seq} has no stored message`);
    const { message, body } = found;
    if (deadLetter !== undefined && message.claimCount >= deadLetter.maxClaimCount) {
      outboxSeqs.push(moveToDeadLetter(context, key, { message, body }, { deadLetter, nowMs }));
      continue;
    }
    // Counted only where a dead-letter policy reads the count (§5.7).
    const counted = deadLetter === undefined ? message : { ...message, claimCount: message.claimCount + 1 };
    const claimed = extendLifetime(counted, extension);
    if (claimed !== message) context.store.updateMessage(key, claimed);
    held.push({ message: claimed, body, entry: { seq: claimed.seq, expiresMs: claimed.expiresMs, visibleMs: claimed.visibleMs } });
  }
  if (held.length === 0) return { claim: null, outboxSeqs };
  const stored: StoredClaim = {
    id: command.claimId,
    expiresMs: extension.expiresMs,
    updatedMs: nowMs,
    ttlSeconds: command.ttlSeconds,
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
  for (const held of claim.messages) {
    // The index holds each message's expiry: only those that would die first are read and rewritten.
    if (held.expiresMs >= extension.expiresMs) continue;
    const message = context.store.getMessage(key, held.seq);
    assert(message !== undefined, () => `claim ${command.claimId} lost seq ${held.seq}`);
    const renewed = extendLifetime(message, extension);
    context.store.updateMessage(key, renewed);
    context.index.setClaimedExpiry(claim, held.seq, renewed.expiresMs);
  }
  context.index.renew(claim, { expiresMs: extension.expiresMs, updatedMs: nowMs, ttlSeconds: command.ttlSeconds });
  context.store.putClaim(key, storedClaimOf(claim));
  return { renewed: true };
}

export function applyRelease(context: ShardContext, command: Command<'release'>): CommandResults['release'] {
  const claim = context.index.claim(queueKeyOf(command.project, command.queue), command.claimId);
  if (claim === undefined) return { released: false };
  context.index.release(claim);
  context.store.removeClaim(queueKey(context, command.project, command.queue), command.claimId);
  return { released: true };
}

/** Returns the messages of claims lapsed at `nowMs` to their queues and drops the claims' records. */
export function expireClaims(context: ShardContext, nowMs: number): void {
  for (const claim of context.index.expireClaims(nowMs)) {
    const { project, queue } = queueOfKey(claim.queueKey);
    context.store.removeClaim(queueKey(context, project, queue), claim.id);
  }
}
