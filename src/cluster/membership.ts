/**
 * Adding and removing a node in one shard's Raft group, one server at a time, on the
 * shard's leader: a new node joins as a learner, is promoted once it has caught up
 * (so the group never counts a voter that cannot vote usefully yet), and a leaving
 * node is removed; a leader asked to remove itself first hands leadership to a caught-up
 * voter and answers not-leader, so the caller retries on the new leader.
 *
 * Each step waits for the configuration to take effect before the next one (the core
 * refuses a second change while one is pending); the whole change is bounded by
 * `timeoutMs` and fails as unavailable after it.
 */
import type { Clock } from '../common/clock.js';
import type { NodeId } from '../common/ids.js';
import type { Delays } from '../common/timers.js';
import { ShardUnavailableError } from './errors.js';
import { NotLeaderError } from './routing-errors.js';
import type { ShardGroup } from './shard-group.js';

export interface MembershipChange {
  readonly kind: 'add' | 'remove';
  readonly nodeId: NodeId;
}

export interface MembershipDeps {
  readonly clock: Clock;
  readonly delays: Delays;
  readonly timeoutMs: number;
  /** A learner is promoted once it lags the leader's last index by at most this many entries. */
  readonly catchUpEntriesMax: number;
}

const stepPauseMs = 50;

/** Applies `change` to the shard this node leads; resolves once its configuration shows it. */
export async function changeShardMembership(group: ShardGroup, change: MembershipChange, deps: MembershipDeps): Promise<void> {
  const deadlineMs = deps.clock.monotonicMs() + deps.timeoutMs;
  while (deps.clock.monotonicMs() < deadlineMs) {
    if (!group.isLeader()) throw new NotLeaderError(group.shardId, group.leader());
    const next = nextStep(group, change, deps.catchUpEntriesMax);
    if (next === 'done') return;
    if (next === 'transfer') {
      const target = caughtUpVoter(group, change.nodeId);
      if (target !== undefined) group.requestTransfer(target);
    } else if (next !== 'wait') {
      await group.proposeConfChange({ kind: next, nodeId: change.nodeId });
    }
    await new Promise<void>((resolve) => deps.delays.after(stepPauseMs, resolve));
  }
  throw new ShardUnavailableError(group.shardId, `shard ${group.shardId}: ${change.kind} of node ${change.nodeId} did not finish in ${deps.timeoutMs} ms`);
}

function nextStep(group: ShardGroup, change: MembershipChange, catchUpEntriesMax: number): 'done' | 'wait' | 'transfer' | 'add_learner' | 'promote' | 'remove' {
  const { conf } = group.status();
  const isVoter = conf.voters.includes(change.nodeId);
  const isLearner = conf.learners.includes(change.nodeId);
  if (change.kind === 'add') {
    if (isVoter) return 'done';
    if (!isLearner) return 'add_learner';
    const progress = group.core.progress.get(change.nodeId);
    const isCaughtUp = progress !== undefined && group.core.log.lastIndex() - progress.match <= catchUpEntriesMax;
    return isCaughtUp ? 'promote' : 'wait';
  }
  if (!isVoter && !isLearner) return 'done';
  return change.nodeId === group.core.id ? 'transfer' : 'remove';
}

/** A voter other than `except` that answered recently and has every entry, if any. */
function caughtUpVoter(group: ShardGroup, except: NodeId): NodeId | undefined {
  const lastIndex = group.core.log.lastIndex();
  for (const nodeId of group.status().conf.voters) {
    const progress = group.core.progress.get(nodeId);
    if (nodeId !== except && progress?.recentActive === true && progress.match >= lastIndex) return nodeId;
  }
  return undefined;
}
