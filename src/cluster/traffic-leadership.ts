/**
 * Leadership that follows the traffic. A client's command reaches its shard's leader
 * either on the leader's own node or forwarded by the node the client uses, and the
 * forward costs that node a hop each way and the command a longer round: entering a
 * 3-node cluster at a shard's leader instead of a follower measured +26–45% consumed and
 * +13–55% produced messages per second (README, Benchmarks). Clients of a queue often
 * all use one node (a producer's socket stays on the node it opened on), so a leader
 * counts the commands it proposes by the node that took them (ShardGroup.takeTraffic)
 * and, every `windowMs`, closes a window:
 *
 * - when one other voter took at least `moveShare` of the window's commands (and there
 *   were at least `commandsMin`), leadership moves to it;
 * - while the leader's own node takes at least `holdShare` of them, the balancer (which
 *   hands each shard to its preferred voter, cluster-shard-logs.ts) leaves the shard
 *   where it is, and still for `lapseWindows` windows after that stopped, so a pause in a
 *   load does not move leadership away and back.
 *
 * Two entry nodes sharing a shard's traffic move nothing (neither reaches `moveShare`,
 * which is above `holdShare`). A window is judged only when this node led the shard for
 * all of it: a leader that has just arrived is neither judged on part of a window nor
 * handed back by the balancer meanwhile.
 */
import type { NodeId, ShardId } from '../common/ids.js';

export interface TrafficFollowing {
  readonly windowMs: number;
  readonly commandsMin: number;
  readonly moveShare: number;
  readonly holdShare: number;
  readonly lapseWindows: number;
}

/** One-second windows: leadership moves within about two seconds of a load starting on another node. */
export const defaultTrafficFollowing: TrafficFollowing = { windowMs: 1_000, commandsMin: 16, moveShare: 0.8, holdShare: 0.5, lapseWindows: 10 };

interface LedShard {
  /** Whether a whole window led here has closed. */
  isJudged: boolean;
  /** Windows closed since the traffic last held the shard here; undefined: it does not hold it. */
  lapses: number | undefined;
}

export class TrafficLeadership {
  private readonly led = new Map<ShardId, LedShard>();

  constructor(
    private readonly self: NodeId,
    readonly policy: TrafficFollowing,
  ) {}

  /**
   * Closes the window of one shard: `traffic` is what its group counted since the last
   * close (nothing unless it led), `isLeader` whether this node leads it now. Returns the
   * voter leadership should move to, if any.
   */
  closeWindow(shardId: ShardId, traffic: ReadonlyMap<NodeId, number>, voters: readonly NodeId[], isLeader: boolean): NodeId | undefined {
    const shard = this.led.get(shardId);
    if (!isLeader || shard === undefined) {
      // Not led here, or led for part of this window only: judged from the next one.
      if (isLeader) this.led.set(shardId, { isJudged: false, lapses: undefined });
      else this.led.delete(shardId);
      return undefined;
    }
    shard.isJudged = true;
    const { commandsMin, moveShare, holdShare, lapseWindows } = this.policy;
    let total = 0;
    let top: NodeId | undefined;
    let topCount = 0;
    for (const [origin, count] of traffic) {
      total += count;
      if (count > topCount) {
        top = origin;
        topCount = count;
      }
    }
    if (total >= commandsMin && (traffic.get(this.self) ?? 0) >= holdShare * total) {
      shard.lapses = 0;
      return undefined;
    }
    if (shard.lapses !== undefined && ++shard.lapses > lapseWindows) shard.lapses = undefined;
    const isMove = total >= commandsMin && top !== undefined && top !== this.self && topCount >= moveShare * total && voters.includes(top);
    return isMove ? top : undefined;
  }

  /**
   * Whether the balancer leaves a shard this node leads where it is: its traffic holds it,
   * or no whole window led here has been judged yet (a leader that has just arrived).
   */
  holds(shardId: ShardId): boolean {
    const shard = this.led.get(shardId);
    return shard === undefined || !shard.isJudged || shard.lapses !== undefined;
  }
}
