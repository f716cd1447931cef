/**
 * Opens the node's one LMDB environment. Every store of the node (the Raft log of all
 * shards, the shards' queue state) opens its named databases inside it, so one write
 * transaction, and one flush, can carry the work of many shards and requests.
 *
 * Durability: overlappingSync lets commits proceed while the previous one is being
 * flushed; writers that must be durable await the database's `flushed` promise, never
 * just the commit. Never noSync: the Raft log relies on the flush.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { open, type RootDatabase } from 'lmdb';

export type LmdbEnv = RootDatabase;

export function openLmdbEnv(dataDir: string): LmdbEnv {
  mkdirSync(dataDir, { recursive: true });
  const options = {
    path: join(dataDir, 'zaqar.lmdb'),
    maxDbs: 64,
    overlappingSync: true,
    // Recovery must never resurrect a commit that was not flushed (lmdb-js option
    // missing from its type declarations).
    safeRestore: true,
  };
  return open(options);
}
