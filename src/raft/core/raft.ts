/**
 * RaftCore: one replica of one Raft group as a deterministic state machine (after etcd's
 * raft). Inputs: `step` (a peer's message), `tick` (logical time), `propose*`,
 * `readIndex`, `transferLeadership`. Output: a `Ready` taken with `takeReady()` and
 * acknowledged with `advance(ready)` once the node loop did it. No I/O, timers or clocks;
 * election jitter comes from the injected Random, so one seed replays one run.
 *
 * Contract: exactly one Ready is outstanding at a time and nothing is stepped, ticked or
 * proposed while it is (the node loop queues inputs meanwhile); this keeps "entries in a
 * Ready" equal to "the unstable log".
 *
 * With asynchronous storage writes (`config.isAsyncStorageWrites`, etcd's
 * AsyncStorageWrites) the core is stepped and Readys are taken while earlier Readys are
 * still being persisted (see ready.ts for the loop's side). What makes that safe:
 * entries handed to storage are not handed out again (`LogUnstable.offsetInProgress`);
 * a leader counts its own log in the commit quorum only up to what `persisted` reported
 * durable, and a candidate its own vote only once the vote is durable; append and vote
 * answers, and every message sent while a term or vote is not yet durable, leave in
 * `messagesAfterPersist`; committed entries are handed out for applying only once they
 * are durable here (so applying them needs no further wait: the commit index itself is
 * knowledge a restart may lose and relearn, as in etcd). A Ready carrying a snapshot is
 * only taken when no persist is outstanding, and the core is not used until it is
 * reported persisted.
 *
 * Safety rules beyond the paper: pre-vote and check-quorum (a follower that heard from a
 * live leader within the election timeout ignores vote requests: the leader lease, which
 * also lets the leader answer reads without a heartbeat round, see lease.ts; a restarted
 * replica ignores them for an election timeout too, in case it answered the leader just
 * before); a replica whose store reported damage neither votes, pre-votes yes nor
 * campaigns until its log again reaches the last index it had seen.
 */
import { assert } from '../../common/assert.js';
import type { Random } from '../../common/random.js';
import type { ConfState, Entry, HardState, LogIndex, NodeId, RaftGroupState, RaftMessage, ShardId, SnapshotMeta, Term } from '../types.js';
import { EntryType } from '../types.js';
import type { RaftConfig } from './config.js';
import type { CoreContext, OutgoingMessage } from './core-context.js';
import { type ConfChange, confChangeProblem, decodeConfChange, encodeConfChange, applyConfChange } from './conf-change.js';
import { type Message, MessageType, asCoreMessage, transferContext } from './messages.js';
import { Progress } from './progress.js';
import { committedIndex, voteResult } from './quorum.js';
import { type LogReader, RaftLog } from './raft-log.js';
import { ReadIndexTracker } from './read-index.js';
import { LeaderLease } from './lease.js';
import type { ConfChangeResult, ProposeResult, ReadIndexResult, ReadState, Ready, Role, SoftState, TransferResult } from './ready.js';
import { DurableWrites } from './durable-writes.js';
import { FollowerReplication } from './follower-replication.js';
import { LeaderReplication } from './leader-replication.js';

export interface RaftCoreDeps {
  readonly reader: LogReader;
  /** What the store loaded for this group (hard state, bounds, snapshot meta, damage). */
  readonly state: RaftGroupState;
  readonly random: Random;
}

export interface ProgressStatus {
  readonly match: LogIndex;
  readonly next: LogIndex;
  readonly state: Progress['state'];
}

export interface RaftStatus {
  readonly id: NodeId;
  readonly shardId: ShardId;
  readonly term: Term;
  readonly vote: NodeId | 0;
  readonly role: Role;
  readonly leader: NodeId | 0;
  readonly commit: LogIndex;
  readonly applied: LogIndex;
  readonly lastIndex: LogIndex;
  readonly conf: ConfState;
  readonly isDamaged: boolean;
  /** Leader only: what each member has acknowledged. */
  readonly progress: ReadonlyMap<NodeId, ProgressStatus>;
}

export class RaftCore implements CoreContext {
  readonly id: NodeId;
  readonly shardId: ShardId;
  readonly log: RaftLog;
  term: Term;
  vote: NodeId | 0;
  lead: NodeId | 0 = 0;
  role: Role = 'follower';
  conf: ConfState;
  readonly progress = new Map<NodeId, Progress>();
  private readonly votes = new Map<NodeId, boolean>();
  electionElapsed = 0;
  /** Ticks since this replica started: the clock of the read lease. */
  tickCount = 0;
  /** Restarted with read leases on: ticks left during which vote requests are ignored (lease.ts). */
  private voteHoldTicks = 0;
  private heartbeatElapsed = 0;
  private randomizedElectionTimeout = 0;
  leadTransferee: NodeId | 0 = 0;
  private pendingConfIndex = 0 as LogIndex;
  private damageLastIndexSeen: LogIndex | undefined;
  private msgs: Message[] = [];
  private readStates: ReadState[] = [];
  /** Wire id of each read this replica asked for → the caller's context. */
  private readonly readContexts = new Map<string, string>();
  private readNonce: string | undefined;
  private readSeq = 0;
  readonly readIndexes: ReadIndexTracker;
  readonly lease: LeaderLease;
  readonly replication: LeaderReplication;
  private readonly follower: FollowerReplication;
  private prevHardState: HardState;
  /** The hard state of the last Ready that had to be written (what the store holds once it is durable). */
  private storedHardState: HardState;
  private prevSoftState: SoftState = { leader: 0, role: 'follower' };
  private outstanding: Ready | undefined;
  /** Asynchronous storage writes: what is outstanding, and the durable term and vote. */
  private readonly durable: DurableWrites;

  constructor(
    readonly config: RaftConfig,
    private readonly deps: RaftCoreDeps,
  ) {
    this.id = config.id;
    this.shardId = config.shardId;
    const { state } = deps;
    this.log = new RaftLog(deps.reader, state);
    this.term = state.hardState.term;
    this.vote = state.hardState.vote;
    this.conf = state.snapshotMeta?.conf ?? { voters: [...config.peers], learners: [], votersOutgoing: [] };
    assert(this.conf.votersOutgoing.length === 0, 'joint configurations are not supported');
    if (state.damage !== undefined && state.damage.lastIndexSeen > this.log.lastIndex()) {
      this.damageLastIndexSeen = state.damage.lastIndexSeen;
    }
    this.prevHardState = this.hardState();
    this.storedHardState = this.prevHardState;
    this.durable = new DurableWrites(this.prevHardState);
    this.log.isApplyingOnlyDurable = config.isAsyncStorageWrites;
    const isFresh = state.lastIndex === 0 && state.snapshotMeta === undefined && state.hardState.term === 0;
    if (isFresh && config.peers.length > 0) this.bootstrap(config.peers);
    this.lease = new LeaderLease(config, this.id);
    if (!isFresh && this.lease.isOn) this.voteHoldTicks = config.electionTicks;
    this.replication = new LeaderReplication(this);
    this.readIndexes = new ReadIndexTracker(this);
    this.follower = new FollowerReplication(this);
    this.becomeFollower(this.term, 0);
  }

  /**
   * A brand-new member of a new group writes the initial configuration as committed
   * entries of term 1, identical on every initial member (like etcd's bootstrap), so
   * members added later learn it from the log.
   */
  private bootstrap(peers: readonly NodeId[]): void {
    this.log.append(peers.map((nodeId, i) => ({ term: 1 as Term, index: (i + 1) as LogIndex, type: EntryType.ConfChange, data: encodeConfChange({ kind: 'add_voter', nodeId }) })));
    this.log.commitTo(peers.length as LogIndex);
    // Already in effect (conf starts as `peers`): nothing left to apply.
    this.log.appliedTo(peers.length as LogIndex);
    this.term = 1 as Term;
  }

  // ---- inputs -------------------------------------------------------------------

  tick(): void {
    this.assertIdle();
    this.tickCount++;
    if (this.voteHoldTicks > 0) this.voteHoldTicks--;
    if (this.role === 'leader') this.tickLeader();
    else this.tickElection();
  }

  /** Starts an election now (tests, and a follower told TimeoutNow). */
  campaign(): void {
    this.assertIdle();
    this.hup(false);
  }

  step(raw: RaftMessage): void {
    this.assertIdle();
    const m = asCoreMessage(raw);
    if (m.shardId !== this.shardId || m.to !== this.id) return;
    if (!this.checkTerm(m)) return;
    if (m.type === MessageType.Vote || m.type === MessageType.PreVote) {
      this.handleVoteRequest(m);
      return;
    }
    if (this.role === 'leader') this.replication.step(m);
    else if (this.role === 'follower') this.follower.step(m);
    else this.stepCandidate(m);
  }

  propose(data: Uint8Array): ProposeResult {
    return this.proposeBatch([data]);
  }

  /** Appends several commands as consecutive entries (one append message per follower). */
  proposeBatch(commands: readonly Uint8Array[]): ProposeResult {
    this.assertIdle();
    const refusal = this.proposalRefusal(commands.length);
    if (refusal !== undefined) return refusal;
    const first = (this.log.lastIndex() + 1) as LogIndex;
    this.appendEntries(commands.map((data, i) => ({ term: this.term, index: (first + i) as LogIndex, type: EntryType.Normal, data })));
    this.replication.bcastAppend();
    return { ok: true, index: first, term: this.term };
  }

  proposeConfChange(change: ConfChange): ConfChangeResult {
    this.assertIdle();
    const refusal = this.proposalRefusal(1);
    if (refusal !== undefined) return refusal;
    const problem = this.confChangeProblem(change);
    if (problem !== undefined) return { ok: false, reason: 'conf_change_rejected', detail: problem };
    const index = (this.log.lastIndex() + 1) as LogIndex;
    this.appendEntries([{ term: this.term, index, type: EntryType.ConfChange, data: encodeConfChange(change) }]);
    this.pendingConfIndex = index;
    this.replication.bcastAppend();
    return { ok: true, index, term: this.term };
  }

  /**
   * Asks for a read index; the answer arrives as a ReadState with the same context. On
   * the wire the request travels under an id unique to this run of this replica, so an
   * answer (or heartbeat acknowledgement) still in flight from before a restart can
   * never be taken for a new request that reuses the caller's context.
   */
  readIndex(context: string): ReadIndexResult {
    this.assertIdle();
    const lead = this.lead;
    if (this.role !== 'leader' && lead === 0) return { ok: false, reason: 'not_leader', leaderHint: undefined };
    const wireId = this.newReadId(context);
    if (this.role !== 'leader' && lead !== 0) {
      this.send({ to: lead, type: MessageType.ReadIndex, context: wireId });
      return { ok: true };
    }
    if (this.readIndexes.request(wireId, this.id)) return { ok: true };
    this.readContexts.delete(wireId);
    return { ok: false, reason: 'overloaded' };
  }

  private newReadId(context: string): string {
    if (this.readNonce === undefined) this.readNonce = this.deps.random.int(0x7fffffff).toString(36);
    const wireId = `${this.id}.${this.readNonce}.${++this.readSeq}`;
    this.readContexts.set(wireId, context);
    // Bounded: an answer that never came is forgotten once enough newer reads were asked.
    if (this.readContexts.size > 2 * this.config.readsPendingMax) {
      const oldest = this.readContexts.keys().next();
      if (oldest.done !== true) this.readContexts.delete(oldest.value);
    }
    return wireId;
  }

  transferLeadership(to: NodeId): TransferResult {
    this.assertIdle();
    if (this.role !== 'leader') return { ok: false, reason: 'not_leader', leaderHint: this.lead === 0 ? undefined : this.lead };
    if (to === this.id) return { ok: true };
    if (!this.conf.voters.includes(to)) return { ok: false, reason: 'invalid_target', detail: `node ${to} is not a voter` };
    if (this.leadTransferee === to) return { ok: true };
    this.lease.revoke();
    this.leadTransferee = to;
    this.electionElapsed = 0;
    this.replication.sendTransferWhenCaughtUp(to);
    return { ok: true };
  }

  /** The node loop compacted the stored log up to `meta.index`. */
  compacted(meta: SnapshotMeta): void {
    this.log.compacted(meta);
  }

  // ---- output -------------------------------------------------------------------

  hasReady(): boolean {
    if (this.outstanding !== undefined) return false;
    const { unstable } = this.log;
    if (unstable.isSnapshotInProgress) return false;
    // A snapshot replaces the log: it goes to storage after every earlier persist.
    if (unstable.snapshot !== undefined && this.durable.outstanding > 0) return false;
    return (
      this.msgs.length > 0 ||
      this.readStates.length > 0 ||
      unstable.hasNextEntries() ||
      unstable.snapshot !== undefined ||
      this.log.hasNextCommitted() ||
      !sameHardState(this.hardState(), this.prevHardState) ||
      !sameSoftState(this.softState(), this.prevSoftState)
    );
  }

  takeReady(): Ready | undefined {
    if (!this.hasReady()) return undefined;
    const softState = this.softState();
    const hardState = this.hardState();
    const { unstable } = this.log;
    const snapshot = unstable.nextSnapshot();
    const [messages, messagesAfterPersist] = this.splitMessages(hardState);
    const entries = unstable.nextEntries();
    // Like etcd's MustSync: a commit index that moved alone is not worth a write (a
    // restart relearns it); it is written with the next write that must be made.
    const mustSync = snapshot !== undefined || entries.length > 0 || hardState.term !== this.storedHardState.term || hardState.vote !== this.storedHardState.vote;
    const isHardStateNew = !sameHardState(hardState, mustSync ? this.storedHardState : this.prevHardState);
    if (mustSync) this.storedHardState = hardState;
    const ready: Ready = {
      softState: sameSoftState(softState, this.prevSoftState) ? undefined : softState,
      hardState: isHardStateNew ? hardState : undefined,
      mustSync,
      snapshot,
      entries,
      messages,
      messagesAfterPersist,
      committed: snapshot === undefined && this.log.hasNextCommitted() ? this.log.nextCommitted(this.config.applyBytesMax) : [],
      readStates: this.readStates,
    };
    unstable.acceptInProgress();
    this.prevSoftState = softState;
    this.msgs = [];
    this.readStates = [];
    if (this.config.isAsyncStorageWrites) {
      this.prevHardState = hardState;
      this.durable.taken(ready);
    } else {
      this.outstanding = ready;
    }
    return ready;
  }

  /**
   * Which messages may leave before this Ready's persist: none while the term or vote is
   * not durable (nor in synchronous mode, where all leave after it anyway, in `messages`);
   * otherwise all but the answers that vouch for durable state.
   */
  private splitMessages(hardState: HardState): [Message[], Message[]] {
    if (!this.config.isAsyncStorageWrites) return [this.msgs, []];
    return this.durable.split(this.msgs, hardState);
  }

  /**
   * Asynchronous storage writes: `ready`'s snapshot, entries and hard state are durable
   * (and so is everything taken before it: the loop reports in order). The loop sends
   * `ready.messagesAfterPersist` after this.
   */
  persisted(ready: Ready): void {
    assert(this.config.isAsyncStorageWrites, 'persisted() needs asynchronous storage writes');
    this.durable.persisted(ready);
    if (ready.snapshot !== undefined) this.log.stableSnapTo(ready.snapshot.meta);
    const lastEntry = ready.entries[ready.entries.length - 1];
    if (lastEntry !== undefined) this.log.stableTo(lastEntry.index, lastEntry.term);
    if (this.role === 'leader') {
      const self = this.progress.get(this.id);
      if (self !== undefined && self.maybeUpdate(this.log.durableLastIndex()) && this.maybeCommit()) this.replication.bcastAppend();
    } else if (this.role === 'candidate' && this.vote === this.id && this.durable.term === this.term && this.durable.vote === this.id && !this.votes.has(this.id)) {
      this.votes.set(this.id, true);
      this.poll();
    }
  }

  /** Asynchronous storage writes: `ready.committed` was applied to the state machine. */
  applied(ready: Ready): void {
    assert(this.config.isAsyncStorageWrites, 'applied() needs asynchronous storage writes');
    this.noteApplied(ready.committed);
  }

  /** No Ready outstanding and no snapshot being persisted: inputs may be stepped now. */
  isIdle(): boolean {
    return this.outstanding === undefined && !this.log.unstable.isSnapshotInProgress;
  }

  /** A Ready carrying a snapshot was taken and is not yet reported persisted: do not use the core. */
  isSnapshotInProgress(): boolean {
    return this.log.unstable.isSnapshotInProgress;
  }

  /** Readys taken and not yet reported persisted (asynchronous storage writes). */
  persistsOutstanding(): number {
    return this.durable.outstanding;
  }

  /** The node loop persisted, sent and applied `ready`. */
  advance(ready: Ready): void {
    assert(!this.config.isAsyncStorageWrites, 'advance() with asynchronous storage writes: use persisted() and applied()');
    assert(this.outstanding === ready, 'advance of a Ready that is not outstanding');
    this.outstanding = undefined;
    if (ready.snapshot !== undefined) this.log.stableSnapTo(ready.snapshot.meta);
    const lastEntry = ready.entries[ready.entries.length - 1];
    if (lastEntry !== undefined) this.log.stableTo(lastEntry.index, lastEntry.term);
    if (ready.hardState !== undefined) this.prevHardState = ready.hardState;
    this.noteApplied(ready.committed);
  }

  private noteApplied(committed: readonly Entry[]): void {
    const lastApplied = committed[committed.length - 1];
    if (lastApplied === undefined) return;
    this.log.appliedTo(lastApplied.index);
    for (const entry of committed) {
      if (entry.type === EntryType.ConfChange) this.applyConf(decodeConfChange(entry.data));
    }
  }

  status(): RaftStatus {
    const progress = new Map<NodeId, ProgressStatus>();
    if (this.role === 'leader') {
      for (const [id, pr] of this.progress) progress.set(id, { match: pr.match, next: pr.next, state: pr.state });
    }
    return {
      id: this.id,
      shardId: this.shardId,
      term: this.term,
      vote: this.vote,
      role: this.role,
      leader: this.lead,
      commit: this.log.committed,
      applied: this.log.applied,
      lastIndex: this.log.lastIndex(),
      conf: this.conf,
      isDamaged: this.isDamaged(),
      progress,
    };
  }

  softState(): SoftState {
    return { leader: this.lead, role: this.role };
  }

  hardState(): HardState {
    return { term: this.term, vote: this.vote, commit: this.log.committed };
  }

  isDamaged(): boolean {
    if (this.damageLastIndexSeen === undefined) return false;
    if (this.log.lastIndex() < this.damageLastIndexSeen) return true;
    this.damageLastIndexSeen = undefined;
    return false;
  }

  // ---- shared with LeaderReplication and FollowerReplication ------------------------

  /** A ReadIndex answer for a local read. */
  addReadState(read: ReadState): void {
    const context = this.readContexts.get(read.context);
    if (context === undefined) return;
    this.readContexts.delete(read.context);
    this.readStates.push({ index: read.index, context });
  }

  /** TimeoutNow from the leader: campaign at once, past the other replicas' lease. */
  campaignTransfer(): void {
    this.hup(true);
  }

  /** A leader's snapshot replaced the log: its configuration replaces ours. */
  restoreConf(conf: ConfState): void {
    this.conf = conf;
    this.syncProgress();
  }

  send(fields: OutgoingMessage): void {
    this.msgs.push({
      shardId: this.shardId,
      from: this.id,
      term: this.term,
      logTerm: 0 as Term,
      index: 0 as LogIndex,
      commit: 0 as LogIndex,
      entries: [],
      reject: false,
      rejectHint: 0,
      context: '',
      tick: 0,
      snapshot: null,
      ...fields,
    });
  }

  becomeFollower(term: Term, lead: NodeId | 0): void {
    this.reset(term);
    this.lead = lead;
    this.role = 'follower';
  }

  /** Leader: a quorum acknowledged more; returns whether the commit index moved. */
  maybeCommit(): boolean {
    const index = committedIndex(this.conf.voters, (id) => this.progress.get(id)?.match ?? (0 as LogIndex));
    if (!this.log.maybeCommit(index, this.term)) return false;
    this.readIndexes.onCommit();
    return true;
  }

  // ---- elections ------------------------------------------------------------------

  private tickElection(): void {
    this.electionElapsed++;
    if (this.electionElapsed >= this.randomizedElectionTimeout && this.isPromotable()) {
      this.electionElapsed = 0;
      this.hup(false);
    }
  }

  private tickLeader(): void {
    this.heartbeatElapsed++;
    this.electionElapsed++;
    if (this.electionElapsed >= this.config.electionTicks) {
      this.electionElapsed = 0;
      if (this.config.isCheckQuorum && !this.replication.checkQuorumActive()) {
        this.becomeFollower(this.term, 0);
        return;
      }
      this.leadTransferee = 0;
    }
    if (this.heartbeatElapsed >= this.config.heartbeatTicks) {
      this.heartbeatElapsed = 0;
      this.replication.bcastHeartbeat(this.readIndexes.lastContext());
      this.replication.resendStalledSnapshots();
    }
  }

  private isPromotable(): boolean {
    return this.conf.voters.includes(this.id) && !this.isDamaged() && this.log.unstable.snapshot === undefined;
  }

  private hup(isTransfer: boolean): void {
    if (this.role === 'leader' || !this.isPromotable()) return;
    if (this.hasUnappliedConfChange()) return;
    if (this.config.isPreVote && !isTransfer) this.campaignPre();
    else this.campaignElection(isTransfer);
  }

  private hasUnappliedConfChange(): boolean {
    if (this.log.committed <= this.log.applied) return false;
    const lo = Math.max(this.log.applied + 1, this.log.firstIndex()) as LogIndex;
    const pending = this.log.slice(lo, (this.log.committed + 1) as LogIndex, Number.MAX_SAFE_INTEGER);
    return pending.some((entry) => entry.type === EntryType.ConfChange);
  }

  private campaignPre(): void {
    this.role = 'pre_candidate';
    this.lead = 0;
    this.votes.clear();
    this.votes.set(this.id, true);
    this.requestVotes(MessageType.PreVote, (this.term + 1) as Term, '');
  }

  private campaignElection(isTransfer: boolean): void {
    this.reset((this.term + 1) as Term);
    this.vote = this.id;
    this.role = 'candidate';
    // With asynchronous storage writes the own vote counts once it is durable (persisted()).
    if (!this.config.isAsyncStorageWrites) this.votes.set(this.id, true);
    this.requestVotes(MessageType.Vote, this.term, isTransfer ? transferContext : '');
  }

  private requestVotes(type: MessageType, term: Term, context: string): void {
    if (this.poll() === 'won') return;
    const index = this.log.lastIndex();
    const logTerm = this.log.lastTerm();
    for (const voter of this.conf.voters) {
      if (voter !== this.id) this.send({ to: voter, type, term, index, logTerm, context });
    }
  }

  /** Tallies votes; on a win moves on (pre-vote → election, election → leader). */
  private poll(): 'won' | 'lost' | 'pending' {
    const result = voteResult(this.conf.voters, this.votes);
    if (result === 'won') {
      if (this.role === 'pre_candidate') this.campaignElection(false);
      else this.becomeLeader();
    } else if (result === 'lost') {
      this.becomeFollower(this.term, 0);
    }
    return result;
  }

  private becomeLeader(): void {
    assert(this.role === 'candidate', 'only a candidate becomes leader');
    this.reset(this.term);
    this.lead = this.id;
    this.role = 'leader';
    this.progress.get(this.id)?.becomeReplicate();
    // Conservative: a conf change may hide in the uncommitted tail; wait for it to apply.
    this.pendingConfIndex = this.log.lastIndex();
    this.appendEntries([{ term: this.term, index: (this.log.lastIndex() + 1) as LogIndex, type: EntryType.Normal, data: new Uint8Array(0) }]);
    this.replication.bcastAppend();
  }

  private reset(term: Term): void {
    if (term !== this.term) {
      assert(term > this.term, () => `term went backwards: ${this.term} → ${term}`);
      this.term = term;
      this.vote = 0;
    }
    this.lead = 0;
    this.electionElapsed = 0;
    this.heartbeatElapsed = 0;
    this.randomizedElectionTimeout = this.config.electionTicks + this.deps.random.int(this.config.electionTicks);
    this.leadTransferee = 0;
    this.votes.clear();
    this.pendingConfIndex = 0 as LogIndex;
    this.readIndexes.clear();
    this.lease.reset();
    this.progress.clear();
    this.syncProgress();
  }

  /** One Progress per member; a new one starts probing just past the leader's log. */
  private syncProgress(): void {
    const members = new Set([...this.conf.voters, ...this.conf.learners]);
    for (const id of this.progress.keys()) if (!members.has(id)) this.progress.delete(id);
    for (const id of members) {
      const isLearner = this.conf.learners.includes(id);
      const existing = this.progress.get(id);
      if (existing !== undefined) {
        existing.isLearner = isLearner;
        continue;
      }
      const pr = new Progress((this.log.lastIndex() + 1) as LogIndex, this.config.inflightMessagesMax, isLearner);
      if (id === this.id) pr.match = this.config.isAsyncStorageWrites ? this.log.durableLastIndex() : this.log.lastIndex();
      this.progress.set(id, pr);
    }
  }

  /** False when `m` is from an older term (answered or dropped) or must be ignored (leader lease). */
  private checkTerm(m: Message): boolean {
    if (m.term > this.term) {
      const isVoteRequest = m.type === MessageType.Vote || m.type === MessageType.PreVote;
      if (isVoteRequest && m.context !== transferContext && this.inLease()) return false;
      if (m.type === MessageType.PreVote) return true;
      if (m.type === MessageType.PreVoteResp && !m.reject) return true;
      const fromLeader = m.type === MessageType.App || m.type === MessageType.Heartbeat || m.type === MessageType.Snap;
      this.becomeFollower(m.term, fromLeader ? m.from : 0);
      return true;
    }
    if (m.term < this.term) {
      if ((this.config.isCheckQuorum || this.config.isPreVote) && (m.type === MessageType.Heartbeat || m.type === MessageType.App)) {
        // Tells a stale leader cut off by a partition that a newer term exists.
        this.send({ to: m.from, type: MessageType.AppResp });
      } else if (m.type === MessageType.PreVote) {
        this.send({ to: m.from, type: MessageType.PreVoteResp, reject: true });
      }
      return false;
    }
    return true;
  }

  /** Vote requests are ignored: a live leader was heard from within the election timeout, or this replica just restarted. */
  private inLease(): boolean {
    if (!this.config.isCheckQuorum) return false;
    return (this.lead !== 0 && this.electionElapsed < this.config.electionTicks) || this.voteHoldTicks > 0;
  }

  /** Leader: ReadIndex may be answered without a heartbeat round (lease.ts). */
  holdsLease(): boolean {
    return this.role === 'leader' && this.lease.holds(this.conf.voters, this.tickCount);
  }

  private handleVoteRequest(m: Message): void {
    const isPreVote = m.type === MessageType.PreVote;
    const responseType = isPreVote ? MessageType.PreVoteResp : MessageType.VoteResp;
    const canVote = this.vote === m.from || (this.vote === 0 && this.lead === 0) || (isPreVote && m.term > this.term);
    if (canVote && !this.isDamaged() && this.log.isUpToDate(m.index, m.logTerm)) {
      // A pre-vote is answered in the term it asks about, so the candidate counts it.
      this.send({ to: m.from, type: responseType, term: m.term });
      if (!isPreVote) {
        this.electionElapsed = 0;
        this.vote = m.from;
      }
    } else {
      this.send({ to: m.from, type: responseType, reject: true });
    }
  }

  private stepCandidate(m: Message): void {
    switch (m.type) {
      case MessageType.App:
      case MessageType.Heartbeat:
      case MessageType.Snap:
        this.becomeFollower(this.term, m.from);
        this.follower.step(m);
        return;
      case MessageType.PreVoteResp:
      case MessageType.VoteResp: {
        const expected = this.role === 'pre_candidate' ? MessageType.PreVoteResp : MessageType.VoteResp;
        if (m.type !== expected || this.votes.has(m.from)) return;
        this.votes.set(m.from, !m.reject);
        this.poll();
        return;
      }
      default:
        return;
    }
  }

  // ---- proposals and membership ---------------------------------------------------------

  private proposalRefusal(count: number): ProposeResult | undefined {
    if (this.role !== 'leader') return { ok: false, reason: 'not_leader', leaderHint: this.lead === 0 ? undefined : this.lead };
    // During a transfer the next leader is known; proposals go there.
    if (this.leadTransferee !== 0) return { ok: false, reason: 'not_leader', leaderHint: this.leadTransferee };
    if (this.log.lastIndex() - this.log.committed + count > this.config.proposalsPendingMax) return { ok: false, reason: 'overloaded' };
    return undefined;
  }

  private confChangeProblem(change: ConfChange): string | undefined {
    if (change.kind === 'add_voter') return 'a new voter joins as a learner and is promoted once caught up';
    if (this.pendingConfIndex > this.log.applied) return 'a membership change is still pending';
    // A leader that removed itself would stop leading before the others learn the
    // removal committed; they might then need its vote, which it cannot give (etcd's advice too).
    if (change.kind === 'remove' && change.nodeId === this.id) return 'transfer leadership before removing the leader';
    const problem = confChangeProblem(this.conf, change);
    if (problem !== undefined) return problem;
    if (change.kind === 'promote') {
      const pr = this.progress.get(change.nodeId);
      if (pr === undefined || pr.match + this.config.learnerCatchUpEntriesMax < this.log.lastIndex()) {
        return `learner ${change.nodeId} has not caught up`;
      }
    }
    return undefined;
  }

  private appendEntries(entries: Parameters<RaftLog['append']>[0]): void {
    const last = this.log.append(entries);
    // With asynchronous storage writes the leader's own entries count once durable (persisted()).
    if (!this.config.isAsyncStorageWrites) this.progress.get(this.id)?.maybeUpdate(last);
    this.maybeCommit();
  }

  private applyConf(change: ConfChange): void {
    this.conf = applyConfChange(this.conf, change);
    this.syncProgress();
    if (this.role !== 'leader') return;
    if (!this.conf.voters.includes(this.id)) {
      this.becomeFollower(this.term, 0);
      return;
    }
    if (this.leadTransferee !== 0 && !this.conf.voters.includes(this.leadTransferee)) this.leadTransferee = 0;
    this.maybeCommit();
    this.replication.bcastAppend();
  }

  private assertIdle(): void {
    assert(this.outstanding === undefined, 'RaftCore used while a Ready is outstanding');
    assert(!this.log.unstable.isSnapshotInProgress, 'RaftCore used while a snapshot is being persisted');
  }
}


function sameHardState(a: HardState, b: HardState): boolean {
  return a.term === b.term && a.vote === b.vote && a.commit === b.commit;
}

function sameSoftState(a: SoftState, b: SoftState): boolean {
  return a.leader === b.leader && a.role === b.role;
}
