/**
 * Determinism of the shard state machine: one random command sequence (posts, claims
 * with dead-lettering, renewals, releases, deletes, pops, purges, gc, queue deletes;
 * clocks that sometimes step back) applied to two fresh QueueFsms, one on LMDB and one
 * on the memory store, must leave identical stored state and claim indexes; and a third
 * FSM rebuilt from the flushed LMDB state must hold the same index. Also with packed
 * posts, which LMDB stores as runs (log/message-run.ts) that claims, deletes, pops, gc
 * and purges then read, split and remove.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, test } from 'vitest';
import type { LogIndex, ShardId } from '../../src/common/ids.js';
import { encodeCommand } from '../../src/cluster/shard/commands.js';
import { QueueFsm } from '../../src/cluster/shard/queue-fsm.js';
import { openLmdbEnv } from '../../src/log/lmdb/lmdb-env.js';
import { LmdbQueueStore } from '../../src/log/lmdb/lmdb-queue-store.js';
import { MemoryQueueStore } from '../../src/log/memory/memory-queue-store.js';
import { dumpState, randomCommands } from './support/fsm-commands.js';

const shard = 2 as ShardId;
const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

test.each([
  ['posts of one record per message', false],
  ['packed posts stored as runs of messages beside them', true],
])('QueueFsm on LMDB and on memory reach identical state from the same commands (%s)', async (_name, packed) => {
  const dir = mkdtempSync(join(tmpdir(), 'zaqar-fsm-'));
  dirs.push(dir);
  const env = openLmdbEnv(dir);
  const lmdbFsm = new QueueFsm(shard, new LmdbQueueStore(env));
  const memoryFsm = new QueueFsm(shard, new MemoryQueueStore());
  const commands = randomCommands(42, 600, { packed });
  let index = 0;
  let checkpointsWithClaims = 0;
  // Apply in uneven batches, as group commit would, comparing at checkpoints.
  for (let at = 0; at < commands.length; ) {
    const batch = commands.slice(at, at + 1 + (at % 7)).map((command) => ({ index: ++index as LogIndex, data: encodeCommand(command) }));
    at += batch.length;
    expect(lmdbFsm.apply(batch)).toEqual(memoryFsm.apply(batch));
    if (at % 50 < batch.length) {
      await lmdbFsm.store.committed();
      const state = dumpState(lmdbFsm);
      expect(state).toEqual(dumpState(memoryFsm));
      if (JSON.stringify(state).includes('"claims":[{')) checkpointsWithClaims++;
    }
  }
  expect(checkpointsWithClaims).toBeGreaterThan(0);
  await lmdbFsm.store.flushed();
  const lmdbState = dumpState(lmdbFsm);
  expect(lmdbState).toEqual(dumpState(memoryFsm));
  expect(lmdbFsm.store.getShardMeta(shard)?.nextOutboxSeq).toBeGreaterThan(1);

  const rebuilt = new QueueFsm(shard, new LmdbQueueStore(env));
  expect(rebuilt.appliedIndex).toBe(commands.length);
  expect(dumpState(rebuilt)).toEqual(lmdbState);
  await env.close();
});
