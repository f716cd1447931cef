/**
 * RaftShardHost with a clock counts Raft ticks from its monotonic time, not from how often
 * its timer fired: a late timer is caught up, an early one gives nothing, and a round
 * catches up before it feeds reads (a leader's read lease is bounded in ticks, so its tick
 * count must not lag real time). Without a clock, one tick per firing (tests tick by hand).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, test } from 'vitest';
import type { NodeId, ShardId } from '../../src/common/ids.js';
import { SimClock } from '../../src/common/clock.js';
import { SeededRandom } from '../../src/common/random.js';
import { ManualTimers, SystemDelays } from '../../src/common/timers.js';
import { RaftShardHost } from '../../src/cluster/raft-shard-host.js';
import type { ShardGroup } from '../../src/cluster/shard-group.js';
import { QueueFsm } from '../../src/cluster/shard/queue-fsm.js';
import { openLmdbEnv, type LmdbEnv } from '../../src/log/lmdb/lmdb-env.js';
import { LmdbLogStore } from '../../src/log/lmdb/lmdb-log-store.js';
import { LmdbQueueStore } from '../../src/log/lmdb/lmdb-queue-store.js';

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
