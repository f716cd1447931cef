/**
 * Command handlers for queue records: create (lazy queues are created by post), replace
 * metadata, delete (with every message and claim, keeping the subscriptions: see
 * queue-existence.ts), purge (unclaimed messages only).
 */
import { assert } from '../../common/assert.js';
import type { QueueKey, StoredMessage } from '../../log/queue-store.js';
import { queueKeyOf } from './claim-index.js';
import type { ShardCommand } from './commands.js';
import { existingQueue, queueAfterDelete, queueToCreate } from './queue-existence.js';
import type { CommandResults } from './results.js';
import { queueKey, removeStoredMessages, type ShardContext } from './shard-context.js';

type Command<T extends ShardCommand['type']> = Extract<ShardCommand, { type: T }>;

export function applyCreateQueue(context: ShardContext, command: Command<'createQueue'>, nowMs: number): CommandResults['createQueue'] {
  const key = queueKey(context, command.project, command.queue);
  const stored = context.store.getQueue(key);
  if (existingQueue(stored) !== undefined) return { created: false };
  context.store.putQueue(key, queueToCreate(stored, { nowMs, metadata: command.metadata }));
  return { created: true };
}

export function applySetMetadata(context: ShardContext, command: Command<'setMetadata'>): CommandResults['setMetadata'] {
  const key = queueKey(context, command.project, command.queue);
  const queue = existingQueue(context.store.getQueue(key));
  if (queue === undefined) return { found: false };
  context.store.putQueue(key, { ...queue, metadata: command.metadata });
  return { found: true };
}

export function applyDeleteQueue(context: ShardContext, command: Command<'deleteQueue'>, nowMs: number): CommandResults['deleteQueue'] {
  const key = queueKey(context, command.project, command.queue);
  const indexKey = queueKeyOf(command.project, command.queue);
  for (const claimId of [...context.index.claims(indexKey).keys()]) context.store.removeClaim(key, claimId);
  const seqs = context.index.dropQueue(indexKey);
  context.store.removeMessages(key, seqs.map((seq) => storedMessage(context, key, seq)));
  // The queue's subscriptions outlive it (F029): they stay in a deleted record.
  const stored = context.store.getQueue(key);
  const kept = queueAfterDelete(stored, nowMs);
  if (kept !== undefined) context.store.putQueue(key, kept);
  else if (stored !== undefined) context.store.removeQueue(key);
  return { removed: seqs.length };
}

export function applyPurge(context: ShardContext, command: Command<'purge'>): CommandResults['purge'] {
  const key = queueKey(context, command.project, command.queue);
  const free = context.index.free(queueKeyOf(command.project, command.queue));
  const seqs = free === undefined ? [] : [...free.entries()].map((e) => e.seq);
  removeStoredMessages(context, key, seqs.map((seq) => storedMessage(context, key, seq)));
  return { removed: seqs.length };
}

function storedMessage(context: ShardContext, key: QueueKey, seq: number): StoredMessage {
  const message = context.store.getMessage(key, seq);
  assert(message !== undefined, () => `indexed seq ${seq} has no stored message`);
  return message;
}
