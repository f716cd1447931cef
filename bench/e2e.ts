/**
 * End-to-end bench (npm run bench:e2e): starts zaqar-ts itself, a single node (1 replica)
 * then a 3-node cluster (3 replicas) on 127.0.0.1, and drives each with the shared Zaqar
 * API loaders (../shared/bench): HTTP producers (batches of 10), msgpack WebSocket
 * producers (pipelined, batches of 10), consumers claiming 20 and deleting with claim
 * ids, and end-to-end latency at 1,000 msg/s. Then, when installed, the peers (NATS
 * JetStream R3/R1, RabbitMQ quorum queues R3) through run-peers.sh in the same run, and
 * prints every row plus the targets with ratios. Every measurement is bounded.
 *
 *   npm run bench:e2e                 # ~8-10 min: 10 s per measurement, peers included
 *   npm run bench:e2e -- --quick      # smoke: 2 s per measurement, no peers, no timing checks (CI runs it)
 *   options: --duration S  --no-peers  --no-cluster  --no-single  --no-build
 *            --profile DIR (node --cpu-prof on every zaqar-ts node, profiles written there)
 *            --node-args "FLAGS" (more flags for the zaqar-ts nodes' node processes, e.g. V8's --log-code)
 *            --json FILE (every row as JSON lines)
 *            --workload post|claim|e2e|all (default all; claim alone first fills its queue, unmeasured)
 *            --loaders http,ws (default both)
 *            --via leader|follower (3 nodes: node 1 leads or follows the shards of the queues loaded when each run
 *              starts; default follower. Leadership then follows the load to node 1 within about two seconds)
 *            --fixed-leaders (3 nodes: raft.leaders_follow_traffic off, so loads through a follower stay forwarded)
 *            --size BYTES (message body size, default 256)
 *            --warmup S (default 2, 0 with --quick: each node set first runs every WS workload for S s, unmeasured,
 *              so V8 has compiled the request and round paths before the measured loads, as in a running server)
 *            --cli PATH (another build's cli.js, for before/after runs; default dist/src/cli.js)
 * The "server CPU µs/msg" column is the nodes' CPU time (all threads, /proc) over one
 * loader run divided by the messages it acknowledged, and in brackets the main (JavaScript)
 * thread's share; the rest is mostly LMDB's writes and fdatasyncs on libuv's pool threads.
 * Contention changes it far less than the rates: the number to compare before/after here.
 * Exits 1 when a measurement failed or measured nothing (0 msg/s, an error row, or a loader
 * that crashed before printing all its rows); timings are never checked.
 */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { prepareLoaders, runPeers, runZaqarLoader, sharedBench, type ResultRow } from './e2e/loaders.js';
import { firstQueueName, mainThreadCpuSeconds, procCpuSeconds, procMemoryMb, roleFor, startZaqar, stopZaqar, waitQueuesSettled, watchLeadership, type ZaqarNode } from './e2e/nodes.js';
import { rowsTable, targetsTable } from './e2e/report.js';

const argv = process.argv.slice(2);
const flag = (name: string): boolean => argv.includes(`--${name}`);
const option = (name: string): string | undefined => {
  const at = argv.indexOf(`--${name}`);
  return at >= 0 ? argv[at + 1] : undefined;
};
const quick = flag('quick');
const durationS = Number(option('duration') ?? (quick ? 2 : 10));
const profileDir = option('profile');
const warmupS = Number(option('warmup') ?? (quick ? 0 : 2));
const durability = 'LMDB fsync on a majority before 201/ack';
const viaOption = option('via');
if (viaOption !== undefined && viaOption !== 'leader' && viaOption !== 'follower') throw new Error(`unknown --via ${viaOption}`);
const via: 'leader' | 'follower' = viaOption ?? 'follower';

/**
 * The first name `base-N` whose queue's shard `entry` leads or follows as `role` asks, and, for
 * the `all` workload, also its `-e2e` companion (the loaders' e2e phase queue).
 */
function queueEnteredAs(nodes: readonly ZaqarNode[], entry: ZaqarNode, base: string, withE2e: boolean, role: 'leader' | 'follower'): string {
  return firstQueueName(base, (name) => roleFor(nodes, entry, name) === role && (!withE2e || roleFor(nodes, entry, `${name}-e2e`) === role));
}
function build(): void {
  if (flag('no-build')) return;
  const result = spawnSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.build.json'], { stdio: 'inherit' });
  if (result.status !== 0) console.error('build failed: measuring the dist/ already there');
}

async function measureZaqar(nodes: 1 | 3): Promise<ResultRow[]> {
  const nodeArgs = [...(profileDir === undefined ? [] : ['--cpu-prof', '--cpu-prof-dir', profileDir]), ...(option('node-args')?.split(' ').filter(Boolean) ?? [])];
  const cli = option('cli');
  // --fixed-leaders: leadership stays with the balancer's choice, so a follower's loads are forwarded throughout.
  const config = flag('fixed-leaders') ? { raft: { leaders_follow_traffic: false } } : undefined;
  const cluster = await startZaqar({ nodes, nodeArgs, ...(cli === undefined ? {} : { cli }), ...(config === undefined ? {} : { config }) });
  const replication = nodes === 1 ? '1 replica, single node' : '3 replicas, 3-node cluster (Raft)';
  const pids = cluster.nodes.map((node) => node.pid);
  const first = cluster.nodes[0];
  const rows: ResultRow[] = [];
  try {
    if (first === undefined) return rows;
    const loaders = (option('loaders') ?? 'http,ws').split(',').filter((name): name is 'http' | 'ws' => name === 'http' || name === 'ws');
    const workload = option('workload') ?? 'all';
    if (workload !== 'post' && workload !== 'claim' && workload !== 'e2e' && workload !== 'all') throw new Error(`unknown --workload ${workload}`);
    const serverCpuSeconds = (): number => pids.reduce((sum, pid) => sum + (procCpuSeconds(pid) ?? 0), 0);
    const mainCpuSeconds = (): number => pids.reduce((sum, pid) => sum + (mainThreadCpuSeconds(pid) ?? 0), 0);
    if (warmupS > 0) {
      // Freshly started nodes spend 8–33% more CPU per message while V8 compiles the hot
      // paths (its compiler threads took 18% of a follower's CPU in the first seconds).
      await runZaqarLoader({
        loader: 'ws', url: first.wsUrl, durationS: warmupS, workload: 'all', system: 'warm-up', replication, durability,
        rssPids: pids, extra: ['--producers', '4', '--window', '25', '--consumers', '5'],
      });
      // The warm-up's loader deletes its queues as it ends: measure once the nodes are idle again.
      await untilIdle(serverCpuSeconds, pids.length);
    }
    for (const loader of loaders) {
      // Loads enter by node 1. On 3 nodes they load queues (kept) named so that node 1 follows
      // their shards (leads them with --via leader), so every run measures the same path: a
      // loader's own queue would pick either by chance (a lone round through a follower costs
      // ~1.5× one through the leader). A claim run names its queue to fill it first.
      const base = `bench-${workload}-${loader}-${Date.now().toString(36)}`;
      const queue = nodes === 3 ? queueEnteredAs(cluster.nodes, first, base, workload === 'all', via) : workload === 'claim' ? base : undefined;
      const run = {
        loader, url: loader === 'http' ? first.url : first.wsUrl, durationS,
        system: `zaqar-ts (${loader === 'http' ? 'HTTP' : 'WS msgpack'})`, replication, durability, rssPids: pids,
      };
      // WS windows match the NATS loaders': producers 4 connections × 25 requests × 10 messages
      // = 1,000 messages in flight (the publisher's window), consumers 5 × claims of 20 = 100
      // (the pull consumer's batch). HTTP keeps the loader's defaults (what real Zaqar was measured with).
      const windows = loader === 'ws' ? ['--producers', '4', '--window', '25', '--consumers', '5'] : [];
      const common = [...windows, ...(option('size') === undefined ? [] : ['--size', option('size') ?? ''])];
      // Claims drain a backlog: alone, the claim workload first fills its queue with a post
      // run as long as `all`'s post phase (outside the measurement); a named queue is kept.
      const queued = queue === undefined ? [] : ['--queue', queue];
      if (workload === 'claim') await runZaqarLoader({ ...run, workload: 'post', extra: [...common, ...queued] });
      // Every run starts with its shards led by their preferred voters (node 1 follows them
      // unless --via leader); leadership then follows the load to node 1 (README, Benchmarks).
      const loadedQueues = queue === undefined ? [] : workload === 'all' ? [queue, `${queue}-e2e`] : [queue];
      if (nodes === 3) await waitQueuesSettled(cluster, loadedQueues);
      const watch = nodes === 3 ? watchLeadership(first, loadedQueues) : undefined;
      const before = await persistCounters(cluster.nodes);
      const startedMs = performance.now();
      const cpuBefore = serverCpuSeconds();
      const mainBefore = mainCpuSeconds();
      const produced = await runZaqarLoader({
        ...run, workload,
        // A post-only run keeps its queue, so the nodes' CPU time is the producers' alone (no queue delete).
        extra: [...common, ...(workload === 'post' ? ['--keep'] : []), ...queued],
      });
      // A loader that crashed prints fewer rows than workloads: count that as a failed measurement.
      const expected = workload === 'all' ? 3 : 1;
      if (produced.length < expected) {
        produced.push({ system: `zaqar-ts (${loader})`, replication, workload, msgs_per_s: null, p50_ms: null, p99_ms: null,
          error: `the ${loader} loader printed ${produced.length} of ${expected} result rows` });
      }
      const cpuSeconds = serverCpuSeconds() - cpuBefore;
      const mainSeconds = mainCpuSeconds() - mainBefore;
      const ledFromS = await watch?.stop();
      // Messages acknowledged ≈ rate × duration; only meaningful when one workload ran.
      const only = produced.length === 1 ? produced[0] : undefined;
      if (only?.msgs_per_s) {
        only.server_cpu_us_per_msg = (cpuSeconds * 1e6) / (only.msgs_per_s * durationS);
        only.server_main_cpu_us_per_msg = (mainSeconds * 1e6) / (only.msgs_per_s * durationS);
      }
      printPersistRates(before, await persistCounters(cluster.nodes), (performance.now() - startedMs) / 1000);
      for (const row of produced) {
        row.node_rss_mb = pids.map((pid) => procMemoryMb(pid));
        // The role node 1 had for the queue this row loaded: as chosen above, unless a leader moved.
        const loaded = row.queue;
        if (nodes === 3 && typeof loaded === 'string') {
          row.entered_by = roleFor(cluster.nodes, first, loaded);
          const ledFrom = ledFromS?.get(loaded);
          if (row.entered_by === 'follower' && ledFrom !== undefined) row.entry_led_from_s = ledFrom;
        }
        rows.push(row);
        console.log(rowsTable([row]).split('\n')[2]);
      }
    }
  } finally {
    await stopZaqar(cluster);
  }
  return rows;
}

/** Waits (at most 30 s) until the nodes spend under 5% of a core each over half a second. */
async function untilIdle(cpuSeconds: () => number, nodeCount: number): Promise<void> {
  const deadline = performance.now() + 30_000;
  for (;;) {
    const before = cpuSeconds();
    await new Promise((resolve) => setTimeout(resolve, 500));
    const busy = (cpuSeconds() - before) / 0.5 / nodeCount;
    if (busy < 0.05) return;
    if (performance.now() > deadline) {
      console.log(`  the nodes still spent ${(busy * 100).toFixed(0)}% of a core each 30 s after the warm-up: measuring anyway`);
      return;
    }
  }
}

interface PersistCounters {
  readonly persists: number;
  readonly requests: number;
  /** Leader changes each node's replicas saw and proposals they refused (not leader, overloaded, timed out). */
  readonly leaderChanges: number;
  readonly refused: number;
}

/** Each node's log persists (one per group per persist round) and API requests so far, from its /metrics. */
async function persistCounters(nodes: readonly { readonly url: string }[]): Promise<PersistCounters[]> {
  return Promise.all(nodes.map(async (node) => {
    const text = await fetch(`${node.url}/metrics`).then((r) => r.text(), () => '');
    const sum = (pattern: RegExp): number => [...text.matchAll(pattern)].reduce((total, m) => total + Number(m[1]), 0);
    return {
      persists: sum(/^zaqar_log_flush_duration_seconds_count(?:\{[^}]*\})? (\S+)$/gm),
      requests: sum(/^zaqar_transport_(?:ws|http)_requests_total\{[^}]*\} (\S+)$/gm),
      leaderChanges: sum(/^zaqar_raft_leader_changes_total\{[^}]*\} (\S+)$/gm),
      refused: sum(/^zaqar_raft_proposals_rejected_total\{[^}]*\} (\S+)$/gm),
    };
  }));
}

/** Persist rounds per second and requests per persist on every node (a load on one queue is one shard). */
function printPersistRates(before: readonly PersistCounters[], after: readonly PersistCounters[], seconds: number): void {
  const parts = after.map((end, i) => {
    const start = before[i] ?? { persists: 0, requests: 0, leaderChanges: 0, refused: 0 };
    const persists = end.persists - start.persists;
    const requests = end.requests - start.requests;
    return `node ${i + 1}: ${(persists / seconds).toFixed(0)} persists/s, ${requests} requests, ${persists === 0 ? '-' : (requests / persists).toFixed(1)} requests/persist`
      + `, ${end.leaderChanges - start.leaderChanges} leader changes, ${end.refused - start.refused} proposals refused`;
  });
  console.log(`  persists over ${seconds.toFixed(1)} s (load and its set-up): ${parts.join('; ')}`);
}

async function main(): Promise<void> {
  console.log(`e2e bench: node ${process.version}, ${cpus().length} cpus, load ${loadavg().map((l) => l.toFixed(1)).join(' ')}, ` +
    `${durationS} s per measurement${quick ? ' (quick smoke: no timing checks, no peers)' : ''}, loaders from ${sharedBench}`);
  if (!prepareLoaders()) {
    process.exitCode = 2;
    return;
  }
  build();
  const rows: ResultRow[] = [];
  if (!flag('no-single')) rows.push(...await measureZaqar(1));
  if (!flag('no-cluster')) rows.push(...await measureZaqar(3));
  const peersWanted = !quick && !flag('no-peers');
  const natsInstalled = spawnSync('sh', ['-c', 'command -v nats-server']).status === 0;
  if (peersWanted && natsInstalled) {
    const suites = spawnSync('sh', ['-c', 'test -x /usr/lib/rabbitmq/bin/rabbitmq-server']).status === 0 ? 'nats-r3 nats-r1 rabbit-3' : 'nats-r3 nats-r1';
    console.log(`peers: run-peers.sh --only "${suites}" --duration ${durationS}`);
    rows.push(...await runPeers(suites, durationS));
  } else if (peersWanted) {
    console.log('peers: nats-server not installed (apt-get install -y nats-server rabbitmq-server redis-server wrk): zaqar-ts only');
  }
  console.log(`\nload average at the end: ${loadavg().map((l) => l.toFixed(1)).join(' ')}\n`);
  console.log(rowsTable(rows));
  console.log(`\n${targetsTable(rows)}`);
  const jsonFile = option('json');
  if (jsonFile !== undefined) writeFileSync(jsonFile, rows.map((row) => JSON.stringify(row)).join('\n') + '\n');
  const failed = rows.filter((row) => row.error !== undefined || row.msgs_per_s === null || row.msgs_per_s === 0);
  if (rows.length === 0 || failed.length > 0) {
    console.error(`${failed.length} measurement(s) failed or measured nothing`);
    process.exitCode = 1;
  }
}

await main();
