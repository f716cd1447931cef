/**
 * A node started on a data directory written with the queue store's earlier layout
 * (each message's record and body in two databases, test/engine/support/
 * split-layout-queue-store.ts) comes up with every queue, message, body, claim, outbox
 * entry and dedup record, and then behaves as if it had never stopped: the rest of the
 * command sequence, applied to the converted store, ends in the state of a replica that
 * applied the whole sequence on the current layout. A conversion interrupted after some
 * batches is finished by the next start.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, test } from 'vitest';
import type { LogIndex, ShardId } from '../../src/common/ids.js';
import { encodeCommand, type ShardCommand } from '../../src/cluster/shard/commands.js';
import { QueueFsm } from '../../src/cluster/shard/queue-fsm.js';
import { openLmdbEnv, type LmdbEnv } from '../../src/log/lmdb/lmdb-env.js';
import { LmdbQueueStore } from '../../src/log/lmdb/lmdb-queue-store.js';
import { encodeMessageEntry } from '../../src/log/message-entry.js';
import { MemoryQueueStore } from '../../src/log/memory/memory-queue-store.js';
import type { StoredMessage } from '../../src/log/queue-store.js';
import { dumpState, randomCommands } from './support/fsm-commands.js';
import { SplitLayoutQueueStore } from './support/split-layout-queue-store.js';

const shard = 5 as ShardId;
const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function applyAll(fsm: QueueFsm, commands: readonly ShardCommand[], firstIndex: number): void {
  for (let at = 0; at < commands.length; at += 4) {
    fsm.apply(commands.slice(at, at + 4).map((command, i) => ({ index: (firstIndex + at + i) as LogIndex, data: encodeCommand(command) })));
  }
}

/** Writes `commands` through a QueueFsm on the earlier layout; returns the directory and the state it holds. */
async function splitLayoutDir(commands: readonly ShardCommand[]): Promise<{ dir: string; state: unknown }> {
  const dir = mkdtempSync(join(tmpdir(), 'zaqar-migration-'));
  dirs.push(dir);
  const env = openLmdbEnv(dir);
  const fsm = new QueueFsm(shard, new SplitLayoutQueueStore(env));
  applyAll(fsm, commands, 1);
  await fsm.store.flushed();
  const state = dumpState(fsm);
  const count = (name: string): number => (env.openDB({ name }).getStats() as { entryCount: number }).entryCount;
  expect(count('queue-messages')).toBeGreaterThan(0);
  expect(count('queue-entries')).toBe(0);
  await env.close();
  return { dir, state };
}

function hasDb(env: LmdbEnv, name: string): boolean {
  // lmdb-js answers undefined for a missing database with `create: false` (not in its types).
  return (env.openDB({ name, create: false } as unknown as { name: string }) as unknown) !== undefined;
}

test('a store of the earlier layout opens with every message, claim and record, and goes on like a replica that never stopped', async () => {
  const commands = randomCommands(11, 600);
  const split = 400;
  const { dir, state } = await splitLayoutDir(commands.slice(0, split));
  const text = JSON.stringify(state);
  expect(text).toContain('"claims":[{');
  expect(text).toContain('"body":[');

  const env = openLmdbEnv(dir);
  try {
    const migrated = new QueueFsm(shard, new LmdbQueueStore(env));
    expect(migrated.appliedIndex).toBe(split);
    expect(dumpState(migrated)).toEqual(state);
    expect(hasDb(env, 'queue-messages')).toBe(false);
    expect(hasDb(env, 'queue-bodies')).toBe(false);

    const whole = new QueueFsm(shard, new MemoryQueueStore());
    applyAll(whole, commands, 1);
    applyAll(migrated, commands.slice(split), split + 1);
    await migrated.store.flushed();
    expect(dumpState(migrated)).toEqual(dumpState(whole));

    // The image a follower would be sent decodes into the same state on another store.
    await migrated.awaitCommitted();
    const image = migrated.snapshot();
    const follower = new QueueFsm(shard, new MemoryQueueStore());
    follower.restore(image.data);
    expect(dumpState(follower)).toEqual(dumpState(whole));
  } finally {
    await env.close();
  }
});

test('a conversion interrupted after some messages moved is finished by the next start', async () => {
  const commands = randomCommands(12, 300);
  const { dir, state } = await splitLayoutDir(commands);
  const env = openLmdbEnv(dir);
  try {
    // What a crash after the first batches leaves: some messages already in queue-entries
    // and gone from both old databases (one transaction each), the rest still there.
    const records = env.openDB<StoredMessage, (string | number)[]>({ name: 'queue-messages', sharedStructuresKey: Symbol.for('structures') });
    const bodies = env.openDB<Uint8Array, (string | number)[]>({ name: 'queue-bodies', encoding: 'binary' });
    const entries = env.openDB<Uint8Array, (string | number)[]>({ name: 'queue-entries', encoding: 'binary' });
    const moved = env.transactionSync(() => {
      const some = [...records.getRange({ start: [0], end: [Number.MAX_SAFE_INTEGER] })].filter((_, i) => i % 2 === 0);
      for (const { key, value } of some) {
        entries.putSync(key, encodeMessageEntry(value, bodies.get(key) ?? new Uint8Array()));
        records.removeSync(key);
        bodies.removeSync(key);
      }
      return some.length;
    });
    expect(moved).toBeGreaterThan(0);
    expect((records.getStats() as { entryCount: number }).entryCount).toBeGreaterThan(0);

    const migrated = new QueueFsm(shard, new LmdbQueueStore(env));
    expect(dumpState(migrated)).toEqual(state);
    expect(hasDb(env, 'queue-messages')).toBe(false);
  } finally {
    await env.close();
  }
});
