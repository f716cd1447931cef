/**
 * A leader's ReadIndex requests (local or forwarded by followers): each is answered with
 * the commit index at its arrival at once while the leader holds its read lease
 * (lease.ts), otherwise once a quorum answered a heartbeat sent after it, so the leader
 * was still the leader then. Requests that arrive before this leader committed
 * an entry of its own term wait for that commit (before it, the commit index may lag).
 * Bounded by `readsPendingMax`; dropped when leadership is lost (callers retry).
 */
import type { LogIndex, NodeId } from '../types.js';
import { MessageType } from './messages.js';
import { hasQuorum } from './quorum.js';
import type { CoreContext } from './core-context.js';
import { ReadOnlyQueue } from './read-only.js';

export class ReadIndexTracker {
  private readonly reads = new ReadOnlyQueue();
  private awaitingCommit: { context: string; requester: NodeId }[] = [];

  constructor(private readonly core: CoreContext) {}

  /** Answers (or starts confirming) a request; false when too many are pending. */
  request(context: string, requester: NodeId): boolean {
    const { core } = this;
    if (this.reads.size() + this.awaitingCommit.length >= core.config.readsPendingMax) return false;
    if (core.log.term(core.log.committed) !== core.term) {
      this.awaitingCommit.push({ context, requester });
      return true;
    }
    if ((core.conf.voters.length === 1 && core.conf.voters[0] === core.id) || core.holdsLease()) {
      this.answer(requester, core.log.committed, context);
      return true;
    }
    if (this.reads.add({ context, index: core.log.committed, requester, acks: new Set([core.id]) })) {
      core.replication.bcastHeartbeat(context);
    }
    return true;
  }

  /** A heartbeat answer echoing a read's context. */
  acknowledge(context: string, from: NodeId): void {
    const read = this.reads.get(context);
    if (read === undefined) return;
    read.acks.add(from);
    if (!hasQuorum(this.core.conf.voters, (id) => read.acks.has(id))) return;
    for (const released of this.reads.releaseThrough(context)) this.answer(released.requester, released.index, released.context);
  }

  /** The commit index moved: requests waiting for this term's first commit go on. */
  onCommit(): void {
    if (this.awaitingCommit.length === 0) return;
    const waiting = this.awaitingCommit;
    this.awaitingCommit = [];
    for (const read of waiting) this.request(read.context, read.requester);
  }

  /** The context heartbeats carry, so answers also confirm the newest pending read. */
  lastContext(): string {
    return this.reads.lastContext() ?? '';
  }

  clear(): void {
    this.reads.clear();
    this.awaitingCommit = [];
  }

  private answer(requester: NodeId, index: LogIndex, context: string): void {
    if (requester === this.core.id) this.core.addReadState({ index, context });
    else this.core.send({ to: requester, type: MessageType.ReadIndexResp, index, context });
  }
}
