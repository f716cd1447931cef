/**
 * Runs the QueueStore contract against LMDB in a temp dir, and checks that flushed
 * state survives closing and reopening the environment.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, test } from 'vitest';
import type { ShardId } from '../../common/ids.js';
import { queueStoreContract } from '../../../test/contract/queue-store.contract.js';
import { openLmdbEnv } from './lmdb-env.js';
import { encodePostedEntry } from '../message-entry.js';
import { LmdbQueueStore } from './lmdb-queue-store.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'zaqar-queue-store-'));
  dirs.push(dir);
  return dir;
}

queueStoreContract('LmdbQueueStore', async () => {
  const env = openLmdbEnv(tempDir());
  return { store: new LmdbQueueStore(env), close: () => env.close() };
});

test('LmdbQueueStore keeps flushed queues and messages across a reopen', async () => {
  const dir = tempDir();
  const key = { shardId: 1 as ShardId, project: 'p', queue: 'q' };
  const env = openLmdbEnv(dir);
  const store = new LmdbQueueStore(env);
  store.putQueue(key, { metadata: { a: 1 }, nextSeq: 2, createdMs: 5 });
  store.insertMessage(
    key,
    { id: 'a'.repeat(24), seq: 1, clientId: 'c', createdMs: 5, ttlSeconds: 60, expiresMs: 60_005, visibleMs: 5, claimId: null, claimExpiresMs: 0, claimUpdatedMs: 0, claimTtlSeconds: 0, claimCount: 0, checksum: null },
    new Uint8Array([7]),
  );
  await store.flushed();
  await env.close();
  const reopened = openLmdbEnv(dir);
  const again = new LmdbQueueStore(reopened);
  expect(again.getQueue(key)).toEqual({ metadata: { a: 1 }, nextSeq: 2, createdMs: 5 });
  expect([...again.messages(key, 0)].map((m) => m.id)).toEqual(['a'.repeat(24)]);
  expect([...(again.getBody(key, 1) ?? [])]).toEqual([7]);
  await reopened.close();
});

test('LmdbQueueStore stores an entry given as a view into a larger buffer (a decoded command) as those bytes', async () => {
  const dir = tempDir();
  const key = { shardId: 1 as ShardId, project: 'p', queue: 'q' };
  const record = { id: 'b'.repeat(24), clientId: 'c', createdMs: 5, ttlSeconds: 60, expiresMs: 60_005, visibleMs: 5, checksum: null };
  const entry = encodePostedEntry(record, new Uint8Array([4, 5, 6]));
  const command = new Uint8Array(entry.byteLength + 20).fill(0xee);
  command.set(entry, 7);
  const env = openLmdbEnv(dir);
  const store = new LmdbQueueStore(env);
  store.insertMessageEntry(key, 3, record.id, command.subarray(7, 7 + entry.byteLength));
  expect(store.seqOfId(key, record.id)).toBe(3);
  await store.flushed();
  await env.close();
  const reopened = openLmdbEnv(dir);
  const again = new LmdbQueueStore(reopened);
  const unclaimed = { claimId: null, claimExpiresMs: 0, claimUpdatedMs: 0, claimTtlSeconds: 0, claimCount: 0 };
  expect(again.getMessage(key, 3)).toEqual({ ...record, seq: 3, ...unclaimed });
  expect([...(again.getBody(key, 3) ?? [])]).toEqual([4, 5, 6]);
  expect(again.seqOfId(key, record.id)).toBe(3);
  await reopened.close();
});
