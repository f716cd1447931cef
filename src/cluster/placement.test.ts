/**
 * Placement keeps every shard fully and distinctly replicated on live nodes with even
 * load, whatever sequence of joins and departures it is asked to absorb.
 */
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import type { NodeId, ShardId } from '../common/ids.js';
import { initialPlacement, planRebalance, preferredLeader, type Placement } from './placement.js';

const node = (n: number): NodeId => n as NodeId;

function replicaLoads(placement: Placement): Map<NodeId, number> {
  const loads = new Map<NodeId, number>();
  for (const shard of placement) for (const n of shard.replicas) loads.set(n, (loads.get(n) ?? 0) + 1);
  return loads;
}

function expectWellFormed(placement: Placement, nodes: NodeId[], replicas: number): void {
  const width = Math.min(replicas, nodes.length);
  for (const shard of placement) {
    expect(new Set(shard.replicas).size).toBe(width);
    for (const n of shard.replicas) expect(nodes).toContain(n);
  }
  const loads = nodes.map((n) => replicaLoads(placement).get(n) ?? 0);
  expect(Math.max(...loads) - Math.min(...loads)).toBeLessThanOrEqual(1);
}

describe('placement', () => {
  test('initialPlacement spreads replicas and preferred leaders round-robin', () => {
    const placement = initialPlacement({ nodes: [node(3), node(1), node(2)], shardCount: 16, replicas: 3 });
    expectWellFormed(placement, [node(1), node(2), node(3)], 3);
    expect(placement[0]?.replicas).toEqual([1, 2, 3]);
    expect(placement[1]?.replicas).toEqual([2, 3, 1]);
    const leaders = placement.map((s) => s.replicas[0]);
    expect(leaders.filter((l) => l === 1)).toHaveLength(6);
    expect(leaders.filter((l) => l === 3)).toHaveLength(5);
  });

  test('initialPlacement of a single node gives every shard one replica', () => {
    const placement = initialPlacement({ nodes: [node(1)], shardCount: 4, replicas: 3 });
    expect(placement.map((s) => s.replicas)).toEqual([[1], [1], [1], [1]]);
  });

  test('planRebalance after adding a fourth node moves a quarter of the replicas to it', () => {
    const before = initialPlacement({ nodes: [node(1), node(2), node(3)], shardCount: 16, replicas: 3 });
    const { moves, placement } = planRebalance(before, { nodes: [node(1), node(2), node(3), node(4)], replicas: 3 });
    expectWellFormed(placement, [node(1), node(2), node(3), node(4)], 3);
    expect(moves.every((m) => m.add === 4 && m.remove !== undefined)).toBe(true);
    expect(moves).toHaveLength(12);
  });

  test('planRebalance after adding a fourth node spreads the run-time leaders onto it too', () => {
    const nodes = [node(1), node(2), node(3), node(4)];
    for (const shardCount of [4, 8, 16]) {
      const before = initialPlacement({ nodes: nodes.slice(0, 3), shardCount, replicas: 3 });
      const { placement } = planRebalance(before, { nodes, replicas: 3, members: nodes });
      const leaders = placement.map((shard) => preferredLeader(shard.shardId, { voters: shard.replicas, members: nodes }));
      const leadCounts = nodes.map((n) => leaders.filter((leader) => leader === n).length);
      expect({ shardCount, leadCounts }).toEqual({ shardCount, leadCounts: nodes.map(() => shardCount / 4) });
    }
  });

  test('planRebalance after removing a node re-homes exactly its replicas', () => {
    const before = initialPlacement({ nodes: [node(1), node(2), node(3), node(4)], shardCount: 16, replicas: 3 });
    const { moves, placement } = planRebalance(before, { nodes: [node(1), node(2), node(4)], replicas: 3 });
    expectWellFormed(placement, [node(1), node(2), node(4)], 3);
    expect(moves.every((m) => m.remove === 3)).toBe(true);
    expect(moves).toHaveLength(12);
  });

  test('planRebalance after removing a node spreads the run-time leaders over the remaining nodes', () => {
    const layouts = [[4, 2, 8], [5, 2, 10], [5, 2, 20], [6, 2, 12], [6, 3, 12]] as const;
    for (const [nodeCount, replicas, shardCount] of layouts) {
      const nodes = Array.from({ length: nodeCount }, (_, i) => node(i + 1));
      const before = initialPlacement({ nodes, shardCount, replicas });
      for (const gone of nodes) {
        const rest = nodes.filter((n) => n !== gone);
        // The address book may still name the departed node (leaders then skip it in the ring) or not.
        for (const members of [nodes, rest]) {
          const { placement } = planRebalance(before, { nodes: rest, replicas, members });
          expectWellFormed(placement, rest, replicas);
          const leaders = placement.map((shard) => preferredLeader(shard.shardId, { voters: shard.replicas, members }));
          const leadCounts = rest.map((n) => leaders.filter((leader) => leader === n).length);
          expect(Math.max(...leadCounts) - Math.min(...leadCounts), JSON.stringify({ nodeCount, replicas, shardCount, gone, members, leadCounts })).toBeLessThanOrEqual(1);
        }
      }
    }
  });

  test('any sequence of membership changes keeps placements well formed', () => {
    const changes = fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 1, max: 9 })), { maxLength: 12 });
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 5 }), fc.integer({ min: 1, max: 32 }), changes, (replicas, shardCount, steps) => {
        let nodes = [node(1), node(2), node(3)];
        let placement = initialPlacement({ nodes, shardCount, replicas });
        for (const [isJoin, n] of steps) {
          const next = isJoin ? [...new Set([...nodes, node(n)])] : nodes.filter((x) => x !== n);
          if (next.length === 0) continue;
          nodes = next;
          const planned = planRebalance(placement, { nodes, replicas });
          for (const move of planned.moves) expect(nodes).toContain(move.add);
          placement = planned.placement;
          expectWellFormed(placement, nodes, replicas);
          expect(placement.map((s) => s.shardId)).toEqual([...Array(shardCount).keys()].map((s) => s as ShardId));
        }
      }),
    );
  });

  test('preferredLeader is each shard\'s first initial replica, else the next voter in the ring', () => {
    const members = [node(4), node(2), node(1), node(3)];
    for (const shard of initialPlacement({ nodes: members, shardCount: 16, replicas: 3 })) {
      expect(preferredLeader(shard.shardId, { voters: shard.replicas, members })).toBe(shard.replicas[0]);
    }
    // Shard 1's ring starts at node 2; without it the next voter in id order, cyclically.
    expect(preferredLeader(1 as ShardId, { voters: [node(1), node(4)], members })).toBe(node(4));
    expect(preferredLeader(3 as ShardId, { voters: [node(1), node(2)], members })).toBe(node(1));
    expect(preferredLeader(0 as ShardId, { voters: [node(9)], members })).toBeUndefined();
  });
});
