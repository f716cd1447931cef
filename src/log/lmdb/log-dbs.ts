/**
 * The named LMDB databases that hold the Raft log of every group of the node, inside
 * the node's log environment (so a single transaction and flush can carry the writes
 * of many groups). Values are raw bytes in our own checksummed formats (entry-codec,
 * group-record): lmdb's msgpack value encoding would hide corruption from us.
 */
import type { Database } from 'lmdb';
import type { LmdbEnv } from './lmdb-env.js';

export type EntryKey = [shardId: number, index: number];

export interface LogDbs {
  readonly env: LmdbEnv;
  /** [shardId, index of the run's first entry] → a run of encoded entries (entry-codec.ts). */
  readonly entries: Database<Buffer, EntryKey>;
  /** shardId → group record (hard state + log bounds). */
  readonly groups: Database<Buffer, number>;
  /** shardId → encoded snapshot (metadata + data). */
  readonly snapshots: Database<Buffer, number>;
}

export const logDbNames = {
  entries: 'raft-entries',
  groups: 'raft-groups',
  snapshots: 'raft-snapshots',
} as const;

export function openLogDbs(env: LmdbEnv): LogDbs {
  return {
    env,
    entries: env.openDB<Buffer, EntryKey>(logDbNames.entries, { encoding: 'binary' }),
    groups: env.openDB<Buffer, number>(logDbNames.groups, { encoding: 'binary' }),
    snapshots: env.openDB<Buffer, number>(logDbNames.snapshots, { encoding: 'binary' }),
  };
}

/** A stored run: its key's index (its first entry's) and its bytes. */
export interface StoredRun {
  readonly first: number;
  readonly value: Buffer;
}

/**
 * The stored run that holds entry `index`, if any entry is stored at or below it: the one
 * with the greatest first index at or below it. When a suffix is replaced inside a run,
 * the run is left as it is and the new one stored at its first index shadows the rest
 * (every run stored after that index is removed), so this is always the entry's holder.
 */
export function runAtOrBefore(dbs: Pick<LogDbs, 'entries'>, shardId: number, index: number): StoredRun | undefined {
  for (const { key, value } of dbs.entries.getRange({ start: [shardId, index], end: [shardId, 0], reverse: true, limit: 1 })) {
    return { first: key[1], value };
  }
  return undefined;
}

/**
 * The stored runs holding entries [lo, hi), in order, each with the first index of the run
 * after it (`next`): a run's entries from there on are shadowed by it.
 */
export function runsHolding(dbs: LogDbs, shardId: number, lo: number, hi: number): (StoredRun & { next: number })[] {
  const first = runAtOrBefore(dbs, shardId, lo)?.first ?? lo;
  const runs = Array.from(dbs.entries.getRange({ start: [shardId, first], end: [shardId, hi] }), ({ key, value }) => ({ first: key[1], value }));
  return runs.map((run, i) => ({ ...run, next: runs[i + 1]?.first ?? Number.POSITIVE_INFINITY }));
}

/**
 * Keys of a group's runs with first index in [lo, hi), read in the current (write or read)
 * transaction; collected first because they are removed while iterating would not be safe.
 */
export function entryKeysBetween(dbs: LogDbs, shardId: number, lo: number, hi = Number.MAX_SAFE_INTEGER): EntryKey[] {
  return Array.from(dbs.entries.getKeys({ start: [shardId, lo], end: [shardId, hi] }));
}
