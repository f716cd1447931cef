/**
 * The core's output and its results. A `Ready` is everything the node loop must do, in
 * this order: install `snapshot` (persist, restore the state machine), persist `entries`
 * and `hardState` durably, then send `messages`, then apply `committed`, then
 * `advance(ready)`. Nothing in a Ready depends on the loop having done the next one.
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
  /** Set when term, vote or commit changed: persist with `entries`. */
  readonly hardState: HardState | undefined;
  /** A leader's snapshot to persist and restore into the state machine before anything else. */
  readonly snapshot: Snapshot | undefined;
  readonly entries: readonly Entry[];
  readonly messages: readonly Message[];
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
