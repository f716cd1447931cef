/**
 * The pure pieces of pool placement (pool-placement.ts): what a pool's options ask for
 * (validated against the cluster's members), each shard's voters, and the weighted,
 * deterministic choice of a pool and of a shard in it.
 */
import { describe, expect, test } from 'vitest';
import type { NodeId, ShardId } from '../common/ids.js';
import { BrokerError } from './errors.js';
import { choosePool, chooseShard, poolLayoutOf, replicaSetsOf } from './pool-placement.js';

const members = [1, 2, 3, 4] as NodeId[];

describe('poolLayoutOf', () => {
  test('no nodes: a label', () => {
    expect(poolLayoutOf({}, members)).toBeUndefined();
    expect(poolLayoutOf({ anything: 1 }, members)).toBeUndefined();
  });

  test('defaults: replicas min(3, nodes), 2 shards; nodes sorted, deduplicated', () => {
    expect(poolLayoutOf({ nodes: [4, 3, 4] }, members)).toEqual({ nodes: [3, 4], replicas: 2, shards: 2 });
    expect(poolLayoutOf({ nodes: [1, 2, 3, 4], shards: 5 }, members)).toEqual({ nodes: [1, 2, 3, 4], replicas: 3, shards: 5 });
  });

  test.each([
    [{ nodes: [] }, 'non-empty array'],
    [{ nodes: 'all' }, 'non-empty array'],
    [{ nodes: [3, 'x'] }, 'non-empty array'],
    [{ nodes: [5] }, 'node 5 is not a cluster member'],
    [{ nodes: [3, 4], replicas: 3 }, 'options.replicas must be an integer of 1..2'],
    [{ nodes: [3, 4], replicas: 1.5 }, 'options.replicas'],
    [{ nodes: [3, 4], shards: 0 }, 'options.shards'],
    [{ replicas: 2 }, 'need options.nodes'],
  ])('%j is refused', (options, message) => {
    let error: unknown;
    try {
      poolLayoutOf(options, members);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(BrokerError);
    expect((error as BrokerError).code).toBe('invalid_request_body');
    expect((error as Error).message).toContain(message);
  });

  test('a node that is not clustered has no members', () => {
    expect(() => poolLayoutOf({ nodes: [1] }, [])).toThrow(/not clustered/);
  });
});

test('replicaSetsOf spreads each shard round robin over the pool nodes', () => {
  expect(replicaSetsOf({ nodes: [3, 4] as NodeId[], replicas: 2, shards: 2 })).toEqual([[3, 4], [4, 3]]);
  expect(replicaSetsOf({ nodes: [1, 2, 3] as NodeId[], replicas: 1, shards: 3 })).toEqual([[1], [2], [3]]);
});

describe('choosePool', () => {
  const names = Array.from({ length: 400 }, (_, i) => ({ project: 'p', queue: `q-${i}` }));

  test('weight 0 is never chosen; each other pool gets about its share; the same name always gets the same pool', () => {
    const pools = [{ name: 'a', weight: 1 }, { name: 'zero', weight: 0 }, { name: 'b', weight: 3 }];
    const counts = new Map<string, number>();
    for (const ref of names) {
      const pool = choosePool(pools, ref)?.name ?? 'none';
      counts.set(pool, (counts.get(pool) ?? 0) + 1);
      expect(choosePool(pools, ref)?.name).toBe(pool);
    }
    expect(counts.get('zero')).toBeUndefined();
    expect(counts.get('none')).toBeUndefined();
    expect(counts.get('a')).toBeGreaterThan(60);
    expect(counts.get('a')).toBeLessThan(140);
    expect(counts.get('b')).toBe(400 - (counts.get('a') ?? 0));
  });

  test('no pool when every weight is 0 or there are none', () => {
    expect(choosePool([{ weight: 0 }], names[0] ?? { project: '', queue: '' })).toBeUndefined();
    expect(choosePool([], names[0] ?? { project: '', queue: '' })).toBeUndefined();
  });
});

test('chooseShard picks one of the pool shards, every one for some name', () => {
  const placement = [0, 1, 2].map((i) => ({ shardId: (1_000_000 + i) as ShardId, replicas: [3] as NodeId[] }));
  const chosen = new Set<number>();
  for (let i = 0; i < 100; i++) chosen.add(chooseShard(placement, { project: 'p', queue: `q-${i}` })?.shardId ?? -1);
  expect([...chosen].sort()).toEqual([1_000_000, 1_000_001, 1_000_002]);
  expect(chooseShard([], { project: 'p', queue: 'q' })).toBeUndefined();
});
