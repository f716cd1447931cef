import { expect, test } from 'vitest';
import { ShardMap, queueHash } from './shard-map.js';

test('ShardMap placement is pinned: changing the hash would strand stored queues', () => {
  expect(queueHash('', '')).toBe(0x050c5d1f);
  expect(new ShardMap().shardCount).toBe(16);
  expect([queueHash('proj', 'work') % 16, new ShardMap(16).shardOf('proj', 'work')]).toEqual([7, 7]);
});

test('ShardMap spreads queues over every shard and separates projects', () => {
  const map = new ShardMap(16);
  const used = new Set(Array.from({ length: 400 }, (_, i) => map.shardOf('p', `queue-${i}`)));
  expect(used.size).toBe(16);
  const differs = Array.from({ length: 50 }, (_, i) => map.shardOf('a', `q${i}`) !== map.shardOf('b', `q${i}`));
  expect(differs.some(Boolean)).toBe(true);
});
