/**
 * RaftShardHost compaction on one node (real LMDB log store): a group that applied many
 * proposals keeps its log within the compaction bound, and a restart whose queue state
 * is gone entirely (a fresh queue store, as after losing the state's unflushed tail or
 * its files) restores the stored snapshot at start and replays the log after it, ending
 * in exactly the state it had. Run with synchronous rounds and with asynchronous storage
 * writes (rounds pipelined).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, test } from 'vitest';
import type { NodeId, ShardId } from '../../src/common/ids.js';
import { SeededRandom } from '../../src/common/random.js';
import { ManualTimers, SystemDelays } from '../../src/common/timers.js';
import { RaftShardHost } from '../../src/cluster/raft-shard-host.js';
import { encodeBody } from '../../src/cluster/shard/body-codec.js';
import { encodeCommand } from '../../src/cluster/shard/commands.js';
import { QueueFsm } from '../../src/cluster/shard/queue-fsm.js';
import { openLmdbEnv, type LmdbEnv } from '../../src/log/lmdb/lmdb-env.js';
import { LmdbLogStore } from '../../src/log/lmdb/lmdb-log-store.js';
import { LmdbQueueStore } from '../../src/log/lmdb/lmdb-queue-store.js';
import { MemoryQueueStore } from '../../src/log/memory/memory-queue-store.js';
import { dumpState } from '../engine/support/fsm-commands.js';
import { waitFor } from './support/in-process.js';

const shard = 1 as ShardId;
const policy = { snapshotEveryEntries: 30, tailEntriesMax: 10 };
let dir: string | undefined;
let env: LmdbEnv | undefined;

afterEach(async () => {
  await env?.close();
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  env = undefined;
  dir = undefined;
});

function withoutAppliedIndex(dump: unknown): unknown {
  const { meta, ...rest } = dump as { meta: { appliedIndex: number } };
  return { ...rest, meta: { ...meta, appliedIndex: 0 } };
}

function openHost(logStore: LmdbLogStore, isAsyncStorageWrites: boolean): RaftShardHost {
  return new RaftShardHost({
    raft: { isAsyncStorageWrites },
    nodeId: 1 as NodeId,
    logStore,
    transport: undefined,
    random: new SeededRandom(1),
    timers: new ManualTimers(),
    delays: new SystemDelays(),
    tickMs: 10,
    compaction: policy,
  });
}

test.each([false, true])('a group restarted without its queue state restores its stored snapshot and replays the rest (async storage writes: %s)', async (isAsync) => {
  dir = mkdtempSync(join(tmpdir(), 'zaqar-host-snapshot-'));
  const lmdb = openLmdbEnv(dir);
  env = lmdb;
  const host = openHost(new LmdbLogStore(lmdb), isAsync);
  const fsm = new QueueFsm(shard, new LmdbQueueStore(lmdb));
  const group = host.addGroup(fsm, [1 as NodeId]);
  await waitFor('the group to lead', 5_000, () => (group.isLeader() ? true : undefined));
  const base = { nowMs: 1_000_000, project: 'p', queue: 'q' };
  await group.propose(encodeCommand({ ...base, type: 'createQueue', metadata: {} }));
  let longest = 0;
  for (let i = 0; i < 95; i++) {
    const id = i.toString(16).padStart(24, '0');
    await group.propose(encodeCommand({ ...base, type: 'post', clientId: 'c', messages: [{ id, body: encodeBody({ i }), ttlSeconds: 600, delaySeconds: 0, checksum: null }] }));
    longest = Math.max(longest, group.core.log.lastIndex() - group.core.log.firstIndex() + 1);
  }
  await group.propose(encodeCommand({ ...base, type: 'claim', claimId: 'k', limit: 3, ttlSeconds: 60, graceSeconds: 60 }));
  expect(host.compactions(shard)).toBeGreaterThan(1);
  expect(longest).toBeLessThanOrEqual(policy.snapshotEveryEntries + 2);
  const applied = fsm.appliedIndex;
  await fsm.awaitCommitted();
  const before = dumpState(fsm);
  await host.close();

  const restarted = openHost(new LmdbLogStore(lmdb), isAsync);
  const fresh = new QueueFsm(shard, new MemoryQueueStore());
  const again = restarted.addGroup(fresh, [1 as NodeId]);
  expect(fresh.appliedIndex).toBeGreaterThan(applied - policy.snapshotEveryEntries - 2);
  // Past `applied`: the restarted leader appends its no-op, which changes nothing else.
  await waitFor('the replay to finish', 5_000, () => (fresh.appliedIndex > applied ? true : undefined));
  expect(again.core.log.firstIndex()).toBeGreaterThan(1);
  expect(withoutAppliedIndex(dumpState(fresh))).toEqual(withoutAppliedIndex(before));
  await restarted.close();
});
