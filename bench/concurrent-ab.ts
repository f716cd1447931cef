/**
 * Concurrent A/B of two builds: a single node (or a 3-node cluster) of each (A: --a, default
 * .base-dist/src/cli.js; B: --b, default dist/src/cli.js), each under its own msgpack
 * WebSocket producer loader (4 connections x 25 posts of 10 in flight, as bench:e2e; with
 * `--loader http`, the HTTP loader's 4 closed-loop producers of 10, as bench:e2e), at
 * the same time, so both see the same contention from whatever else runs on the machine.
 * On shared cores, runs one after the other differ by more than most changes do; two
 * builds measured side by side differ mostly by the change. Per pair: each node's CPU time
 * (all threads, and the main thread, /proc) over a window of the load, divided by the
 * messages it acknowledged in that window (the entry node's posted-messages counter); then the medians
 * and B/A per pair. The start order alternates from pair to pair. Every run is bounded.
 *
 * With `--nodes 3`, each build runs a 3-node cluster and the loader enters by the shard
 * leader of its queue; CPU is summed over the three nodes.
 *
 *   npx tsx bench/concurrent-ab.ts [--pairs 5] [--nodes 1|3] [--loader ws|http] [--a CLI] [--b CLI] [--out FILE]
 */
import { spawn } from 'node:child_process';
import { appendFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { prepareLoaders, sharedBench } from './e2e/loaders.js';
import { entryNode, mainThreadCpuSeconds, procCpuSeconds, startZaqar, stopZaqar, type ZaqarCluster, type ZaqarNode } from './e2e/nodes.js';

const argv = process.argv.slice(2);
const option = (name: string): string | undefined => {
  const at = argv.indexOf(`--${name}`);
  return at >= 0 ? argv[at + 1] : undefined;
};
const pairs = Number(option('pairs') ?? 5);
const clis = { A: option('a') ?? '.base-dist/src/cli.js', B: option('b') ?? 'dist/src/cli.js' } as const;
const out = option('out');
const nodeCount = Number(option('nodes') ?? 1) as 1 | 3;
const loader = option('loader') ?? 'ws';
if (loader !== 'ws' && loader !== 'http') throw new Error(`unknown --loader ${loader}`);
/** The loader's queue: named, so that a cluster's loader can enter by its shard's leader. */
const queue = 'ab';
/** The load runs this long; CPU and posts are counted from `warmS` for `windowS`. */
const loadS = 11;
const warmS = 3;
const windowS = 6;

type Side = keyof typeof clis;

interface Sample {
  readonly cpuS: number;
  readonly mainS: number;
  readonly messages: number;
}

function entry(cluster: ZaqarCluster): ZaqarNode {
  return nodeCount === 1 ? cluster.nodes[0]! : entryNode(cluster.nodes, queue, 'leader');
}

async function sample(cluster: ZaqarCluster, node: ZaqarNode): Promise<Sample> {
  const metrics = await (await fetch(`${node.url}/metrics`)).text();
  const line = metrics.split('\n').find((l) => l.startsWith('zaqar_api_messages_posted_total'));
  const sum = (cpu: (pid: number) => number | undefined): number => cluster.nodes.reduce((total, n) => total + (cpu(n.pid) ?? 0), 0);
  return { cpuS: sum(procCpuSeconds), mainS: sum(mainThreadCpuSeconds), messages: Number(line?.split(' ').pop() ?? 0) };
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

function say(line: string): void {
  console.log(line);
  if (out !== undefined) appendFileSync(out, `${line}\n`);
}

if (!prepareLoaders()) process.exit(1);
const perMessage: Record<Side, { all: number[]; main: number[] }> = { A: { all: [], main: [] }, B: { all: [], main: [] } };
for (let pair = 0; pair < pairs; pair++) {
  const order: readonly Side[] = pair % 2 === 0 ? ['A', 'B'] : ['B', 'A'];
  const clusters = new Map<Side, ZaqarCluster>();
  try {
    for (const side of order) clusters.set(side, await startZaqar({ nodes: nodeCount, cli: clis[side] }));
    const entries = new Map(order.map((side) => [side, entry(clusters.get(side)!)]));
    const loaders = order.map((side) => spawn(process.execPath, [
      ...(loader === 'ws'
        ? [join(sharedBench, 'zaqar-ws-load.mjs'), '--url', entries.get(side)!.wsUrl, '--producers', '4', '--window', '25']
        : [join(sharedBench, 'zaqar-http-load.mjs'), '--url', entries.get(side)!.url]),
      '--queue', queue, '--workload', 'post', '--duration', String(loadS)],
    { cwd: sharedBench, stdio: 'ignore', timeout: (loadS + 60) * 1000 }));
    await new Promise((resolve) => setTimeout(resolve, warmS * 1000));
    const before = new Map<Side, Sample>();
    for (const side of order) before.set(side, await sample(clusters.get(side)!, entries.get(side)!));
    await new Promise((resolve) => setTimeout(resolve, windowS * 1000));
    const parts = [`pair ${pair + 1}, load ${loadavg()[0]?.toFixed(1)}:`];
    for (const side of ['A', 'B'] as const) {
      const after = await sample(clusters.get(side)!, entries.get(side)!);
      const start = before.get(side)!;
      const messages = after.messages - start.messages;
      const all = ((after.cpuS - start.cpuS) * 1e6) / messages;
      const main = ((after.mainS - start.mainS) * 1e6) / messages;
      perMessage[side].all.push(all);
      perMessage[side].main.push(main);
      parts.push(`${side} ${Math.round(messages / windowS)} msg/s, ${all.toFixed(1)} µs/msg (main ${main.toFixed(1)})`);
    }
    say(parts.join('  '));
    await Promise.all(loaders.map((loader) => new Promise((resolve) => (loader.exitCode === null ? loader.on('exit', resolve) : resolve(null)))));
  } finally {
    for (const cluster of clusters.values()) await stopZaqar(cluster);
  }
}
const ratios = perMessage.B.all.map((b, i) => (b / (perMessage.A.all[i] ?? Number.NaN)).toFixed(3));
say(`medians: A ${median(perMessage.A.all).toFixed(1)} µs/msg (main ${median(perMessage.A.main).toFixed(1)}), `
  + `B ${median(perMessage.B.all).toFixed(1)} (main ${median(perMessage.B.main).toFixed(1)}); B/A per pair ${ratios.join(' ')}`);
