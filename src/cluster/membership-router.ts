/**
 * A cluster membership change (add or remove one node) as a rebalancing of replicas:
 *
 *  1. the current placement: each shard's voters as its leader has applied them (asked
 *     with a `describe` forward, here when this node leads the shard);
 *  2. the new node set: every current voter, plus or minus the node;
 *  3. planRebalance (placement.ts) plans replica moves to an even placement with
 *     min(replicas, nodes) voters per shard, and the moves run one at a time, each on
 *     its shard's leader: add the new replica (learner, catch up, promote, membership.ts),
 *     then remove the old one (a leader removing itself hands leadership over first) and
 *     tell it to drop its replica (`release`);
 *  4. a last pass takes every shard to its planned replica set (a removal without a
 *     replacement, or leftovers of an interrupted run);
 *  5. then the shards of pools (placed-shards.ts) the same way, each pool on its own:
 *     its nodes still in the cluster are the node set, its `width` the voters per shard.
 *     A replica on a departed node moves to a node of the pool without one; when the pool
 *     has none left, the shard keeps running with fewer voters (GET pool reports it
 *     degraded). The voters each pool shard ends with are returned, to be recorded.
 *
 * Every step is idempotent (each is stated as the configuration it wants), so repeating
 * a change after a failure finishes it. Requests go to a shard's leader as this node
 * knows it (its own replica, else the shard's ShardReplicaView), following not-leader
 * hints; each step is bounded by the membership timeout and then fails as unavailable.
 */
import type { Clock } from '../common/clock.js';
import type { NodeId, ShardId } from '../common/ids.js';
import type { Logger } from '../common/logger.js';
import type { Delays } from '../common/timers.js';
import { ShardUnavailableError } from './errors.js';
import type { ForwardReply, ForwardRequest, Forwarder } from './forward-protocol.js';
import type { MembershipChange } from './membership.js';
import type { PlacedShard } from './placed-shards.js';
import { planRebalance, type Placement, type ShardPlacement } from './placement.js';
import type { ShardReplicaView } from './shard-replica-view.js';

export interface MembershipRouteDeps {
  readonly nodeId: NodeId;
  readonly shardIds: readonly ShardId[];
  /** The shards pools own, as their reservations record them. */
  readonly poolShards: readonly PlacedShard[];
  /** Voters per shard (capped at the node count). */
  readonly replicas: number;
  /** The address book: run-time preferred leaders are computed over it (placement.ts). */
  readonly members: readonly NodeId[];
  readonly forwarder: Forwarder;
  /** Serves a request on this node, as a peer's forward would be served. */
  readonly serveHere: (request: ForwardRequest) => Promise<ForwardReply>;
  /** The leader known to this node's replica of the shard, if it has one. */
  readonly leaderHere: (shardId: ShardId) => NodeId | undefined;
  readonly viewOf: (shardId: ShardId) => ShardReplicaView;
  readonly clock: Clock;
  readonly delays: Delays;
  /** Bound of each step (one shard's description, one node added or removed). */
  readonly timeoutMs: number;
  readonly logger: Logger;
}

const retryMs = 100;
/** How long telling a removed replica to drop its state may take (it drops it itself later otherwise). */
const releaseDeadlineMs = 5_000;

/** Rebalances the hash shards, then each pool's shards; resolves with the voters each pool shard ended with. */
export async function changeClusterMembership(change: MembershipChange, deps: MembershipRouteDeps): Promise<ShardPlacement[]> {
  const current = await currentPlacement(deps.shardIds, deps);
  const nodes = new Set(current.flatMap((shard) => shard.replicas));
  if (change.kind === 'add') nodes.add(change.nodeId);
  else nodes.delete(change.nodeId);
  await rebalance(current, { nodes: [...nodes], replicas: deps.replicas, change }, deps);
  const settled: ShardPlacement[] = [];
  for (const shards of byPool(deps.poolShards)) {
    const first = shards[0] as PlacedShard;
    const poolCurrent = await currentPlacement(shards.map((s) => s.shardId), deps);
    const isRemoved = (n: NodeId): boolean => change.kind === 'remove' && n === change.nodeId;
    const isLive = (n: NodeId): boolean => !isRemoved(n) && (nodes.has(n) || poolCurrent.some((s) => s.replicas.includes(n)));
    const poolNodes = first.nodes.filter(isLive);
    if (poolNodes.length === 0) continue;
    settled.push(...await rebalance(poolCurrent, { nodes: poolNodes, replicas: first.width, change }, deps));
  }
  return settled;
}

/** The pool shards grouped by pool (shards of one pool share its nodes and width). */
function byPool(shards: readonly PlacedShard[]): PlacedShard[][] {
  const pools = new Map<string, PlacedShard[]>();
  for (const shard of shards) {
    const key = `${shard.pool}\n${shard.nodes.join()}\n${shard.width}`;
    pools.set(key, [...(pools.get(key) ?? []), shard]);
  }
  return [...pools.values()];
}

/** Plans and runs the moves that take `current` to an even placement over `nodes`; resolves with that placement. */
async function rebalance(current: Placement, target: { nodes: NodeId[]; replicas: number; change: MembershipChange }, deps: MembershipRouteDeps): Promise<Placement> {
  const { change } = target;
  const plan = planRebalance(current, { nodes: target.nodes, replicas: target.replicas, members: deps.members });
  deps.logger.info({ change: change.kind, nodeId: change.nodeId, nodes: [...target.nodes].sort((a, b) => a - b), moves: plan.moves.length }, 'rebalancing replicas');
  for (const [i, move] of plan.moves.entries()) {
    deps.logger.info({ shardId: move.shardId, add: move.add, remove: move.remove, move: i + 1, moves: plan.moves.length }, 'moving a replica');
    await changeShard(move.shardId, { kind: 'add', nodeId: move.add }, deps);
    if (move.remove !== undefined) await removeReplica(move.shardId, move.remove, deps);
  }
  for (const shard of plan.placement) await reconcile(shard, deps);
  deps.logger.info({ change: change.kind, nodeId: change.nodeId }, 'replicas rebalanced');
  return plan.placement;
}

/** Each shard's voters as its leader reports them. */
async function currentPlacement(shardIds: readonly ShardId[], deps: MembershipRouteDeps): Promise<Placement> {
  const placement: ShardPlacement[] = [];
  for (const shardId of shardIds) {
    const { voters } = await describe(shardId, deps);
    placement.push({ shardId, replicas: voters });
  }
  return placement;
}

async function describe(shardId: ShardId, deps: MembershipRouteDeps): Promise<{ voters: NodeId[]; learners: NodeId[] }> {
  const reply = await onLeader({ kind: 'describe', shardId }, deps);
  if (reply.kind !== 'described') throw new ShardUnavailableError(shardId, `shard ${shardId}: a description was answered with ${reply.kind}`);
  deps.viewOf(shardId).noteReplicas([...reply.voters, ...reply.learners]);
  return { voters: [...reply.voters], learners: [...reply.learners] };
}

/** Takes a shard to its planned replicas: adds the missing ones, then removes the others. */
async function reconcile(target: ShardPlacement, deps: MembershipRouteDeps): Promise<void> {
  const { voters, learners } = await describe(target.shardId, deps);
  for (const nodeId of target.replicas) if (!voters.includes(nodeId)) await changeShard(target.shardId, { kind: 'add', nodeId }, deps);
  for (const nodeId of [...voters, ...learners]) if (!target.replicas.includes(nodeId)) await removeReplica(target.shardId, nodeId, deps);
}

async function removeReplica(shardId: ShardId, nodeId: NodeId, deps: MembershipRouteDeps): Promise<void> {
  await changeShard(shardId, { kind: 'remove', nodeId }, deps);
  // Best effort: the removed node may be down; it drops the replica itself once it sees its removal.
  const request: ForwardRequest = { kind: 'release', shardId };
  const released = nodeId === deps.nodeId
    ? deps.serveHere(request)
    : deps.forwarder.forward(nodeId, request, { deadlineMs: releaseDeadlineMs });
  await released.catch((error: unknown) => deps.logger.warn({ err: error, shardId, nodeId }, 'a removed replica was not told to drop its state'));
}

async function changeShard(shardId: ShardId, change: MembershipChange, deps: MembershipRouteDeps): Promise<void> {
  const reply = await onLeader({ kind: 'membership', shardId, change }, deps);
  if (reply.kind !== 'changed') throw new ShardUnavailableError(shardId, `shard ${shardId}: ${change.kind} of node ${change.nodeId} was answered with ${reply.kind}`);
}

/**
 * Sends `request` to the shard's leader and returns its answer, following not-leader
 * hints and trying the shard's replicas in turn while no leader is known; a leader
 * that is unavailable or overloaded (e.g. while stepping down) is retried too.
 */
async function onLeader(request: ForwardRequest, deps: MembershipRouteDeps): Promise<ForwardReply> {
  const { shardId } = request;
  const view = deps.viewOf(shardId);
  const deadlineMs = deps.clock.monotonicMs() + deps.timeoutMs;
  let hint: NodeId | undefined;
  while (deps.clock.monotonicMs() < deadlineMs) {
    const target = hint ?? deps.leaderHere(shardId) ?? view.next(deps.nodeId);
    hint = undefined;
    let reply: ForwardReply | undefined;
    if (target === deps.nodeId) reply = await deps.serveHere(request);
    else if (target !== undefined) {
      const remainingMs = Math.max(deadlineMs - deps.clock.monotonicMs(), retryMs);
      reply = await deps.forwarder.forward(target, request, { deadlineMs: remainingMs }).catch(() => undefined);
    }
    if (reply !== undefined && reply.kind !== 'not_leader' && reply.kind !== 'unavailable' && reply.kind !== 'overloaded' && reply.kind !== 'dropped') return reply;
    if (target !== undefined && reply?.kind === 'not_leader') {
      view.noteNotLeader(target, reply);
      hint = reply.leaderHint === target ? undefined : reply.leaderHint;
    } else if (target !== undefined) view.noteMiss(target);
    if (hint === undefined) await new Promise<void>((resolve) => deps.delays.after(retryMs, resolve));
  }
  throw new ShardUnavailableError(shardId, `shard ${shardId}: no leader answered within ${deps.timeoutMs} ms`);
}
