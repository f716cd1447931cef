/**
 * Durable state of the shards' queues: queue records, message records, message bodies,
 * the id → seq map, claim records, each shard's applied index, each shard's outbox, and each shard's
 * window of recently applied commands (deduplication, see shard/applied-window.ts).
 *
 * Only the shard state machine writes here, and only while applying a command. Writes
 * are synchronous calls that take effect at once for point reads (`getQueue`,
 * `getMessage`, `getBody`, `seqOfId`, `getShardMeta`) and reach disk in the background:
 * everything written in one event-loop turn lands in one transaction, so the shard's
 * applied index (in `ShardMeta`) always matches the state stored with it. Range reads
 * (`queues`, `messages`, `allQueues`, `claims`, `outbox`, `applied`) see committed state only: callers that
 * need the latest applied state await `committed()` first.
 *
 * Bodies are opaque bytes (encoded by the cluster layer), read apart from the message
 * records (`getBody`), so rebuilding indexes at start never decodes a body.
 */
import type { ShardId } from '../common/ids.js';

/** Addresses one queue inside one shard. */
export interface QueueKey {
  readonly shardId: ShardId;
  readonly project: string;
  readonly queue: string;
}

export interface StoredQueue {
  readonly metadata: Record<string, unknown>;
  /** The seq the next posted message gets; starts at 1. */
  readonly nextSeq: number;
  readonly createdMs: number;
  /** The queue's subscriptions in creation (id) order; absent: none. Bounded by the api. */
  readonly subscriptions?: readonly StoredSubscription[];
  /**
   * The queue was deleted and the record is kept only for its subscriptions (F029): not
   * a queue for any read; absent: a live queue (cluster/shard/queue-existence.ts).
   */
  readonly isDeleted?: boolean;
}

/** One notification subscription of a queue, with its delivery cursor. */
export interface StoredSubscription {
  readonly id: string;
  readonly subscriber: string;
  readonly options: Record<string, unknown>;
  readonly ttlSeconds: number;
  readonly createdMs: number;
  /** Gone at and after this instant (creation, or the last update that set a ttl, + ttl). */
  readonly expiresMs: number;
  readonly confirmed: boolean;
  /** Messages with seq <= this are notified (delivered or given up on). */
  readonly notifiedSeq: number;
  /** A (un)subscribe confirmation document owed to the subscriber, until sent. */
  readonly pendingNotice?: { readonly kind: 'subscribe' | 'unsubscribe'; readonly requestedMs: number };
}

export interface StoredMessage {
  readonly id: string;
  readonly seq: number;
  /** Normalised Client-ID of the poster (echo suppression). */
  readonly clientId: string;
  readonly createdMs: number;
  /** Lifetime reported to clients (claims can change it). */
  readonly ttlSeconds: number;
  /** The message is gone at and after this instant. */
  readonly expiresMs: number;
  /** End of the delay: the message is delayed while now < visibleMs. */
  readonly visibleMs: number;
  /**
   * Claim fields as stores written before claim records (StoredClaim) kept them: the last
   * claim stamped on the message, active only while now < claimExpiresMs. Written as null
   * and 0 now, except in shard images, which carry each message's active claim here so
   * that replicas of either layout can install them.
   */
  readonly claimId: string | null;
  readonly claimExpiresMs: number;
  /** When the claim was created or last renewed. */
  readonly claimUpdatedMs: number;
  readonly claimTtlSeconds: number;
  readonly claimCount: number;
  readonly checksum: string | null;
}

/**
 * One claim of a queue: a single record however many messages it holds, so claiming,
 * renewing and releasing write O(1) records. `seqs` are the messages it took; one that
 * was deleted since is no longer stored, and the record is not rewritten for it.
 */
export interface StoredClaim {
  readonly id: string;
  readonly expiresMs: number;
  /** When the claim was created or last renewed. */
  readonly updatedMs: number;
  readonly ttlSeconds: number;
  /**
   * The grace of the claim's §5.2 lifetime extension while the extension is kept here and
   * not in its messages' records (cluster/shard/claim-extension.ts). Absent in records
   * written before it: their messages carry their extension themselves.
   */
  readonly graceSeconds?: number;
  /** Ascending. */
  readonly seqs: readonly number[];
}

/** Per-shard bookkeeping, written with every applied batch. */
export interface ShardMeta {
  readonly appliedIndex: number;
  /** Latest command time applied (the state machine's clock never goes back). */
  readonly lastNowMs: number;
  readonly nextOutboxSeq: number;
  /** Per source shard, the highest outbox seq already received (idempotent delivery). */
  readonly inbox: Readonly<Record<string, number>>;
}

export interface OutboxRecord {
  readonly seq: number;
  readonly data: Uint8Array;
}

/** One record of a shard's dedup window (an apply batch's commands, or one command), keyed by a log index. */
export interface AppliedRecord {
  readonly index: number;
  /** Opaque to the store (the FSM encodes the command's dedup key and first result). */
  readonly data: Uint8Array;
}

export interface QueueStore {
  getQueue(key: QueueKey): StoredQueue | undefined;
  putQueue(key: QueueKey, queue: StoredQueue): void;
  removeQueue(key: QueueKey): void;
  /** Committed queues of one project in one shard, by name, after `afterName` when given. */
  queues(shardId: ShardId, project: string, afterName?: string): Iterable<{ name: string; queue: StoredQueue }>;
  /** Every committed queue of a shard (index rebuild). */
  allQueues(shardId: ShardId): Iterable<{ project: string; name: string; queue: StoredQueue }>;

  getMessage(key: QueueKey, seq: number): StoredMessage | undefined;
  getBody(key: QueueKey, seq: number): Uint8Array | undefined;
  /** A message's record and body in one read (what a claim answers). */
  getMessageWithBody(key: QueueKey, seq: number): { message: StoredMessage; body: Uint8Array } | undefined;
  seqOfId(key: QueueKey, id: string): number | undefined;
  /** Stores a new message with its body and id mapping. */
  insertMessage(key: QueueKey, message: StoredMessage, body: Uint8Array): void;
  /**
   * Stores a new message given as its entry (message-entry.ts: the record and body a post's
   * proposer encoded once), with its id mapping; `id` undefined: the entry's id is derived
   * from `seq` (common/ids.ts) and needs none. The store may keep `entry` itself, a view
   * into a decoded command, instead of a copy: nothing changes those bytes afterwards.
   */
  insertMessageEntry(key: QueueKey, seq: number, id: string | undefined, entry: Uint8Array): void;
  /**
   * Stores new messages at consecutive seqs from `firstSeq`, given as their entries back
   * to back (`lengths[i]` bytes each: a packed post's, message-entry.ts `PackedEntries`),
   * each with the id derived from its seq. The store may keep them as one record.
   */
  insertMessageRun(key: QueueKey, firstSeq: number, entries: Uint8Array, lengths: readonly number[]): void;
  /** Replaces the record of an existing message (the body and id do not change). */
  updateMessage(key: QueueKey, message: StoredMessage): void;
  /** Removes a message with its body and id mapping (its seq and id are all it needs). */
  removeMessage(key: QueueKey, message: Pick<StoredMessage, 'id' | 'seq'>): void;
  /** Removes messages of one queue as `removeMessage` does, in one go (a store may keep several in one record). */
  removeMessages(key: QueueKey, messages: readonly Pick<StoredMessage, 'id' | 'seq'>[]): void;
  /** Committed messages of a queue in seq order, seq > afterSeq. */
  messages(key: QueueKey, afterSeq: number): Iterable<StoredMessage>;

  putClaim(key: QueueKey, claim: StoredClaim): void;
  removeClaim(key: QueueKey, claimId: string): void;
  /** Every committed claim of a shard (index rebuild, shard image). */
  claims(shardId: ShardId): Iterable<{ project: string; queue: string; claim: StoredClaim }>;

  getShardMeta(shardId: ShardId): ShardMeta | undefined;
  putShardMeta(shardId: ShardId, meta: ShardMeta): void;

  getOutbox(shardId: ShardId, seq: number): Uint8Array | undefined;
  putOutbox(shardId: ShardId, record: OutboxRecord): void;
  removeOutbox(shardId: ShardId, seq: number): void;
  /** Committed outbox entries of a shard in seq order. */
  outbox(shardId: ShardId): Iterable<OutboxRecord>;

  getApplied(shardId: ShardId, index: number): Uint8Array | undefined;
  putApplied(shardId: ShardId, record: AppliedRecord): void;
  removeApplied(shardId: ShardId, index: number): void;
  /** Committed dedup-window records of a shard in index order. */
  applied(shardId: ShardId): Iterable<AppliedRecord>;

  /** Resolves once every write issued so far is committed (visible to range reads). */
  committed(): Promise<void>;
  /** Resolves once every write issued so far is on disk. */
  flushed(): Promise<void>;
}
