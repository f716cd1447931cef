/**
 * Runs a membership change (add or remove one node) over every shard of the cluster,
 * one shard at a time so at most one group is changing at once: each shard's change
 * runs on its leader, here when this node leads it, else forwarded to the leader this
 * node knows of (or, when it knows none, e.g. on a node not yet added, to the other
 * members in turn). Not-leader answers are followed; a shard that cannot finish within
 * the membership timeout fails the whole change as unavailable (already changed shards
 * stay changed: the change is idempotent, so the operator simply repeats it).
 */
import type { NodeId } from '../common/ids.js';
import { ShardUnavailableError } from './errors.js';
import type { Forwarder } from './forward-protocol.js';
import { changeShardMembership, type MembershipChange, type MembershipDeps } from './membership.js';
import { NotLeaderError } from './routing-errors.js';
import type { ShardGroup } from './shard-group.js';

export interface MembershipRouteDeps {
  readonly nodeId: NodeId;
  /** Every node this one can reach, tried in turn while no leader is known. */
  readonly peers: readonly NodeId[];
  readonly forwarder: Forwarder;
  readonly membership: MembershipDeps;
}

const retryMs = 100;
const noCommand = new Uint8Array(0);

export async function changeClusterMembership(groups: readonly ShardGroup[], change: MembershipChange, deps: MembershipRouteDeps): Promise<void> {
  for (const group of groups) await changeOneShard(group, change, deps);
}

async function changeOneShard(group: ShardGroup, change: MembershipChange, deps: MembershipRouteDeps): Promise<void> {
  const { clock, delays, timeoutMs } = deps.membership;
  const deadlineMs = clock.monotonicMs() + timeoutMs;
  let hint: NodeId | undefined;
  for (let turn = 0; clock.monotonicMs() < deadlineMs; turn++) {
    const target = hint ?? group.leader() ?? deps.peers[turn % Math.max(deps.peers.length, 1)];
    hint = undefined;
    if (target === deps.nodeId) {
      try {
        await changeShardMembership(group, change, deps.membership);
        return;
      } catch (error) {
        if (!(error instanceof NotLeaderError)) throw error;
        hint = error.leaderHint as NodeId | undefined;
      }
    } else if (target !== undefined) {
      const reply = await deps.forwarder
        .forward(target, { shardId: group.shardId, command: noCommand, membership: change }, { deadlineMs: Math.max(deadlineMs - clock.monotonicMs(), retryMs) })
        .catch(() => undefined);
      if (reply?.kind === 'changed') return;
      if (reply?.kind === 'not_leader') hint = reply.leaderHint;
      if (reply?.kind === 'unavailable' || reply?.kind === 'overloaded') throw new ShardUnavailableError(group.shardId, reply.message);
    }
    if (hint === undefined) await new Promise<void>((resolve) => delays.after(retryMs, resolve));
  }
  throw new ShardUnavailableError(group.shardId, `shard ${group.shardId}: ${change.kind} of node ${change.nodeId} did not finish in ${timeoutMs} ms`);
}
