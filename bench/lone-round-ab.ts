/**
 * Side-by-side A/B of what a lone Raft round costs: CPU per sequential one-message POST (each
 * rides a round of its own). Clusters of both builds run at once (A: CLI_A, default
 * .base-dist/src/cli.js; B: CLI_B, default dist/src/cli.js) and take the posts alternately (A, B,
 * A, B, ...), so both see the same contention from whatever else runs on the shared cores,
 * which sequential runs do not. After W warm-up posts each and 3 s of idle CPU (subtracted),
 * counts each process's CPU (/proc, main thread and the others) over K posts each.
 *
 *   N=3 VIA=leader|follower K=1000 W=1000 [CONFIG='{"key":value}'] npx tsx bench/lone-round-ab.ts
 */
import { readFileSync } from 'node:fs';
import { entryNode, loaderProject, startZaqar, stopZaqar, threadTicks, type ZaqarCluster } from './e2e/nodes.js';

const N = Number(process.env.N ?? 3) as 1 | 3;
const K = Number(process.env.K ?? 1000);
/** CPU ticks (1/100 s) of a process so far: its main thread, its other threads, and kernel time of all. */
function snap(pid: number): { main: number; other: number; sys: number } {
  const t = threadTicks(pid);
  return { main: t.mainUser + t.mainSystem, other: t.otherUser + t.otherSystem, sys: t.mainSystem + t.otherSystem };
}
const h = { 'Client-ID': '3381af92-2b9e-11e3-b191-71861300734c', 'X-Project-ID': loaderProject, 'content-type': 'application/json' };
const q = 'lat';
const cfg = process.env.CONFIG ? { config: JSON.parse(process.env.CONFIG) } : {};
const sides = await Promise.all([process.env.CLI_A ?? '.base-dist/src/cli.js', process.env.CLI_B ?? 'dist/src/cli.js'].map(async (cli) => {
  const c: ZaqarCluster = await startZaqar({ nodes: N, cli, ...cfg });
  const n = N === 1 ? c.nodes[0]! : entryNode(c.nodes, q, (process.env.VIA ?? 'leader') as 'leader');
  await fetch(`${n.url}/v2/queues/${q}`, { method: 'PUT', headers: h });
  const body = JSON.stringify({ messages: [{ ttl: 300, body: 1 }] });
  const post = async () => { const r = await fetch(`${n.url}/v2/queues/${q}/messages`, { method: 'POST', headers: h, body }); await r.text(); };
  return { cli, c, post, lat: 0 };
}));
for (let i = 0; i < Number(process.env.W ?? 1000); i++) for (const s of sides) await s.post();
const all = () => sides.map(s => s.c.nodes.map(x => snap(x.pid)));
let t0 = all(); const i0 = performance.now(); await new Promise(r => setTimeout(r, 3000)); let t1 = all(); const idleMs = performance.now() - i0;
const idle = t0.map((side, si) => side.map((a, i) => ({ main: (t1[si]![i]!.main - a.main) * 10 / idleMs, other: (t1[si]![i]!.other - a.other) * 10 / idleMs })));
t0 = all(); const s0 = performance.now();
for (let i = 0; i < K; i++) for (const s of sides) { const a = performance.now(); await s.post(); s.lat += performance.now() - a; }
const el = performance.now() - s0; t1 = all();
const out = sides.map((s, si) => {
  const per = t0[si]!.map((a, i) => ({ main: ((t1[si]![i]!.main - a.main) * 10 - idle[si]![i]!.main * el) / K, other: ((t1[si]![i]!.other - a.other) * 10 - idle[si]![i]!.other * el) / K, sys: (t1[si]![i]!.sys - a.sys) * 10 / K }));
  const tot = per.reduce((x, p) => x + p.main + p.other, 0);
  return { tot, line: `${si === 0 ? 'A' : 'B'} ${s.cli}: ${(s.lat / K).toFixed(2)} ms/post, CPU ${tot.toFixed(3)} ms/post (main/other/sys per node: ${per.map(p => `${p.main.toFixed(2)}/${p.other.toFixed(2)}/${p.sys.toFixed(2)}`).join('  ')})` };
});
console.log(`${process.env.LABEL ?? ''} N=${N} K=${K} load ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}`);
for (const o of out) console.log('  ' + o.line);
console.log(`  B/A ${(out[1]!.tot / out[0]!.tot).toFixed(3)}`);
await Promise.all(sides.map(s => stopZaqar(s.c)));
