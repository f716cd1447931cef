/**
 * PendingWrites on a real LMDB environment (temp dir): a written value is readable at
 * once and stays so across the commit of an earlier write to the same key (only its own
 * commit releases it), and every key written in one transaction is released by that
 * transaction's commit. With a WriteHold, held writes stay out of the database, yet
 * readable, until the hold issues them: on its timer, when many are held, or when a reader
 * asks for the committed state.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Database, Key } from 'lmdb';
import { afterEach, expect, test } from 'vitest';
import { openLmdbEnv, type LmdbEnv } from './lmdb-env.js';
import type { ShardId } from '../../common/ids.js';
import { LmdbQueueStore } from './lmdb-queue-store.js';
import { PendingWrites } from './pending-writes.js';
import { WriteHold } from './write-hold.js';

let dir: string | undefined;
let env: LmdbEnv | undefined;
afterEach(async () => {
  await env?.close();
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  env = undefined;
  dir = undefined;
});

function open(holdMs = 0): { db: Database<number, Key>; other: Database<number, Key>; writes: PendingWrites<number>; hold: WriteHold; failures: unknown[] } {
  dir = mkdtempSync(join(tmpdir(), 'zaqar-pending-writes-'));
  env = openLmdbEnv(dir);
  const db = env.openDB<number, Key>({ name: 'test' });
  const other = env.openDB<number, Key>({ name: 'other' });
  const failures: unknown[] = [];
  const hold = new WriteHold(holdMs);
  return { db, other, writes: new PendingWrites(db, (error) => failures.push(error), hold), hold, failures };
}

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

test('PendingWrites keeps the latest value of a key until its own commit, not an earlier one', async () => {
  const { db, writes, failures } = open();
  writes.put(['k'], 1);
  await nextTurn(); // the first write's transaction is under way
  writes.put(['k'], 2);
  // Across the first transaction's commit, reads never fall back to the stored 1.
  for (let turn = 0; turn < 50; turn++) {
    expect(writes.get(['k'])).toBe(2);
    await nextTurn();
  }
  await writes.committed();
  expect(writes.peek(['k'])).toBeUndefined();
  expect(db.get(['k'])).toBe(2);
  expect(failures).toEqual([]);
});

test('PendingWrites releases every key of a transaction when it commits', async () => {
  const { db, writes } = open();
  for (let i = 0; i < 1000; i++) writes.put(['m', i], i);
  writes.remove(['m', 7]);
  expect(writes.get(['m', 999])).toBe(999);
  expect(writes.get(['m', 7])).toBeUndefined();
  expect(writes.peek(['m', 7])).not.toBeUndefined();
  await writes.committed();
  for (let i = 0; i < 1000; i++) expect(writes.peek(['m', i])).toBeUndefined();
  expect(db.get(['m', 999])).toBe(999);
  expect(db.get(['m', 7])).toBeUndefined();
});

test('PendingWrites keeps keys apart that differ in a leading element, in their length, or in the type of an element', async () => {
  const { db, writes } = open();
  // Puts alternate between queues, as the applies of posts to several queues do.
  for (let seq = 0; seq < 20; seq++) {
    writes.put(['q', 'a', seq], seq);
    writes.put(['q', 'b', seq], 100 + seq);
  }
  writes.put(['q', 'a'], 1000);
  writes.put(['q', 'a', '7'], 2000); // LMDB orders and stores 7 and '7' as different keys
  expect(writes.get(['q', 'a', 7])).toBe(7);
  expect(writes.get(['q', 'b', 7])).toBe(107);
  expect(writes.get(['q', 'a'])).toBe(1000);
  expect(writes.get(['q', 'a', '7'])).toBe(2000);
  expect(writes.peek(['q', 'c', 7])).toBeUndefined();
  await writes.committed();
  expect(db.get(['q', 'a', 7])).toBe(7);
  expect(db.get(['q', 'a', '7'])).toBe(2000);
});

test('held writes are readable at once, stay out of LMDB while other transactions commit, and land together when issued', async () => {
  const { db, other, writes, hold } = open(60_000);
  writes.put(['a'], 1);
  writes.put(['b'], 2);
  writes.remove(['b']);
  await other.put(['x'], 9); // a transaction commits meanwhile, without the held writes
  expect(db.get(['a'])).toBeUndefined();
  expect(writes.get(['a'])).toBe(1);
  expect(writes.get(['b'])).toBeUndefined();
  hold.issue();
  await writes.committed();
  expect(db.get(['a'])).toBe(1);
  expect(db.get(['b'])).toBeUndefined();
  expect(writes.get(['a'])).toBe(1);
});

test('without a delay every write is issued at once (lmdb-js batches the event-loop turn)', async () => {
  const { db, other, writes } = open(0);
  writes.put(['a'], 1);
  await other.put(['x'], 9);
  expect(db.get(['a'])).toBe(1);
});

test('the hold issues on its own timer, and at once (next turn) when many writes are held', async () => {
  const timed = open(5);
  timed.writes.put(['a'], 1);
  for (let turn = 0; turn < 2_000 && timed.db.get(['a']) === undefined; turn++) await new Promise((resolve) => setTimeout(resolve, 5));
  expect(timed.db.get(['a'])).toBe(1);
  await env?.close();
  rmSync(dir!, { recursive: true, force: true });

  const many = open(60_000);
  for (let i = 0; i < 10_000; i++) many.writes.put(['k', i], i);
  expect(many.db.get(['k', 0])).toBeUndefined();
  await nextTurn();
  await many.writes.committed();
  expect(many.db.get(['k', 0])).toBe(0);
  expect(many.db.get(['k', 9_999])).toBe(9_999);
});

test('LmdbQueueStore: committed() issues what is held; a reopened store finds it', async () => {
  dir = mkdtempSync(join(tmpdir(), 'zaqar-pending-writes-store-'));
  env = openLmdbEnv(dir);
  const store = new LmdbQueueStore(env, undefined, { commitDelayMs: 60_000 });
  const key = { shardId: 3 as ShardId, project: 'p', queue: 'q' };
  store.putQueue(key, { metadata: { a: 1 }, createdMs: 1, nextSeq: 1 });
  store.putShardMeta(3 as ShardId, { appliedIndex: 7, lastNowMs: 1, nextOutboxSeq: 1, inbox: {} });
  expect(store.getQueue(key)).toMatchObject({ metadata: { a: 1 } });
  await store.committed();
  await env.close();
  env = openLmdbEnv(dir);
  const reopened = new LmdbQueueStore(env);
  expect(reopened.getQueue(key)).toMatchObject({ metadata: { a: 1 } });
  expect(reopened.getShardMeta(3 as ShardId)).toMatchObject({ appliedIndex: 7 });
});
