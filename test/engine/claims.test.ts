/**
 * Claim semantics through the ShardedBroker on real LMDB (zaqar-semantics §5, api §8):
 * oldest-first best-effort claims, the ttl+grace lifetime extension, expiry, renewal,
 * release, claim lookup, the delete-by-id outcome table of §5.6 (expired claim → 400,
 * recommended) and bulk delete with claim ids.
 */
import { describe, expect, test } from 'vitest';
import { useBrokerFixture } from './support/broker-fixture.js';
import { ids, list, post } from './support/broker-steps.js';

const ref = { project: 'proj', queue: 'jobs' };
const claimFor = (limit: number, ttlSeconds = 60, graceSeconds = 60) => ({ limit, ttlSeconds, graceSeconds });
const open = useBrokerFixture();

describe('ShardedBroker claims', () => {
  test('claims take unclaimed messages oldest first and never overlap', async () => {
    const { broker } = await open();
    expect(await broker.createClaim(ref, claimFor(5))).toBeNull();
    const posted = await post(broker, ref, ['a', 'b', 'c', 'd', 'e']);
    const first = await broker.createClaim(ref, claimFor(2));
    const second = await broker.createClaim(ref, claimFor(10));
    expect(ids(first?.messages ?? [])).toEqual(posted.slice(0, 2));
    expect(ids(second?.messages ?? [])).toEqual(posted.slice(2));
    expect(first?.messages.every((m) => m.claimId === first.id)).toBe(true);
    expect(await broker.createClaim(ref, claimFor(10))).toBeNull();
    expect(await list(broker, ref)).toEqual([]);
    expect(ids(await list(broker, ref, { includeClaimed: true }))).toEqual(posted);
    expect(await broker.createClaim({ ...ref, queue: 'missing' }, claimFor(1))).toBeNull();
    expect(await broker.getQueueMetadata({ ...ref, queue: 'missing' })).toBeNull();
  });

  test('a claim outliving a message extends it to claim expiry + grace and reports ttl + grace', async () => {
    const { broker, clock } = await open();
    const [short] = await post(broker, ref, ['short'], { ttlSeconds: 60 });
    const [long] = await post(broker, ref, ['long'], { ttlSeconds: 3600 });
    const claim = await broker.createClaim(ref, claimFor(2, 300, 120));
    expect(claim?.messages.map((m) => [m.id, m.ttlSeconds])).toEqual([
      [short, 420],
      [long, 3600],
    ]);
    clock.advance(400_000); // claim lapsed at 300 s; the short message lives until 420 s
    expect(ids(await list(broker, ref))).toEqual([short, long]);
    clock.advance(20_000);
    expect(ids(await list(broker, ref))).toEqual([long]);
  });

  test('an expired claim frees its messages, cannot be renewed, and its id no longer deletes', async () => {
    const { broker, clock } = await open();
    const [id] = await post(broker, ref, ['a']);
    const claim = await broker.createClaim(ref, claimFor(1, 60));
    clock.advance(59_999);
    expect(await broker.getClaim(ref, claim?.id ?? '')).not.toBeNull();
    clock.advance(1);
    expect(await broker.getClaim(ref, claim?.id ?? '')).toBeNull();
    expect(await broker.renewClaim(ref, { claimId: claim?.id ?? '', ttlSeconds: 60, graceSeconds: 60 })).toBe(false);
    expect((await list(broker, ref))[0]?.claimId).toBeNull();
    expect(await broker.deleteMessage(ref, { id: id ?? '', claimId: claim?.id ?? '' })).toBe('not_claimed');
    const again = await broker.createClaim(ref, claimFor(1));
    expect(ids(again?.messages ?? [])).toEqual([id]);
  });

  test('renewing restarts the claim clock and keeps its messages', async () => {
    const { broker, clock } = await open();
    const [id] = await post(broker, ref, ['a'], { ttlSeconds: 60 });
    const claim = await broker.createClaim(ref, claimFor(1, 60, 60));
    clock.advance(50_000);
    expect(await broker.renewClaim(ref, { claimId: claim?.id ?? '', ttlSeconds: 120, graceSeconds: 60 })).toBe(true);
    clock.advance(100_000);
    const renewed = await broker.getClaim(ref, claim?.id ?? '');
    expect(renewed).toMatchObject({ id: claim?.id, ttlSeconds: 120, updatedMs: clock.nowMs() - 100_000 });
    expect(renewed?.messages.map((m) => [m.id, m.ttlSeconds])).toEqual([[id, 180]]);
    expect(await broker.createClaim(ref, claimFor(1))).toBeNull();
  });

  test('releasing a claim makes its messages listable and claimable at once', async () => {
    const { broker } = await open();
    const posted = await post(broker, ref, ['a', 'b']);
    const claim = await broker.createClaim(ref, claimFor(2));
    await broker.releaseClaim(ref, claim?.id ?? '');
    await broker.releaseClaim(ref, 'ffffffffffffffffffffffff');
    expect(await broker.getClaim(ref, claim?.id ?? '')).toBeNull();
    expect(ids(await list(broker, ref))).toEqual(posted);
    expect(ids((await broker.createClaim(ref, claimFor(5)))?.messages ?? [])).toEqual(posted);
  });

  test('a claim whose messages were all deleted no longer exists', async () => {
    const { broker } = await open();
    const posted = await post(broker, ref, ['a', 'b']);
    const claim = await broker.createClaim(ref, claimFor(2));
    const claimId = claim?.id ?? '';
    expect(await broker.deleteMessage(ref, { id: posted[0] ?? '', claimId })).toBe('deleted');
    expect(ids((await broker.getClaim(ref, claimId))?.messages ?? [])).toEqual([posted[1]]);
    expect(await broker.deleteMessage(ref, { id: posted[1] ?? '', claimId })).toBe('deleted');
    expect(await broker.getClaim(ref, claimId)).toBeNull();
  });

  test('delete by id follows the §5.6 table', async () => {
    const { broker } = await open();
    const [claimed, other, free] = await post(broker, ref, ['claimed', 'other', 'free']);
    const mine = await broker.createClaim(ref, claimFor(1));
    const theirs = await broker.createClaim(ref, claimFor(1));
    const mineId = mine?.id ?? '';
    expect(await broker.deleteMessage(ref, { id: claimed ?? '' })).toBe('claimed');
    expect(await broker.deleteMessage(ref, { id: claimed ?? '', claimId: theirs?.id ?? '' })).toBe('claimed');
    expect(await broker.deleteMessage(ref, { id: free ?? '', claimId: mineId })).toBe('not_claimed');
    expect(await broker.deleteMessage(ref, { id: claimed ?? '', claimId: mineId })).toBe('deleted');
    expect(await broker.deleteMessage(ref, { id: claimed ?? '', claimId: mineId })).toBe('missing');
    await broker.releaseClaim(ref, theirs?.id ?? '');
    expect(await broker.deleteMessage(ref, { id: other ?? '', claimId: theirs?.id ?? '' })).toBe('not_claimed');
    expect(await broker.deleteMessage(ref, { id: other ?? '' })).toBe('deleted');
    expect(await broker.deleteMessage({ ...ref, queue: 'nowhere' }, { id: free ?? '' })).toBe('missing');
  });

  test('bulk delete ignores claims, unless claim ids are given: then each must hold a listed message', async () => {
    const { broker } = await open();
    const [a, b, c] = await post(broker, ref, ['a', 'b', 'c']);
    const claim = await broker.createClaim(ref, claimFor(1));
    const claimId = claim?.id ?? '';
    expect(await broker.deleteMessages(ref, { ids: [b ?? ''], claimIds: [claimId] })).toBe(false);
    expect(ids(await list(broker, ref))).toEqual([b, c]);
    expect(await broker.deleteMessages(ref, { ids: [a ?? '', b ?? ''], claimIds: [claimId] })).toBe(true);
    expect(await broker.deleteMessages(ref, { ids: [c ?? '', 'ffffffffffffffffffffffff'] })).toBe(true);
    expect(await list(broker, ref, { includeClaimed: true })).toEqual([]);
    expect(await broker.getClaim(ref, claimId)).toBeNull();
  });

  test('claim counts stay 0 unless a dead-letter queue is configured', async () => {
    const { broker } = await open();
    await post(broker, ref, ['a']);
    const claim = await broker.createClaim(ref, claimFor(1));
    await broker.releaseClaim(ref, claim?.id ?? '');
    const popped = await broker.popMessages(ref, 1);
    expect(popped.map((m) => m.claimCount)).toEqual([0]);
  });
});
