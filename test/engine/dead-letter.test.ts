/**
 * Dead-lettering (zaqar-semantics §5.7, recommended behaviour) through the broker on
 * real LMDB: with _max_claim_count=2 a message is claimed twice and moved by the third
 * claim attempt, appended unclaimed at the DLQ tail with the same id and body, its
 * claim count kept, expiry reset to the DLQ ttl, and the DLQ auto-created, for DLQs on
 * the same and on another shard. A move interrupted after the claim committed (outbox
 * written, not delivered) completes when the broker reopens.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import type { LogIndex, ShardId } from '../../src/common/ids.js';
import { ShardMap } from '../../src/cluster/shard-map.js';
import { encodeCommand } from '../../src/cluster/shard/commands.js';
import { LocalLog } from '../../src/cluster/shard/local-shard-log.js';
import { QueueFsm } from '../../src/cluster/shard/queue-fsm.js';
import { logEnvFile, openLmdbEnv } from '../../src/log/lmdb/lmdb-env.js';
import { LmdbLogStore } from '../../src/log/lmdb/lmdb-log-store.js';
import { LmdbQueueStore } from '../../src/log/lmdb/lmdb-queue-store.js';
import { type BrokerFixture, openBrokerFixture, removeBrokerDirs } from './support/broker-fixture.js';
import { bodyOf, ids, list, post } from './support/broker-steps.js';

const project = 'proj';
const shardMap = new ShardMap(16);
const claimFor = (limit: number) => ({ limit, ttlSeconds: 60, graceSeconds: 60 });

/** A DLQ name on the same shard as `queue` (or on another one). */
function dlqName(queue: string, onSameShard: boolean): string {
  for (let i = 0; ; i++) {
    const name = `dlq-${i}`;
    const isSame = shardMap.shardOf(project, name) === shardMap.shardOf(project, queue);
    if (isSame === onSameShard) return name;
  }
}

let fixture: BrokerFixture | undefined;
afterEach(async () => {
  await fixture?.close();
  fixture = undefined;
  removeBrokerDirs();
});

describe('ShardedBroker dead-letter queues', () => {
  for (const onSameShard of [true, false]) {
    test(`the third claim attempt moves the message to a DLQ on ${onSameShard ? 'the same' : 'another'} shard`, async () => {
      fixture = await openBrokerFixture({ shardCount: 16 });
      const { broker, clock } = fixture;
      const ref = { project, queue: 'work' };
      const dlq = { project, queue: dlqName(ref.queue, onSameShard) };
      await broker.createQueue(ref, { _max_claim_count: 2, _dead_letter_queue: dlq.queue, _dead_letter_queue_messages_ttl: 120 });
      const [id, keep] = await post(broker, ref, [{ job: 1 }, { job: 2 }], { ttlSeconds: 3600 });
      await post(broker, dlq, ['already there']);
      for (let attempt = 1; attempt <= 2; attempt++) {
        const claim = await broker.createClaim(ref, claimFor(1));
        expect(ids(claim?.messages ?? [])).toEqual([id]);
        expect(claim?.messages[0]?.claimCount).toBe(attempt);
        await broker.releaseClaim(ref, claim?.id ?? '');
      }
      clock.advance(5_000);
      const third = await broker.createClaim(ref, claimFor(1));
      expect(third).toBeNull();
      const moved = await list(broker, dlq);
      expect(moved.map((m) => [m.id, m.seq, bodyOf(m), m.claimId, m.claimCount, m.ttlSeconds])).toEqual([
        [moved[0]?.id, 1, 'already there', null, 0, 3600],
        [id, 2, { job: 1 }, null, 2, 120],
      ]);
      expect(ids(await list(broker, ref, { includeClaimed: true }))).toEqual([keep]);
      clock.advance(120_000);
      expect(ids(await list(broker, dlq))).toEqual([moved[0]?.id]);
    });
  }

  test('the DLQ queue is created when missing', async () => {
    fixture = await openBrokerFixture();
    const { broker } = fixture;
    const ref = { project, queue: 'work' };
    await broker.createQueue(ref, { _max_claim_count: 0, _dead_letter_queue: 'graveyard' });
    const [id] = await post(broker, ref, ['x']);
    expect(await broker.createClaim(ref, claimFor(5))).toBeNull();
    expect(await broker.getQueueMetadata({ project, queue: 'graveyard' })).toEqual({});
    expect(ids(await list(broker, { project, queue: 'graveyard' }))).toEqual([id]);
  });

  test('a move written to the outbox but not delivered completes when the broker reopens', async () => {
    fixture = await openBrokerFixture({ shardCount: 16 });
    const ref = { project, queue: 'work' };
    const dlq = { project, queue: dlqName(ref.queue, false) };
    await fixture.broker.createQueue(ref, { _max_claim_count: 0, _dead_letter_queue: dlq.queue });
    const [id] = await post(fixture.broker, ref, ['x']);
    const { dataDir, clock } = fixture;
    await fixture.close();

    // Apply the claim through the shard's log alone, as if the process died right after.
    const env = openLmdbEnv(dataDir);
    const sourceShard = shardMap.shardOf(project, ref.queue);
    const fsm = new QueueFsm(sourceShard, new LmdbQueueStore(env));
    const logEnv = openLmdbEnv(dataDir, { file: logEnvFile });
    const log = new LocalLog(new LmdbLogStore(logEnv)).openShard(fsm);
    const result = await log.propose({ type: 'claim', nowMs: clock.nowMs(), ...ref, claimId: 'c'.repeat(24), ...claimFor(1) });
    expect(result).toEqual({ claim: null, outboxSeqs: [1] });
    await fsm.store.flushed();
    await Promise.all([env.close(), logEnv.close()]);

    fixture = await openBrokerFixture({ shardCount: 16, dataDir, clock });
    expect(ids(await list(fixture.broker, dlq))).toEqual([id]);
    expect(await list(fixture.broker, ref, { includeClaimed: true })).toEqual([]);
  });

  test('a delivery seen before is ignored by the DLQ shard', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'zaqar-dlq-'));
    const env = openLmdbEnv(dir);
    const fsm = new QueueFsm(5 as ShardId, new LmdbQueueStore(env));
    const message = { id: 'a'.repeat(24), body: new Uint8Array([0xc0]), clientId: 'c', createdMs: 1, ttlSeconds: 60, expiresMs: 10_000, claimCount: 1, checksum: null };
    const insert = { type: 'dlqInsert' as const, nowMs: 5, project, queue: 'dlq', sourceShard: 2 as ShardId, outboxSeq: 7, message };
    const results = fsm.apply([
      { index: 1 as LogIndex, data: encodeCommand(insert) },
      { index: 2 as LogIndex, data: encodeCommand({ ...insert, message: { ...message, id: 'b'.repeat(24) } }) },
      { index: 3 as LogIndex, data: encodeCommand({ ...insert, outboxSeq: 8 }) },
    ]);
    expect(results).toEqual([{ inserted: true }, { inserted: false }, { inserted: false }]);
    await fsm.store.flushed();
    await env.close();
    rmSync(dir, { recursive: true, force: true });
  });
});
