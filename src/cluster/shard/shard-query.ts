/**
 * Every read the ShardedBroker makes of a shard, as plain data (ShardQuery), and how a
 * replica answers one from its applied state (answerShardQuery). A node that holds no
 * replica of a shard sends the query to one that does (forward-protocol.ts); queries
 * and answers are msgpack-safe records so they cross the gRPC hop unchanged.
 *
 * Time: `nowMs` is the asking node's clock (ShardReader judges expiry and claims against
 * the reader's clock), so an answer does not depend on which replica served it.
 *
 * Invariant: answerShardQuery runs only after the shard's read barrier on the serving
 * replica (ShardReads.query), so every answer reflects every acknowledged write.
 */
import type { ClaimRecord, MessageRecord, QueueMetadata, QueueRecord, QueueRef, QueueStatsRecord } from '../records.js';
import type { SubscriptionRecord } from '../subscription-records.js';
import type { QueueFsm } from './queue-fsm.js';
import type { MovedAnswer } from './queue-placement.js';
import type { ShardLog } from './shard-log.js';
import { type MessageListing, type MessagePage, type QueueListing, ShardReader } from './shard-reads.js';
import { liveSubscriptions } from './subscription-reads.js';

export type ShardQuery =
  | { readonly kind: 'metadata'; readonly ref: QueueRef }
  | { readonly kind: 'stats'; readonly ref: QueueRef; readonly nowMs: number }
  | { readonly kind: 'listMessages'; readonly ref: QueueRef; readonly listing: MessageListing; readonly nowMs: number }
  /** A listing with the delay-queue rule applied (ShardReader.messagePage); answered by newer versions only (peer-capabilities.ts). */
  | { readonly kind: 'messagePage'; readonly ref: QueueRef; readonly listing: MessageListing; readonly nowMs: number }
  | { readonly kind: 'getMessages'; readonly ref: QueueRef; readonly ids: readonly string[]; readonly nowMs: number }
  | { readonly kind: 'getClaim'; readonly ref: QueueRef; readonly claimId: string; readonly nowMs: number }
  | { readonly kind: 'listQueues'; readonly project: string; readonly listing: QueueListing }
  | { readonly kind: 'subscriptions'; readonly ref: QueueRef; readonly nowMs: number }
  /** A dead-letter outbox line of the shard (null once acknowledged). */
  | { readonly kind: 'outbox'; readonly seq: number };

interface Answers {
  readonly metadata: QueueMetadata | null;
  readonly stats: QueueStatsRecord;
  readonly listMessages: MessageRecord[];
  readonly messagePage: MessagePage;
  readonly getMessages: MessageRecord[];
  readonly getClaim: ClaimRecord | null;
  readonly listQueues: { queues: QueueRecord[]; count: number };
  readonly subscriptions: SubscriptionRecord[];
  readonly outbox: Uint8Array | null;
}

export type ShardQueryKind = ShardQuery['kind'];
export type AnswerOf<Q extends ShardQuery> = Answers[Q['kind']];

export const shardQueryKinds: readonly ShardQueryKind[] = ['metadata', 'stats', 'listMessages', 'messagePage', 'getMessages', 'getClaim', 'listQueues', 'subscriptions', 'outbox'];

/** How the broker reads one shard: linearizable answers, wherever the shard's replicas are. */
export interface ShardReads {
  query<Q extends ShardQuery>(query: Q): Promise<AnswerOf<Q>>;
}

/**
 * Answers `query` from this replica's applied state (call after its read barrier). A
 * query of a name bound to another shard is answered `moved` (queue-placement.ts); the
 * broker looks for that before it reads the answer.
 */
export async function answerShardQuery<Q extends ShardQuery>(fsm: QueueFsm, query: Q): Promise<AnswerOf<Q>> {
  const placement = 'ref' in query ? fsm.placementOf(query.ref.project, query.ref.queue) : undefined;
  if (placement !== undefined) return { moved: placement } as MovedAnswer as unknown as AnswerOf<Q>;
  return (await answerAny(fsm, query)) as AnswerOf<Q>;
}

async function answerAny(fsm: QueueFsm, query: ShardQuery): Promise<Answers[ShardQueryKind]> {
  const reader = new ShardReader(fsm);
  switch (query.kind) {
    case 'metadata':
      return reader.getMetadata(query.ref.project, query.ref.queue);
    case 'stats':
      return reader.stats(query.ref.project, query.ref.queue, query.nowMs);
    case 'listMessages':
      return reader.listMessages(query.ref.project, query.ref.queue, { ...query.listing, nowMs: query.nowMs });
    case 'messagePage':
      return reader.messagePage(query.ref.project, query.ref.queue, { ...query.listing, nowMs: query.nowMs });
    case 'getMessages':
      return reader.getMessages(query.ref.project, query.ref.queue, { ids: query.ids, nowMs: query.nowMs });
    case 'getClaim':
      return reader.getClaim(query.ref.project, query.ref.queue, { claimId: query.claimId, nowMs: query.nowMs });
    case 'listQueues':
      return reader.listQueues(query.project, query.listing);
    case 'subscriptions':
      return liveSubscriptions(fsm, query.ref, query.nowMs);
    case 'outbox':
      await fsm.store.committed();
      return fsm.store.getOutbox(fsm.shardId, query.seq) ?? null;
  }
}

/** Reads of a shard held here: the log's read barrier, then the local applied state. */
export function localShardReads(log: ShardLog, fsm: QueueFsm): ShardReads {
  return {
    async query<Q extends ShardQuery>(query: Q): Promise<AnswerOf<Q>> {
      await log.readBarrier();
      return answerShardQuery(fsm, query);
    },
  };
}
