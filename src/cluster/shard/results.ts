/**
 * What applying each command returns to its proposer. Plain msgpack-safe data, so a
 * result can cross a forwarding hop unchanged.
 */
import type { ClaimRecord, DeleteMessageOutcome, MessageRecord } from '../records.js';
import type { ShardCommand } from './commands.js';
import type { QueuePlacement } from './queue-placement.js';
import type { SubscriptionResult } from './subscription-writes.js';

export interface CommandResults {
  createQueue: { readonly created: boolean };
  setMetadata: { readonly found: boolean };
  deleteQueue: { readonly removed: number };
  purge: { readonly removed: number };
  /** The name's placement (existing or new); null when the queue already exists in this shard. */
  place: { readonly placed: QueuePlacement | null };
  /** `isMetadataStale`: the queue no longer holds the post's expectedMetadata; nothing was applied. */
  post: { readonly seqs: readonly number[]; readonly isMetadataStale?: true };
  deleteMessages: { readonly deleted: boolean };
  pop: { readonly messages: readonly MessageRecord[] };
  deleteMessage: { readonly outcome: DeleteMessageOutcome };
  /** `outboxSeqs`: dead-letter moves this claim queued in the shard's outbox. */
  claim: { readonly claim: ClaimRecord | null; readonly outboxSeqs: readonly number[] };
  renew: { readonly renewed: boolean };
  release: { readonly released: boolean };
  dlqInsert: { readonly inserted: boolean };
  gc: { readonly removed: number };
  outboxAck: { readonly acked: boolean };
  subscription: SubscriptionResult;
  /** Each batched command's result, in the batch's order (a `moved` answer for one bound elsewhere). */
  batch: { readonly results: readonly AnyCommandResult[] };
}

export type ResultOf<C extends ShardCommand> = CommandResults[C['type']];
export type AnyCommandResult = CommandResults[keyof CommandResults];
