/**
 * What reading a just-persisted Raft entry back costs, as the apply and Raft's term check
 * do after each persist: LmdbLogStore (read, verify the checksum, copy the data) against
 * RecentEntriesLogStore holding it. Persists 4,000 entries of 3,000 bytes (about one
 * 10-message post each) 4 per persist, then reads them all, 4 per read with one term check,
 * 20 times each way. Prints CPU µs per entry; bounded, timings never checked.
 *
 *   npx tsx bench/log-read-back.ts
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openLmdbEnv } from '../src/log/lmdb/lmdb-env.js';
import { LmdbLogStore } from '../src/log/lmdb/lmdb-log-store.js';
import { RecentEntriesLogStore } from '../src/log/recent-entries.js';
import type { LogStore } from '../src/log/log-store.js';
import type { Entry, LogIndex, ShardId, Term } from '../src/raft/types.js';

const entriesTotal = 4000;
const perPersist = 4;
const shard = 1 as ShardId;
const data = Buffer.alloc(3000, 7);
const batch = (first: number): Entry[] =>
  Array.from({ length: perPersist }, (_, k) => ({ index: (first + k) as LogIndex, term: 1 as Term, type: 0, data }));

const dir = mkdtempSync(join(tmpdir(), 'log-read-back-'));
const env = openLmdbEnv(dir);
const lmdb = new LmdbLogStore(env);
const held = new RecentEntriesLogStore(lmdb, 64 * 1024 * 1024);
held.load(shard);
// Through the wrapper, so it holds them all (its bound is above their 12 MB).
for (let first = 1; first <= entriesTotal; first += perPersist) await held.persist(shard, { entries: batch(first) });

function readAll(store: LogStore): void {
  for (let lo = 1; lo <= entriesTotal; lo += perPersist) {
    store.term(shard, (lo + perPersist - 1) as LogIndex);
    store.entries(shard, { lo: lo as LogIndex, hi: (lo + perPersist) as LogIndex });
  }
}

function cpuPerEntryUs(store: LogStore, rounds: number): number {
  const start = process.cpuUsage();
  for (let round = 0; round < rounds; round++) readAll(store);
  const used = process.cpuUsage(start);
  return (used.user + used.system) / rounds / entriesTotal;
}

for (let warm = 0; warm < 3; warm++) {
  cpuPerEntryUs(lmdb, 5);
  cpuPerEntryUs(held, 5);
}
console.log(`CPU µs per 3,000-byte entry read back (${perPersist} per read, one term check): LMDB ${cpuPerEntryUs(lmdb, 20).toFixed(2)}, held in memory ${cpuPerEntryUs(held, 20).toFixed(3)}`);
await env.close();
rmSync(dir, { recursive: true, force: true });
