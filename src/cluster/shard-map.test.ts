import fc from 'fast-check';
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

test('queueHash is FNV-1a over the UTF-8 bytes of project, NUL, queue, for any names', () => {
  const reference = (project: string, queue: string): number => {
    let hash = 0x811c9dc5;
    for (const byte of Buffer.from(`${project}\u0000${queue}`, 'utf8')) hash = Math.imul(hash ^ byte, 0x01000193) >>> 0;
    return hash;
  };
  fc.assert(fc.property(fc.string({ unit: 'binary' }), fc.string(), (project, queue) => {
    expect(queueHash(project, queue)).toBe(reference(project, queue));
  }), { numRuns: 500 });
  expect(queueHash('préfixe', 'ünïcode')).toBe(reference('préfixe', 'ünïcode'));
});
