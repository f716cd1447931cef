/**
 * Opens the node's one LMDB environment. Every store of the node (the Raft log of all
 * shards, the shards' queue state) opens its named databases inside it, so one write
 * transaction, and one flush, can carry the work of many shards and requests.
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
import { open, type RootDatabase } from 'lmdb';

export type LmdbEnv = RootDatabase;

/** Address space reserved for the data file: ~70 million queued 256-byte messages before lmdb-js has to grow (and remap) it. */
export const mapSizeBytes = 64 * 1024 ** 3;

export interface LmdbEnvOptions {
  /** Map the file in chunks (above); false: one mapping of the whole file, resident once touched. Default true. */
  readonly mapInChunks?: boolean;
}

export function openLmdbEnv(dataDir: string, envOptions: LmdbEnvOptions = {}): LmdbEnv {
  mkdirSync(dataDir, { recursive: true });
  const options = {
    path: join(dataDir, 'zaqar.lmdb'),
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
