/**
 * RaftShardHost with asynchronous storage writes on one node (real LMDB in a temp dir,
 * held back by a FaultyLogStore): the loop takes and issues the next persist round while
 * earlier ones are still unflushed, never more than `persistRoundsInFlightMax` of them;
 * a proposal is answered only once the persist holding its entry is durable, answers
 * come in log order; and a failed persist fails its group.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, test } from 'vitest';
import type { NodeId, ShardId } from '../../src/common/ids.js';
import { SeededRandom } from '../../src/common/random.js';
import { ManualTimers, SystemDelays } from '../../src/common/timers.js';
import { ShardUnavailableError } from '../../src/cluster/errors.js';
import { RaftShardHost } from '../../src/cluster/raft-shard-host.js';
import { encodeBody } from '../../src/cluster/shard/body-codec.js';
import { encodeCommand } from '../../src/cluster/shard/commands.js';
import { QueueFsm } from '../../src/cluster/shard/queue-fsm.js';
import { FaultyLogStore } from '../../src/log/faulty-log-store.js';
import { openLmdbEnv, type LmdbEnv } from '../../src/log/lmdb/lmdb-env.js';
import { LmdbLogStore } from '../../src/log/lmdb/lmdb-log-store.js';
import { LmdbQueueStore } from '../../src/log/lmdb/lmdb-queue-store.js';
import { waitFor } from './support/in-process.js';

const shard = 1 as ShardId;
const depth = 3;
const base = { nowMs: 1_000_000, project: 'p', queue: 'q' };
let dir: string | undefined;
let env: LmdbEnv | undefined;
let host: RaftShardHost | undefined;

afterEach(async () => {
  await host?.close();
  await env?.close();
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  host = undefined;
  env = undefined;
  dir = undefined;
});

async function openLeader(): Promise<{ store: FaultyLogStore; group: ReturnType<RaftShardHost['addGroup']>; fsm: QueueFsm }> {
  dir = mkdtempSync(join(tmpdir(), 'zaqar-pipelined-'));
  env = openLmdbEnv(dir);
  const store = new FaultyLogStore(new LmdbLogStore(env));
  host = new RaftShardHost({
    nodeId: 1 as NodeId,
    logStore: store,
    transport: undefined,
    random: new SeededRandom(1),
    timers: new ManualTimers(),
    delays: new SystemDelays(),
    tickMs: 10,
    raft: { isAsyncStorageWrites: true },
    persistRoundsInFlightMax: depth,
  });
  const fsm = new QueueFsm(shard, new LmdbQueueStore(env));
  const group = host.addGroup(fsm, [1 as NodeId]);
  await waitFor('the group to lead', 5_000, () => (group.isLeader() ? true : undefined));
  await group.propose(encodeCommand({ ...base, type: 'createQueue', metadata: {} }));
  return { store, group, fsm };
}

function post(i: number): Uint8Array {
  const id = i.toString(16).padStart(24, '0');
  return encodeCommand({ ...base, type: 'post', clientId: 'c', messages: [{ id, body: encodeBody({ i }), ttlSeconds: 600, delaySeconds: 0, checksum: null }] });
}

/** Lets the host loop run for a few event-loop turns (it has nothing to wait for but them). */
async function turns(count: number): Promise<void> {
  for (let i = 0; i < count; i++) await new Promise((resolve) => setImmediate(resolve));
}

test('the host issues the next persist round while earlier ones are unflushed, up to its bound, and answers only durable entries', async () => {
  const { store, group, fsm } = await openLeader();
  const answered: number[] = [];
  const appliedBefore = fsm.appliedIndex;
  store.stallWrites();
  const proposals: Promise<unknown>[] = [];
  const propose = (i: number): void => {
    proposals.push(group.propose(post(i)).then(() => answered.push(i)));
  };
  propose(0);
  await waitFor('the first round to be issued', 5_000, () => (store.stalledWrites >= 1 ? true : undefined));
  propose(1);
  await waitFor('a second round issued while the first is unflushed', 5_000, () => (store.stalledWrites >= 2 ? true : undefined));
  for (let i = 2; i < 8; i++) {
    propose(i);
    await turns(5);
  }
  await waitFor('the pipeline to fill', 5_000, () => (store.stalledWrites >= depth ? true : undefined));
  await turns(20);
  expect(store.stalledWrites).toBe(depth);
  expect(answered).toEqual([]);
  expect(fsm.appliedIndex).toBe(appliedBefore);

  store.resumeWrites();
  await Promise.all(proposals);
  expect(answered).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
  expect(fsm.appliedIndex).toBeGreaterThanOrEqual(appliedBefore + 8);
  expect(group.core.log.durableLastIndex()).toBe(group.core.log.lastIndex());
});

test('a failed persist with rounds in flight fails its group, and no later proposal is answered as applied', async () => {
  const { store, group } = await openLeader();
  store.stallWrites();
  const first = group.propose(post(100));
  await waitFor('the round to be issued', 5_000, () => (store.stalledWrites >= 1 ? true : undefined));
  const second = group.propose(post(101));
  await waitFor('the next round to be issued', 5_000, () => (store.stalledWrites >= 2 ? true : undefined));
  store.failWrites(1);
  store.resumeWrites();
  await expect(first).rejects.toBeInstanceOf(ShardUnavailableError);
  await expect(second).rejects.toBeInstanceOf(ShardUnavailableError);
  expect(group.failure).toBeDefined();
  await expect(group.propose(post(102))).rejects.toBeInstanceOf(ShardUnavailableError);
});
