/**
 * Side-by-side A/B of what a lone Raft round costs: CPU per sequential one-message POST (each
 * rides a round of its own). Clusters of both builds run at once (A: CLI_A, default
 * .base-dist/src/cli.js; B: CLI_B, default dist/src/cli.js) and take the posts alternately (A, B,
 * A, B, ...), so both see the same contention from whatever else runs on the shared cores,
 * which sequential runs do not. After W warm-up posts each and 3 s of idle CPU (subtracted),
 * counts each process's CPU (/proc, main thread and the others) over K posts each.
 *
 * With RATE=n, each side instead gets n posts a second, open loop (the e2e row's shape
 * without its claimers): rounds then carry what arrives while the one before is in flight.
 *
 *   N=3 VIA=leader|follower K=1000 W=1000 [RATE=n] [CONFIG='{"key":value}'] npx tsx bench/lone-round-ab.ts
 */
import { readFileSync } from 'node:fs';
import { entryNode, loaderProject, startZaqar, stopZaqar, threadTicks, type ZaqarCluster } from './e2e/nodes.js';

const N = Number(process.env.N ?? 3) as 1 | 3;
const K = Number(process.env.K ?? 1000);
/** Posts per second per side (open loop); absent: sequential posts (each a lone round). */
const rate = process.env.RATE === undefined ? undefined : Number(process.env.RATE);
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
  return { cli, c, post, entry: n.id, lats: [] as number[], inFlight: 0 };
}));
for (let i = 0; i < Number(process.env.W ?? 1000); i++) for (const s of sides) await s.post();
const all = () => sides.map(s => s.c.nodes.map(x => snap(x.pid)));
let t0 = all(); const i0 = performance.now(); await new Promise(r => setTimeout(r, 3000)); let t1 = all(); const idleMs = performance.now() - i0;
const idle = t0.map((side, si) => side.map((a, i) => ({ main: (t1[si]![i]!.main - a.main) * 10 / idleMs, other: (t1[si]![i]!.other - a.other) * 10 / idleMs })));
t0 = all(); const s0 = performance.now();
if (rate === undefined) {
  for (let i = 0; i < K; i++) for (const s of sides) { const a = performance.now(); await s.post(); s.lats.push(performance.now() - a); }
} else {
  // Open loop: both sides get a post every 1000 / RATE ms, whether or not earlier ones were answered (at most 500 in flight each).
  const pending: Promise<void>[] = [];
  for (let i = 0; i < K; i++) {
    const due = s0 + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((resolve) => setTimeout(resolve, wait));
    for (const s of sides) {
      if (s.inFlight >= 500) continue;
      s.inFlight++;
      const a = performance.now();
      pending.push(s.post().then(() => { s.lats.push(performance.now() - a); s.inFlight--; }));
    }
  }
  await Promise.all(pending);
}
const el = performance.now() - s0; t1 = all();
const out = sides.map((s, si) => {
  const per = t0[si]!.map((a, i) => ({ main: ((t1[si]![i]!.main - a.main) * 10 - idle[si]![i]!.main * el) / K, other: ((t1[si]![i]!.other - a.other) * 10 - idle[si]![i]!.other * el) / K, sys: (t1[si]![i]!.sys - a.sys) * 10 / K }));
  const tot = per.reduce((x, p) => x + p.main + p.other, 0);
  const lats = [...s.lats].sort((x, y) => x - y);
  const at = (q: number): string => (lats[Math.min(lats.length - 1, Math.floor(q * lats.length))] ?? NaN).toFixed(2);
  return { tot, line: `${si === 0 ? 'A' : 'B'} ${s.cli}: ${lats.length} posts, latency p50 ${at(0.5)} p99 ${at(0.99)} ms, CPU ${tot.toFixed(3)} ms/post (entry node ${s.entry}; main/other/sys per node, by id: ${per.map(p => `${p.main.toFixed(2)}/${p.other.toFixed(2)}/${p.sys.toFixed(2)}`).join('  ')})` };
});
console.log(`${process.env.LABEL ?? ''} N=${N} K=${K}${rate === undefined ? '' : ` RATE=${rate}/s`} load ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}`);
for (const o of out) console.log('  ' + o.line);
console.log(`  B/A ${(out[1]!.tot / out[0]!.tot).toFixed(3)}`);
await Promise.all(sides.map(s => stopZaqar(s.c)));
