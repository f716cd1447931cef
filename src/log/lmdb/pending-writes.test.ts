/**
 * PendingWrites on a real LMDB environment (temp dir): a written value is readable at
 * once and stays so across the commit of an earlier write to the same key (only its own
 * commit releases it), and every key written in one transaction is released by that
 * transaction's commit.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Database, Key } from 'lmdb';
import { afterEach, expect, test } from 'vitest';
import { openLmdbEnv, type LmdbEnv } from './lmdb-env.js';
import { PendingWrites } from './pending-writes.js';

let dir: string | undefined;
let env: LmdbEnv | undefined;
afterEach(async () => {
  await env?.close();
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  env = undefined;
  dir = undefined;
});

function open(): { db: Database<number, Key>; writes: PendingWrites<number>; failures: unknown[] } {
  dir = mkdtempSync(join(tmpdir(), 'zaqar-pending-writes-'));
  env = openLmdbEnv(dir);
  const db = env.openDB<number, Key>({ name: 'test' });
  const failures: unknown[] = [];
  return { db, writes: new PendingWrites(db, (error) => failures.push(error)), failures };
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
