/**
 * Micro benchmarks of the Raft log on LMDB (tinybench): persist() of 256-byte entries
 * with group commit, for 1 shard and for 16 shards persisting in the same turn (one
 * LMDB transaction and one flush per round), plus the entry codec and the gRPC frame
 * encoding of an append. Prints the configuration, warms up, reports medians.
 *
 * Run: npm run bench:raft (or tsx bench/raft-log.bench.ts). Uses a temp dir on the
 * default tmpdir's disk: the numbers include real fsyncs.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Bench } from 'tinybench';
import { decodeEntry, encodeEntry } from '../src/log/lmdb/entry-codec.js';
import { openLmdbEnv } from '../src/log/lmdb/lmdb-env.js';
import { LmdbLogStore } from '../src/log/lmdb/lmdb-log-store.js';
import { encodeMessage } from '../src/raft/grpc/frame-codec.js';
import type { Entry, LogIndex, NodeId, RaftMessage, ShardId, Term } from '../src/raft/types.js';

const entryBytes = 256;
const timeMs = Number(process.env.BENCH_TIME_MS ?? 3000);
const warmupMs = 500;

function entry(index: number): Entry {
  return { term: 1 as Term, index: index as LogIndex, type: 0, data: new Uint8Array(entryBytes).fill(index & 0xff) };
}

console.log(
  `raft log bench: node ${process.version}, ${cpus().length} cpus, entry ${entryBytes} B, ` +
    `${timeMs} ms per task after ${warmupMs} ms warm-up, dir ${tmpdir()}`,
);

const dir = await mkdtemp(join(tmpdir(), 'zaqar-raft-log-bench-'));
const env = openLmdbEnv(dir);
const store = new LmdbLogStore(env);
const bench = new Bench({ time: timeMs, warmupTime: warmupMs });
const scenarios = [
  { name: 'persist, 1 shard, 1 entry each', shards: 1, entriesPerPersist: 1 },
  { name: 'persist, 16 shards in one turn, 1 entry each', shards: 16, entriesPerPersist: 1 },
  { name: 'persist, 1 shard, 16 entries each', shards: 1, entriesPerPersist: 16 },
];
const nextIndex = new Map<ShardId, number>();
let shardBase = 0;
for (const scenario of scenarios) {
  const shards = Array.from({ length: scenario.shards }, (_, i) => (shardBase + i + 1) as ShardId);
  shardBase += scenario.shards;
  bench.add(scenario.name, async () => {
    await Promise.all(
      shards.map((shardId) => {
        const first = nextIndex.get(shardId) ?? 1;
        nextIndex.set(shardId, first + scenario.entriesPerPersist);
        const entries = Array.from({ length: scenario.entriesPerPersist }, (_, i) => entry(first + i));
        const hardState = { term: 1 as Term, vote: 1 as NodeId, commit: (first - 1) as LogIndex };
        return store.persist(shardId, { entries, hardState });
      }),
    );
  });
}
const encoded = encodeEntry(entry(1));
bench.add('encodeEntry + decodeEntry (256 B)', () => {
  decodeEntry(encodeEntry(entry(7)));
  decodeEntry(encoded);
});
const append: RaftMessage = {
  ...{ shardId: 1 as ShardId, from: 1 as NodeId, to: 2 as NodeId, term: 3 as Term, type: 3 },
  ...{ index: 10, logTerm: 3, commit: 9, entries: Array.from({ length: 16 }, (_, i) => entry(11 + i)) },
};
bench.add('encode append message, 16 entries (msgpack)', () => {
  encodeMessage(append);
});

await bench.run();
const rows = bench.tasks.map((task) => {
  const result = task.result;
  if (!('latency' in result)) return { task: task.name, state: result.state };
  const scenario = scenarios.find((s) => s.name === task.name);
  const entriesPerOp = scenario === undefined ? undefined : scenario.shards * scenario.entriesPerPersist;
  return {
    task: task.name,
    'ops/s (median)': Math.round(result.throughput.p50),
    'entries/s': entriesPerOp === undefined ? '' : Math.round(result.throughput.p50 * entriesPerOp),
    'p50 ms': result.latency.p50.toFixed(3),
    'p99 ms': result.latency.p99.toFixed(3),
    samples: result.latency.samplesCount,
  };
});
console.table(rows);
console.log(`LMDB transactions for log writes: ${store.transactions}`);
await env.close();
await rm(dir, { recursive: true, force: true });
