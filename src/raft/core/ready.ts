/**
 * The core's output and its results. A `Ready` is everything the node loop must do, in
 * this order: install `snapshot` (persist, restore the state machine), persist `entries`
 * and `hardState` durably if `mustSync`, then send `messages`, then apply `committed`,
 * then `advance(ready)`. Nothing in a Ready depends on the loop having done the next one.
 *
 * With asynchronous storage writes (`RaftConfig.isAsyncStorageWrites`) the loop may
 * instead: send `messages` at once (they depend on nothing this node has not made
 * durable already), apply `committed` at once (those entries are durable here already)
 * and report it with `applied(ready)`, hand `snapshot`/`entries`/`hardState` to storage,
 * and take further Readys meanwhile; once that persist is durable, and every persist
 * handed over before it is too, report `persisted(ready)` and only then send
 * `messagesAfterPersist`. A Ready carrying a snapshot is handled alone: earlier persists
 * completed first, and nothing else is taken until it is persisted and reported.
 */
import type { Entry, HardState, LogIndex, NodeId, Snapshot, Term } from '../types.js';
import type { Message } from './messages.js';

export type Role = 'follower' | 'pre_candidate' | 'candidate' | 'leader';

export interface SoftState {
  readonly leader: NodeId | 0;
  readonly role: Role;
}

/** A ReadIndex answer: reads for `context` are linearizable once `index` is applied locally. */
export interface ReadState {
  readonly index: LogIndex;
  readonly context: string;
}

export interface Ready {
  /** Set when leader or role changed since the previous Ready. */
  readonly softState: SoftState | undefined;
  /**
   * Set when term, vote or commit changed since the previous Ready (or, in a Ready that
   * must sync, since the last written hard state): persist with `entries`.
   */
  readonly hardState: HardState | undefined;
  /**
   * Whether `entries` and `hardState` must be written durably before `messages` leave
   * and `committed` is applied (etcd's MustSync): a snapshot, entries, or a term or
   * vote change.
   * When false the Ready changed at most the commit index, which needs no write: the
   * commit index is knowledge a restart may lose and relearn from the leader, and the
   * entries it covers are durable here already. The next Ready that must sync carries
   * the newest hard state.
   */
  readonly mustSync: boolean;
  /** A leader's snapshot to persist and restore into the state machine before anything else. */
  readonly snapshot: Snapshot | undefined;
  readonly entries: readonly Entry[];
  readonly messages: readonly Message[];
  /**
   * Asynchronous storage writes only (empty otherwise): messages that vouch for this
   * Ready's persist (append and vote answers), or that follow a term or vote change not
   * yet durable; sent after `persisted(ready)`.
   */
  readonly messagesAfterPersist: readonly Message[];
  readonly committed: readonly Entry[];
  readonly readStates: readonly ReadState[];
}

export type ProposeResult =
  | { readonly ok: true; readonly index: LogIndex; readonly term: Term }
  | { readonly ok: false; readonly reason: 'not_leader'; readonly leaderHint: NodeId | undefined }
  | { readonly ok: false; readonly reason: 'overloaded' };

export type ConfChangeResult =
  | ProposeResult
  | { readonly ok: false; readonly reason: 'conf_change_rejected'; readonly detail: string };

export type ReadIndexResult =
  | { readonly ok: true }
  | { readonly ok: false; readonly reason: 'not_leader'; readonly leaderHint: NodeId | undefined }
  | { readonly ok: false; readonly reason: 'overloaded' };

export type TransferResult =
  | { readonly ok: true }
  | { readonly ok: false; readonly reason: 'not_leader'; readonly leaderHint: NodeId | undefined }
  | { readonly ok: false; readonly reason: 'invalid_target'; readonly detail: string };

/** What a loop writes for `ready` (its snapshot aside) before its messages leave; undefined when nothing. */
export function requiredWrite(ready: Ready): { entries: readonly Entry[]; hardState?: HardState } | undefined {
  if (!ready.mustSync || (ready.entries.length === 0 && ready.hardState === undefined)) return undefined;
  return ready.hardState === undefined ? { entries: ready.entries } : { entries: ready.entries, hardState: ready.hardState };
}
