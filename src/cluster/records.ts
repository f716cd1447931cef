/**
 * What the cluster layer hands back to the api: plain records of queue state as of the
 * moment the operation ran on the queue's shard. They carry timestamps, never ages: the
 * api renders ages with its own clock. Every record is msgpack-safe so a forwarded
 * operation's result crosses the gRPC hop unchanged.
 */

/** Addresses one queue: queues are scoped by project. */
export interface QueueRef {
  readonly project: string;
  readonly queue: string;
}

/** Only the queue's name: the api's refs may carry more fields, which must not cross a forward. */
export function refOf(ref: QueueRef): QueueRef {
  return { project: ref.project, queue: ref.queue };
}

export type QueueMetadata = Record<string, unknown>;

export interface QueueRecord {
  readonly name: string;
  /** Present when the listing asked for details: the stored metadata, no defaults added. */
  readonly metadata?: QueueMetadata;
}

export interface MessageRecord {
  readonly id: string;
  /** The message's marker: per-queue sequence number, assigned in post order. */
  readonly seq: number;
  /**
   * The body: as stored, its msgpack bytes (shard/body-codec.ts, a Uint8Array), decoded only
   * by a reply that needs JSON, also when it came over a forwarding hop; decoded already (any
   * JSON value, never a Uint8Array) when a node of an earlier version served that hop
   * (forward-protocol.ts `storedBodies`, shard/message-view.ts `withDecodedBodies`).
   */
  readonly body: unknown;
  /** Current lifetime in seconds (claims can extend it), counted from `createdMs`. */
  readonly ttlSeconds: number;
  readonly createdMs: number;
  /** The claim holding the message, only while that claim is active. */
  readonly claimId: string | null;
  readonly claimCount: number;
  /** `MD5:<hex>` when checksums are enabled and the body is not null. */
  readonly checksum?: string;
}

export interface ClaimRecord {
  readonly id: string;
  readonly ttlSeconds: number;
  /** When the claim was created or last renewed. */
  readonly updatedMs: number;
  readonly messages: readonly MessageRecord[];
}

export interface QueueStatsRecord {
  readonly claimed: number;
  readonly free: number;
  readonly total: number;
  /** Oldest and newest non-delayed messages; absent when there is none. */
  readonly oldest?: { readonly id: string; readonly createdMs: number };
  readonly newest?: { readonly id: string; readonly createdMs: number };
}

export interface NewMessage {
  readonly body: unknown;
  /** `body` as MessagePack bytes that decode to it (plain maps, string keys), when the request carried them. */
  readonly encodedBody?: Uint8Array;
  /** Already resolved by the api from the request, queue metadata and config. */
  readonly ttlSeconds: number;
  readonly delaySeconds: number;
}

/** Outcome of deleting one message, mapped by the api to 204/400/403 (spec §7.6). */
export type DeleteMessageOutcome =
  | 'deleted'
  /** The message or queue does not exist (204). */
  | 'missing'
  /** Under an active claim and no or another claim id was given (403). */
  | 'claimed'
  /** A claim id was given but the message is not under that active claim and not under any (400). */
  | 'not_claimed';
