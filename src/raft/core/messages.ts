/**
 * The messages Raft replicas exchange, in the shape the core reads and writes.
 *
 * One flat record type (like etcd's raftpb.Message) keeps encoding trivial: every field
 * is plain data that msgpack carries as is. A field a type does not use holds its zero
 * value. `Message` is a type alias, not an interface, so it is assignable to the
 * transports' `RaftMessage`.
 */
import type { Entry, LogIndex, NodeId, RaftMessage, ShardId, SnapshotMeta, Term } from '../types.js';

export const MessageType = {
  App: 1,
  AppResp: 2,
  Vote: 3,
  VoteResp: 4,
  PreVote: 5,
  PreVoteResp: 6,
  Heartbeat: 7,
  HeartbeatResp: 8,
  Snap: 9,
  SnapResp: 10,
  TimeoutNow: 11,
  ReadIndex: 12,
  ReadIndexResp: 13,
} as const;
export type MessageType = (typeof MessageType)[keyof typeof MessageType];

export const messageTypeNames: Readonly<Record<MessageType, string>> = {
  1: 'App',
  2: 'AppResp',
  3: 'Vote',
  4: 'VoteResp',
  5: 'PreVote',
  6: 'PreVoteResp',
  7: 'Heartbeat',
  8: 'HeartbeatResp',
  9: 'Snap',
  10: 'SnapResp',
  11: 'TimeoutNow',
  12: 'ReadIndex',
  13: 'ReadIndexResp',
};

/** One piece of a snapshot sent to a follower; the follower reassembles by offset. */
export type SnapshotChunk = {
  readonly meta: SnapshotMeta;
  readonly offset: number;
  readonly totalBytes: number;
  readonly data: Uint8Array;
};

export type Message = {
  readonly shardId: ShardId;
  readonly from: NodeId;
  readonly to: NodeId;
  readonly term: Term;
  readonly type: MessageType;
  /** App: term of `index`. Vote/PreVote: candidate's last term. AppResp reject: term at rejectHint. */
  readonly logTerm: Term;
  /** App: index preceding `entries`. Vote: candidate's last index. AppResp: last matched (or rejected) index. SnapResp/ReadIndexResp: snapshot / read index. */
  readonly index: LogIndex;
  readonly commit: LogIndex;
  readonly entries: readonly Entry[];
  readonly reject: boolean;
  /** AppResp reject: the follower's guess of the last index it may share. SnapResp: next byte offset it expects. */
  readonly rejectHint: number;
  /** ReadIndex request id (on Heartbeat/HeartbeatResp/ReadIndex*), or 'transfer' on a forced Vote. */
  readonly context: string;
  /** Heartbeat: the leader's tick count when it was sent (0 without read leases). HeartbeatResp: echoed (lease.ts). */
  readonly tick: number;
  readonly snapshot: SnapshotChunk | null;
  /**
   * App: set (only then present) when the leader already knows the follower holds every
   * entry it sent and sends none, so accepting it answers nothing the leader would count:
   * the follower stays silent. A rejection is still answered. Absent from peers that
   * predate it, which then get the answer as before (and old followers ignore it).
   */
  readonly skipAnswer?: boolean;
};

export const transferContext = 'transfer';

/** Reinterprets a transport message as a core message. Peers run the same core, so the fields are trusted. */
export function asCoreMessage(message: RaftMessage): Message {
  return message as unknown as Message;
}

export function isLocalResponse(type: MessageType): boolean {
  return type === MessageType.VoteResp || type === MessageType.PreVoteResp;
}
