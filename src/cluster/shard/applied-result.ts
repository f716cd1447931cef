/**
 * What the dedup window (applied-window.ts) stores of a command's first result, and how
 * a repeat's answer is rebuilt from it. Most results are small and stored whole. A
 * claim's result carries its messages' bodies, and every claim writes a window record,
 * so a claim stores only what names its messages (queue, claim id, ttl, time, and each
 * message's seq and id) and a repeat reads the messages back from the current state.
 * Pop's result is stored whole: its messages are gone from the state (and pop is rare).
 *
 * What a repeated claim answers: the claim as first made (id, ttl, time) with those of
 * its messages that are, at the FSM's current time, still stored under the same seq and
 * id and still held by this claim (claim id matching and not expired), read as they are
 * now (a renew since then shows). Messages deleted, released, expired or claimed by
 * another claim meanwhile are left out; when none remain the answer is "nothing
 * claimed" (claim null). It depends only on replicated state, so every replica answers
 * the same, and it never names a message the first claim did not hold.
 *
 * Old records (before this format) hold every result whole, under `result`; they are
 * read as such, so a node restarting on them or restoring an older image answers the
 * same as before.
 */
import { assert } from '../../common/assert.js';
import type { ShardId } from '../../common/ids.js';
import type { QueueStore } from '../../log/queue-store.js';
import type { ClaimRecord, MessageRecord } from '../records.js';
import type { ShardCommand } from './commands.js';
import { effectiveMessage } from './claim-extension.js';
import { type ClaimIndex, queueKeyOf } from './claim-index.js';
import { readMessageRecord } from './message-view.js';
import type { AnyCommandResult, CommandResults } from './results.js';

/** A claim's first result, by reference: enough to find its messages again. */
export interface ClaimReference {
  readonly project: string;
  readonly queue: string;
  readonly id: string;
  readonly ttlSeconds: number;
  readonly updatedMs: number;
  /** [seq, message id] of each claimed message, in the first answer's order. */
  readonly held: readonly (readonly [number, string])[];
}

/** A result as the window stores it: whole, or (claims) by reference. */
export type StoredResult = { readonly result: AnyCommandResult } | { readonly claimRef: ClaimReference | null; readonly outboxSeqs: readonly number[] };

/** The form of `result` (the first result of `command`) the window stores. */
export function storedResultOf(command: ShardCommand, result: AnyCommandResult): StoredResult {
  if (command.type !== 'claim') return { result };
  const { claim, outboxSeqs } = result as CommandResults['claim'];
  if (claim === null) return { claimRef: null, outboxSeqs };
  const held = claim.messages.map((m): [number, string] => [m.seq, m.id]);
  return { claimRef: { project: command.project, queue: command.queue, id: claim.id, ttlSeconds: claim.ttlSeconds, updatedMs: claim.updatedMs, held }, outboxSeqs };
}

/** The answer to a repeat of the command whose first result was stored as `stored`, at FSM time `nowMs`. */
export interface RepeatContext {
  readonly store: QueueStore;
  readonly index: ClaimIndex;
  readonly shardId: ShardId;
  readonly nowMs: number;
}

export function repeatResultOf(stored: StoredResult, options: RepeatContext): AnyCommandResult {
  if ('result' in stored) return stored.result;
  if (stored.claimRef === null) return { claim: null, outboxSeqs: stored.outboxSeqs };
  return { claim: rebuildClaim(stored.claimRef, options), outboxSeqs: stored.outboxSeqs };
}

function rebuildClaim(ref: ClaimReference, options: RepeatContext): ClaimRecord | null {
  const key = { shardId: options.shardId, project: ref.project, queue: ref.queue };
  const indexKey = queueKeyOf(ref.project, ref.queue);
  const messages: MessageRecord[] = [];
  for (const [seq, id] of ref.held) {
    if (options.index.activeHolder(indexKey, seq, options.nowMs)?.id !== ref.id) continue;
    const stored = options.store.getMessage(key, seq);
    if (stored === undefined || stored.id !== id) continue;
    const message = effectiveMessage(options.index, indexKey, stored);
    messages.push(readMessageRecord(options.store, key, message, ref.id));
  }
  if (messages.length === 0) return null;
  return { id: ref.id, ttlSeconds: ref.ttlSeconds, updatedMs: ref.updatedMs, messages };
}

/** Checks the shape of a decoded stored result (either format). */
export function assertStoredResult(stored: object): asserts stored is StoredResult {
  assert('result' in stored || 'claimRef' in stored, 'applied window record holds no result');
}
