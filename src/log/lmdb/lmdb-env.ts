/**
 * Opens the node's LMDB environments: `zaqar.lmdb` with the shards' queue state (and the
 * address book), `raft-log.lmdb` with the Raft log of every shard (logEnvFile). Each
 * store opens its named databases inside its environment, so one write transaction, and
 * one flush, carries the work of many shards and requests.
 *
 * Why the log has a file of its own: the log's records are large (a round's entries, tens
 * of KiB: LMDB overflow pages), and removing one (compaction) reads its first overflow
 * page through the map, which faults in the whole 64 KiB chunk around it (the kernel's
 * fault-around). In a shared file those freed pages were then reused for queue entries, so
 * compaction walked the whole file: with 1,000,000 queued messages 356 of the 451 MB data
 * file stayed resident. In a file of its own the log's pages are reused by the log, so its
 * resident pages stay as few as the log is long (compaction every 2 MiB per shard), and the
 * queue state's file is touched only where a transaction reads a page (the last leaf and the
 * path to it, written by the transaction before): ~150 of 446 MB at 1,000,000 messages. The
 * cost: a round's log write and its apply's puts no longer share a transaction and a flush.
 *
 * Durability: overlappingSync lets commits proceed while the previous one is being
 * flushed; writers that must be durable await the database's `flushed` promise, never
 * just the commit. Never noSync: the Raft log relies on the flush.
 *
 * Memory: the map is reserved at `mapSizeBytes` up front. lmdb-js otherwise starts with a
 * 128 KiB map and doubles it as the file grows, keeping every earlier mapping alive (for
 * readers still in them), so the file's touched pages stayed resident once per mapping:
 * the RSS of a node was up to twice its data file. Reserving address space costs nothing
 * on 64-bit Linux (without a writemap the file is not extended to the map's size).
 *
 * Resident pages: with one mapping of the whole file, every page a write or read ever
 * touched stays in the process's resident set (a write reads each page it changes through
 * the map), so a node's RSS grew with its data file: 570 of 783 MB with 1,000,000 queued
 * messages. `remapChunks` maps the file in 64 KiB chunks as transactions reach them and,
 * once 8,191 chunks (512 MiB) are mapped, unmaps every chunk no transaction uses (LMDB's
 * VL32 mode; lmdb-js's default on 32-bit systems). The file's resident pages then stay
 * under ~512 MiB however large the file grows (the same node: 783 → 320 MB settled,
 * peak 780 MB). The pages stay in the kernel's page cache; only this process's mappings
 * of them go.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { open, type Database, type DatabaseOptions, type Key, type RootDatabase } from 'lmdb';

export type LmdbEnv = RootDatabase;

/** The file of the Raft log's environment, next to `zaqar.lmdb` (above). */
export const logEnvFile = 'raft-log.lmdb';

/** Address space reserved for the data file: ~70 million queued 256-byte messages before lmdb-js has to grow (and remap) it. */
export const mapSizeBytes = 64 * 1024 ** 3;

export interface LmdbEnvOptions {
  /** Map the file in chunks (above); false: one mapping of the whole file, resident once touched. Default true. */
  readonly mapInChunks?: boolean;
  /** The environment's file in `dataDir`: `zaqar.lmdb` (default) or logEnvFile. */
  readonly file?: string;
}

export function openLmdbEnv(dataDir: string, envOptions: LmdbEnvOptions = {}): LmdbEnv {
  mkdirSync(dataDir, { recursive: true });
  const options = {
    path: join(dataDir, envOptions.file ?? 'zaqar.lmdb'),
    maxDbs: 64,
    overlappingSync: true,
    mapSize: mapSizeBytes,
    remapChunks: envOptions.mapInChunks ?? true,
    // Recovery must never resurrect a commit that was not flushed (lmdb-js option
    // missing from its type declarations).
    safeRestore: true,
  };
  return open(options);
}

/**
 * Whether the environment still takes writes. A database opened from a closed environment
 * would accept an asynchronous put and never settle it (lmdb-js fails it on its next write
 * turn, outside the caller's reach); `status` is missing from lmdb-js's type declarations.
 */
export function isLmdbEnvOpen(env: LmdbEnv): boolean {
  return (env as unknown as { status?: unknown }).status === 'open';
}

/**
 * Opens a named database only if the environment has it (migrations of earlier layouts):
 * lmdb-js answers undefined for a missing one with `create: false` (an option its type
 * declarations lack).
 */
export function openExistingDb<V>(env: LmdbEnv, options: { name: string; sharedStructuresKey?: symbol; encoding?: 'binary' }): Database<V, Key> | undefined {
  const existing = { ...options, create: false } as DatabaseOptions & { name: string };
  return env.openDB<V, Key>(existing) as Database<V, Key> | undefined;
}
