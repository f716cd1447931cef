/**
 * Batch entries (commands.ts BatchCommand) on LMDB: a replica that applies a random
 * command sequence with its consumers' commands grouped into batch entries (repeats
 * included, some inside the batch they repeat), is reopened, hands its state to a
 * replica restored from its snapshot that is reopened too, and then gets the last batch
 * proposed again, answers every command and holds the same state and dedup window as a
 * replica that applied every command as an entry of its own. Only log indexes differ:
 * a batch is one entry.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { unpack } from 'msgpackr';
import { afterEach, expect, test } from 'vitest';
import type { LogIndex, ShardId } from '../../src/common/ids.js';
import { batchedCommandTypes, encodeCommand, type BatchedCommand, type ShardCommand } from '../../src/cluster/shard/commands.js';
import { QueueFsm } from '../../src/cluster/shard/queue-fsm.js';
import type { AnyCommandResult } from '../../src/cluster/shard/results.js';
import { openLmdbEnv } from '../../src/log/lmdb/lmdb-env.js';
import { LmdbQueueStore } from '../../src/log/lmdb/lmdb-queue-store.js';
import { MemoryQueueStore } from '../../src/log/memory/memory-queue-store.js';
import { dumpState, randomCommands } from './support/fsm-commands.js';

const shard = 3 as ShardId;
const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const batchable: ReadonlySet<string> = new Set(batchedCommandTypes);

/** `commands` as entries: runs of batchable commands cut into batches of 1..5 (a run of one goes alone). */
function asEntries(commands: readonly ShardCommand[]): ShardCommand[][] {
  const entries: ShardCommand[][] = [];
  let run: ShardCommand[] = [];
  const sizes = process.env.SIZES ? JSON.parse(process.env.SIZES) as number[] : [2, 5, 1, 3, 4];
  for (const command of commands) {
    if (batchable.has(command.type)) {
      run.push(command);
      if (run.length < sizes[entries.length % sizes.length]!) continue;
    }
    if (run.length > 0) entries.push(run);
    run = [];
    if (!batchable.has(command.type)) entries.push([command]);
  }
  if (run.length > 0) entries.push(run);
  return entries;
}

function encodeEntry(commands: readonly ShardCommand[]): Uint8Array {
  const [only] = commands;
  return encodeCommand(commands.length === 1 ? only! : { type: 'batch', nowMs: Math.max(...commands.map((c) => c.nowMs)), commands: commands as BatchedCommand[] });
}

/** Applies `entries` in apply batches of 1..7 entries; returns one result per command, a batch's spread in its order. */
function apply(fsm: QueueFsm, entries: readonly ShardCommand[][]): unknown[] {
  const results: unknown[] = [];
  for (let at = 0; at < entries.length;) {
    const group = entries.slice(at, at + 1 + (at % 7));
    const first = fsm.appliedIndex + 1;
    const applied = fsm.apply(group.map((commands, i) => ({ index: (first + i) as LogIndex, data: encodeEntry(commands) })));
    applied.forEach((result, i) => {
      if (group[i]!.length === 1) results.push(result);
      else results.push(...(result as { results: AnyCommandResult[] }).results);
    });
    at += group.length;
  }
  return results;
}

/** The state as `dumpState` sees it, without the log indexes (a batch is one entry). */
function withoutIndexes(state: unknown): unknown {
  const { applied, meta, ...rest } = state as { applied: { index: number; data: number[] }[]; meta: { appliedIndex: number } };
  return { ...rest, applied: applied.map(({ data }) => data), meta: { ...meta, appliedIndex: undefined } };
}

test('a replica applying batch entries, reopened, restored from its snapshot and reopened, answers and holds what one applying single commands does', async () => {
  const all = asEntries(randomCommands(23, 900, { packed: true }));
  // Ends with a batch, so that proposing it again comes within the dedup window.
  const entries = all.slice(0, all.findLastIndex((entry) => entry.length > 1) + 1);
  const batches = entries.filter((entry) => entry.length > 1);
  expect(batches.length).toBeGreaterThan(60);
  // Some batch carries a command twice (a repeat right after its first proposal).
  expect(batches.some((batch) => batch.some((command, i) => batch.indexOf(command) !== i))).toBe(true);
  const last = batches.at(-1)!;
  const cut = Math.floor(entries.length / 2);
  const parts = [entries.slice(0, cut), entries.slice(cut), [last]];

  const reference = new QueueFsm(shard, new MemoryQueueStore());
  const expected = parts.map((part) => ({ results: apply(reference, part.flat().map((c) => [c])), state: withoutIndexes(dumpState(reference)) }));
  // Proposed again, the last batch changes nothing: each of its commands is a repeat.
  expect(expected[2]!.state).toEqual(expected[1]!.state);

  const dir = mkdtempSync(join(tmpdir(), 'zaqar-command-batches-'));
  const restoredDir = mkdtempSync(join(tmpdir(), 'zaqar-command-batches-restored-'));
  dirs.push(dir, restoredDir);
  let env = openLmdbEnv(dir);
  let fsm = new QueueFsm(shard, new LmdbQueueStore(env));
  expect(apply(fsm, parts[0]!)).toEqual(expected[0]!.results);
  await fsm.store.flushed();
  await env.close();

  env = openLmdbEnv(dir);
  fsm = new QueueFsm(shard, new LmdbQueueStore(env));
  expect(withoutIndexes(dumpState(fsm))).toEqual(expected[0]!.state);
  expect(apply(fsm, parts[1]!)).toEqual(expected[1]!.results);
  // Reads see what the store committed.
  await fsm.store.flushed();
  expect(withoutIndexes(dumpState(fsm))).toEqual(expected[1]!.state);
  // The window holds commands sharing an index (a batch's), in the store and in the image.
  const sharesIndex = (indexes: number[]): boolean => indexes.some((index, i) => indexes.indexOf(index) !== i);
  expect([...fsm.store.applied(shard)].some(({ data }) => sharesIndex((unpack(data) as [number][]).map(([index]) => index)))).toBe(true);
  await fsm.awaitCommitted();
  const image = fsm.snapshot();
  expect(sharesIndex(fsm.windowRecords().map(({ index }) => index))).toBe(true);
  await env.close();

  let restoredEnv = openLmdbEnv(restoredDir);
  const restored = new QueueFsm(shard, new LmdbQueueStore(restoredEnv));
  restored.restore(image.data);
  await restored.store.flushed();
  await restoredEnv.close();
  restoredEnv = openLmdbEnv(restoredDir);
  const reopened = new QueueFsm(shard, new LmdbQueueStore(restoredEnv));
  expect(withoutIndexes(dumpState(reopened))).toEqual(expected[1]!.state);
  expect(apply(reopened, parts[2]!)).toEqual(expected[2]!.results);
  await reopened.store.flushed();
  expect(withoutIndexes(dumpState(reopened))).toEqual(expected[2]!.state);
  await restoredEnv.close();
});
