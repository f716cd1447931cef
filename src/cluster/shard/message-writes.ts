/**
 * Command handlers that add and remove messages: post, delete (one, many), pop, the
 * dead-letter insert and the expiry sweep (gc). Semantics: zaqar-semantics §3, §5.6, §6.
 */
import { assert } from '../../common/assert.js';
import type { QueueKey, StoredMessage } from '../../log/queue-store.js';
import type { DeleteMessageOutcome, MessageRecord } from '../records.js';
import { derivedSeqLimit, seqInMessageId } from '../../common/ids.js';
import { decodeMessageEntry, entryBody, withPostTimes, writePostTimes, type PostTimes } from '../../log/message-entry.js';
import { effectiveMessage } from './claim-extension.js';
import { queueKeyOf, queueOfKey } from './claim-index.js';
import type { PackedPost, PostedMessage, ShardCommand } from './commands.js';
import { normaliseClientId, readMessageRecord } from './message-view.js';
import { holdsExpectedMetadata } from './expected-metadata.js';
import { existingQueue, queueToCreate } from './queue-existence.js';
import type { CommandResults } from './results.js';
import { queueKey, removeStoredMessage, removeStoredMessages, type ShardContext } from './shard-context.js';

type Command<T extends ShardCommand['type']> = Extract<ShardCommand, { type: T }>;

export function applyPost(context: ShardContext, command: Command<'post'>, nowMs: number): CommandResults['post'] {
  const key = queueKey(context, command.project, command.queue);
  const stored = context.store.getQueue(key);
  if (command.expectedMetadata !== undefined && !holdsExpectedMetadata(existingQueue(stored)?.metadata ?? {}, command.expectedMetadata)) {
    return { seqs: [], isMetadataStale: true };
  }
  const queue = queueToCreate(stored, { nowMs });
  const clientId = normaliseClientId(command.clientId);
  const indexKey = queueKeyOf(command.project, command.queue);
  let nextSeq = queue.nextSeq;
  const seqs: number[] = [];
  const target: PostTarget = { key, indexKey, proposedMs: command.nowMs, nowMs };
  const packed = command.packed;
  if (packed !== undefined) {
    const { entries, lengths, ttlSeconds, delaySeconds } = packed;
    assert(ttlSeconds.length === lengths.length && delaySeconds.length === lengths.length, 'packed post with fields of unequal counts');
    if (nextSeq + lengths.length <= derivedSeqLimit) nextSeq = storePostedRun(context, target, nextSeq, packed, seqs);
    else {
      let start = 0;
      for (let i = 0; i < lengths.length; i++) {
        const seq = nextSeq++;
        const entry = entries.subarray(start, start += lengths[i]!);
        assert(start <= entries.byteLength, 'packed post shorter than its entries');
        storePostedEntry(context, target, seq, entry, ttlSeconds[i]!, delaySeconds[i]!);
        seqs.push(seq);
      }
    }
  }
  for (const posted of command.messages ?? []) {
    const seq = nextSeq++;
    if ('entry' in posted) storePostedEntry(context, target, seq, posted.entry, posted.ttlSeconds, posted.delaySeconds, posted.id);
    else {
      const times = postTimes(nowMs, posted);
      context.store.insertMessage(key, postedRecord(posted, seq, clientId, times), posted.body);
      context.index.addFree(indexKey, { seq, expiresMs: times.expiresMs, visibleMs: times.visibleMs });
    }
    seqs.push(seq);
  }
  // Not a spread: see command-ids.ts withCommandId.
  context.store.putQueue(key, Object.assign({}, queue, { nextSeq }));
  return { seqs };
}

function postTimes(nowMs: number, posted: { readonly ttlSeconds: number; readonly delaySeconds: number }): PostTimes {
  return { createdMs: nowMs, expiresMs: nowMs + posted.ttlSeconds * 1000, visibleMs: nowMs + posted.delaySeconds * 1000 };
}

/** Where a post's messages go: its queue, and the times it was proposed and is applied at. */
interface PostTarget {
  readonly key: QueueKey;
  /** The queue's claim-index key. */
  readonly indexKey: string;
  readonly proposedMs: number;
  readonly nowMs: number;
}

/**
 * Stores at `seq` a message that travelled as its queue-store entry (`PostedEntry`, its
 * fields passed one by one: a packed post has no object per message), built by the
 * proposer with the post's time.
 */
function storePostedEntry(context: ShardContext, { key, indexKey, proposedMs, nowMs }: PostTarget, seq: number, posted: Uint8Array,
  ttlSeconds: number, delaySeconds: number, id?: string): void {
  const expiresMs = nowMs + ttlSeconds * 1000;
  const visibleMs = nowMs + delaySeconds * 1000;
  // A replica that clamped time forward (queue-fsm.ts) stores a copy with its own.
  const entry = nowMs === proposedMs ? posted : withPostTimes(posted, { createdMs: nowMs, expiresMs, visibleMs });
  // A seq too large to derive an id from (never reached in practice) is stored with
  // the id it wraps to and an index record, like any id not derived from its seq.
  if (id === undefined && seq >= derivedSeqLimit) context.store.insertMessage(key, decodeMessageEntry(entry, seq), entryBody(entry));
  else context.store.insertMessageEntry(key, seq, id, entry);
  context.index.addFree(indexKey, { seq, expiresMs, visibleMs });
}

/**
 * Stores a packed post's messages from `firstSeq` on as one run (the store's one record,
 * queue-store.ts `insertMessageRun`) and returns the seq after them. A replica that
 * clamped time forward (queue-fsm.ts) stores a copy of the entries with its own times.
 */
function storePostedRun(context: ShardContext, { key, indexKey, proposedMs, nowMs }: PostTarget, firstSeq: number, packed: PackedPost,
  seqs: number[]): number {
  const { lengths, ttlSeconds, delaySeconds } = packed;
  const clamped = nowMs !== proposedMs;
  const entries = clamped ? Buffer.from(packed.entries) : packed.entries;
  let seq = firstSeq;
  let start = 0;
  let runStart = 0;
  let runByteStart = 0;
  for (let i = 0; i < lengths.length; i++) {
    const end = start + lengths[i]!;
    assert(end <= entries.byteLength, 'packed post shorter than its entries');
    const expiresMs = nowMs + ttlSeconds[i]! * 1000;
    const visibleMs = nowMs + delaySeconds[i]! * 1000;
    if (clamped) writePostTimes((entries as Buffer).subarray(start, end), { createdMs: nowMs, expiresMs, visibleMs });
    context.index.addFree(indexKey, { seq, expiresMs, visibleMs });
    seqs.push(seq++);
    start = end;
    const runEnd = i + 1;
    if (runEnd - runStart === runMessagesMax || runEnd === lengths.length) {
      context.store.insertMessageRun(key, firstSeq + runStart, entries.subarray(runByteStart, start), lengths.slice(runStart, runEnd));
      runStart = runEnd;
      runByteStart = start;
    }
  }
  return seq;
}

/**
 * Messages one stored run holds at most. A post command can carry many requests' messages
 * (post-coalescer.ts), and a delete inside a run rewrites the rest of it, so a run of 1,600
 * would be copied again and again as consumers take 20 at a time. Smaller runs cost memory
 * instead: every run is a key in the queue state's B-tree, and the kernel maps a file's
 * pages around each B-tree page read (runs of 10 instead of 100 took a node holding
 * 1,000,000 messages from ~200 to ~280 MB RSS, 10,000 queues × 100 from ~250 to ~590 MB,
 * almost all queue-state file pages), while claim + delete cost ~4% less. 100 keeps a post
 * of up to 100 messages one run, as it was before posts were coalesced. Where runs are cut
 * is the replica's own storage layout: images and commands do not change.
 */
const runMessagesMax = 100;

function postedRecord(posted: PostedMessage, seq: number, clientId: string, times: PostTimes): StoredMessage {
  // Fields in StoredMessage's order: the memory store keeps this object, and images encode it.
  const { id, ttlSeconds, checksum } = posted;
  const { createdMs, expiresMs, visibleMs } = times;
  return { id, seq, clientId, createdMs, ttlSeconds, expiresMs, visibleMs, claimId: null, claimExpiresMs: 0, claimUpdatedMs: 0, claimTtlSeconds: 0, claimCount: 0, checksum };
}

export function applyDeleteMessage(context: ShardContext, command: Command<'deleteMessage'>, nowMs: number): CommandResults['deleteMessage'] {
  const key = queueKey(context, command.project, command.queue);
  const seq = context.store.seqOfId(key, command.id);
  const stored = seq === undefined ? undefined : context.store.getMessage(key, seq);
  const message = stored === undefined ? undefined : effectiveMessage(context.index, queueKeyOf(command.project, command.queue), stored);
  if (message === undefined || message.expiresMs <= nowMs) return { outcome: 'missing' };
  const activeClaim = context.index.activeHolder(queueKeyOf(command.project, command.queue), message.seq, nowMs);
  const outcome = deleteOutcome(activeClaim?.id ?? null, command.claimId);
  if (outcome === 'deleted') removeStoredMessage(context, key, message);
  return { outcome };
}

/** The §5.6 table; an expired claim counts as "not claimed" (recommended behaviour). */
function deleteOutcome(activeClaimId: string | null, claimId: string | null): DeleteMessageOutcome {
  if (claimId === null) return activeClaimId === null ? 'deleted' : 'claimed';
  if (activeClaimId === null) return 'not_claimed';
  return activeClaimId === claimId ? 'deleted' : 'claimed';
}

export function applyDeleteMessages(context: ShardContext, command: Command<'deleteMessages'>, nowMs: number): CommandResults['deleteMessages'] {
  const key = queueKey(context, command.project, command.queue);
  const indexKey = queueKeyOf(command.project, command.queue);
  // A stored id maps to a stored message: the seq and id are all a delete needs, so no
  // record is read, nor an entry for a message a claim holds under that id.
  const found: { id: string; seq: number }[] = [];
  for (const id of new Set(command.ids)) {
    const seq = context.index.heldSeqOf(indexKey, id, seqInMessageId(id)) ?? context.store.seqOfId(key, id);
    if (seq !== undefined) found.push({ id, seq });
  }
  if (command.claimIds !== null) {
    const everyClaimHoldsOne = command.claimIds.every((claimId) =>
      found.some((m) => context.index.activeHolder(indexKey, m.seq, nowMs)?.id === claimId),
    );
    if (!everyClaimHoldsOne) return { deleted: false };
  }
  removeStoredMessages(context, key, found);
  return { deleted: true };
}

export function applyPop(context: ShardContext, command: Command<'pop'>, nowMs: number): CommandResults['pop'] {
  const key = queueKey(context, command.project, command.queue);
  const free = context.index.free(queueKeyOf(command.project, command.queue));
  const taken: StoredMessage[] = [];
  if (free !== undefined) {
    // Pop ignores delay (semantics §3.5) but never returns expired messages.
    for (const entry of free.entries()) {
      if (taken.length >= command.limit) break;
      if (entry.expiresMs <= nowMs) continue;
      const message = context.store.getMessage(key, entry.seq);
      assert(message !== undefined, () => `free seq ${entry.seq} has no stored message`);
      taken.push(message);
    }
  }
  // Free messages: no claim holds them.
  const messages: MessageRecord[] = taken.map((m) => readMessageRecord(context.store, key, m, null));
  removeStoredMessages(context, key, taken);
  return { messages };
}

export function applyDlqInsert(context: ShardContext, command: Command<'dlqInsert'>, nowMs: number): CommandResults['dlqInsert'] {
  if (!context.acceptInbox(command.sourceShard, command.outboxSeq)) return { inserted: false };
  const key = queueKey(context, command.project, command.queue);
  const queue = queueToCreate(context.store.getQueue(key), { nowMs });
  const moved = command.message;
  if (context.store.seqOfId(key, moved.id) !== undefined) return { inserted: false };
  const seq = queue.nextSeq;
  const message: StoredMessage = {
    id: moved.id,
    seq,
    clientId: moved.clientId,
    createdMs: moved.createdMs,
    ttlSeconds: moved.ttlSeconds,
    expiresMs: moved.expiresMs,
    visibleMs: 0,
    claimId: null,
    claimExpiresMs: 0,
    claimUpdatedMs: 0,
    claimTtlSeconds: 0,
    claimCount: moved.claimCount,
    checksum: moved.checksum,
  };
  context.store.putQueue(key, { ...queue, nextSeq: seq + 1 });
  context.store.insertMessage(key, message, moved.body);
  context.index.addFree(queueKeyOf(command.project, command.queue), { seq, expiresMs: message.expiresMs, visibleMs: 0 });
  return { inserted: true };
}

export function applyGc(context: ShardContext, command: Command<'gc'>, nowMs: number): CommandResults['gc'] {
  const expired = context.index.expiredFree(nowMs, command.removalsMax);
  // Removed a queue at a time (the expired messages of one queue come together).
  for (let at = 0; at < expired.length; ) {
    const indexKey = expired[at]!.queueKey;
    const { project, queue } = queueOfKey(indexKey);
    const key = queueKey(context, project, queue);
    const messages: StoredMessage[] = [];
    for (; at < expired.length && expired[at]!.queueKey === indexKey; at++) {
      const { seq } = expired[at]!;
      const message = context.store.getMessage(key, seq);
      assert(message !== undefined, () => `expired seq ${seq} has no stored message`);
      messages.push(message);
    }
    removeStoredMessages(context, key, messages);
  }
  return { removed: expired.length };
}
