/**
 * Message semantics through the ShardedBroker on real LMDB (zaqar-semantics §2–§4, §6):
 * lazy queues, per-queue markers and FIFO, echo by Client-ID value, stable marker
 * paging under concurrent posts and deletes, expiry by the reader's clock, get by ids,
 * pop, purge, delete-queue, delayed messages and project isolation.
 */
import { describe, expect, test } from 'vitest';
import { asBroker, openBrokerFixture, useBrokerFixture } from './support/broker-fixture.js';
import { bodyOf, consumer, ids, list, post, producer } from './support/broker-steps.js';

const ref = { project: 'proj', queue: 'orders' };
const open = useBrokerFixture();

describe('ShardedBroker messages', () => {
  test('posting creates the queue lazily and assigns consecutive markers in order', async () => {
    const { broker } = await open();
    expect(asBroker(broker)).toBe(broker);
    expect(await broker.getQueueMetadata(ref)).toBeNull();
    const first = await post(broker, ref, ['a', 'b']);
    const second = await post(broker, ref, ['c']);
    expect(await broker.getQueueMetadata(ref)).toEqual({});
    const listed = await list(broker, ref);
    expect(ids(listed)).toEqual([...first, ...second]);
    expect(listed.map((m) => m.seq)).toEqual([1, 2, 3]);
    expect(listed.map((m) => bodyOf(m))).toEqual(['a', 'b', 'c']);
    expect(first.every((id) => /^[0-9a-f]{24}$/.test(id))).toBe(true);
  });

  test('listing hides the caller’s own messages unless echo, comparing Client-IDs by UUID value', async () => {
    const { broker } = await open();
    await post(broker, ref, ['mine'], { clientId: producer });
    const sameClient = producer.replace(/-/g, '').toUpperCase();
    expect(await list(broker, ref, { clientId: sameClient })).toEqual([]);
    expect((await list(broker, ref, { clientId: sameClient, echo: true })).map((m) => bodyOf(m))).toEqual(['mine']);
    expect((await list(broker, ref, { clientId: consumer })).map((m) => bodyOf(m))).toEqual(['mine']);
  });

  test('marker paging neither skips nor repeats while messages are posted and deleted', async () => {
    const { broker } = await open();
    const all = await post(broker, ref, Array.from({ length: 10 }, (_, i) => i));
    const seen: string[] = [];
    let afterSeq: number | undefined;
    for (let page = 0; page < 20; page++) {
      const messages = await list(broker, ref, { limit: 3, afterSeq });
      if (messages.length === 0) break;
      seen.push(...ids(messages));
      afterSeq = messages[messages.length - 1]?.seq;
      if (page === 0) {
        // Delete one already seen and one not yet seen; post more at the tail.
        await broker.deleteMessages(ref, { ids: [all[0] ?? '', all[5] ?? ''] });
        all.push(...(await post(broker, ref, ['late'])));
      }
    }
    expect(seen).toEqual(all.filter((id) => id !== all[5]));
  });

  test('expired messages disappear from every read at the reader’s clock', async () => {
    const { broker, clock } = await open();
    const [shortLived] = await post(broker, ref, ['short'], { ttlSeconds: 60 });
    const [longLived] = await post(broker, ref, ['long'], { ttlSeconds: 600 });
    clock.advance(60_000);
    expect(ids(await list(broker, ref))).toEqual([longLived]);
    expect(ids(await broker.getMessages(ref, [shortLived ?? '', longLived ?? '']))).toEqual([longLived]);
    expect(await broker.deleteMessage(ref, { id: shortLived ?? '' })).toBe('missing');
    expect((await broker.queueStats(ref)).total).toBe(1);
    expect(ids(await broker.popMessages(ref, 5))).toEqual([longLived]);
  });

  test('get by ids returns claimed and delayed messages and skips unknown ids', async () => {
    const { broker } = await open();
    const [a, b] = await post(broker, ref, ['a', 'b']);
    await broker.createClaim(ref, { limit: 1, ttlSeconds: 60, graceSeconds: 60 });
    const found = await broker.getMessages(ref, [b ?? '', a ?? '', 'ffffffffffffffffffffffff', 'junk']);
    expect(ids(found).sort()).toEqual([a, b].sort());
    expect(found.find((m) => m.id === a)?.claimId).toMatch(/^[0-9a-f]{24}$/);
  });

  test('pop removes unclaimed messages oldest first and ignores delay', async () => {
    const { broker } = await open();
    await broker.createQueue(ref, { _default_message_delay: 30 });
    const [a, b, c] = await post(broker, ref, ['a', 'b', 'c']);
    await post(broker, ref, ['delayed'], { delaySeconds: 30 });
    const claim = await broker.createClaim(ref, { limit: 1, ttlSeconds: 60, graceSeconds: 60 });
    expect(ids(claim?.messages ?? [])).toEqual([a]);
    const popped = await broker.popMessages(ref, 3);
    expect(ids(popped).slice(0, 2)).toEqual([b, c]);
    expect(popped.map((m) => bodyOf(m))).toEqual(['b', 'c', 'delayed']);
    expect(ids(await list(broker, ref, { includeClaimed: true, includeDelayed: true }))).toEqual([a]);
  });

  test('purge removes unclaimed and delayed messages; claimed ones survive', async () => {
    const { broker } = await open();
    const [a] = await post(broker, ref, ['a', 'b', 'c']);
    await broker.createClaim(ref, { limit: 1, ttlSeconds: 60, graceSeconds: 60 });
    await broker.purgeQueue(ref, { messages: true, subscriptions: true });
    expect(ids(await list(broker, ref, { includeClaimed: true }))).toEqual([a]);
    expect(await broker.getQueueMetadata(ref)).toEqual({});
  });

  test('deleting a queue removes its messages and claims; recreating restarts markers', async () => {
    const { broker } = await open();
    await post(broker, ref, ['a', 'b']);
    const claim = await broker.createClaim(ref, { limit: 1, ttlSeconds: 60, graceSeconds: 60 });
    await broker.deleteQueue(ref);
    expect(await broker.getQueueMetadata(ref)).toBeNull();
    expect(await broker.getClaim(ref, claim?.id ?? '')).toBeNull();
    expect(await broker.queueStats(ref)).toEqual({ claimed: 0, free: 0, total: 0 });
    await post(broker, ref, ['fresh']);
    expect((await list(broker, ref)).map((m) => [m.seq, bodyOf(m)])).toEqual([[1, 'fresh']]);
  });

  test('delayed messages are hidden from claims and default listing until the delay ends', async () => {
    const { broker, clock } = await open();
    await broker.createQueue(ref, { _default_message_delay: 10 });
    const [delayed] = await post(broker, ref, ['later'], { delaySeconds: 10 });
    const [now] = await post(broker, ref, ['now']);
    expect(ids(await list(broker, ref, { includeDelayed: false }))).toEqual([now]);
    expect(ids(await list(broker, ref, { includeDelayed: true }))).toEqual([delayed, now]);
    const stats = await broker.queueStats(ref);
    expect(stats).toMatchObject({ free: 2, total: 2, oldest: { id: now }, newest: { id: now } });
    expect(ids((await broker.createClaim(ref, { limit: 5, ttlSeconds: 60, graceSeconds: 60 }))?.messages ?? [])).toEqual([now]);
    clock.advance(10_000);
    expect(ids(await list(broker, ref, { includeDelayed: false, includeClaimed: true }))).toEqual([delayed, now]);
    expect(ids((await broker.createClaim(ref, { limit: 5, ttlSeconds: 60, graceSeconds: 60 }))?.messages ?? [])).toEqual([delayed]);
  });

  test('a project never sees another project’s queues, messages or claims', async () => {
    const { broker } = await open();
    const other = { project: 'intruder', queue: ref.queue };
    const [id] = await post(broker, ref, ['secret']);
    const claim = await broker.createClaim(ref, { limit: 1, ttlSeconds: 60, graceSeconds: 60 });
    expect(await list(broker, other, { includeClaimed: true })).toEqual([]);
    expect(await broker.getMessages(other, [id ?? ''])).toEqual([]);
    expect(await broker.getClaim(other, claim?.id ?? '')).toBeNull();
    expect(await broker.deleteMessage(other, { id: id ?? '' })).toBe('missing');
    expect(await broker.deleteMessages(other, { ids: [id ?? ''] })).toBe(true);
    expect(await broker.listQueues('intruder', { limit: 10, detailed: false, withCount: true })).toEqual({ queues: [], count: 0 });
    expect(ids(await broker.getMessages(ref, [id ?? '']))).toEqual([id]);
  });

  test('stats count claimed and free messages and name the oldest and newest', async () => {
    const { broker, clock } = await open();
    expect(await broker.queueStats(ref)).toEqual({ claimed: 0, free: 0, total: 0 });
    const [a] = await post(broker, ref, ['a']);
    clock.advance(1000);
    const [, c] = await post(broker, ref, ['b', 'c']);
    await broker.createClaim(ref, { limit: 1, ttlSeconds: 60, graceSeconds: 60 });
    const stats = await broker.queueStats(ref);
    expect(stats).toMatchObject({ claimed: 1, free: 2, total: 3, oldest: { id: a }, newest: { id: c, createdMs: clock.nowMs() } });
    clock.advance(60_000);
    expect(await broker.queueStats(ref)).toMatchObject({ claimed: 0, free: 3, total: 3 });
  });

  test('background work reclaims expired messages with one gc command per affected shard', async () => {
    const { broker, clock, timers } = await open();
    await post(broker, ref, ['short'], { ttlSeconds: 60 });
    await post(broker, { ...ref, queue: 'keep' }, ['long'], { ttlSeconds: 600 });
    const before = broker.logStats.proposals;
    await broker.runBackgroundWork();
    expect(broker.logStats.proposals).toBe(before);
    clock.advance(61_000);
    timers.runAll();
    await broker.runBackgroundWork();
    expect(broker.logStats.proposals).toBeGreaterThan(before);
    const after = broker.logStats.proposals;
    await broker.runBackgroundWork();
    expect(broker.logStats.proposals).toBe(after);
    expect((await list(broker, { ...ref, queue: 'keep' })).map((m) => bodyOf(m))).toEqual(['long']);
  });

  test('messages carry an MD5 checksum of their Python-serialised body when enabled', async () => {
    const { broker } = await open({ enableChecksum: true });
    const [id] = await post(broker, ref, [{ event: 'BackupStarted' }, null]);
    const listed = await list(broker, ref);
    expect(listed.map((m) => m.checksum)).toEqual(['MD5:82eb2714b7c0237d373947c046cac78d', undefined]);
    expect((await broker.getMessages(ref, [id ?? '']))[0]?.checksum).toBe('MD5:82eb2714b7c0237d373947c046cac78d');
    const plain = await openBrokerFixture();
    await post(plain.broker, ref, ['x']);
    expect((await list(plain.broker, ref))[0]).not.toHaveProperty('checksum');
    await plain.close();
  });
});
