/**
 * The dedup window (AppliedWindow) on LMDB across restarts, stored one record per apply
 * batch: a replica that applies a random command sequence (with router-style repeats)
 * in uneven batches, starts from a store whose window records are in the previous form
 * (one per command), is reopened twice, and hands its state to a replica restored from
 * its snapshot, answers every command (every repeat included) and holds the same state
 * and window as a replica that applied the sequence one command at a time without
 * stopping. Run with the window's count bound tiny (evictions inside and across batches)
 * and with the defaults (evictions by age).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pack, unpack } from 'msgpackr';
import { afterEach, expect, test } from 'vitest';
import type { LogIndex, ShardId } from '../../src/common/ids.js';
import type { AppliedWindowLimits } from '../../src/cluster/shard/applied-window.js';
import { defaultAppliedWindowLimits } from '../../src/cluster/shard/applied-window.js';
import { encodeCommand, type ShardCommand } from '../../src/cluster/shard/commands.js';
import { QueueFsm } from '../../src/cluster/shard/queue-fsm.js';
import { openLmdbEnv, type LmdbEnv } from '../../src/log/lmdb/lmdb-env.js';
import { LmdbQueueStore } from '../../src/log/lmdb/lmdb-queue-store.js';
import { MemoryQueueStore } from '../../src/log/memory/memory-queue-store.js';
import { dumpState, randomCommands } from './support/fsm-commands.js';

const shard = 5 as ShardId;
const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** Applies `commands` from the FSM's next index on, in batches of 1..`batchMax`; returns every result. */
function applyInBatches(fsm: QueueFsm, commands: readonly ShardCommand[], batchMax: number): unknown[] {
  const results: unknown[] = [];
  for (let at = 0; at < commands.length; ) {
    const size = 1 + ((at * 7 + 3) % batchMax);
    const first = fsm.appliedIndex + 1;
    const batch = commands.slice(at, at + size).map((command, i) => ({ index: (first + i) as LogIndex, data: encodeCommand(command) }));
    results.push(...fsm.apply(batch));
    at += batch.length;
  }
  return results;
}

/** Rewrites the store's window records (one command each) in the form stores held before batch records. */
function toCommandForm(store: LmdbQueueStore): void {
  for (const { index, data } of [...store.applied(shard)]) {
    const commands = unpack(data) as [number, string, string, number, object][];
    expect(commands).toHaveLength(1);
    const [[, key, type, nowMs, stored]] = commands as [[number, string, string, number, object]];
    store.putApplied(shard, { index, data: pack({ key, type, nowMs, ...stored }) });
  }
}

test.each([
  ['a count bound of 3', { ...defaultAppliedWindowLimits, commandsMax: 3 }],
  ['the default bounds', defaultAppliedWindowLimits],
])('with %s, a replica stopped, reopened and restored answers and holds what one that never stopped does', async (_name, limits: AppliedWindowLimits) => {
  const commands = randomCommands(11, 700);
  const repeats = commands.filter((command, i) => commands.indexOf(command) !== i).length;
  expect(repeats).toBeGreaterThan(30);
  const parts = [commands.slice(0, 150), commands.slice(150, 350), commands.slice(350, 550), commands.slice(550)];
  const reference = new QueueFsm(shard, new MemoryQueueStore(), limits);
  const expected = parts.map((part) => {
    const results = applyInBatches(reference, part, 1);
    return { results, state: dumpState(reference) };
  });

  const dir = mkdtempSync(join(tmpdir(), 'zaqar-applied-window-'));
  dirs.push(dir);
  let env: LmdbEnv = openLmdbEnv(dir);
  // The previous version's store: one window record per command.
  let fsm = new QueueFsm(shard, new LmdbQueueStore(env), limits);
  expect(applyInBatches(fsm, parts[0]!, 1)).toEqual(expected[0]!.results);
  toCommandForm(fsm.store as LmdbQueueStore);
  await fsm.store.flushed();
  await env.close();

  // Reopened on those records, then on its own batch records: the rest in batches of up to 6, then of up to 40.
  for (const [i, batchMax] of [[1, 6], [2, 40]] as const) {
    if (i > 1) await env.close();
    env = openLmdbEnv(dir);
    fsm = new QueueFsm(shard, new LmdbQueueStore(env), limits);
    expect(dumpState(fsm)).toEqual(expected[i - 1]!.state);
    expect(applyInBatches(fsm, parts[i]!, batchMax)).toEqual(expected[i]!.results);
    await fsm.store.flushed();
    expect(dumpState(fsm)).toEqual(expected[i]!.state);
  }
  // Batch records, several commands each, are what the store holds now.
  expect([...fsm.store.applied(shard)].some(({ data }) => (unpack(data) as unknown[]).length > 1)).toBe(true);

  const restored = new QueueFsm(shard, new MemoryQueueStore(), limits);
  await fsm.awaitCommitted();
  restored.restore(fsm.snapshot().data);
  await env.close();
  expect(dumpState(restored)).toEqual(expected[2]!.state);
  expect(applyInBatches(restored, parts[3]!, 9)).toEqual(expected[3]!.results);
  expect(dumpState(restored)).toEqual(expected[3]!.state);
});
