/**
 * GroupCommit batches the writes of one turn into one LMDB transaction (each write's
 * puts atomically) and resolves them only after the flush. A process kill cannot tell commit from flush (the page
 * cache survives it), so the flush ordering is proven here by holding back the
 * environment's `flushed` signal of a real environment and watching the writes wait.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, test } from 'vitest';
import { assert } from '../../common/assert.js';
import { GroupCommit } from './group-commit.js';
import { openLmdbEnv, type LmdbEnv } from './lmdb-env.js';

let dir: string;
let env: LmdbEnv;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'zaqar-group-commit-'));
  env = openLmdbEnv(dir);
});

afterEach(async () => {
  await env.close();
  await rm(dir, { recursive: true, force: true });
});

/** The real environment, except that `flushed` also waits for `release()`. */
function withHeldFlush(real: LmdbEnv): { env: LmdbEnv; release: () => void } {
  let release = (): void => {};
  const held = new Promise<void>((resolve) => {
    release = resolve;
  });
  const proxy = new Proxy(real, {
    get(target, property) {
      if (property === 'flushed') {
        const flushed = target.flushed;
        return { then: (ok: () => void, fail: (e: unknown) => void) => Promise.all([flushed, held]).then(ok, fail) };
      }
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  return { env: proxy, release };
}

test('GroupCommit puts the writes of one turn in one transaction', async () => {
  const db = env.openDB<string, number>('t', { encoding: 'string' });
  const commits = new GroupCommit(env);
  await Promise.all(Array.from({ length: 50 }, (_, i) => commits.enqueue(() => db.put(i, `v${i}`))));
  expect(commits.transactions).toBe(1);
  await commits.enqueue(() => db.put(50, 'v50'));
  expect(commits.transactions).toBe(2);
  expect(Array.from(db.getRange(), ({ value }) => value)).toHaveLength(51);
});

test('GroupCommit shares the LMDB transaction (and its flush) with the asynchronous puts of the same turn', async () => {
  const db = env.openDB<string, number>('t', { encoding: 'string' });
  const applied = env.openDB<string, number>('applied', { encoding: 'string' });
  const commits = new GroupCommit(env);
  await commits.enqueue(() => db.put(0, 'v0'));
  const txnBefore = lastTxnId(env);
  // A round's apply (queue-store puts) followed in the same turn by the next persist.
  const puts = Array.from({ length: 30 }, (_, i) => applied.put(i, 'x'.repeat(300)));
  await Promise.all([...puts, commits.enqueue(() => db.put(1, 'v1'))]);
  expect(applied.get(29)).toHaveLength(300);
  expect(lastTxnId(env) - txnBefore).toBe(1);
});

function lastTxnId(lmdb: LmdbEnv): number {
  const stats = lmdb.getStats() as { lastTxnId?: unknown };
  assert(typeof stats.lastTxnId === 'number', 'lmdb-js stats carry lastTxnId');
  return stats.lastTxnId;
}

test('GroupCommit resolves a write only after its transaction is flushed', async () => {
  const db = env.openDB<string, number>('t', { encoding: 'string' });
  const held = withHeldFlush(env);
  const commits = new GroupCommit(held.env);
  let isResolved = false;
  const write = commits.enqueue(() => db.put(1, 'one')).then(() => {
    isResolved = true;
  });
  // Wait until the transaction is committed and visible: the write must still wait.
  for (let turn = 0; db.get(1) === undefined && turn < 10_000; turn++) await new Promise(setImmediate);
  await env.committed;
  expect(db.get(1)).toBe('one');
  // Give a commit-time resolution every chance to show up (turns, not time).
  for (let turn = 0; turn < 20; turn++) await new Promise(setImmediate);
  expect(isResolved).toBe(false);
  held.release();
  await write;
  expect(isResolved).toBe(true);
});

test('GroupCommit rejects every write of a batch whose transaction cannot start', async () => {
  const commits = new GroupCommit(env);
  const db = env.openDB<string, number>('t', { encoding: 'string' });
  await env.close();
  const writes = [commits.enqueue(() => db.put(1, 'a')), commits.enqueue(() => db.put(2, 'b'))];
  for (const write of writes) await expect(write).rejects.toThrow(/closed/);
  env = openLmdbEnv(dir);
});

test('GroupCommit rejects a write that throws before its first put and commits the rest of its batch', async () => {
  const db = env.openDB<string, number>('t', { encoding: 'string' });
  const commits = new GroupCommit(env);
  const failing = commits.enqueue(() => {
    throw new Error('write failed before its puts');
  });
  const fine = commits.enqueue(() => db.put(2, 'whole'));
  await expect(failing).rejects.toThrow(/before its puts/);
  await fine;
  expect(commits.transactions).toBe(1);
  expect(db.get(2)).toBe('whole');
});

test('GroupCommit makes the puts of one write atomic: all of them commit in one transaction, none before', async () => {
  const db = env.openDB<string, number>('t', { encoding: 'string' });
  const commits = new GroupCommit(env);
  const txnBefore = lastTxnId(env);
  const write = commits.enqueue(() => {
    for (let i = 0; i < 99; i++) void db.put(i, `v${i}`);
    return db.put(99, 'last');
  });
  // Issued, not yet committed: a read sees none of them.
  expect(db.get(0)).toBeUndefined();
  await write;
  expect(Array.from(db.getRange(), ({ value }) => value)).toHaveLength(100);
  expect(lastTxnId(env) - txnBefore).toBe(1);
});
