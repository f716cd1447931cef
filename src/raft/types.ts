/**
 * The Raft module's vocabulary and the interfaces it consumes.
 *
 * Everything here is plain data so it can cross the node loop, the stores (which may
 * `import type` this file and nothing else of raft) and the transports (msgpack). The
 * interfaces belong to raft as the consumer: `log`'s stores and the gRPC/memory
 * transports satisfy them structurally.
 */
import type { LogIndex, NodeId, ShardId, Term } from '../common/ids.js';

export type { LogIndex, NodeId, ShardId, Term } from '../common/ids.js';

export const EntryType = {
  /** Carries an opaque state-machine command (or nothing: the no-op a new leader appends). */
  Normal: 0,
  /** Carries an encoded membership change. */
  ConfChange: 1,
} as const;
export type EntryType = (typeof EntryType)[keyof typeof EntryType];

export interface Entry {
  readonly term: Term;
  readonly index: LogIndex;
  readonly type: EntryType;
  /** Opaque to raft. Empty for the leader's no-op. */
  readonly data: Uint8Array;
}

/** What must be on disk before any message that depends on it leaves the node. */
export interface HardState {
  readonly term: Term;
  /** 0 when this node has not voted in `term`. */
  readonly vote: NodeId | 0;
  readonly commit: LogIndex;
}

/** Cluster membership of one group. `votersOutgoing` is non-empty only in a joint configuration. */
export interface ConfState {
  readonly voters: readonly NodeId[];
  readonly learners: readonly NodeId[];
  readonly votersOutgoing: readonly NodeId[];
}

export interface SnapshotMeta {
  readonly index: LogIndex;
  readonly term: Term;
  readonly conf: ConfState;
}

export interface Snapshot {
  readonly meta: SnapshotMeta;
  /** State-machine image produced by `StateMachine.snapshot()`. */
  readonly data: Uint8Array;
}

/**
 * A message between the replicas of one group. The core defines the `type`-specific
 * fields; transports only route on `shardId`/`to` and encode the object as is.
 */
export interface RaftMessage {
  readonly shardId: ShardId;
  readonly from: NodeId;
  readonly to: NodeId;
  readonly term: Term;
  readonly type: number;
  readonly [field: string]: unknown;
}

/** Durable storage of one node's Raft state, for all of its groups. */
export interface RaftLogStore {
  /** Loads what a group needs to restart: hard state, snapshot metadata, first and last index. */
  load(shardId: ShardId): RaftGroupState;
  /** Entries in [lo, hi), at most `bytesMax` bytes (always at least one entry if any exists). */
  entries(shardId: ShardId, range: { lo: LogIndex; hi: LogIndex; bytesMax?: number }): Entry[];
  term(shardId: ShardId, index: LogIndex): Term | undefined;
  /**
   * Appends `entries` (replacing any suffix starting at entries[0].index) and writes
   * `hardState` in one write; resolves only once it is durable on disk (flushed).
   */
  persist(shardId: ShardId, batch: { entries: readonly Entry[]; hardState?: HardState }): Promise<void>;
  /** Stores a snapshot (durably) and discards the log it covers. */
  persistSnapshot(shardId: ShardId, snapshot: Snapshot): Promise<void>;
  /** Discards entries up to and including `index` (they are covered by a snapshot). */
  compact(shardId: ShardId, index: LogIndex): Promise<void>;
  snapshot(shardId: ShardId): Snapshot | undefined;
}

export interface RaftGroupState {
  readonly hardState: HardState;
  readonly snapshotMeta: SnapshotMeta | undefined;
  /** Index of the first entry still in the log (snapshot index + 1 when compacted). */
  readonly firstIndex: LogIndex;
  readonly lastIndex: LogIndex;
  /**
   * Set when stored entries (or the snapshot) failed checksum verification or were
   * truncated: they were dropped from `fromIndex` on. The group must neither vote nor
   * campaign until its log again reaches `lastIndexSeen`, repaired from its peers, or it
   * could help elect a leader that lacks entries this replica had acknowledged.
   */
  readonly damage?: { readonly fromIndex: LogIndex; readonly lastIndexSeen: LogIndex };
}

/** Carries messages between nodes; delivery is best effort (raft retries). */
export interface RaftTransport {
  send(messages: readonly RaftMessage[]): void;
  /** Registers the receiver of every message addressed to this node. */
  onMessage(handler: (message: RaftMessage) => void): void;
  close(): Promise<void>;
}

/** The replicated state machine of one group (for zaqar-ts: a shard's queue FSM). */
export interface StateMachine {
  /**
   * Applies committed entries in order. Must be deterministic: no clock, no randomness.
   * Receives every committed entry, including a new leader's empty no-op and
   * ConfChange entries: skip those (type !== Normal or empty data) but count them as
   * applied, so `snapshot().index` is the last index passed here.
   */
  apply(entries: readonly Entry[]): void;
  /** Image of the state as of the last applied entry. */
  snapshot(): { index: LogIndex; data: Uint8Array };
  restore(snapshot: Snapshot): void;
}
