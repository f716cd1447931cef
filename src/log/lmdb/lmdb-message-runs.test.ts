/**
 * Runs of messages in LmdbQueueStore (log/message-run.ts): a packed post's messages are
 * one `queue-entries` record, read by seq, id and listing beside records of one message
 * each, before and after a commit and a reopen; a delete or an update inside a run
 * rewrites it, and the delete of its last message removes the record.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Database, Key } from 'lmdb';
import { afterEach, expect, test } from 'vitest';
import { derivedMessageId, type ShardId } from '../../common/ids.js';
import { packPostedEntries } from '../message-entry.js';
import type { QueueKey, StoredMessage } from '../queue-store.js';
import { openLmdbEnv, type LmdbEnv } from './lmdb-env.js';
import { LmdbQueueStore } from './lmdb-queue-store.js';

const dirs: string[] = [];
const envs: LmdbEnv[] = [];
afterEach(async () => {
  for (const env of envs.splice(0)) await env.close();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const key: QueueKey = { shardId: 1 as ShardId, project: 'p', queue: 'q' };
const tail = (n: number): string => n.toString(16).padStart(12, '0');

function open(dir: string): { store: LmdbQueueStore; records: () => number[] } {
  const env = openLmdbEnv(dir);
  envs.push(env);
  const db: Database<Uint8Array, Key> = env.openDB({ name: 'queue-entries', encoding: 'binary' });
  // The seqs of the records stored for the queue (committed).
  const records = (): number[] => [...db.getKeys({ start: [1, 'p', 'q', 0], end: [1, 'p', 'q', Number.MAX_SAFE_INTEGER] })].map((k) => (k as number[])[3]!);
  return { store: new LmdbQueueStore(env), records };
}

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'zaqar-runs-'));
  dirs.push(dir);
  return dir;
}

/** A packed post's entries for seqs from `firstSeq` on, body [seq], tail seq. */
function packed(firstSeq: number, count: number): { entries: Uint8Array; lengths: readonly number[] } {
  const seqs = Array.from({ length: count }, (_, i) => firstSeq + i);
  const records = seqs.map((seq) => ({ id: tail(seq), ttlSeconds: 60, checksum: null, createdMs: seq, expiresMs: 60_000 + seq, visibleMs: seq }));
  return packPostedEntries('c', records, seqs.map((seq) => new Uint8Array([seq])));
}

function message(seq: number): StoredMessage {
  return { id: derivedMessageId(seq, tail(seq)), seq, clientId: 'c', createdMs: seq, ttlSeconds: 60, expiresMs: 60_000 + seq, visibleMs: seq,
    claimId: null, claimExpiresMs: 0, claimUpdatedMs: 0, claimTtlSeconds: 0, claimCount: 0, checksum: null };
}

/** A message of one record, as stores wrote every message before runs. */
function insertSingle(store: LmdbQueueStore, seq: number): void {
  const { entries } = packed(seq, 1);
  store.insertMessageEntry(key, seq, undefined, entries);
}

function seqsOf(store: LmdbQueueStore, afterSeq = 0): number[] {
  return [...store.messages(key, afterSeq)].map((m) => m.seq);
}

function expectStored(store: LmdbQueueStore, seqs: readonly number[], absent: readonly number[]): void {
  for (const seq of seqs) {
    expect(store.getMessage(key, seq), `seq ${seq}`).toEqual(message(seq));
    expect([...(store.getBody(key, seq) ?? [])]).toEqual([seq]);
    expect(store.getMessageWithBody(key, seq)?.message.seq).toBe(seq);
    expect(store.seqOfId(key, message(seq).id)).toBe(seq);
  }
  for (const seq of absent) {
    expect(store.getMessage(key, seq), `seq ${seq}`).toBeUndefined();
    expect(store.seqOfId(key, message(seq).id)).toBeUndefined();
  }
}

test('runs beside records of one message read by seq, id and listing, pending, committed and after a reopen', async () => {
  const dir = tempDir();
  const { store, records } = open(dir);
  insertSingle(store, 1);
  store.insertMessageRun(key, 2, packed(2, 1).entries, packed(2, 1).lengths);
  const run = packed(3, 5);
  store.insertMessageRun(key, 3, run.entries, run.lengths);
  insertSingle(store, 8);
  store.insertMessageRun(key, 9, packed(9, 3).entries, packed(9, 3).lengths);
  const all = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11];
  expectStored(store, all, [0, 12, 13]);
  await store.flushed();
  // One record per post: the runs of 5 and 3 each under their first seq.
  expect(records()).toEqual([1, 2, 3, 8, 9]);
  expectStored(store, all, [0, 12]);
  expect(seqsOf(store)).toEqual(all);
  expect(seqsOf(store, 4)).toEqual([5, 6, 7, 8, 9, 10, 11]);
  expect(seqsOf(store, 9)).toEqual([10, 11]);
  expect(seqsOf(store, 11)).toEqual([]);
  const again = open(dir);
  expectStored(again.store, all, [0, 12]);
  expect(seqsOf(again.store, 5)).toEqual([6, 7, 8, 9, 10, 11]);
});

test('a delete inside a run rewrites it, an update keeps its place, and the last delete removes the record', async () => {
  const dir = tempDir();
  const { store, records } = open(dir);
  store.insertMessageRun(key, 1, packed(1, 4).entries, packed(1, 4).lengths);
  store.insertMessageRun(key, 5, packed(5, 3).entries, packed(5, 3).lengths);
  await store.flushed();
  // Pending over committed: the first and a middle message of the first run.
  store.removeMessage(key, message(1));
  store.removeMessage(key, message(3));
  expectStored(store, [2, 4, 5, 6, 7], [1, 3]);
  store.updateMessage(key, { ...message(4), ttlSeconds: 90, expiresMs: 90_000, claimCount: 1 });
  expect(store.getMessage(key, 4)).toEqual({ ...message(4), ttlSeconds: 90, expiresMs: 90_000, claimCount: 1 });
  expect([...(store.getBody(key, 4) ?? [])]).toEqual([4]);
  await store.flushed();
  expect(records()).toEqual([1, 5]);
  expect(seqsOf(store)).toEqual([2, 4, 5, 6, 7]);
  expect(seqsOf(store, 1)).toEqual([2, 4, 5, 6, 7]);
  expect(seqsOf(store, 2)).toEqual([4, 5, 6, 7]);
  store.removeMessage(key, message(2));
  store.removeMessage(key, message(6));
  store.removeMessage(key, message(4));
  expectStored(store, [5, 7], [1, 2, 3, 4, 6]);
  await store.flushed();
  expect(records()).toEqual([5]);
  const again = open(dir);
  expectStored(again.store, [5, 7], [1, 2, 3, 4, 6]);
  expect(seqsOf(again.store)).toEqual([5, 7]);
  again.store.removeMessage(key, message(7));
  again.store.removeMessage(key, message(5));
  await again.store.flushed();
  expect(again.records()).toEqual([]);
  expect(seqsOf(again.store)).toEqual([]);
});

test('a run posted where removed runs of reused seqs still wait for their commit reads as the new run', async () => {
  const { store } = open(tempDir());
  store.insertMessageRun(key, 1, packed(1, 2).entries, packed(1, 2).lengths);
  store.insertMessageRun(key, 3, packed(3, 3).entries, packed(3, 3).lengths);
  await store.flushed();
  // A deleted queue's seqs start again at 1 (queue-writes.ts): removals still pending.
  for (const seq of [1, 2, 3, 4, 5]) store.removeMessage(key, message(seq));
  store.insertMessageRun(key, 1, packed(1, 4).entries, packed(1, 4).lengths);
  expectStored(store, [1, 2, 3, 4], [5]);
  await store.flushed();
  expectStored(store, [1, 2, 3, 4], [5]);
  expect(seqsOf(store)).toEqual([1, 2, 3, 4]);
});

test('removeMessages takes messages of several runs and records in any order, each run rewritten once', async () => {
  const { store, records } = open(tempDir());
  store.insertMessageRun(key, 1, packed(1, 4).entries, packed(1, 4).lengths);
  insertSingle(store, 5);
  store.insertMessageRun(key, 6, packed(6, 4).entries, packed(6, 4).lengths);
  await store.flushed();
  store.removeMessages(key, [7, 2, 5, 8, 3, 2].map(message));
  expectStored(store, [1, 4, 6, 9], [2, 3, 5, 7, 8]);
  store.removeMessages(key, [9, 6].map(message));
  expectStored(store, [1, 4], [6, 7, 8, 9]);
  await store.flushed();
  expect(records()).toEqual([1]);
  expect(seqsOf(store)).toEqual([1, 4]);
});
