/**
 * End-to-end Raft benchmark (plain timed loop): three RaftHosts in this process, each
 * with its own LMDB environment (real fsyncs) and a GrpcRaftTransport on 127.0.0.1,
 * replicating 1 group and then 16 groups at once. A closed loop keeps a fixed number of
 * proposals of 256 bytes in flight per group against the group's leader and measures
 * commits/s and commit latency (propose() until committed and applied on the leader).
 * Prints the configuration, warms up, runs several times and reports the medians.
 *
 * All three nodes share this process's event loop (and the machine's cores with
 * whatever else runs), so the figures are a floor for three separate machines.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { SystemClock } from '../src/common/clock.js';
import { SeededRandom } from '../src/common/random.js';
import { SystemDelays } from '../src/common/timers.js';
import { openLmdbEnv, type LmdbEnv } from '../src/log/lmdb/lmdb-env.js';
import { LmdbLogStore } from '../src/log/lmdb/lmdb-log-store.js';
import { GrpcRaftTransport } from '../src/raft/grpc/grpc-raft-transport.js';
import type { RaftNode } from '../src/raft/node.js';
import { intervalTicker, RaftHost } from '../src/raft/raft-host.js';
import type { Entry, LogIndex, NodeId, ShardId, StateMachine } from '../src/raft/types.js';

const seed = Number(process.env.SEED ?? 20_261_122);
const config = {
  entryBytes: 256,
  tickMs: 20,
  warmupMs: 1000,
  runMs: Number(process.env.BENCH_RUN_MS ?? 4000),
  runs: 3,
  /** One proposal in flight shows the unloaded latency; more show throughput. */
  scenarios: [
    { groups: 1, inFlightPerGroup: 1 },
    { groups: 1, inFlightPerGroup: 64 },
    { groups: 16, inFlightPerGroup: 8 },
  ],
};
const clock = new SystemClock();

/** Counts applied entries; snapshots are the count (the benchmark never restores). */
class CountingStateMachine implements StateMachine {
  private count = 0;
  private index = 0 as LogIndex;
  apply(entries: readonly Entry[]): void {
    this.count += entries.length;
    this.index = entries[entries.length - 1]?.index ?? this.index;
  }
  snapshot(): { index: LogIndex; data: Uint8Array } {
    return { index: this.index, data: new TextEncoder().encode(String(this.count)) };
  }
  restore(): void {}
}

interface BenchNode {
  readonly env: LmdbEnv;
  readonly host: RaftHost;
}

async function startCluster(root: string, groupCount: number): Promise<BenchNode[]> {
  const ids = [1, 2, 3].map((id) => id as NodeId);
  const random = new SeededRandom(seed);
  const transports = await Promise.all(
    ids.map((nodeId) =>
      GrpcRaftTransport.listen({
        nodeId,
        listenAddress: '127.0.0.1:0',
        random: new SeededRandom(seed + nodeId),
        delays: new SystemDelays(),
      }),
    ),
  );
  const peers = new Map(ids.map((id, i) => [id, `127.0.0.1:${transports[i]?.port ?? 0}`]));
  return ids.map((nodeId, i) => {
    const transport = transports[i];
    if (transport === undefined) throw new Error('transport missing');
    transport.connect(peers);
    const env = openLmdbEnv(join(root, `node-${nodeId}`));
    const host = new RaftHost({
      nodeId,
      store: new LmdbLogStore(env),
      transport,
      random: new SeededRandom(random.int(0x7fffffff)),
      ticker: intervalTicker(config.tickMs),
    });
    for (let shard = 1; shard <= groupCount; shard++) {
      host.addGroup({ shardId: shard as ShardId, peers: ids, fsm: new CountingStateMachine() });
    }
    host.start();
    return { env, host };
  });
}

function leaderOf(nodes: readonly BenchNode[], shardId: ShardId): RaftNode | undefined {
  for (const { host } of nodes) {
    const group = host.group(shardId);
    if (group?.status().role === 'leader') return group;
  }
  return undefined;
}

async function waitForLeaders(nodes: readonly BenchNode[], groupCount: number): Promise<void> {
  const deadline = clock.monotonicMs() + 30_000;
  for (;;) {
    let missing = 0;
    for (let shard = 1; shard <= groupCount; shard++) if (leaderOf(nodes, shard as ShardId) === undefined) missing++;
    if (missing === 0) return;
    if (clock.monotonicMs() > deadline) throw new Error(`${missing} groups without a leader after 30 s`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

interface RunResult {
  readonly commitsPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly refused: number;
}

/** Keeps `inFlight` proposals per group going for `durationMs`; returns what committed. */
async function closedLoop(
  nodes: readonly BenchNode[],
  load: { groups: number; inFlightPerGroup: number },
  durationMs: number,
): Promise<RunResult> {
  const { groups: groupCount, inFlightPerGroup: inFlight } = load;
  const data = new Uint8Array(config.entryBytes).fill(0x5a);
  const latenciesMs: number[] = [];
  let refused = 0;
  const start = clock.monotonicMs();
  const end = start + durationMs;
  const worker = async (shardId: ShardId): Promise<void> => {
    while (clock.monotonicMs() < end) {
      const leader = leaderOf(nodes, shardId);
      if (leader === undefined) {
        await new Promise((resolve) => setTimeout(resolve, 5));
        continue;
      }
      const t0 = clock.monotonicMs();
      try {
        await leader.propose(data);
        latenciesMs.push(clock.monotonicMs() - t0);
      } catch {
        refused++; // Overloaded or leadership moved: count it and go on.
      }
    }
  };
  const workers: Promise<void>[] = [];
  for (let shard = 1; shard <= groupCount; shard++) {
    for (let i = 0; i < inFlight; i++) workers.push(worker(shard as ShardId));
  }
  await Promise.all(workers);
  const elapsedS = (clock.monotonicMs() - start) / 1000;
  latenciesMs.sort((a, b) => a - b);
  const at = (q: number): number => latenciesMs[Math.min(latenciesMs.length - 1, Math.floor(q * latenciesMs.length))] ?? NaN;
  return { commitsPerSecond: latenciesMs.length / elapsedS, p50Ms: at(0.5), p99Ms: at(0.99), refused };
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? NaN;
}

console.log(
  `raft cluster bench: node ${process.version}, ${cpus().length} cpus, seed ${seed}, 3 replicas in one process, ` +
    `gRPC on 127.0.0.1, LMDB in ${tmpdir()}, entry ${config.entryBytes} B, tick ${config.tickMs} ms, ` +
    `warm-up ${config.warmupMs} ms, ${config.runs} runs of ${config.runMs} ms`,
);
const rows = [];
for (const scenario of config.scenarios) {
  const root = await mkdtemp(join(tmpdir(), 'zaqar-raft-bench-'));
  const nodes = await startCluster(root, scenario.groups);
  try {
    await waitForLeaders(nodes, scenario.groups);
    await closedLoop(nodes, scenario, config.warmupMs);
    const runs: RunResult[] = [];
    for (let run = 0; run < config.runs; run++) runs.push(await closedLoop(nodes, scenario, config.runMs));
    rows.push({
      groups: scenario.groups,
      'in flight per group': scenario.inFlightPerGroup,
      'commits/s (median)': Math.round(median(runs.map((r) => r.commitsPerSecond))),
      'p50 ms (median)': median(runs.map((r) => r.p50Ms)).toFixed(2),
      'p99 ms (median)': median(runs.map((r) => r.p99Ms)).toFixed(2),
      refused: runs.reduce((sum, r) => sum + r.refused, 0),
    });
  } finally {
    for (const { host } of nodes) await host.stop();
    for (const { env } of nodes) await env.close();
    await rm(root, { recursive: true, force: true });
  }
}
console.table(rows);
