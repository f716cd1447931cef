/**
 * Where each shard's replicas live, and how to move them when nodes join or leave.
 *
 * Pure functions over plain data: the cluster's metadata holds a Placement and applies
 * the moves these functions plan, one replica at a time (add a learner, let it catch
 * up, promote it, then remove the old replica), so a shard never loses its majority.
 *
 * Invariants of every placement produced here (checked by property tests):
 *   - each shard has min(replicas, nodes) distinct replicas, all on live nodes;
 *   - replica counts per node differ by at most one;
 *   - preferred leaders are spread as evenly as the replica sets allow;
 *   - the preferred leader of a shard is one of its replicas.
 */
import { assert } from '../common/assert.js';
import type { NodeId, ShardId } from '../common/ids.js';

export interface ShardPlacement {
  readonly shardId: ShardId;
  /**
   * Replica nodes. The first is the planner's preferred leader; at run time leaders
   * follow preferredLeader (below), which agrees with it for initialPlacement only.
   */
  readonly replicas: readonly NodeId[];
}

export type Placement = readonly ShardPlacement[];

/** One replica move: `add` joins the shard as a learner, is promoted, then `remove` leaves. */
export interface ReplicaMove {
  readonly shardId: ShardId;
  readonly add: NodeId;
  readonly remove: NodeId | undefined;
}

/** Round-robin placement of a new cluster: shard s starts at node s mod n. */
export function initialPlacement(options: {
  nodes: readonly NodeId[];
  shardCount: number;
  replicas: number;
}): Placement {
  const nodes = sortedUnique(options.nodes);
  assert(nodes.length > 0, 'a placement needs at least one node');
  const width = Math.min(options.replicas, nodes.length);
  const placement: ShardPlacement[] = [];
  for (let s = 0; s < options.shardCount; s++) {
    const replicas: NodeId[] = [];
    for (let k = 0; k < width; k++) replicas.push(nodes[(s + k) % nodes.length] as NodeId);
    placement.push({ shardId: s as ShardId, replicas });
  }
  return placement;
}

/**
 * Plans the replica moves that take `current` to a balanced placement over `nodes`:
 * replicas on departed nodes move first, then replicas leave the most loaded nodes for
 * the least loaded ones until loads differ by at most one, then replicas move (or swap)
 * while that spreads the run-time leaders more evenly (spreadLeaders). Returns the moves
 * in the order they should run and the placement they lead to.
 *
 * Leaders follow preferredLeader over `members` (the address book; default `nodes`) at
 * run time, which sees only each shard's voters, so when evening out the planner picks,
 * among the shards a replica could leave, the one that spreads those leaders best: a
 * node that joined then leads its share instead of only following.
 */
export function planRebalance(
  current: Placement,
  options: { nodes: readonly NodeId[]; replicas: number; members?: readonly NodeId[] },
): { moves: ReplicaMove[]; placement: Placement } {
  const nodes = sortedUnique(options.nodes);
  assert(nodes.length > 0, 'a placement needs at least one node');
  const live = new Set(nodes);
  const width = Math.min(options.replicas, nodes.length);
  const shards = current.map((shard) => ({ shardId: shard.shardId, replicas: [...shard.replicas] }));
  const load = new Map<NodeId, number>(nodes.map((n) => [n, 0]));
  for (const shard of shards) for (const n of shard.replicas) if (live.has(n)) load.set(n, (load.get(n) ?? 0) + 1);
  const moves: ReplicaMove[] = [];
  const leastLoaded = (exclude: readonly NodeId[]): NodeId | undefined =>
    nodes.filter((n) => !exclude.includes(n)).sort((a, b) => (load.get(a) ?? 0) - (load.get(b) ?? 0) || a - b)[0];
  const move = (shard: { shardId: ShardId; replicas: NodeId[] }, remove: NodeId | undefined, add: NodeId): void => {
    moves.push({ shardId: shard.shardId, add, remove });
    shard.replicas = shard.replicas.map((n) => (n === remove ? add : n));
    if (remove === undefined) shard.replicas.push(add);
    if (remove !== undefined && live.has(remove)) load.set(remove, (load.get(remove) ?? 0) - 1);
    load.set(add, (load.get(add) ?? 0) + 1);
  };

  // Replace replicas on departed nodes, then grow or shrink shards to the target width.
  for (const shard of shards) {
    for (const n of [...shard.replicas]) {
      if (live.has(n)) continue;
      const target = leastLoaded(shard.replicas);
      if (target === undefined) shard.replicas = shard.replicas.filter((r) => r !== n);
      else move(shard, n, target);
    }
    while (shard.replicas.length < width) {
      const target = leastLoaded(shard.replicas);
      assert(target !== undefined, 'a node is free for a growing shard');
      move(shard, undefined, target);
    }
  }

  // Even out: move one replica from the most to the least loaded node while it helps.
  for (let guard = 0; guard < shards.length * width + 1; guard++) {
    const byLoad = [...nodes].sort((a, b) => (load.get(a) ?? 0) - (load.get(b) ?? 0) || a - b);
    const low = byLoad[0] as NodeId;
    const high = byLoad[byLoad.length - 1] as NodeId;
    if ((load.get(high) ?? 0) - (load.get(low) ?? 0) <= 1) break;
    const candidates = shards.filter((s) => s.replicas.includes(high) && !s.replicas.includes(low));
    const shard = leastUnevenLeadersAfter(candidates, { shards, from: high, to: low, nodes, members: options.members ?? nodes });
    if (shard === undefined) break;
    move(shard, high, low);
  }

  spreadLeaders(shards, { nodes, members: options.members ?? nodes, load, move });
  return { moves, placement: balanceLeaders(shards, nodes) };
}

type PlannedShard = { shardId: ShardId; replicas: NodeId[] };

/**
 * Spreads the run-time leaders (preferredLeader over `members`) once the replica loads
 * are even: re-homing a departed node's replicas can leave one node leading the shards
 * whose ring started at the departed node as well as its own. While it makes the lead
 * counts more even (a smaller sum of their squares), a replica of a shard the busiest
 * leader leads moves to another node: alone when the loads stay within one, else swapped
 * with a replica of another shard going the other way (loads unchanged).
 */
function spreadLeaders(
  shards: PlannedShard[],
  options: {
    nodes: readonly NodeId[];
    members: readonly NodeId[];
    load: Map<NodeId, number>;
    move: (shard: PlannedShard, remove: NodeId, add: NodeId) => void;
  },
): void {
  const { nodes, members, load } = options;
  const leaderOf = (shard: PlannedShard, voters = shard.replicas): NodeId | undefined => preferredLeader(shard.shardId, { voters, members });
  const swapped = (voters: readonly NodeId[], from: NodeId, to: NodeId): NodeId[] => voters.map((n) => (n === from ? to : n));
  const loadsStayEven = (from: NodeId, to: NodeId): boolean => {
    const after = nodes.map((n) => (load.get(n) ?? 0) + (n === to ? 1 : 0) - (n === from ? 1 : 0));
    return Math.max(...after) - Math.min(...after) <= 1;
  };
  for (let guard = 0; guard < shards.length * nodes.length; guard++) {
    const leads = new Map<NodeId, number>(nodes.map((n) => [n, 0]));
    for (const shard of shards) {
      const leader = leaderOf(shard);
      if (leader !== undefined) leads.set(leader, (leads.get(leader) ?? 0) + 1);
    }
    const squares = (changes: readonly (readonly [NodeId | undefined, NodeId | undefined])[]): number => {
      const after = new Map(leads);
      for (const [was, now] of changes) {
        if (was !== undefined) after.set(was, (after.get(was) ?? 0) - 1);
        if (now !== undefined) after.set(now, (after.get(now) ?? 0) + 1);
      }
      return [...after.values()].reduce((sum, c) => sum + c * c, 0);
    };
    const busiest = [...nodes].sort((a, b) => (leads.get(b) ?? 0) - (leads.get(a) ?? 0) || a - b)[0];
    let best = { score: squares([]), apply: undefined as (() => void) | undefined };
    for (const first of shards.filter((shard) => leaderOf(shard) === busiest)) {
      for (const from of first.replicas) {
        for (const to of nodes.filter((n) => !first.replicas.includes(n))) {
          const firstChange = [busiest, leaderOf(first, swapped(first.replicas, from, to))] as const;
          if (loadsStayEven(from, to)) {
            const score = squares([firstChange]);
            if (score < best.score) best = { score, apply: () => options.move(first, from, to) };
            continue;
          }
          for (const second of shards.filter((shard) => shard !== first && shard.replicas.includes(to) && !shard.replicas.includes(from))) {
            const score = squares([firstChange, [leaderOf(second), leaderOf(second, swapped(second.replicas, to, from))]]);
            if (score < best.score) best = { score, apply: () => { options.move(first, from, to); options.move(second, to, from); } };
          }
        }
      }
    }
    if (best.apply === undefined) return;
    best.apply();
  }
}

/**
 * The first of `candidates` whose replica on `from` moving to `to` leaves the run-time
 * preferred leaders (preferredLeader) least uneven over `nodes`: the smallest difference
 * between the most and the fewest shards a node leads.
 */
function leastUnevenLeadersAfter<S extends { shardId: ShardId; replicas: NodeId[] }>(
  candidates: readonly S[],
  options: { shards: readonly S[]; from: NodeId; to: NodeId; nodes: readonly NodeId[]; members: readonly NodeId[] },
): S | undefined {
  let best: S | undefined;
  let bestSpread = Infinity;
  for (const candidate of candidates) {
    const leads = new Map<NodeId, number>(options.nodes.map((n) => [n, 0]));
    for (const shard of options.shards) {
      const voters = shard === candidate ? shard.replicas.map((n) => (n === options.from ? options.to : n)) : shard.replicas;
      const leader = preferredLeader(shard.shardId, { voters, members: options.members });
      if (leader !== undefined && leads.has(leader)) leads.set(leader, (leads.get(leader) ?? 0) + 1);
    }
    const spread = Math.max(...leads.values()) - Math.min(...leads.values());
    if (spread < bestSpread) {
      best = candidate;
      bestSpread = spread;
    }
  }
  return best;
}

/** Reorders each shard's replicas so that preferred leaders are spread evenly. */
export function balanceLeaders(placement: Placement, nodes: readonly NodeId[]): Placement {
  const shards = placement.map((shard) => [...shard.replicas]);
  const leads = new Map<NodeId, number>(sortedUnique(nodes).map((n) => [n, 0]));
  for (const replicas of shards) if (replicas[0] !== undefined) leads.set(replicas[0], (leads.get(replicas[0]) ?? 0) + 1);
  // Hand leadership from the busiest leader to the idlest replica while that helps.
  for (let guard = 0; guard < shards.length + 1; guard++) {
    let improved = false;
    for (const replicas of shards) {
      const leader = replicas[0];
      if (leader === undefined) continue;
      const idlest = [...replicas].sort((a, b) => (leads.get(a) ?? 0) - (leads.get(b) ?? 0) || a - b)[0] as NodeId;
      if ((leads.get(leader) ?? 0) - (leads.get(idlest) ?? 0) < 2) continue;
      replicas.splice(replicas.indexOf(idlest), 1);
      replicas.unshift(idlest);
      leads.set(leader, (leads.get(leader) ?? 0) - 1);
      leads.set(idlest, (leads.get(idlest) ?? 0) + 1);
      improved = true;
    }
    if (!improved) break;
  }
  return placement.map((shard, i) => ({ shardId: shard.shardId, replicas: shards[i] ?? [] }));
}

/**
 * The voter that should lead a shard at run time: the first voter at or after position
 * `shardId` in the cyclic id order of `members` (the address book). It depends only on
 * the shard, its voters and the members, so leaders whose books agree agree on it (no
 * hand-back and forth); when the members are the initial ones it is each shard's first
 * replica in initialPlacement, so leaders start evenly spread. Undefined when no voter
 * is a member.
 */
export function preferredLeader(shardId: ShardId, options: { voters: readonly NodeId[]; members: readonly NodeId[] }): NodeId | undefined {
  const ring = sortedUnique(options.members);
  for (let step = 0; step < ring.length; step++) {
    const candidate = ring[(shardId + step) % ring.length];
    if (candidate !== undefined && options.voters.includes(candidate)) return candidate;
  }
  return undefined;
}

function sortedUnique(nodes: readonly NodeId[]): NodeId[] {
  return [...new Set(nodes)].sort((a, b) => a - b);
}
