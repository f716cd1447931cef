/**
 * Runs the AddressBookStore contract against LMDB in a temp dir, and checks that saved
 * entries survive closing and reopening the environment, also when the shards' stores
 * share it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, test } from 'vitest';
import type { ShardId } from '../../common/ids.js';
import { addressBookStoreContract } from '../../../test/contract/address-book-store.contract.js';
import { LmdbAddressBookStore } from './lmdb-address-book-store.js';
import { openLmdbEnv } from './lmdb-env.js';
import { LmdbQueueStore } from './lmdb-queue-store.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'zaqar-address-book-'));
  dirs.push(dir);
  return dir;
}

addressBookStoreContract('LmdbAddressBookStore', async () => {
  const store = LmdbAddressBookStore.open(tempDir());
  return { store, close: () => store.close() };
});

test('LmdbAddressBookStore keeps saved entries across a reopen of a shared environment', async () => {
  const dir = tempDir();
  const env = openLmdbEnv(dir);
  const queues = new LmdbQueueStore(env);
  const store = LmdbAddressBookStore.open(dir);
  await store.save([{ nodeId: 4, address: '127.0.0.1:7004', counter: 3, writer: 2 }, { nodeId: 5, address: null, counter: 4, writer: 1 }]);
  queues.putQueue({ shardId: 0 as ShardId, project: 'p', queue: 'q' }, { metadata: {}, nextSeq: 1, createdMs: 1 });
  await queues.flushed();
  await store.close();
  await env.close();
  const reopened = LmdbAddressBookStore.open(dir);
  expect(reopened.load()).toEqual([{ nodeId: 4, address: '127.0.0.1:7004', counter: 3, writer: 2 }, { nodeId: 5, address: null, counter: 4, writer: 1 }]);
  await reopened.close();
});
