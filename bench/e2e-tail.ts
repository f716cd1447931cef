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
const config = JSON.parse(process.argv[3] ?? '{}');
async function scrape(node: ZaqarNode): Promise<Map<string, number>> {
  const text = await fetch(`${node.url}/metrics`).then((r) => r.text());
  const m = new Map<string, number>();
  for (const line of text.split('\n')) {
    const x = /^(zaqar_log_flush_duration_seconds_bucket|zaqar_transport_ws_request_duration_seconds_bucket|nodejs_gc_duration_seconds_bucket|nodejs_eventloop_lag_p99_seconds|nodejs_eventloop_lag_max_seconds)(\{[^}]*\})? (\S+)$/.exec(line);
    if (x) m.set(`${x[1]}${x[2] ?? ''}`, (m.get(`${x[1]}${x[2] ?? ''}`) ?? 0) + Number(x[3]));
  }
  return m;
}
function load(url: string, seconds: number, queue: string): Promise<string> {
  const args = [join(sharedBench, 'zaqar-ws-load.mjs'), '--url', url, '--workload', 'e2e', '--duration', String(seconds), '--rate', '1000', '--consumers', '5', '--queue', queue];
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { cwd: sharedBench, stdio: ['ignore', 'pipe', 'ignore'] });
    let out = '';
    child.stdout.on('data', (c: Buffer) => { out += c.toString(); });
    child.on('exit', () => resolve(out));
  });
}
prepareLoaders();
const cluster = await startZaqar({ nodes: 3, config });
try {
  const queue = `tail-${Date.now().toString(36)}`;
  const entry = entryNode(cluster.nodes, queue, 'follower');
  await load(entry.wsUrl, 4, `${queue}-warm`);
  await new Promise((r) => setTimeout(r, 2000));
  const before = await Promise.all(cluster.nodes.map(scrape));
  const out = await load(entry.wsUrl, durationS, queue);
  const after = await Promise.all(cluster.nodes.map(scrape));
  const result = out.split('\n').find((l) => l.startsWith('RESULT'));
  console.log(result?.slice(0, 400));
  cluster.nodes.forEach((node, i) => {
    console.log(`-- node ${node.id}${node === entry ? ' (entry)' : ''}`);
    for (const [k, v] of after[i]!) {
      const d = v - (before[i]!.get(k) ?? 0);
      if (k.includes('lag')) { console.log(`  ${k} ${v}`); continue; }
      if (d > 0 && !k.includes('le="+Inf"')) console.log(`  ${k} +${d}`);
    }
  });
} finally {
  await stopZaqar(cluster);
}
