/**
 * Queue-store writes are held until the next log write and then share its transaction;
 * with no log write they commit within the bound; whoever awaits `committed()` gets them;
 * and writes that can no longer be issued stop the store like a failed commit. Real LMDB
 * in a temp dir; "committed" is read straight from the database, past the store's overlay.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Key } from 'lmdb';
import { afterEach, beforeEach, expect, test } from 'vitest';
import type { ShardId } from '../../common/ids.js';
import type { StoredQueue } from '../queue-store.js';
import { GroupCommit } from './group-commit.js';
import { isLmdbEnvOpen, openLmdbEnv, type LmdbEnv } from './lmdb-env.js';
import { LmdbQueueStore } from './lmdb-queue-store.js';

let dir: string;
let env: LmdbEnv;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'zaqar-deferred-writes-'));
  env = openLmdbEnv(dir);
});

afterEach(async () => {
  if (isLmdbEnvOpen(env)) await env.close();
  await rm(dir, { recursive: true, force: true });
});

const key = { shardId: 1 as ShardId, project: 'p', queue: 'q' };
const queue: StoredQueue = { metadata: {}, nextSeq: 1, createdMs: 0 };
const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** The queue record as committed, bypassing the store's pending writes. */
function committedQueue(): StoredQueue | undefined {
  return env.openDB<StoredQueue, Key>({ name: 'queue-records' }).get([key.shardId, key.project, key.queue]);
}

test('a held queue-store write commits in the next log write’s transaction, not one of its own', async () => {
  const store = new LmdbQueueStore(env);
  const log = env.openDB<string, number>('log', { encoding: 'string' });
  const commits = new GroupCommit(env);
  store.putQueue(key, queue);
  await nextTurn();
  await nextTurn();
  expect(store.getQueue(key)).toEqual(queue); // read from the held write
  expect(committedQueue()).toBeUndefined(); // not issued on its own
  await commits.enqueue(() => log.put(1, 'entry'));
  expect(commits.transactions).toBe(1);
  expect(committedQueue()).toEqual(queue);
});

test('with no log write, a held write commits on its own within the bound', async () => {
  const store = new LmdbQueueStore(env);
  store.putQueue(key, queue);
  for (let wait = 0; wait < 400 && committedQueue() === undefined; wait++) await new Promise((resolve) => setTimeout(resolve, 5));
  expect(committedQueue()).toEqual(queue);
});

test('committed() issues the held writes and waits for them', async () => {
  const store = new LmdbQueueStore(env);
  store.putQueue(key, queue);
  store.putShardMeta(key.shardId, { appliedIndex: 7, lastNowMs: 0, nextOutboxSeq: 1, inbox: {} });
  await store.committed();
  expect(committedQueue()).toEqual(queue);
  expect(env.openDB<{ appliedIndex: number }, Key>({ name: 'queue-shards' }).get([key.shardId])?.appliedIndex).toBe(7);
});

test('a held write that can no longer be issued stops the store, like a failed commit', async () => {
  const failures: unknown[] = [];
  const store = new LmdbQueueStore(env, (error) => failures.push(error));
  store.putQueue(key, queue);
  await env.close();
  for (let wait = 0; wait < 400 && failures.length === 0; wait++) await new Promise((resolve) => setTimeout(resolve, 5));
  expect(failures).toHaveLength(1);
  expect(() => store.putQueue(key, queue)).toThrow(/write failed earlier/);
});
