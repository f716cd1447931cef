/**
 * Command handlers for claims (semantics §5): create (oldest first, best effort, with
 * the lifetime extension of §5.2 and the claim counting / dead-lettering of §5.7),
 * renew and release. Claims of one shard never overlap: the index hands out only free
 * messages and every claim command runs alone in apply order.
 */
import { assert } from '../../common/assert.js';
import type { QueueKey, StoredMessage } from '../../log/queue-store.js';
import type { ClaimRecord } from '../records.js';
import { queueKeyOf } from './claim-index.js';
import type { ShardCommand } from './commands.js';
import { type DeadLetterConfig, deadLetterConfig, encodeOutboxEntry } from './dead-letter.js';
import { readMessageRecord } from './message-view.js';
import type { CommandResults } from './results.js';
import type { SeqEntry } from './seq-set.js';
import { queueKey, removeStoredMessage, type ShardContext } from './shard-context.js';

type Command<T extends ShardCommand['type']> = Extract<ShardCommand, { type: T }>;

/** §5.2: messages that would die before the claim lapses live until claim expiry + grace. */
function extendLifetime(message: StoredMessage, claim: { expiresMs: number; ttlSeconds: number; graceSeconds: number }): StoredMessage {
  if (message.expiresMs >= claim.expiresMs) return message;
  return { ...message, expiresMs: claim.expiresMs + claim.graceSeconds * 1000, ttlSeconds: claim.ttlSeconds + claim.graceSeconds };
}

export function applyClaim(context: ShardContext, command: Command<'claim'>, nowMs: number): CommandResults['claim'] {
  const key = queueKey(context, command.project, command.queue);
  const queue = context.store.getQueue(key);
  if (queue === undefined) return { claim: null, outboxSeqs: [] };
  const deadLetter = deadLetterConfig(queue.metadata);
  const indexKey = queueKeyOf(command.project, command.queue);
  const claimExpiresMs = nowMs + command.ttlSeconds * 1000;
  const held: { message: StoredMessage; entry: SeqEntry }[] = [];
  const outboxSeqs: number[] = [];
  for (const candidate of context.index.candidates(indexKey, nowMs, command.limit)) {
    const message = context.store.getMessage(key, candidate.seq);
    assert(message !== undefined, () => `free seq ${candidate.seq} has no stored message`);
    if (deadLetter !== undefined && message.claimCount >= deadLetter.maxClaimCount) {
      outboxSeqs.push(moveToDeadLetter(context, key, message, { deadLetter, nowMs }));
      continue;
    }
    const claimed = extendLifetime(
      {
        ...message,
        claimId: command.claimId,
        claimExpiresMs,
        claimUpdatedMs: nowMs,
        claimTtlSeconds: command.ttlSeconds,
        claimCount: deadLetter === undefined ? message.claimCount : message.claimCount + 1,
      },
      { expiresMs: claimExpiresMs, ttlSeconds: command.ttlSeconds, graceSeconds: command.graceSeconds },
    );
    context.store.updateMessage(key, claimed);
    held.push({ message: claimed, entry: { seq: claimed.seq, expiresMs: claimed.expiresMs, visibleMs: claimed.visibleMs } });
  }
  if (held.length === 0) return { claim: null, outboxSeqs };
  context.index.addClaim(indexKey, {
    id: command.claimId,
    expiresMs: claimExpiresMs,
    updatedMs: nowMs,
    ttlSeconds: command.ttlSeconds,
    messages: held.map((h) => h.entry),
  });
  const claim: ClaimRecord = {
    id: command.claimId,
    ttlSeconds: command.ttlSeconds,
    updatedMs: nowMs,
    messages: held.map((h) => readMessageRecord(context.store, key, h.message, nowMs)),
  };
  return { claim, outboxSeqs };
}

/** §5.7 recommended: same id and body, appended unclaimed at the DLQ tail, claim count kept. */
function moveToDeadLetter(context: ShardContext, key: QueueKey, message: StoredMessage, options: { deadLetter: DeadLetterConfig; nowMs: number }): number {
  const body = context.store.getBody(key, message.seq);
  assert(body !== undefined, () => `message ${message.id} has no body`);
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
  const claimExpiresMs = nowMs + command.ttlSeconds * 1000;
  for (const held of [...claim.messages]) {
    const message = context.store.getMessage(key, held.seq);
    assert(message !== undefined && message.claimId === command.claimId, () => `claim ${command.claimId} lost seq ${held.seq}`);
    const renewed = extendLifetime(
      { ...message, claimExpiresMs, claimUpdatedMs: nowMs, claimTtlSeconds: command.ttlSeconds },
      { expiresMs: claimExpiresMs, ttlSeconds: command.ttlSeconds, graceSeconds: command.graceSeconds },
    );
    context.store.updateMessage(key, renewed);
    context.index.setClaimedExpiry(claim, held.seq, renewed.expiresMs);
  }
  context.index.renew(claim, { expiresMs: claimExpiresMs, updatedMs: nowMs, ttlSeconds: command.ttlSeconds });
  return { renewed: true };
}

export function applyRelease(context: ShardContext, command: Command<'release'>): CommandResults['release'] {
  const key = queueKey(context, command.project, command.queue);
  const claim = context.index.claim(queueKeyOf(command.project, command.queue), command.claimId);
  if (claim === undefined) return { released: false };
  for (const held of claim.messages) {
    const message = context.store.getMessage(key, held.seq);
    assert(message !== undefined && message.claimId === command.claimId, () => `claim ${command.claimId} lost seq ${held.seq}`);
    context.store.updateMessage(key, { ...message, claimId: null, claimExpiresMs: 0 });
  }
  context.index.release(claim);
  return { released: true };
}
