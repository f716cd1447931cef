/**
 * RaftShardHost with a clock counts Raft ticks from its monotonic time, not from how often
 * its timer fired: a late timer is caught up, an early one gives nothing, and a round
 * catches up before it feeds reads (a leader's read lease is bounded in ticks, so its tick
 * count must not lag real time). Without a clock, one tick per firing (tests tick by hand).
 * A group steps queued ticks and peer messages in the order they came.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, test } from 'vitest';
import type { NodeId, ShardId } from '../../src/common/ids.js';
import { SimClock } from '../../src/common/clock.js';
import { SeededRandom } from '../../src/common/random.js';
import { ManualTimers, SystemDelays } from '../../src/common/timers.js';
import { RaftShardHost, defaultShardGroupLimits } from '../../src/cluster/raft-shard-host.js';
import { ShardGroup } from '../../src/cluster/shard-group.js';
import { QueueFsm } from '../../src/cluster/shard/queue-fsm.js';
import { openLmdbEnv, type LmdbEnv } from '../../src/log/lmdb/lmdb-env.js';
import { LmdbLogStore } from '../../src/log/lmdb/lmdb-log-store.js';
import { LmdbQueueStore } from '../../src/log/lmdb/lmdb-queue-store.js';
import { MemoryLogStore } from '../../src/log/memory/memory-log-store.js';
import { raftConfig } from '../../src/raft/core/config.js';
import { MessageType } from '../../src/raft/core/messages.js';
import { RaftCore } from '../../src/raft/core/raft.js';
import { logReaderOf } from '../../src/raft/core/raft-log.js';
import type { LogIndex, Term } from '../../src/raft/types.js';

const tickMs = 100;
let opened: { host: RaftShardHost; env: LmdbEnv; dir: string } | undefined;

afterEach(async () => {
  if (opened === undefined) return;
  await opened.host.close();
  await opened.env.close();
  rmSync(opened.dir, { recursive: true, force: true });
  opened = undefined;
});

function open(clock: SimClock | undefined): { group: ShardGroup; timers: ManualTimers } {
  const dir = mkdtempSync(join(tmpdir(), 'zaqar-host-ticks-'));
  const env = openLmdbEnv(dir);
  const timers = new ManualTimers();
  const host = new RaftShardHost({
    nodeId: 1 as NodeId,
    logStore: new LmdbLogStore(env),
    transport: undefined,
    random: new SeededRandom(1),
    timers,
    delays: new SystemDelays(),
    tickMs,
    ...(clock === undefined ? {} : { clock }),
  });
  opened = { host, env, dir };
  return { group: host.addGroup(new QueueFsm(1 as ShardId, new LmdbQueueStore(env)), [1 as NodeId]), timers };
}

test('with a clock, a late timer catches up every tick that came due and an early one gives none', () => {
  const clock = new SimClock(0);
  const { group, timers } = open(clock);
  clock.advance(5 * tickMs + 40);
  timers.runAll();
  expect(group.core.tickCount).toBe(5);
  clock.advance(50);
  timers.runAll();
  expect(group.core.tickCount).toBe(5);
  clock.advance(20);
  timers.runAll();
  expect(group.core.tickCount).toBe(6);
});

test('with a clock, a read is fed only after the ticks that came due, even if the timer has not fired', async () => {
  const clock = new SimClock(0);
  const { group } = open(clock);
  clock.advance(3 * tickMs);
  await group.readBarrier();
  expect(group.core.tickCount).toBe(3);
});

test('without a clock, one tick each time the timer fires', () => {
  const { group, timers } = open(undefined);
  timers.runAll();
  timers.runAll();
  expect(group.core.tickCount).toBe(2);
});

test('a tick queued before a heartbeat is stepped before it, so the follower\'s election clock restarts at the heartbeat', () => {
  const shardId = 1 as ShardId;
  const store = new MemoryLogStore();
  const core = new RaftCore(raftConfig({ id: 2 as NodeId, shardId, peers: [1, 2, 3] as NodeId[] }), { reader: logReaderOf(store, shardId), state: store.load(shardId), random: new SeededRandom(2) });
  const group = new ShardGroup(core, undefined as never, { delays: new SystemDelays(), limits: defaultShardGroupLimits, wake: () => {} });
  // A Ready outstanding: inputs queue until it is done.
  const ready = core.takeReady();
  expect(ready).toBeDefined();
  group.tick();
  group.receive({ shardId, from: 1 as NodeId, to: 2 as NodeId, term: 2 as Term, type: MessageType.Heartbeat, logTerm: 0 as Term, index: 0 as LogIndex, commit: 0 as LogIndex, entries: [], reject: false, rejectHint: 0, context: '', tick: 5, snapshot: null });
  if (ready !== undefined) core.advance(ready);
  group.feed();
  expect(core.lead).toBe(1);
  expect(core.electionElapsed).toBe(0);
});
