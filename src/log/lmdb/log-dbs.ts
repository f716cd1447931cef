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
  /** [shardId, index] → encoded entry. */
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

/**
 * Keys of a group's entries with index in [lo, hi), read in the current (write or read)
 * transaction; collected first because they are removed while iterating would not be safe.
 */
export function entryKeysBetween(dbs: LogDbs, shardId: number, lo: number, hi = Number.MAX_SAFE_INTEGER): EntryKey[] {
  return Array.from(dbs.entries.getKeys({ start: [shardId, lo], end: [shardId, hi] }));
}
