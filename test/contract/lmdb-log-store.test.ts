/**
 * Runs the RaftLogStore contract against LmdbLogStore on a real LMDB environment in a
 * temp dir, damaging stored values through a raw lmdb handle, and proves what only the
 * LMDB store promises: group commit (one transaction for the writes of many groups in a
 * turn), failed writes failing the group, and durability when the process is killed
 * right after a write resolved.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import type { Database } from 'lmdb';
import { describe, expect, test } from 'vitest';
import { openLmdbEnv, type LmdbEnv } from '../../src/log/lmdb/lmdb-env.js';
import { LmdbLogStore } from '../../src/log/lmdb/lmdb-log-store.js';
import { entrySpans } from '../../src/log/lmdb/entry-codec.js';
import { logDbNames, runAtOrBefore } from '../../src/log/lmdb/log-dbs.js';
import type { HardState, LogIndex, ShardId, Term } from '../../src/raft/types.js';
import { entryRange, logStoreContract, type DamageKind, type LogStoreHarness } from './log-store.contract.js';

class LmdbHarness implements LogStoreHarness {
  store: LmdbLogStore;
  private constructor(
    readonly dir: string,
    private env: LmdbEnv,
  ) {
    this.store = new LmdbLogStore(env);
  }

  static async open(): Promise<LmdbHarness> {
    const dir = await mkdtemp(join(tmpdir(), 'zaqar-log-'));
    return new LmdbHarness(dir, openLmdbEnv(dir));
  }

  async reopen(): Promise<LmdbLogStore> {
    await this.env.close();
    this.env = openLmdbEnv(this.dir);
    this.store = new LmdbLogStore(this.env);
    return this.store;
  }

  async damageEntry(shardId: ShardId, index: LogIndex, kind: DamageKind): Promise<void> {
    const raw = this.env.openDB<Buffer, [number, number]>(logDbNames.entries, { encoding: 'binary' });
    const run = runAtOrBefore({ entries: raw }, shardId, index);
    const span = run === undefined ? undefined : entrySpans(run.value).find((s) => s.index === index);
    if (run === undefined || span === undefined) throw new Error(`entry ${index} is not stored`);
    await damage(raw, [shardId, run.first], kind, span);
  }

  rawEntries(): Database<Buffer, [number, number]> {
    return this.env.openDB<Buffer, [number, number]>(logDbNames.entries, { encoding: 'binary' });
  }

  async damageSnapshot(shardId: ShardId, kind: DamageKind): Promise<void> {
    const raw = this.env.openDB<Buffer, number>(logDbNames.snapshots, { encoding: 'binary' });
    await damage(raw, shardId, kind);
  }

  async close(): Promise<void> {
    await this.env.close();
    await rm(this.dir, { recursive: true, force: true });
  }
}

interface RawDb<K> {
  getBinary(key: K): Buffer | undefined;
  put(key: K, value: Buffer): Promise<boolean>;
}

/** Damages the stored value, or only the part `span` of it (one entry of a run) and cuts what follows. */
async function damage<K>(raw: RawDb<K>, key: K, kind: DamageKind, span?: { start: number; end: number }): Promise<void> {
  const stored = raw.getBinary(key);
  if (stored === undefined) throw new Error('nothing stored to damage');
  const copy = Buffer.from(stored);
  const { start, end } = span ?? { start: 0, end: copy.length };
  if (kind === 'flip') {
    const at = end - 2; // inside the data, past every header field
    copy[at] = (copy[at] ?? 0) ^ 0x10;
    await raw.put(key, copy);
  } else {
    await raw.put(key, copy.subarray(0, start + Math.floor((end - start) / 2)));
  }
}

logStoreContract('LmdbLogStore', () => LmdbHarness.open(), { isPersistent: true, canDamage: true });

describe('LmdbLogStore', () => {
  test('persists of many groups in one turn share one transaction and all read back', async () => {
    const h = await LmdbHarness.open();
    try {
      const before = h.store.transactions;
      const shards = Array.from({ length: 32 }, (_, i) => (i + 1) as ShardId);
      await Promise.all(shards.map((id) => h.store.persist(id, { entries: entryRange(1, 4, id, 256) })));
      expect(h.store.transactions - before).toBe(1);
      await Promise.all(shards.map((id) => h.store.persist(id, { entries: entryRange(4, 6, id, 256) })));
      expect(h.store.transactions - before).toBe(2);
      const reopened = await h.reopen();
      for (const id of shards) {
        expect(reopened.load(id).lastIndex).toBe(5);
        expect(reopened.entries(id, { lo: 1 as LogIndex, hi: 6 as LogIndex })).toEqual(entryRange(1, 6, id, 256));
      }
    } finally {
      await h.close();
    }
  });

  test('keeps the damage mark across writes and restarts until the log reaches the last index seen', async () => {
    const h = await LmdbHarness.open();
    const shard = 1 as ShardId;
    try {
      const hardState = (term: number, commit: number): HardState => ({
        term: term as Term,
        vote: 0,
        commit: commit as LogIndex,
      });
      await h.store.persist(shard, { entries: entryRange(1, 6, 1, 64), hardState: hardState(1, 5) });
      await h.damageEntry(shard, 3 as LogIndex, 'flip');
      let store = await h.reopen();
      // The commit index is clamped into what is left.
      expect(store.load(shard)).toMatchObject({ hardState: hardState(1, 2), lastIndex: 2 });
      await store.persist(shard, { entries: [], hardState: hardState(2, 2) });
      store = await h.reopen();
      expect(store.load(shard).damage).toEqual({ fromIndex: 3, lastIndexSeen: 5 });
      await store.persist(shard, { entries: entryRange(3, 5, 2, 64) });
      store = await h.reopen();
      expect(store.load(shard).damage).toEqual({ fromIndex: 5, lastIndexSeen: 5 });
      await store.persist(shard, { entries: entryRange(5, 6, 2, 64) });
      store = await h.reopen();
      expect(store.load(shard).damage).toBeUndefined();
    } finally {
      await h.close();
    }
  });

  test('answers the term of the last compacted index', async () => {
    const h = await LmdbHarness.open();
    const shard = 1 as ShardId;
    try {
      await h.store.persist(shard, { entries: [...entryRange(1, 5, 1), ...entryRange(5, 9, 2)] });
      await h.store.compact(shard, 6 as LogIndex);
      const store = await h.reopen();
      expect(store.load(shard).firstIndex).toBe(7);
      expect(store.term(shard, 6 as LogIndex)).toBe(2);
      expect(store.term(shard, 5 as LogIndex)).toBeUndefined();
    } finally {
      await h.close();
    }
  });

  test('a persist is one record; a suffix replaced inside it and a compaction inside it read back through reopens', async () => {
    const h = await LmdbHarness.open();
    const shard = 1 as ShardId;
    const raw = (): [number, number][] => [...h.rawEntries().getKeys({ start: [shard, 0], end: [shard + 1, 0] })];
    try {
      await h.store.persist(shard, { entries: entryRange(1, 9, 1, 100) });
      expect(raw()).toEqual([[1, 1]]);
      // Leader change: entries 5.. replaced by a shorter suffix of term 2, then one more append.
      await h.store.persist(shard, { entries: entryRange(5, 7, 2, 100) });
      await h.store.persist(shard, { entries: entryRange(7, 8, 2, 100) });
      expect(raw()).toEqual([[1, 1], [1, 5], [1, 7]]);
      const expected = [...entryRange(1, 5, 1, 100), ...entryRange(5, 8, 2, 100)];
      let store = await h.reopen();
      expect(store.load(shard)).toMatchObject({ firstIndex: 1, lastIndex: 7 });
      expect(store.entries(shard, { lo: 1 as LogIndex, hi: 8 as LogIndex })).toEqual(expected);
      expect([3, 4, 5, 6, 7].map((i) => store.term(shard, i as LogIndex))).toEqual([1, 1, 2, 2, 2]);
      // Replaced again from inside the second run, before the first write settled.
      const replaced = [store.persist(shard, { entries: entryRange(6, 10, 3, 100) }), store.persist(shard, { entries: entryRange(8, 9, 3, 100) })];
      await Promise.all(replaced);
      expect(raw()).toEqual([[1, 1], [1, 5], [1, 6], [1, 8]]);
      // Compacting inside a run keeps the run that holds the new first index.
      await store.compact(shard, 6 as LogIndex);
      expect(raw()).toEqual([[1, 6], [1, 8]]);
      store = await h.reopen();
      expect(store.load(shard)).toMatchObject({ firstIndex: 7, lastIndex: 8 });
      expect(store.term(shard, 6 as LogIndex)).toBe(3);
      expect(store.entries(shard, { lo: 7 as LogIndex, hi: 9 as LogIndex })).toEqual(entryRange(7, 9, 3, 100));
      await store.compact(shard, 8 as LogIndex);
      expect(raw()).toEqual([[1, 8]]);
    } finally {
      await h.close();
    }
  });

  test('a log stored one record per entry, as earlier builds did, loads, reads, extends and compacts', async () => {
    const h = await LmdbHarness.open();
    const shard = 2 as ShardId;
    try {
      await h.store.persist(shard, { entries: [], hardState: { term: 1 as Term, vote: 0, commit: 0 as LogIndex } });
      for (const entry of entryRange(1, 6, 1, 50)) await h.store.persist(shard, { entries: [entry] });
      let store = await h.reopen();
      const loaded = store.load(shard);
      expect(loaded.lastIndex).toBe(5);
      expect(loaded.damage).toBeUndefined();
      await store.persist(shard, { entries: entryRange(4, 8, 2, 50) });
      await store.compact(shard, 4 as LogIndex);
      store = await h.reopen();
      expect(store.load(shard)).toMatchObject({ firstIndex: 5, lastIndex: 7 });
      expect(store.entries(shard, { lo: 5 as LogIndex, hi: 8 as LogIndex })).toEqual(entryRange(5, 8, 2, 50));
    } finally {
      await h.close();
    }
  });

  test('a write that fails in LMDB rejects, and fails its group for later writes', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'zaqar-log-'));
    const env = openLmdbEnv(dir);
    try {
      const store = new LmdbLogStore(env);
      const shard = 1 as ShardId;
      await store.persist(shard, { entries: entryRange(1, 2, 1) });
      await env.close();
      await expect(store.persist(shard, { entries: entryRange(2, 3, 1) })).rejects.toMatchObject({
        kind: 'write_failed',
      });
      await expect(store.persist(shard, { entries: entryRange(2, 3, 1) })).rejects.toMatchObject({
        kind: 'group_failed',
      });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('every write acknowledged before kill -9 is there after reopen', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'zaqar-log-'));
    try {
      for (const rounds of [50, 1, 20, 1, 5]) {
        const acknowledged = await runPersistChild(dir, rounds);
        const env = openLmdbEnv(dir);
        try {
          expectAcknowledgedDurable(new LmdbLogStore(env), acknowledged);
        } finally {
          await env.close();
        }
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

/** Runs lmdb-persist-child for `rounds` rounds (it kills itself) and returns the last acknowledged index. */
async function runPersistChild(dir: string, rounds: number): Promise<number> {
  const childPath = fileURLToPath(new URL('./lmdb-persist-child.ts', import.meta.url));
  const child = spawn(process.execPath, ['--import', 'tsx', childPath, dir, String(rounds)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise<NodeJS.Signals | null>((resolve) => child.once('exit', (_code, signal) => resolve(signal)));
  let acknowledged = 0;
  for await (const line of createInterface({ input: child.stdout })) acknowledged = Number(line);
  expect(await exited).toBe('SIGKILL');
  expect(acknowledged).toBeGreaterThan(0);
  return acknowledged;
}

function expectAcknowledgedDurable(store: LmdbLogStore, acknowledged: number): void {
  for (const shard of [1, 2, 3, 4].map((n) => n as ShardId)) {
    const state = store.load(shard);
    expect(state.damage).toBeUndefined();
    expect(state.lastIndex).toBeGreaterThanOrEqual(acknowledged);
    expect(state.hardState.commit).toBeGreaterThanOrEqual(acknowledged);
    const stored = store.entries(shard, { lo: 1 as LogIndex, hi: (acknowledged + 1) as LogIndex });
    expect(stored).toEqual(entryRange(1, acknowledged + 1, 1, 256).map((e) => ({ ...e, data: e.data.fill(shard) })));
  }
}
