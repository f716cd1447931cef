/**
 * RaftShardHost compaction on one node (real LMDB log store and queue store): a group
 * that applied many proposals keeps its log within the compaction bound by storing local
 * snapshots (meta only: the flushed queue state is the image), a restart resumes from the
 * queue state and replays the log after it, ending in exactly the state it had, a
 * queue state that fell behind the compacted log is refused at start, and the logs of
 * many groups that each stay under their own bound compact once together they pass the
 * node's.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, test } from 'vitest';
import type { NodeId, ShardId } from '../../src/common/ids.js';
import { SeededRandom } from '../../src/common/random.js';
import { ManualTimers, SystemDelays } from '../../src/common/timers.js';
import { isLocalSnapshot } from '../../src/cluster/local-snapshot.js';
import type { CompactionPolicy } from '../../src/cluster/shard-compactor.js';
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

function openHost(logStore: LmdbLogStore, isAsyncStorageWrites = false, compaction: Partial<CompactionPolicy> = policy): RaftShardHost {
  return new RaftShardHost({
    raft: { isAsyncStorageWrites },
    nodeId: 1 as NodeId,
    logStore,
    transport: undefined,
    random: new SeededRandom(1),
    timers: new ManualTimers(),
    delays: new SystemDelays(),
    tickMs: 10,
    compaction,
  });
}

async function fillCompacting(host: RaftShardHost, fsm: QueueFsm): Promise<{ longest: number }> {
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
  return { longest };
}

test.each([false, true])('a group compacts its log behind its flushed queue state (no image) and resumes from that state after a restart (asynchronous storage writes: %s)', async (isAsync) => {
  dir = mkdtempSync(join(tmpdir(), 'zaqar-host-snapshot-'));
  const lmdb = openLmdbEnv(dir);
  env = lmdb;
  const logStore = new LmdbLogStore(lmdb);
  const host = openHost(logStore, isAsync);
  const fsm = new QueueFsm(shard, new LmdbQueueStore(lmdb));
  const { longest } = await fillCompacting(host, fsm);
  expect(host.compactions(shard)).toBeGreaterThan(1);
  expect(longest).toBeLessThanOrEqual(policy.snapshotEveryEntries + 2);
  // The stored snapshot is local: meta only, the queue store holds the state.
  const stored = logStore.snapshot(shard);
  expect(stored?.meta.index).toBeGreaterThan(0);
  expect(stored === undefined ? undefined : isLocalSnapshot(stored)).toBe(true);
  const applied = fsm.appliedIndex;
  await fsm.awaitCommitted();
  const before = dumpState(fsm);
  await host.close();

  const restarted = openHost(new LmdbLogStore(lmdb), isAsync);
  const reopened = new QueueFsm(shard, new LmdbQueueStore(lmdb));
  expect(reopened.appliedIndex).toBeGreaterThanOrEqual(stored?.meta.index ?? Infinity);
  const again = restarted.addGroup(reopened, [1 as NodeId]);
  // Past `applied`: the restarted leader appends its no-op, which changes nothing else.
  await waitFor('the restarted leader to apply its no-op', 5_000, () => (reopened.appliedIndex > applied ? true : undefined));
  expect(again.core.log.firstIndex()).toBeGreaterThan(1);
  expect(withoutAppliedIndex(dumpState(reopened))).toEqual(withoutAppliedIndex(before));
  await restarted.close();
});

test('a group whose queue state is behind its local snapshot refuses to start instead of serving lost state', async () => {
  dir = mkdtempSync(join(tmpdir(), 'zaqar-host-snapshot-'));
  const lmdb = openLmdbEnv(dir);
  env = lmdb;
  const host = openHost(new LmdbLogStore(lmdb));
  await fillCompacting(host, new QueueFsm(shard, new LmdbQueueStore(lmdb)));
  await host.close();

  // Queue state gone (it lives in the same LMDB file as the log, so only by damage): the
  // log no longer holds what rebuilds it, and the node must not come up empty.
  const restarted = openHost(new LmdbLogStore(lmdb));
  expect(() => restarted.addGroup(new QueueFsm(shard, new MemoryQueueStore()), [1 as NodeId])).toThrow(/behind the local snapshot/);
  await restarted.close();
});

test.each([
  { nodeBytesMax: 8 * 1024, compacts: true },
  { nodeBytesMax: 1024 * 1024, compacts: false },
])('groups that each hold less than their own bound compact once together they hold more than the node bound ($nodeBytesMax bytes)', async ({ nodeBytesMax, compacts }) => {
  dir = mkdtempSync(join(tmpdir(), 'zaqar-host-snapshot-'));
  const lmdb = openLmdbEnv(dir);
  env = lmdb;
  const logStore = new LmdbLogStore(lmdb);
  // Per group: no compaction before 1 MiB or 100,000 entries.
  const host = openHost(logStore, false, { snapshotEveryEntries: 100_000, snapshotEveryBytes: 1024 * 1024, tailEntriesMax: 10, nodeBytesMax });
  const shards = [1, 2, 3, 4] as ShardId[];
  const groups = shards.map((id) => host.addGroup(new QueueFsm(id, new LmdbQueueStore(lmdb)), [1 as NodeId]));
  for (const group of groups) await waitFor('the group to lead', 5_000, () => (group.isLeader() ? true : undefined));
  const base = { nowMs: 1_000_000, project: 'p', queue: 'q' };
  for (const group of groups) await group.propose(encodeCommand({ ...base, type: 'createQueue', metadata: {} }));
  // ~20 KiB of entry data per group, ~80 KiB in all: posts spread over the groups in turn.
  for (let i = 0; i < 40; i++) {
    await Promise.all(groups.map((group) => group.propose(encodeCommand({
      ...base, type: 'post', clientId: 'c',
      messages: [{ id: i.toString(16).padStart(24, '0'), body: encodeBody({ pad: 'x'.repeat(500) }), ttlSeconds: 600, delaySeconds: 0, checksum: null }],
    }))));
  }
  for (const [i, id] of shards.entries()) {
    expect(host.compactions(id) > 0).toBe(compacts);
    expect((groups[i]?.core.log.firstIndex() ?? 0) > 1).toBe(compacts);
  }
  await host.close();
});
