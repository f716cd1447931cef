/**
 * Micro benchmarks of the hot path (tinybench), one process, no network:
 *   - message id minting (newObjectId) and shard command encode/decode (msgpackr records) of a post of 10 × 256-byte bodies;
 *   - reading the headers of 20 posted messages' queue entries (what a claim of 20 reads);
 *   - QueueFsm.apply of that post on an LMDB queue store (writes buffered into the
 *     store's next transaction, as on a replica);
 *   - ClaimIndex: claim 20 + delete 20 with 1,000 and with 1,000,000 messages queued
 *     (the depth must not change the cost);
 *   - LMDB log append with group flush: 16 shards persisting 10 entries each in one turn.
 * Prints the configuration, warms up, reports medians (p50) and p99. Exits 1 when a task
 * threw or took no sample (CI runs the smoke version so the bench cannot rot); timings are
 * never checked.
 *
 * Run: npm run bench (BENCH_TIME_MS=200 for a smoke run). Uses a temp dir under the
 * default tmpdir, removed at the end: the LMDB numbers include real fsyncs.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pack } from 'msgpackr';
import { Bench } from 'tinybench';
import type { LogIndex, NodeId, ShardId, Term } from '../src/common/ids.js';
import { newIdTail, newObjectId } from '../src/common/ids.js';
import { ClaimIndex, queueKeyOf } from '../src/cluster/shard/claim-index.js';
import { decodeCommand, encodeCommand, type ShardCommand } from '../src/cluster/shard/commands.js';
import { QueueFsm } from '../src/cluster/shard/queue-fsm.js';
import { openLmdbEnv } from '../src/log/lmdb/lmdb-env.js';
import { LmdbLogStore } from '../src/log/lmdb/lmdb-log-store.js';
import { LmdbQueueStore } from '../src/log/lmdb/lmdb-queue-store.js';
import { decodeMessageEntry, encodePostedEntries } from '../src/log/message-entry.js';
import type { Entry } from '../src/raft/types.js';
import { entriesPostCommand } from './post-command.js';

const timeMs = Number(process.env['BENCH_TIME_MS'] ?? 2000);
const warmupMs = Math.min(500, timeMs);
const bodyBytes = 256;
const batch = 10;

console.log(
  `micro bench: node ${process.version}, ${cpus().length} cpus, load ${loadavg().map((l) => l.toFixed(1)).join(' ')}, ` +
    `${timeMs} ms per task after ${warmupMs} ms warm-up, body ${bodyBytes} B, post batch ${batch}, dir ${tmpdir()}`,
);

const body = pack({ event: 'perf', pad: 'a'.repeat(bodyBytes - 20) });
function postCommand(nowMs: number): ShardCommand {
  const messages = Array.from({ length: batch }, () => ({
    id: newObjectId(nowMs),
    body,
    ttlSeconds: 3600,
    delaySeconds: 0,
    checksum: null,
  }));
  return { type: 'post', nowMs, project: 'bench', queue: 'q', clientId: 'c0a80001-0000-4000-8000-000000000000', messages };
}

const bench = new Bench({ time: timeMs, warmupTime: warmupMs });
const perOp = new Map<string, number>();

// --- command codec
const nowMsAtStart = Date.now();
const post = postCommand(nowMsAtStart);
const encodedPost = encodeCommand(post);
perOp.set('encode post command (10 msgs)', batch);
bench.add('encode post command (10 msgs)', () => {
  encodeCommand(post);
});
perOp.set('decode post command (10 msgs)', batch);
bench.add('decode post command (10 msgs)', () => {
  decodeCommand(encodedPost);
});
// The form nodes propose now (entries, ids derived from seqs), decoded as a replica that did not propose it does.
const entriesPost = entriesPostCommand(batch, bodyBytes);
perOp.set('decode post command, entries form (10 msgs)', batch);
bench.add('decode post command, entries form (10 msgs)', () => {
  decodeCommand(entriesPost);
});

// --- queue entry headers (every claimed, deleted or listed message is read through one)
const postedEntries = encodePostedEntries(
  '3381af922b9e11e3b19171861300734c',
  Array.from({ length: 20 }, () => ({ id: newIdTail(), createdMs: nowMsAtStart, ttlSeconds: 300, expiresMs: nowMsAtStart + 300_000, visibleMs: nowMsAtStart, checksum: null })),
  Array.from({ length: 20 }, () => body),
);
perOp.set('decode queue entry headers (20 posted msgs)', 20);
bench.add('decode queue entry headers (20 posted msgs)', () => {
  for (let i = 0; i < postedEntries.length; i++) decodeMessageEntry(postedEntries[i]!, 1_000 + i);
});

// --- id minting (every posted message and claim gets one)
perOp.set('newObjectId × 10', 10);
bench.add('newObjectId × 10', () => {
  for (let i = 0; i < 10; i++) newObjectId(1_700_000_000_000);
});

// --- FSM apply on LMDB
const dir = await mkdtemp(join(tmpdir(), 'zaqar-micro-bench-'));
const env = openLmdbEnv(dir);
const queueStore = new LmdbQueueStore(env);
const fsm = new QueueFsm(1 as ShardId, queueStore);
let applied = 0;
const nowMs = Date.now();
fsm.apply([{ index: ++applied as LogIndex, data: encodeCommand({ type: 'createQueue', nowMs, project: 'bench', queue: 'q', metadata: {} }) }]);
let applyTurns = 0;
perOp.set('QueueFsm.apply post (10 msgs, LMDB store)', batch);
bench.add('QueueFsm.apply post (10 msgs, LMDB store)', async () => {
  fsm.apply([{ index: ++applied as LogIndex, data: encodeCommand(postCommand(nowMs)) }]);
  // Let the store commit now and then, as the shard log does after each round.
  if (++applyTurns % 100 === 0) await queueStore.committed();
});

// --- claim index at two depths
function claimIndexAt(depth: number): { index: ClaimIndex; nextSeq: () => number } {
  const index = new ClaimIndex();
  const key = queueKeyOf('bench', 'q');
  let seq = 0;
  for (; seq < depth; seq++) index.addFree(key, { seq: seq + 1, expiresMs: Number.MAX_SAFE_INTEGER, visibleMs: 0 });
  return { index, nextSeq: () => ++seq };
}
for (const depth of [1_000, 1_000_000]) {
  const { index, nextSeq } = claimIndexAt(depth);
  const key = queueKeyOf('bench', 'q');
  let claimNo = 0;
  const name = `ClaimIndex claim 20 + delete 20, depth ${depth.toLocaleString('en')}`;
  perOp.set(name, 20);
  bench.add(name, () => {
    const now = 1;
    const found = index.candidates(key, now, 20);
    const id = `c${++claimNo}`;
    index.addClaim(key, { id, expiresMs: Number.MAX_SAFE_INTEGER - 1, updatedMs: now, ttlSeconds: 60, messages: found });
    const claim = index.claim(key, id);
    if (claim === undefined) throw new Error('claim vanished');
    for (const message of found) index.removeClaimed(claim, message.seq);
    // Keep the depth constant: as many new messages as were deleted.
    for (let i = 0; i < found.length; i++) index.addFree(key, { seq: nextSeq(), expiresMs: Number.MAX_SAFE_INTEGER, visibleMs: 0 });
  });
}

// --- LMDB log append with group flush
const logStore = new LmdbLogStore(env);
const shards = Array.from({ length: 16 }, (_, i) => (100 + i) as ShardId);
const nextIndex = new Map<ShardId, number>();
const entryData = new Uint8Array(bodyBytes).fill(7);
perOp.set('LMDB log persist: 16 shards × 10 entries, one flush', 160);
bench.add('LMDB log persist: 16 shards × 10 entries, one flush', async () => {
  await Promise.all(
    shards.map((shardId) => {
      const first = nextIndex.get(shardId) ?? 1;
      nextIndex.set(shardId, first + batch);
      const entries: Entry[] = Array.from({ length: batch }, (_, i) => ({ term: 1 as Term, index: (first + i) as LogIndex, type: 0, data: entryData }));
      return logStore.persist(shardId, { entries, hardState: { term: 1 as Term, vote: 1 as NodeId, commit: (first - 1) as LogIndex } });
    }),
  );
});

await bench.run();
console.table(
  bench.tasks.map((task) => {
    const result = task.result;
    if (!('latency' in result)) return { task: task.name, state: result.state };
    const messages = perOp.get(task.name) ?? 1;
    return {
      task: task.name,
      'ops/s (median)': Math.round(result.throughput.p50),
      'msgs/s (median)': Math.round(result.throughput.p50 * messages),
      'p50 µs': (result.latency.p50 * 1000).toFixed(1),
      'p99 µs': (result.latency.p99 * 1000).toFixed(1),
      samples: result.latency.samplesCount,
    };
  }),
);
console.log(`LMDB transactions for log writes: ${logStore.transactions}`);
const failed = bench.tasks.filter((task) => task.result.state !== 'completed' || task.result.latency.samplesCount === 0);
for (const task of failed) {
  console.error(`${task.name}: ${task.result.state === 'errored' ? String(task.result.error) : `${task.result.state}, no samples`}`);
}
if (failed.length > 0) process.exitCode = 1;
await queueStore.flushed();
await env.close();
await rm(dir, { recursive: true, force: true });
