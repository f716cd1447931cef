/**
 * Empty claims through node 1 of a 3-node cluster while leadership of their queue's shard
 * moves to node 1 (leadership follows the traffic: posts to another queue of the same shard
 * enter by node 1 too). Each empty claim ends in a read barrier (ReadIndex), so a barrier
 * lost with the leader change shows as a claim that waited out the read deadline (2 s).
 * Prints the claims' p50, p99, maximum, how many took over 1 s and the five slowest (with
 * when they started). Bounded: 6 s of load, the nodes stopped at the end.
 *
 *   npx tsx bench/claims-across-transfer.ts [CLI]     (CLI: dist/src/cli.js unless given)
 *
 * Prints; checks nothing (test/cluster/reads-across-leader-change.test.ts checks).
 */
import { firstQueueName, loaderProject, shardLeader, startZaqar, stopZaqar } from './e2e/nodes.js';
import { ShardMap } from '../src/cluster/shard-map.js';

const cli = process.argv[2] ?? 'dist/src/cli.js';
const loadMs = 6_000;
const headers = { 'Client-ID': '3381af92-2b9e-11e3-b191-71861300734c', 'X-Project-ID': loaderProject, 'Content-Type': 'application/json' };

const cluster = await startZaqar({ nodes: 3, cli });
try {
  const [entry] = cluster.nodes;
  if (entry === undefined) throw new Error('no node');
  const shards = new ShardMap();
  const empty = firstQueueName('empty', (queue) => shardLeader(cluster.nodes, queue).id !== entry.id);
  const shard = shards.shardOf(loaderProject, empty);
  const busy = firstQueueName('busy', (queue) => shards.shardOf(loaderProject, queue) === shard);
  for (const queue of [empty, busy]) await fetch(`${entry.url}/v2/queues/${queue}`, { method: 'PUT', headers });

  const claims: { startMs: number; ms: number }[] = [];
  const t0 = performance.now();
  const posting = Array.from({ length: 4 }, async () => {
    while (performance.now() - t0 < loadMs) {
      const body = JSON.stringify({ messages: [{ body: 'x', ttl: 300 }] });
      await (await fetch(`${entry.url}/v2/queues/${busy}/messages`, { method: 'POST', headers, body })).arrayBuffer();
    }
  });
  const claiming = Array.from({ length: 4 }, async () => {
    while (performance.now() - t0 < loadMs) {
      const start = performance.now();
      const answer = await fetch(`${entry.url}/v2/queues/${empty}/claims`, { method: 'POST', headers, body: JSON.stringify({ ttl: 60, grace: 60 }) });
      await answer.arrayBuffer();
      if (answer.status !== 204) throw new Error(`an empty claim answered ${answer.status}`);
      claims.push({ startMs: start - t0, ms: performance.now() - start });
    }
  });
  await Promise.all([...posting, ...claiming]);

  const sorted = claims.map((claim) => claim.ms).sort((a, b) => a - b);
  const at = (share: number): string => (sorted[Math.floor((sorted.length - 1) * share)] ?? 0).toFixed(2);
  const slowest = [...claims].sort((a, b) => b.ms - a.ms).slice(0, 5).map((claim) => `${claim.ms.toFixed(1)}ms@${(claim.startMs / 1000).toFixed(2)}s`);
  console.log(`claims n=${sorted.length} p50=${at(0.5)} p99=${at(0.99)} max=${at(1)} over1s=${sorted.filter((ms) => ms > 1000).length} `
    + `slowest: ${slowest.join(' ')}`);
} finally {
  await stopZaqar(cluster);
}
