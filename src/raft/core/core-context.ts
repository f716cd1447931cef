/**
 * What RaftCore shares with its helpers (leader and follower replication, ReadIndex
 * tracking). They depend on this interface, not on RaftCore, so the core's files form
 * no import cycle.
 */
import type { ConfState, NodeId, Term } from '../types.js';
import type { RaftConfig } from './config.js';
import type { Message } from './messages.js';
import type { LeaderLease } from './lease.js';
import type { Progress } from './progress.js';
import type { RaftLog } from './raft-log.js';
import type { ReadState } from './ready.js';

/** A message to send; unset fields take their zero value, `term` the current term. */
export type OutgoingMessage = Partial<Message> & Pick<Message, 'to' | 'type'>;

export interface CoreContext {
  readonly id: NodeId;
  readonly config: RaftConfig;
  readonly log: RaftLog;
  readonly term: Term;
  readonly conf: ConfState;
  readonly progress: Map<NodeId, Progress>;
  readonly leadTransferee: NodeId | 0;
  electionElapsed: number;
  /** Ticks since this replica started (the read lease's clock). */
  readonly tickCount: number;
  lead: NodeId | 0;
  readonly lease: Pick<LeaderLease, 'isOn' | 'acknowledge'>;
  /** Leader: ReadIndex may be answered without a heartbeat round. */
  holdsLease(): boolean;
  readonly readIndexes: { request(context: string, requester: NodeId): boolean; acknowledge(context: string, from: NodeId): void };
  readonly replication: { bcastHeartbeat(context: string): void };
  send(fields: OutgoingMessage): void;
  /** Leader: a quorum acknowledged more; returns whether the commit index moved. */
  maybeCommit(): boolean;
  addReadState(read: ReadState): void;
  /** TimeoutNow from the leader: campaign at once, past the other replicas' lease. */
  campaignTransfer(): void;
  /** A leader's snapshot replaced the log: its configuration replaces ours. */
  restoreConf(conf: ConfState): void;
}
