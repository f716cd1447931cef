/**
 * A leader's read lease: while it holds, ReadIndex is answered with the commit index at
 * once, without a heartbeat round (etcd's ReadOnlyLeaseBased, but bounded in ticks).
 *
 * Why it is safe. Every heartbeat carries the leader's tick count T when it was sent, and
 * each answer echoes it. A follower that got it reset its election clock on receipt, and
 * (check-quorum) refuses votes and pre-votes until its clock has run `electionTicks` ticks
 * again: at least (electionTicks − 1) tick intervals after the heartbeat was sent, since
 * its first tick may come right after the receipt (nor does it campaign before then: its
 * election timeout is at least `electionTicks`). A restarted replica refuses them as
 * long after its restart (raft.ts), in case it answered just before. Any new leader needs
 * a vote from someone in the quorum that answered T, so none is elected before
 * T + (electionTicks − 1) tick intervals. The lease therefore ends at T + leaseTicks of
 * the leader's ticks, with
 *
 *   leaseTicks × (leader's tick interval) ≤ (electionTicks − 1) × (follower's tick interval),
 *
 * taken as leaseTicks = ⌊(electionTicks − 1) / (1 + leaseClockDriftMax)⌋. The host must
 * tick from a monotonic clock, not from how often a timer fired: the leader's tick count
 * must not lag real time, and a follower must step every tick that came due before a
 * heartbeat before the heartbeat (one stepped after it would shorten the refusal).
 *
 * The TimeoutNow of a leadership transfer lets its receiver campaign past every
 * follower's refusal, so starting a transfer ends the lease at once, and for the rest of
 * the term: the TimeoutNow may still be in flight after the leader gave the transfer up.
 */
import type { NodeId } from '../types.js';
import type { RaftConfig } from './config.js';
import { quorumSize } from './quorum.js';

export function leaseTicks(config: Pick<RaftConfig, 'electionTicks' | 'leaseClockDriftMax'>): number {
  return Math.floor((config.electionTicks - 1) / (1 + config.leaseClockDriftMax));
}

export class LeaderLease {
  /** Per follower: the latest send tick of a heartbeat it answered, this term. */
  private readonly acks = new Map<NodeId, number>();
  private isRevoked = false;
  readonly isOn: boolean;
  private readonly ticks: number;

  constructor(
    config: RaftConfig,
    private readonly selfId: NodeId,
  ) {
    this.isOn = config.isLeaseRead && config.isCheckQuorum;
    this.ticks = leaseTicks(config);
  }

  /** `from` answered a heartbeat sent at `sentTick`. */
  acknowledge(from: NodeId, sentTick: number): void {
    if (sentTick > (this.acks.get(from) ?? 0)) this.acks.set(from, sentTick);
  }

  /** A leadership transfer started: no lease for the rest of this term. */
  revoke(): void {
    this.isRevoked = true;
  }

  /** Whether reads may be answered without a heartbeat round at tick `now`. */
  holds(voters: readonly NodeId[], now: number): boolean {
    if (!this.isOn || this.isRevoked || voters.length === 0) return false;
    const sent = voters.map((id) => (id === this.selfId ? now : (this.acks.get(id) ?? 0))).sort((a, b) => b - a);
    const quorumSent = sent[quorumSize(voters.length) - 1] ?? 0;
    return quorumSent > 0 && now < quorumSent + this.ticks;
  }

  /** A new term (or role): nothing answered counts any more. */
  reset(): void {
    this.acks.clear();
    this.isRevoked = false;
  }
}
