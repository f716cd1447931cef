/**
 * The HTTP loader's e2e workload alone on a fresh 3-node cluster, entered by a follower of
 * its queue's shard, with node 1's own request durations over the run beside the loader's:
 * where a message's post-to-claim time goes, the server or the loader's connection pool
 * (6 connections, one request each, shared by the posts and the 2 claimers). Bounded: 5 s of
 * load, the nodes stopped at the end.
 *
 *   npx tsx bench/http-e2e-alone.ts
 *
 * Prints; checks nothing.
 */
import { prepareLoaders, runZaqarLoader } from './e2e/loaders.js';
import { firstQueueName, roleFor, startZaqar, stopZaqar, type ZaqarNode } from './e2e/nodes.js';

/** Node 1's HTTP request duration series (sum and count), by route and method. */
async function durations(node: ZaqarNode): Promise<Map<string, number>> {
  const series = new Map<string, number>();
  for (const line of (await fetch(`${node.url}/metrics`).then((answer) => answer.text())).split('\n')) {
    const sample = /^zaqar_transport_http_request_duration_seconds_(sum|count)(\{.*\}) (\S+)$/.exec(line);
    if (sample?.[1] !== undefined && sample[2] !== undefined) series.set(`${sample[2]} ${sample[1]}`, Number(sample[3]));
  }
  return series;
}

if (!prepareLoaders()) throw new Error('the shared loaders are not available');
const cluster = await startZaqar({ nodes: 3 });
try {
  const [entry] = cluster.nodes;
  if (entry === undefined) throw new Error('no node');
  const queue = firstQueueName('alone', (name) => roleFor(cluster.nodes, entry, name) === 'follower');
  const before = await durations(entry);
  const rows = await runZaqarLoader({
    loader: 'http', url: entry.url, durationS: 5, workload: 'e2e', system: 'zaqar-ts (HTTP)', replication: '3 replicas',
    durability: '', rssPids: cluster.nodes.map((node) => node.pid), extra: ['--queue', queue],
  });
  const after = await durations(entry);
  for (const row of rows) {
    const posts = row as { post_p50_ms?: number; post_p99_ms?: number };
    console.log(`loader: ${row.msgs_per_s ?? '—'} msg/s, post->claimed p50 ${row.p50_ms ?? '—'} p99 ${row.p99_ms ?? '—'} ms; `
      + `posts p50 ${posts.post_p50_ms ?? '—'} p99 ${posts.post_p99_ms ?? '—'} ms`);
  }
  for (const [key, sum] of after) {
    if (!key.endsWith(' sum')) continue;
    const labels = key.slice(0, -' sum'.length);
    const count = (after.get(`${labels} count`) ?? 0) - (before.get(`${labels} count`) ?? 0);
    if (count > 0) console.log(`node 1: ${labels} ${count} requests, mean ${((sum - (before.get(key) ?? 0)) / count * 1000).toFixed(2)} ms`);
  }
} finally {
  await stopZaqar(cluster);
}
