/**
 * Snapshots of the shard state machine. A QueueFsm that applied a prefix of a random
 * command sequence is snapshotted; FSMs on LMDB and on the memory store (fresh, or
 * holding unrelated older state of the same shard, and beside another shard that must
 * stay untouched) restore the image and apply the rest of the sequence. They must end
 * in exactly the state of an FSM that applied the whole sequence (stored records and
 * claim index), and an LMDB replica reopened after the restore must rebuild the same.
 * Damaged images are refused before anything is written.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, test } from 'vitest';
import type { LogIndex, ShardId } from '../../src/common/ids.js';
import { encodeCommand, type ShardCommand } from '../../src/cluster/shard/commands.js';
import { QueueFsm } from '../../src/cluster/shard/queue-fsm.js';
import { ShardImageError } from '../../src/cluster/shard/shard-image.js';
import { openLmdbEnv, type LmdbEnv } from '../../src/log/lmdb/lmdb-env.js';
import { LmdbQueueStore } from '../../src/log/lmdb/lmdb-queue-store.js';
import { MemoryQueueStore } from '../../src/log/memory/memory-queue-store.js';
import type { QueueStore } from '../../src/log/queue-store.js';
import { dumpState, randomCommands } from './support/fsm-commands.js';

const shard = 3 as ShardId;
const neighbour = 4 as ShardId;
const dirs: string[] = [];
const envs: LmdbEnv[] = [];
afterEach(async () => {
  for (const env of envs.splice(0)) await env.close();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function lmdbEnv(): LmdbEnv {
  const dir = mkdtempSync(join(tmpdir(), 'zaqar-fsm-snapshot-'));
  dirs.push(dir);
  const env = openLmdbEnv(dir);
  envs.push(env);
  return env;
}

function applyAll(fsm: QueueFsm, commands: readonly ShardCommand[], firstIndex: number): void {
  for (let at = 0; at < commands.length; at += 5) {
    const batch = commands.slice(at, at + 5).map((command, i) => ({ index: (firstIndex + at + i) as LogIndex, data: encodeCommand(command) }));
    fsm.apply(batch);
  }
}

async function snapshotOf(fsm: QueueFsm): Promise<{ index: LogIndex; data: Uint8Array }> {
  await fsm.awaitCommitted();
  return fsm.snapshot();
}

test.each([
  ['LMDB', (): QueueStore => new LmdbQueueStore(lmdbEnv())],
  ['memory', (): QueueStore => new MemoryQueueStore()],
  ['LMDB, packed posts (runs)', (): QueueStore => new LmdbQueueStore(lmdbEnv()), true],
])('QueueFsm on %s: restore of a snapshot then the rest of the log equals applying the whole log', async (_name, openStore, packed = false) => {
  const commands = randomCommands(7, 500, { packed });
  const split = 300;
  const whole = new QueueFsm(shard, new MemoryQueueStore());
  applyAll(whole, commands, 1);

  const source = new QueueFsm(shard, new LmdbQueueStore(lmdbEnv()));
  applyAll(source, commands.slice(0, split), 1);
  // The replica below holds runs of its own that the restore must remove.
  const older = randomCommands(99, 40, { packed });
  const snapshot = await snapshotOf(source);
  expect(snapshot.index).toBe(split);

  const store = openStore();
  // A replica holding other, older state of the shard (and a neighbour shard's state).
  const replica = new QueueFsm(shard, store);
  applyAll(replica, older, 1);
  const other = new QueueFsm(neighbour, store);
  applyAll(other, randomCommands(5, 60), 1);
  await other.awaitCommitted();
  const otherBefore = dumpState(other);

  await replica.awaitCommitted();
  replica.restore(snapshot.data);
  expect(replica.appliedIndex).toBe(split);
  applyAll(replica, commands.slice(split), split + 1);
  await replica.awaitCommitted();
  expect(dumpState(replica)).toEqual(dumpState(whole));
  expect(JSON.stringify(dumpState(whole))).toContain('"claims":[{');
  await other.awaitCommitted();
  expect(dumpState(other)).toEqual(otherBefore);
  // The restored state is what a restart finds.
  expect(dumpState(new QueueFsm(shard, store))).toEqual(dumpState(whole));
});

test.each([
  ['posts of one record per message', false],
  ['packed posts stored as runs on LMDB', true],
])('QueueFsm snapshots of replicas at the same index are identical bytes on LMDB and memory (%s)', async (_name, packed) => {
  const commands = randomCommands(11, 400, { packed });
  const lmdb = new QueueFsm(shard, new LmdbQueueStore(lmdbEnv()));
  const memory = new QueueFsm(shard, new MemoryQueueStore());
  applyAll(lmdb, commands, 1);
  applyAll(memory, commands, 1);
  const [a, b] = [await snapshotOf(lmdb), await snapshotOf(memory)];
  expect(a.index).toBe(b.index);
  expect(Buffer.from(a.data).equals(Buffer.from(b.data))).toBe(true);
});

test('QueueFsm.restore refuses a damaged image and leaves the state as it was', async () => {
  const fsm = new QueueFsm(shard, new MemoryQueueStore());
  applyAll(fsm, randomCommands(3, 100), 1);
  const snapshot = await snapshotOf(fsm);
  const before = dumpState(fsm);
  const damaged = Uint8Array.from(snapshot.data);
  damaged[damaged.length - 1] = (damaged[damaged.length - 1] ?? 0) ^ 0x40;
  await fsm.awaitCommitted();
  expect(() => fsm.restore(damaged)).toThrow(ShardImageError);
  expect(dumpState(fsm)).toEqual(before);
});

test('QueueFsm.snapshot refuses to run before the applied state is committed', () => {
  const fsm = new QueueFsm(shard, new MemoryQueueStore());
  applyAll(fsm, randomCommands(3, 10), 1);
  expect(() => fsm.snapshot()).toThrow(/not committed|before the applied state/);
});
