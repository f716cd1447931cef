/**
 * Where the 3-node e2e row's latency is, server side: starts a 3-node cluster, runs the
 * WebSocket e2e workload (1,000 msg/s, 5 claimers) through a follower of its queue's shard
 * for 4 s unmeasured and then for DURATION seconds, and prints each node's histogram
 * buckets that moved over the measured window (log flushes, WebSocket request durations
 * by action, GC) and its event-loop delay (prom-client resets it on each scrape, so it
 * covers the window). Bounded: the loader by its duration, the nodes stopped at the end.
 *
 *   npx tsx bench/e2e-tail.ts [DURATION] [CONFIG_JSON]
 *
 * Prints; checks nothing.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { prepareLoaders, sharedBench } from './e2e/loaders.js';
import { entryNode, startZaqar, stopZaqar, type ZaqarNode } from './e2e/nodes.js';

const durationS = Number(process.argv[2] ?? 10);
const config = JSON.parse(process.argv[3] ?? '{}') as Record<string, unknown>;
const warmS = 4;
const watched = [
  'zaqar_log_flush_duration_seconds_bucket',
  'zaqar_transport_ws_request_duration_seconds_bucket',
  'nodejs_gc_duration_seconds_bucket',
  'nodejs_eventloop_lag_p99_seconds',
  'nodejs_eventloop_lag_max_seconds',
];

/** The watched series of a node's /metrics, by name and labels. */
async function scrape(node: ZaqarNode): Promise<Map<string, number>> {
  const text = await fetch(`${node.url}/metrics`).then((r) => r.text());
  const series = new Map<string, number>();
  for (const line of text.split('\n')) {
    const sample = /^([a-z0-9_]+)(\{[^}]*\})? (\S+)$/.exec(line);
    if (sample?.[1] === undefined || !watched.includes(sample[1])) continue;
    series.set(`${sample[1]}${sample[2] ?? ''}`, Number(sample[3]));
  }
  return series;
}

/** The shared WebSocket loader's e2e workload; its stdout. Killed if it overruns by a minute. */
function load(url: string, seconds: number, queue: string): Promise<string> {
  const args = [join(sharedBench, 'zaqar-ws-load.mjs'), '--url', url, '--workload', 'e2e', '--duration', String(seconds),
    '--rate', '1000', '--consumers', '5', '--queue', queue];
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { cwd: sharedBench, stdio: ['ignore', 'pipe', 'ignore'] });
    let out = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), (seconds + 60) * 1000);
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
    });
    child.on('exit', () => {
      clearTimeout(timer);
      resolve(out);
    });
  });
}

if (!prepareLoaders()) process.exit(2);
const cluster = await startZaqar({ nodes: 3, config });
try {
  const queue = `e2e-tail-${Date.now().toString(36)}`;
  const entry = entryNode(cluster.nodes, queue, 'follower');
  await load(entry.wsUrl, warmS, `${queue}-warm`);
  await new Promise((resolve) => setTimeout(resolve, 2000));
  const before = await Promise.all(cluster.nodes.map(scrape));
  const out = await load(entry.wsUrl, durationS, queue);
  const after = await Promise.all(cluster.nodes.map(scrape));
  console.log(out.split('\n').find((line) => line.startsWith('RESULT')) ?? 'the loader printed no result');
  cluster.nodes.forEach((node, i) => {
    console.log(`-- node ${node.id}${node === entry ? ' (entry)' : ''}`);
    for (const [key, value] of after[i] ?? new Map<string, number>()) {
      if (key.startsWith('nodejs_eventloop_lag')) {
        console.log(`  ${key} ${value}`);
        continue;
      }
      const moved = value - (before[i]?.get(key) ?? 0);
      if (moved > 0 && !key.includes('le="+Inf"')) console.log(`  ${key} +${moved}`);
    }
  });
} finally {
  await stopZaqar(cluster);
}
