/**
 * What a consumer polling an idle queue costs the servers: K sequential claims over HTTP
 * on a queue with no messages (each answered 204), through each node in turn, and the CPU
 * time (all threads, /proc) every node spent per claim, with the CPU the nodes burn idle
 * over the same time subtracted. Starts its own zaqar-ts nodes (bench/e2e/nodes.ts);
 * bounded, timings never checked.
 *
 *   npx tsx bench/empty-claim-cpu.ts [--nodes 1|3] [--claims K] [--cli PATH]
 */
import { readdirSync, readFileSync } from 'node:fs';
import { startZaqar, stopZaqar } from './e2e/nodes.js';

const argv = process.argv.slice(2);
const option = (name: string): string | undefined => {
  const at = argv.indexOf(`--${name}`);
  return at >= 0 ? argv[at + 1] : undefined;
};
const nodes = Number(option('nodes') ?? 3) === 1 ? 1 : 3;
const claims = Number(option('claims') ?? 500);
const cli = option('cli');
const idleMs = 3000;
const headers = { 'Client-ID': '3381af92-2b9e-11e3-b191-71861300734c', 'X-Project-ID': 'empty-claims', 'content-type': 'application/json' };

/** CPU ticks (1/100 s) of a process's main thread and of its other threads, user + system. */
function ticks(pid: number): { main: number; other: number } {
  let main = 0;
  let other = 0;
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const used = Number(fields[11]) + Number(fields[12]);
      if (tid === String(pid)) main += used;
      else other += used;
    } catch {
      // the thread ended meanwhile
    }
  }
  return { main, other };
}

const cluster = await startZaqar({ nodes, ...(cli === undefined ? {} : { cli }) });
try {
  const pids = cluster.nodes.map((node) => node.pid);
  const sample = (): { main: number; other: number }[] => pids.map(ticks);
  for (const entry of cluster.nodes) {
    const claim = async (): Promise<void> => {
      const reply = await fetch(`${entry.url}/v2/queues/idle/claims`, { method: 'POST', headers, body: JSON.stringify({ ttl: 60, grace: 60 }) });
      await reply.text();
      if (reply.status !== 204) throw new Error(`claim through node ${entry.id} answered ${reply.status}`);
    };
    await fetch(`${entry.url}/v2/queues/idle`, { method: 'PUT', headers });
    for (let i = 0; i < 100; i++) await claim();
    const idleStart = sample();
    await new Promise((resolve) => setTimeout(resolve, idleMs));
    const idleEnd = sample();
    const start = sample();
    const startMs = performance.now();
    for (let i = 0; i < claims; i++) await claim();
    const elapsedMs = performance.now() - startMs;
    const end = sample();
    // Ticks are 10 ms; idle CPU is scaled to the measured time.
    const perClaim = pids.map((_, i) => {
      const idleShare = elapsedMs / idleMs;
      const of = (part: 'main' | 'other'): number =>
        (((end[i]?.[part] ?? 0) - (start[i]?.[part] ?? 0)) - ((idleEnd[i]?.[part] ?? 0) - (idleStart[i]?.[part] ?? 0)) * idleShare) * 10 / claims;
      return { main: of('main'), other: of('other') };
    });
    const total = perClaim.reduce((sum, p) => sum + p.main + p.other, 0);
    const split = perClaim.map((p, i) => `node ${cluster.nodes[i]?.id}: ${p.main.toFixed(3)} main + ${p.other.toFixed(3)} other`).join(', ');
    console.log(`through node ${entry.id}: ${(elapsedMs / claims).toFixed(2)} ms per empty claim; CPU ms per claim ${split}; total ${total.toFixed(3)}`);
  }
} finally {
  await stopZaqar(cluster);
}
