/**
 * A data directory of the earlier layout (the Raft log inside `zaqar.lmdb`) opens with its
 * log moved into the log's own file: entries, hard state and snapshot read back the same,
 * the old databases are gone, and a crash before they were dropped (a partial copy in the
 * new file) only repeats the copy.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, test } from 'vitest';
import { openLmdbStores } from '../../cluster/broker-stores.js';
import { SystemClock } from '../../common/clock.js';
import type { Entry, HardState, LogIndex, NodeId, ShardId, Snapshot, Term } from '../../raft/types.js';
import { noLogMetrics } from '../metrics.js';
import { LmdbLogStore } from './lmdb-log-store.js';
import { logEnvFile, openExistingDb, openLmdbEnv } from './lmdb-env.js';
import { logDbNames } from './log-dbs.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const shard = 3 as ShardId;
const otherShard = 7 as ShardId;
const hardState: HardState = { term: 2 as Term, vote: 1 as NodeId, commit: 9 as LogIndex };
const snapshot: Snapshot = {
  meta: { index: 4 as LogIndex, term: 1 as Term, conf: { voters: [1 as NodeId], learners: [], votersOutgoing: [] } },
  data: new Uint8Array([4, 1, 7]),
};

function entries(lo: number, hi: number, term: number): Entry[] {
  return Array.from({ length: hi - lo }, (_, i) => ({ term: term as Term, index: (lo + i) as LogIndex, type: 0, data: new Uint8Array(3000).fill(lo + i) }));
}

/**
 * A data directory whose log was written into `zaqar.lmdb`, as the earlier layout did (by
 * builds that stored each entry as a record of its own: one persist per entry here).
 */
async function earlierLayout(): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'zaqar-log-move-'));
  dirs.push(dir);
  const env = openLmdbEnv(dir);
  const store = new LmdbLogStore(env);
  store.load(shard);
  store.load(otherShard);
  for (const entry of entries(1, 10, 1)) await store.persist(shard, { entries: [entry], hardState });
  await store.persistSnapshot(shard, snapshot);
  await store.persist(otherShard, { entries: entries(1, 3, 1) });
  await env.close();
  return dir;
}

async function expectMoved(dir: string): Promise<void> {
  const stores = openLmdbStores(dir, true, { clock: new SystemClock(), metrics: noLogMetrics });
  const state = stores.logStore.load(shard);
  expect(state.hardState).toEqual(hardState);
  expect([state.firstIndex, state.lastIndex]).toEqual([5, 9]);
  expect(stores.logStore.snapshot(shard)).toEqual(snapshot);
  expect(stores.logStore.entries(shard, { lo: 5 as LogIndex, hi: 10 as LogIndex })).toEqual(entries(5, 10, 1));
  stores.logStore.load(otherShard);
  expect(stores.logStore.entries(otherShard, { lo: 1 as LogIndex, hi: 3 as LogIndex })).toEqual(entries(1, 3, 1));
  await stores.close();
  const queueEnv = openLmdbEnv(dir);
  for (const name of Object.values(logDbNames)) expect(openExistingDb(queueEnv, { name, encoding: 'binary' }), name).toBeUndefined();
  await queueEnv.close();
  expect(existsSync(join(dir, logEnvFile))).toBe(true);
}

test('the log of an earlier data directory moves into its own file and reads back the same', async () => {
  const dir = await earlierLayout();
  await expectMoved(dir);
  // Opening again finds nothing to move and the same log.
  await expectMoved(dir);
});

test('a move cut short before the old databases were dropped is repeated over the partial copy', async () => {
  const dir = await earlierLayout();
  const logEnv = openLmdbEnv(dir, { file: logEnvFile });
  const partial = logEnv.openDB<Buffer, [number, number]>(logDbNames.entries, { encoding: 'binary' });
  partial.putSync([shard, 5], Buffer.from('left by the interrupted copy'));
  await logEnv.close();
  await expectMoved(dir);
});

test('a log written in the current layout stays where it is', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'zaqar-log-move-'));
  dirs.push(dir);
  const stores = openLmdbStores(dir, true, { clock: new SystemClock(), metrics: noLogMetrics });
  stores.logStore.load(shard);
  await stores.logStore.persist(shard, { entries: entries(1, 4, 1), hardState });
  await stores.close();
  const reopened = openLmdbStores(dir, true, { clock: new SystemClock(), metrics: noLogMetrics });
  expect(reopened.logStore.load(shard).lastIndex).toBe(3);
  expect(reopened.logStore.entries(shard, { lo: 1 as LogIndex, hi: 4 as LogIndex })).toEqual(entries(1, 4, 1));
  await reopened.close();
});
