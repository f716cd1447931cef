/**
 * Where a lone Raft round's CPU goes on every thread, kernel included: starts a 3-node
 * cluster (or one node with N=1) with `--perf-basic-prof` (so perf names JIT-compiled
 * JavaScript), sends W sequential one-message HTTP posts through the queue's shard leader
 * unmeasured, then records all threads of the nodes with `perf record -e cpu-clock -g`
 * over K more. Needs Debian's linux-perf; read the result with e.g.
 * `perf report -i OUT --no-children --sort pid` (per thread) or `--sort dso,symbol`.
 *
 *   N=3 W=1500 K=2000 OUT=/tmp/lone.data npx tsx bench/perf-lone-round.ts
 */
import { spawn } from 'node:child_process';
import { entryNode, loaderProject, startZaqar, stopZaqar } from './e2e/nodes.js';

const N = Number(process.env.N ?? 3) as 1 | 3;
const W = Number(process.env.W ?? 1500);
const K = Number(process.env.K ?? 2000);
const out = process.env.OUT ?? '/tmp/lone.data';
const headers = { 'Client-ID': '3381af92-2b9e-11e3-b191-71861300734c', 'X-Project-ID': loaderProject, 'content-type': 'application/json' };
const queue = 'lat';
const cluster = await startZaqar({ nodes: N, nodeArgs: ['--perf-basic-prof'] });
try {
  const node = N === 1 ? cluster.nodes[0]! : entryNode(cluster.nodes, queue, 'leader');
  await fetch(`${node.url}/v2/queues/${queue}`, { method: 'PUT', headers });
  const body = JSON.stringify({ messages: [{ ttl: 300, body: 1 }] });
  const post = async (): Promise<void> => {
    const response = await fetch(`${node.url}/v2/queues/${queue}/messages`, { method: 'POST', headers, body });
    await response.text();
  };
  for (let i = 0; i < W; i++) await post();
  console.log(`entry node ${node.id}; pids ${cluster.nodes.map((n) => `node ${n.id}: ${n.pid}`).join(', ')}`);
  const perf = spawn('perf', ['record', '-F', '2000', '-e', 'cpu-clock', '-g', '-o', out, '-p', cluster.nodes.map((n) => n.pid).join(',')], { stdio: 'inherit' });
  await new Promise((resolve) => setTimeout(resolve, 1000));
  const start = performance.now();
  for (let i = 0; i < K; i++) await post();
  console.log(`${((performance.now() - start) / K).toFixed(2)} ms per post; perf data in ${out}`);
  perf.kill('SIGINT');
  await new Promise((resolve) => perf.once('exit', resolve));
} finally {
  await stopZaqar(cluster);
}
