/**
 * Claims stored as one record each (queue-claims, cluster/shard/stored-claims.ts):
 * claiming, renewing, releasing and expiring write the claim's record and leave its
 * messages' records alone unless something outlives the claim (a §5.2 lifetime
 * extension, a §5.7 claim count); a restart rebuilds the same claims, extensions and
 * counts; and a store written when claims lived on the messages opens with its claims
 * and goes on like a replica that never stopped.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import type { LogIndex, ShardId } from '../../src/common/ids.js';
import { encodeBody } from '../../src/cluster/shard/body-codec.js';
import { encodeCommand, type ShardCommand } from '../../src/cluster/shard/commands.js';
import { postedMessages } from '../../src/cluster/shard/posted-messages.js';
import { QueueFsm } from '../../src/cluster/shard/queue-fsm.js';
import { ShardReader } from '../../src/cluster/shard/shard-reads.js';
import { decodeShardImage } from '../../src/cluster/shard/shard-image.js';
import { openLmdbEnv } from '../../src/log/lmdb/lmdb-env.js';
import { LmdbQueueStore } from '../../src/log/lmdb/lmdb-queue-store.js';
import { MemoryQueueStore } from '../../src/log/memory/memory-queue-store.js';
import type { QueueKey, StoredClaim, StoredMessage } from '../../src/log/queue-store.js';
import { dumpState, randomCommands } from './support/fsm-commands.js';

const shard = 3 as ShardId;
const key: QueueKey = { shardId: shard, project: 'p', queue: 'q' };
const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** Counts the writes that touch message records and claim records, and the lookups of messages by id. */
class CountingStore extends MemoryQueueStore {
  messageUpdates = 0;
  claimWrites = 0;
  idLookups = 0;
  override seqOfId(at: QueueKey, messageId: string): number | undefined {
    this.idLookups++;
    return super.seqOfId(at, messageId);
  }
  override updateMessage(at: QueueKey, message: StoredMessage): void {
    this.messageUpdates++;
    super.updateMessage(at, message);
  }
  override putClaim(at: QueueKey, claim: StoredClaim): void {
    this.claimWrites++;
    super.putClaim(at, claim);
  }
  override removeClaim(at: QueueKey, claimId: string): void {
    this.claimWrites++;
    super.removeClaim(at, claimId);
  }
}

function apply(fsm: QueueFsm, command: ShardCommand): unknown {
  return fsm.apply([{ index: (fsm.appliedIndex + 1) as LogIndex, data: encodeCommand(command) }])[0];
}

function applyAll(fsm: QueueFsm, commands: readonly ShardCommand[]): void {
  for (const command of commands) apply(fsm, command);
}

const id = (n: number): string => n.toString(16).padStart(24, '0');

function post(nowMs: number, ttls: readonly number[], firstId = 1): ShardCommand {
  const messages = ttls.map((ttlSeconds, i) => ({ id: id(firstId + i), body: encodeBody(`m${i}`), ttlSeconds, delaySeconds: 0, checksum: null }));
  return { type: 'post', nowMs, project: 'p', queue: 'q', clientId: 'c', messages };
}

function claim(nowMs: number, claimId: string, options: { limit?: number; ttlSeconds?: number; graceSeconds?: number } = {}): ShardCommand {
  return { type: 'claim', nowMs, project: 'p', queue: 'q', claimId, limit: options.limit ?? 20, ttlSeconds: options.ttlSeconds ?? 60, graceSeconds: options.graceSeconds ?? 60 };
}

function claimedSeqs(fsm: QueueFsm, claimId: string): number[] {
  return fsm.index.claim('p\u0000q', claimId)?.messages.map((m) => m.seq) ?? [];
}

function reads(fsm: QueueFsm): ShardReader {
  return new ShardReader(fsm);
}

function lmdbDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'zaqar-claim-records-'));
  dirs.push(dir);
  return dir;
}

describe('claim records', () => {
  test('claim, renew and delete of 20 messages write the claim record alone, without a dead-letter policy', () => {
    const store = new CountingStore();
    const fsm = new QueueFsm(shard, store);
    apply(fsm, post(0, Array.from({ length: 20 }, () => 3600)));
    apply(fsm, claim(1_000, id(0xc1)));
    expect(claimedSeqs(fsm, id(0xc1))).toHaveLength(20);
    apply(fsm, { type: 'renew', nowMs: 2_000, project: 'p', queue: 'q', claimId: id(0xc1), ttlSeconds: 120, graceSeconds: 60 });
    const ids = Array.from({ length: 20 }, (_, i) => id(1 + i));
    expect(apply(fsm, { type: 'deleteMessages', nowMs: 3_000, project: 'p', queue: 'q', ids, claimIds: [id(0xc1)] })).toEqual({ deleted: true });
    expect(store.messageUpdates).toBe(0);
    expect(store.claimWrites).toBe(3); // claim, renew, last message deleted
    expect([...store.claims(shard)]).toEqual([]);
  });

  test('a bulk delete under a claim finds the messages it holds by the ids the claim read, and only by those', () => {
    const store = new CountingStore();
    const fsm = new QueueFsm(shard, store);
    // Ids derived from seqs, as current proposers post them (common/ids.ts).
    const posted = postedMessages(Array.from({ length: 4 }, () => ({ body: null, encodedBody: encodeBody('m'), ttlSeconds: 3600, delaySeconds: 0 })),
      { nowMs: 0, clientId: 'c', enableChecksum: false, asEntries: true, derivesIds: true });
    apply(fsm, { type: 'post', nowMs: 0, project: 'p', queue: 'q', clientId: 'c', ...posted.carried });
    const claimed = apply(fsm, claim(1_000, id(0xc1), { limit: 3 })) as { claim: { messages: { id: string }[] } };
    const ids = claimed.claim.messages.map((m) => m.id);
    expect(ids).toHaveLength(3);
    // The held seq with another tail is not the message: nothing is found, so the claim holds none of them.
    const forged = `${ids[0]?.slice(0, 12) ?? ''}${'0'.repeat(12)}`;
    expect(forged).not.toBe(ids[0]);
    expect(apply(fsm, { type: 'deleteMessages', nowMs: 2_000, project: 'p', queue: 'q', ids: [forged], claimIds: [id(0xc1)] })).toEqual({ deleted: false });
    expect(claimedSeqs(fsm, id(0xc1))).toHaveLength(3);
    store.idLookups = 0;
    expect(apply(fsm, { type: 'deleteMessages', nowMs: 3_000, project: 'p', queue: 'q', ids, claimIds: [id(0xc1)] })).toEqual({ deleted: true });
    expect(store.idLookups).toBe(0);
    expect(claimedSeqs(fsm, id(0xc1))).toEqual([]);
    expect(reads(fsm).getMessages('p', 'q', { ids, nowMs: 3_000 })).toEqual([]);
    // The free message is still found through the store.
    const free = posted.idsOf([1, 2, 3, 4])[3];
    store.idLookups = 0;
    expect(apply(fsm, { type: 'deleteMessages', nowMs: 4_000, project: 'p', queue: 'q', ids: [free ?? ''], claimIds: null })).toEqual({ deleted: true });
    expect(store.idLookups).toBe(1);
    expect(fsm.index.free('p\u0000q')).toBeUndefined();
  });

  test('a claim count is written at claim, the §5.2 extension only when the claim is released; release and expiry drop the record', () => {
    const store = new CountingStore();
    const fsm = new QueueFsm(shard, store);
    apply(fsm, { type: 'createQueue', nowMs: 0, project: 'p', queue: 'q', metadata: { _max_claim_count: 5, _dead_letter_queue: 'dlq' } });
    apply(fsm, post(0, [30, 3600]));
    apply(fsm, claim(0, id(0xc1), { ttlSeconds: 100, graceSeconds: 20 }));
    expect(store.messageUpdates).toBe(2); // both counted
    expect(store.getMessage(key, 1)).toMatchObject({ expiresMs: 30_000, ttlSeconds: 30, claimCount: 1, claimId: null });
    expect([...store.claims(shard)].map((c) => c.claim)).toMatchObject([{ id: id(0xc1), graceSeconds: 20 }]);
    expect(reads(fsm).getMessages('p', 'q', { ids: [id(1)], nowMs: 31_000 })).toMatchObject([{ ttlSeconds: 120, claimId: id(0xc1) }]);
    apply(fsm, { type: 'release', nowMs: 1_000, project: 'p', queue: 'q', claimId: id(0xc1) });
    expect(store.messageUpdates).toBe(3); // the extension outlives the claim: written into the first
    expect(store.getMessage(key, 1)).toMatchObject({ expiresMs: 120_000, ttlSeconds: 120, claimCount: 1 });
    expect([...store.claims(shard)]).toEqual([]);
    apply(fsm, claim(2_000, id(0xc2), { ttlSeconds: 60 }));
    expect([...store.claims(shard)].map((c) => c.claim.id)).toEqual([id(0xc2)]);
    apply(fsm, { type: 'gc', nowMs: 62_000, removalsMax: 10 });
    expect(fsm.index.claimCount).toBe(0);
    expect([...store.claims(shard)]).toEqual([]);
    expect(store.getMessage(key, 1)).toMatchObject({ expiresMs: 120_000, claimCount: 2 });
  });

  test('messages a claim extends and its delete removes are never rewritten', () => {
    const store = new CountingStore();
    const fsm = new QueueFsm(shard, store);
    apply(fsm, post(0, Array.from({ length: 20 }, () => 30)));
    const claimed = apply(fsm, claim(1_000, id(0xc1), { ttlSeconds: 300, graceSeconds: 60 })) as { claim: { messages: { ttlSeconds: number }[] } };
    expect(claimed.claim.messages.map((m) => m.ttlSeconds)).toEqual(Array.from({ length: 20 }, () => 360));
    expect(fsm.index.claim('p\u0000q', id(0xc1))?.messages.map((m) => m.expiresMs)).toEqual(Array.from({ length: 20 }, () => 361_000));
    // Past the messages' own ttl, the claim keeps them alive: gc leaves them, the delete finds them.
    apply(fsm, { type: 'gc', nowMs: 40_000, removalsMax: 100 });
    expect(reads(fsm).getMessages('p', 'q', { ids: [id(1)], nowMs: 40_000 })).toMatchObject([{ ttlSeconds: 360 }]);
    expect(apply(fsm, { type: 'deleteMessage', nowMs: 40_000, project: 'p', queue: 'q', id: id(1), claimId: id(0xc1) })).toEqual({ outcome: 'deleted' });
    const ids = Array.from({ length: 19 }, (_, i) => id(2 + i));
    expect(apply(fsm, { type: 'deleteMessages', nowMs: 41_000, project: 'p', queue: 'q', ids, claimIds: [id(0xc1)] })).toEqual({ deleted: true });
    expect(store.messageUpdates).toBe(0);
    expect(store.claimWrites).toBe(2); // the claim, its last message deleted
  });

  test('an extension outlives the claim: after its expiry, and after a renewal that shortens it', () => {
    const store = new CountingStore();
    const fsm = new QueueFsm(shard, store);
    apply(fsm, post(0, [30, 30]));
    apply(fsm, claim(0, id(0xc1), { limit: 1, ttlSeconds: 100, graceSeconds: 20 }));
    apply(fsm, claim(0, id(0xc2), { limit: 1, ttlSeconds: 100, graceSeconds: 20 }));
    // Shortened to 11 s: the first extension (to 120 s) stays and is written, as the record no longer holds it.
    apply(fsm, { type: 'renew', nowMs: 1_000, project: 'p', queue: 'q', claimId: id(0xc1), ttlSeconds: 10, graceSeconds: 0 });
    expect(store.messageUpdates).toBe(1);
    expect(store.getMessage(key, 1)).toMatchObject({ expiresMs: 120_000, ttlSeconds: 120 });
    // Lengthened: the renewal's extension (to 1,060 s) replaces the first, in the record.
    apply(fsm, { type: 'renew', nowMs: 1_000, project: 'p', queue: 'q', claimId: id(0xc2), ttlSeconds: 1_000, graceSeconds: 59 });
    expect(store.messageUpdates).toBe(1);
    expect(reads(fsm).getMessages('p', 'q', { ids: [id(2)], nowMs: 2_000 })).toMatchObject([{ ttlSeconds: 1_059 }]);
    // The first claim expires at 11 s; the second is released: both extensions stay.
    apply(fsm, { type: 'release', nowMs: 20_000, project: 'p', queue: 'q', claimId: id(0xc2) });
    expect(store.messageUpdates).toBe(2);
    expect(store.getMessage(key, 2)).toMatchObject({ expiresMs: 1_060_000, ttlSeconds: 1_059 });
    expect([...store.claims(shard)]).toEqual([]);
    apply(fsm, { type: 'gc', nowMs: 119_999, removalsMax: 10 });
    expect(reads(fsm).getMessages('p', 'q', { ids: [id(1), id(2)], nowMs: 119_999 })).toHaveLength(2);
    apply(fsm, { type: 'gc', nowMs: 120_000, removalsMax: 10 });
    expect(store.getMessage(key, 1)).toBeUndefined();
    expect(store.getMessage(key, 2)).toBeDefined();
  });

  test('a claim expiring writes its extension into the messages it still holds', () => {
    const store = new CountingStore();
    const fsm = new QueueFsm(shard, store);
    apply(fsm, post(0, [30, 3600]));
    apply(fsm, claim(0, id(0xc1), { ttlSeconds: 60, graceSeconds: 60 }));
    expect(store.messageUpdates).toBe(0);
    apply(fsm, { type: 'gc', nowMs: 60_000, removalsMax: 10 });
    expect(store.messageUpdates).toBe(1); // the second lives past the claim anyway
    expect(store.getMessage(key, 1)).toMatchObject({ expiresMs: 120_000, ttlSeconds: 120 });
    expect([...(fsm.index.free('p\u0000q')?.entries() ?? [])].map((e) => [e.seq, e.expiresMs])).toEqual([[1, 120_000], [2, 3_600_000]]);
  });

  test('a restart on LMDB keeps claims, their expiry, extended lifetimes and claim counts', async () => {
    const dir = lmdbDir();
    let env = openLmdbEnv(dir);
    let fsm = new QueueFsm(shard, new LmdbQueueStore(env));
    apply(fsm, { type: 'createQueue', nowMs: 0, project: 'p', queue: 'q', metadata: { _max_claim_count: 5, _dead_letter_queue: 'dlq' } });
    apply(fsm, post(0, [30, 3600, 3600]));
    apply(fsm, claim(0, id(0xc1), { limit: 2, ttlSeconds: 100, graceSeconds: 20 }));
    apply(fsm, claim(0, id(0xc2), { limit: 1, ttlSeconds: 10 }));
    await fsm.store.flushed();
    await env.close();

    env = openLmdbEnv(dir);
    fsm = new QueueFsm(shard, new LmdbQueueStore(env));
    expect(claimedSeqs(fsm, id(0xc1))).toEqual([1, 2]);
    expect(fsm.index.claim('p\u0000q', id(0xc1))).toMatchObject({ expiresMs: 100_000, ttlSeconds: 100, updatedMs: 0, graceSeconds: 20 });
    expect(fsm.index.claim('p\u0000q', id(0xc1))?.messages.map((m) => m.expiresMs)).toEqual([120_000, 3_600_000]);
    expect(fsm.store.getMessage(key, 1)).toMatchObject({ expiresMs: 30_000, ttlSeconds: 30, claimCount: 1 });
    expect(reads(fsm).getMessages('p', 'q', { ids: [id(1)], nowMs: 31_000 })).toMatchObject([{ ttlSeconds: 120, claimCount: 1 }]);
    // An image carries the extension on the message, as replicas of the earlier layout keep it.
    const image = decodeShardImage(fsm.snapshot().data);
    expect(image.queues[0]?.messages[0]).toMatchObject({ seq: 1, expiresMs: 120_000, ttlSeconds: 120, claimId: id(0xc1) });
    // The second claim lapses at 10 s: its message is free again, its record gone.
    expect(apply(fsm, claim(10_000, id(0xc3)))).toMatchObject({ claim: { messages: [{ seq: 3, claimId: id(0xc3), claimCount: 2 }] } });
    apply(fsm, { type: 'release', nowMs: 11_000, project: 'p', queue: 'q', claimId: id(0xc1) });
    await fsm.store.flushed();
    await env.close();

    env = openLmdbEnv(dir);
    try {
      fsm = new QueueFsm(shard, new LmdbQueueStore(env));
      expect([...fsm.index.claims('p\u0000q').keys()]).toEqual([id(0xc3)]);
      expect([...fsm.store.claims(shard)].map((c) => c.claim.id)).toEqual([id(0xc3)]);
      expect([...(fsm.index.free('p\u0000q')?.entries() ?? [])].map((e) => [e.seq, e.expiresMs])).toEqual([[1, 120_000], [2, 3_600_000]]);
    } finally {
      await env.close();
    }
  });

  test('claim records written before the extension field hold none: their messages carry it', () => {
    const store = new CountingStore();
    const fsm = new QueueFsm(shard, store);
    apply(fsm, post(0, [30]));
    // As the earlier version stored it: the message extended, the record without a grace.
    store.updateMessage(key, { ...(store.getMessage(key, 1) as StoredMessage), expiresMs: 120_000, ttlSeconds: 120 });
    store.putClaim(key, { id: id(0xc1), expiresMs: 100_000, updatedMs: 0, ttlSeconds: 100, seqs: [1] });
    const reopened = new QueueFsm(shard, store);
    expect(reopened.index.claim('p\u0000q', id(0xc1))?.messages).toMatchObject([{ seq: 1, expiresMs: 120_000 }]);
    const writes = store.messageUpdates;
    apply(reopened, { type: 'renew', nowMs: 1_000, project: 'p', queue: 'q', claimId: id(0xc1), ttlSeconds: 10, graceSeconds: 0 });
    apply(reopened, { type: 'release', nowMs: 2_000, project: 'p', queue: 'q', claimId: id(0xc1) });
    expect(store.messageUpdates).toBe(writes);
    expect([...(reopened.index.free('p\u0000q')?.entries() ?? [])].map((e) => [e.seq, e.expiresMs])).toEqual([[1, 120_000]]);
  });

  test('a store with claims on its messages (before claim records) opens with them and goes on like a replica that never stopped', async () => {
    const commands = randomCommands(21, 600);
    const split = 400;
    const before = new QueueFsm(shard, new MemoryQueueStore());
    applyAll(before, commands.slice(0, split));
    await before.awaitCommitted();
    const image = decodeShardImage(before.snapshot().data);
    expect(image.queues.some((q) => q.messages.some((m) => m.claimId !== null))).toBe(true);

    // Writes what a node of the earlier layout stored: every message with its claim on it.
    const dir = lmdbDir();
    let env = openLmdbEnv(dir);
    const old = new LmdbQueueStore(env);
    for (const { project, name, queue, messages, bodies } of image.queues) {
      old.putQueue({ shardId: shard, project, queue: name }, queue);
      messages.forEach((message, i) => old.insertMessage({ shardId: shard, project, queue: name }, message, bodies[i] ?? new Uint8Array()));
    }
    for (const record of image.outbox) old.putOutbox(shard, record);
    for (const record of image.applied ?? []) old.putApplied(shard, record);
    old.putShardMeta(shard, image.meta);
    await old.flushed();

    const converted = new QueueFsm(shard, new LmdbQueueStore(env));
    await converted.store.flushed();
    expect(dumpState(converted)).toEqual(dumpState(before));
    await env.close();

    // Converted once: the claims now live in records, and a release is not undone by a restart.
    env = openLmdbEnv(dir);
    try {
      const reopened = new QueueFsm(shard, new LmdbQueueStore(env));
      expect(dumpState(reopened)).toEqual(dumpState(before));
      for (const { project, queue } of [...reopened.store.claims(shard)]) {
        for (const message of reopened.store.messages({ shardId: shard, project, queue }, 0)) expect(message.claimId).toBeNull();
      }
      applyAll(before, commands.slice(split));
      applyAll(reopened, commands.slice(split));
      await reopened.store.flushed();
      expect(dumpState(reopened)).toEqual(dumpState(before));
    } finally {
      await env.close();
    }
    env = openLmdbEnv(dir);
    try {
      expect(dumpState(new QueueFsm(shard, new LmdbQueueStore(env)))).toEqual(dumpState(before));
    } finally {
      await env.close();
    }
  });
});
