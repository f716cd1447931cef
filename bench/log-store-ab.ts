/**
 * The Raft log store's write cost per entry, two builds side by side: each round persists
 * K entries of B bytes to each of S shards in one turn (one group commit) and awaits the
 * flush, and every shard compacts 2,000 entries behind, as a node under producer load
 * does. Runs alternate between the builds, each in a fresh process on a fresh LMDB file,
 * and print process CPU (main thread plus lmdb-js's write thread) and main-thread CPU per
 * entry. Bounded by P rounds; timings are printed, never checked.
 *
 *   npx tsx bench/log-store-ab.ts --base .base-dist [--dist dist] [--pairs 4] [--shards 1] [--entries 40] [--bytes 3700] [--rounds 400]
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

const { values: args } = parseArgs({
  options: {
    base: { type: 'string' },
    dist: { type: 'string', default: 'dist' },
    pairs: { type: 'string', default: '4' },
    shards: { type: 'string', default: '1' },
    entries: { type: 'string', default: '40' },
    bytes: { type: 'string', default: '3700' },
    rounds: { type: 'string', default: '400' },
    child: { type: 'string' },
  },
});

const shardCount = Number(args.shards);
const perShard = Number(args.entries);
const entryBytes = Number(args.bytes);
const rounds = Number(args.rounds);
const kept = 2000;

/** This thread's CPU so far in µs (clock ticks of 10 ms: read over whole runs only). */
function mainThreadUs(): number {
  const stat = readFileSync('/proc/thread-self/stat', 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10_000;
}

async function child(dist: string): Promise<void> {
  const { openLmdbEnv } = (await import(pathToFileURL(join(dist, 'src/log/lmdb/lmdb-env.js')).href)) as typeof import('../src/log/lmdb/lmdb-env.js');
  const { LmdbLogStore } = (await import(pathToFileURL(join(dist, 'src/log/lmdb/lmdb-log-store.js')).href)) as typeof import('../src/log/lmdb/lmdb-log-store.js');
  const dir = mkdtempSync(join(tmpdir(), 'log-store-ab-'));
  const env = openLmdbEnv(dir, { file: 'raft-log.lmdb' });
  const store = new LmdbLogStore(env);
  const shards = Array.from({ length: shardCount }, (_, i) => i + 1);
  for (const shard of shards) store.load(shard as never);
  const data = new Uint8Array(entryBytes).fill(7);
  let next = 1;
  const round = async (): Promise<void> => {
    const first = next;
    next += perShard;
    const entries = Array.from({ length: perShard }, (_, i) => ({ term: 1, index: first + i, type: 0, data }));
    await Promise.all(shards.map((shard) => store.persist(shard as never, { entries: entries as never, hardState: { term: 1, vote: 1, commit: first - 1 } as never })));
    if (next - 1 > kept && Math.floor((next - 1) / kept) !== Math.floor((first - 1) / kept)) {
      await Promise.all(shards.map((shard) => store.compact(shard as never, (next - 1 - kept) as never)));
    }
  };
  for (let i = 0; i < 50; i++) await round(); // warm-up
  const cpu0 = process.cpuUsage();
  const main0 = mainThreadUs();
  for (let i = 0; i < rounds; i++) await round();
  const cpu = process.cpuUsage(cpu0);
  const main = mainThreadUs() - main0;
  const total = rounds * perShard * shardCount;
  console.log(JSON.stringify({ processUs: (cpu.user + cpu.system) / total, mainUs: main / total }));
  await env.close();
  rmSync(dir, { recursive: true, force: true });
}

function runChild(dist: string): { processUs: number; mainUs: number } {
  const self = fileURLToPath(import.meta.url);
  const forwarded = ['--shards', args.shards, '--entries', args.entries, '--bytes', args.bytes, '--rounds', args.rounds].map(String);
  const result = spawnSync(process.execPath, ['--import', 'tsx', self, '--child', resolve(dist), ...forwarded], { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`child for ${dist} failed: ${result.stderr}`);
  return JSON.parse(result.stdout.trim().split('\n').pop() ?? '{}') as { processUs: number; mainUs: number };
}

const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? Number.NaN;

if (args.child !== undefined) {
  await child(args.child);
} else {
  if (args.base === undefined) throw new Error('--base DIR (a build of the other version) is required');
  const sides = { A: args.base, B: args.dist } as const;
  const results: Record<'A' | 'B', { processUs: number; mainUs: number }[]> = { A: [], B: [] };
  console.log(`A = ${sides.A}, B = ${sides.B}; ${shardCount} shard(s) × ${perShard} entries of ${entryBytes} B per round, ${rounds} rounds`);
  for (let pair = 0; pair < Number(args.pairs); pair++) {
    const order: ('A' | 'B')[] = pair % 2 === 0 ? ['A', 'B'] : ['B', 'A'];
    for (const side of order) {
      const result = runChild(sides[side]);
      results[side].push(result);
      console.log(`pair ${pair + 1} ${side}: ${result.processUs.toFixed(2)} µs per entry (main ${result.mainUs.toFixed(2)})`);
    }
  }
  for (const side of ['A', 'B'] as const) {
    console.log(`${side} median: ${median(results[side].map((r) => r.processUs)).toFixed(2)} µs per entry (main ${median(results[side].map((r) => r.mainUs)).toFixed(2)})`);
  }
}
