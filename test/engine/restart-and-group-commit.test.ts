/**
 * Durability plumbing of the ShardedBroker on real LMDB: concurrent writes of many
 * shards share persist rounds (group commit, counted), while sequential writes each
 * take their own; closing and reopening yields the same queues, messages, claims (the
 * claim index rebuilt from storage: claimed messages stay unclaimable) and markers.
 */
import { afterEach, expect, test } from 'vitest';
import { type BrokerFixture, openBrokerFixture, removeBrokerDirs } from './support/broker-fixture.js';
import { ids, list, post } from './support/broker-steps.js';

let fixture: BrokerFixture | undefined;
afterEach(async () => {
  await fixture?.close();
  fixture = undefined;
  removeBrokerDirs();
});

test('concurrent posts to many shards share flushes; sequential posts do not', async () => {
  fixture = await openBrokerFixture({ shardCount: 16 });
  const { broker } = fixture;
  const requests = 400;
  const before = broker.logStats;
  const posted = await Promise.all(
    Array.from({ length: requests }, (_, i) => post(broker, { project: 'p', queue: `q${i % 40}` }, [i])),
  );
  const concurrent = { flushes: broker.logStats.flushes - before.flushes, proposals: broker.logStats.proposals - before.proposals };
  expect(posted.flat()).toHaveLength(requests);
  // One client's posts to one queue in one turn go as one command (post-coalescer.ts): one per queue.
  expect(concurrent.proposals).toBe(40);
  expect(concurrent.flushes).toBeLessThanOrEqual(4);

  const middle = broker.logStats;
  for (let i = 0; i < 5; i++) await post(broker, { project: 'p', queue: 'serial' }, [i]);
  expect(broker.logStats.flushes - middle.flushes).toBe(5);
  let total = 0;
  for (let i = 0; i < 40; i++) total += (await list(broker, { project: 'p', queue: `q${i}` })).length;
  expect(total).toBe(requests);
});

test('reopening keeps queues, messages, claims, markers and the claim index', async () => {
  fixture = await openBrokerFixture({ shardCount: 4 });
  const ref = { project: 'p', queue: 'q' };
  const { broker } = fixture;
  await broker.createQueue({ project: 'p', queue: 'meta' }, { description: 'kept', _max_claim_count: 3 });
  const posted = await post(broker, ref, ['a', 'b', 'c', 'd']);
  const claim = await broker.createClaim(ref, { limit: 2, ttlSeconds: 300, graceSeconds: 60 });
  await broker.deleteMessage(ref, { id: posted[3] ?? '' });
  const before = {
    listed: await list(broker, ref, { includeClaimed: true }),
    claim: await broker.getClaim(ref, claim?.id ?? ''),
    stats: await broker.queueStats(ref),
    queues: await broker.listQueues('p', { limit: 10, detailed: true, withCount: true }),
  };

  fixture = await fixture.reopen();
  const again = fixture.broker;
  expect(await list(again, ref, { includeClaimed: true })).toEqual(before.listed);
  expect(await again.getClaim(ref, claim?.id ?? '')).toEqual(before.claim);
  expect(await again.queueStats(ref)).toEqual(before.stats);
  expect(await again.listQueues('p', { limit: 10, detailed: true, withCount: true })).toEqual(before.queues);
  expect(before.queues.queues.map((q) => q.name)).toEqual(['meta', 'q']);
  // The rebuilt index still knows a and b are claimed: only c is claimable.
  expect(ids((await again.createClaim(ref, { limit: 5, ttlSeconds: 60, graceSeconds: 60 }))?.messages ?? [])).toEqual([posted[2]]);
  const [next] = await post(again, ref, ['e']);
  expect((await again.getMessages(ref, [next ?? '']))[0]?.seq).toBe(5);
});

test('queue listings merge shards by name with marker, name filter, metadata filters and count', async () => {
  fixture = await openBrokerFixture({ shardCount: 8 });
  const { broker } = fixture;
  const names = ['alpha', 'beta', 'gamma', 'delta', 'alphabet', 'omega'];
  for (const name of names) await broker.createQueue({ project: 'p', queue: name }, { tier: name.length > 5 ? 'big' : 'small', n: name.length });
  await broker.createQueue({ project: 'other', queue: 'zeta' }, {});
  const page = await broker.listQueues('p', { limit: 3, detailed: false, withCount: true });
  expect(page).toEqual({ queues: [{ name: 'alpha' }, { name: 'alphabet' }, { name: 'beta' }], count: 6 });
  const next = await broker.listQueues('p', { limit: 3, marker: 'beta', detailed: false, withCount: false });
  expect(next.queues.map((q) => q.name)).toEqual(['delta', 'gamma', 'omega']);
  const filtered = await broker.listQueues('p', { limit: 10, name: 'alpha', detailed: true, withCount: false });
  expect(filtered.queues).toEqual([
    { name: 'alpha', metadata: { tier: 'small', n: 5 } },
    { name: 'alphabet', metadata: { tier: 'big', n: 8 } },
  ]);
  const byMetadata = await broker.listQueues('p', { limit: 10, filters: { n: 5 }, detailed: false, withCount: false });
  expect(byMetadata.queues.map((q) => q.name)).toEqual(['alpha', 'delta', 'gamma', 'omega']);
  expect(await broker.setQueueMetadata({ project: 'p', queue: 'alpha' }, { replaced: true })).toBe(true);
  expect(await broker.setQueueMetadata({ project: 'p', queue: 'nope' }, {})).toBe(false);
  expect(await broker.createQueue({ project: 'p', queue: 'alpha' }, { ignored: true })).toEqual({ created: false });
  expect(await broker.getQueueMetadata({ project: 'p', queue: 'alpha' })).toEqual({ replaced: true });
  expect(await broker.isHealthy()).toBe(true);
});
