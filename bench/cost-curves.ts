/**
 * How cost grows with message size and replicas: runs `bench/e2e.ts` (WebSocket msgpack
 * producers, 1,000 messages in flight) once per body size, on a single node and on the
 * 3-node cluster, then prints one table and, when gnuplot is installed
 * (`apt-get install -y gnuplot-nox`), draws it as a PNG.
 *
 *   npx tsx bench/cost-curves.ts                       # 256 B .. 16 KiB, 5 s each: ~3 min
 *   options: --sizes 256,1024,4096,16384  --duration S  --no-build  --cli PATH (another build)
 *            --json FILE (default bench/runs/cost-curves-<UTC stamp>.jsonl)
 *            --png FILE (default bench/cost-by-size.png)
 *            --from FILE (no measuring: table and PNG from an earlier run's --json file)
 * Timings are never checked: a failed measurement exits 1, a slow one does not.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ResultRow } from './e2e/loaders.js';

const argv = process.argv.slice(2);
const option = (name: string): string | undefined => {
  const at = argv.indexOf(`--${name}`);
  return at >= 0 ? argv[at + 1] : undefined;
};
const sizes = (option('sizes') ?? '256,1024,4096,16384').split(',').map(Number);
if (sizes.some((size) => !Number.isInteger(size) || size <= 0)) throw new Error(`--sizes wants positive integers, got ${option('sizes')}`);
const durationS = option('duration') ?? '5';
const stamp = new Date().toISOString().replace(/[-:]/g, '').slice(0, 13);
const jsonFile = option('json') ?? `bench/runs/cost-curves-${stamp}.jsonl`;
const pngFile = option('png') ?? 'bench/cost-by-size.png';

interface Point {
  readonly size: number;
  readonly replicas: 1 | 3;
  readonly msgsPerS: number;
  readonly p50Ms: number | null;
  readonly p99Ms: number | null;
  readonly cpuUsPerMsg: number | null;
}

function measure(size: number, scratch: string): Point[] {
  const rowsFile = join(scratch, `rows-${size}.jsonl`);
  const cli = option('cli');
  const args = ['tsx', 'bench/e2e.ts', '--no-build', '--no-peers', '--loaders', 'ws', '--workload', 'post',
    '--size', String(size), '--duration', durationS, '--json', rowsFile, ...(cli === undefined ? [] : ['--cli', cli])];
  console.log(`body ${size} B: npx ${args.join(' ')}`);
  const run = spawnSync('npx', args, { stdio: ['ignore', 'inherit', 'inherit'] });
  if (run.status !== 0) throw new Error(`bench/e2e.ts failed for --size ${size} (exit ${run.status})`);
  const rows = readFileSync(rowsFile, 'utf8').trim().split('\n').map((line) => JSON.parse(line) as ResultRow);
  return rows.map((row) => ({
    size,
    replicas: row.replication?.startsWith('1 replica') === true ? 1 : 3,
    msgsPerS: row.msgs_per_s ?? 0,
    p50Ms: row.p50_ms,
    p99Ms: row.p99_ms,
    cpuUsPerMsg: row.server_cpu_us_per_msg ?? null,
  }));
}

const fixed = (value: number | null, digits: number): string => (value === null ? '—' : value.toLocaleString('en-US', { maximumFractionDigits: digits }));

function table(points: readonly Point[]): string {
  const lines = ['| body | replicas | msgs/s | MB/s | p50 ms | p99 ms | server CPU µs/msg |', '|---:|---:|---:|---:|---:|---:|---:|'];
  for (const p of points) {
    const mbPerS = (p.msgsPerS * p.size) / 1e6;
    lines.push(`| ${p.size} B | ${p.replicas} | ${fixed(p.msgsPerS, 0)} | ${fixed(mbPerS, 1)} | ${fixed(p.p50Ms, 1)} | ${fixed(p.p99Ms, 1)} | ${fixed(p.cpuUsPerMsg, 1)} |`);
  }
  return lines.join('\n');
}

/** Two panels, messages/s and server CPU per message against body size, one line per replica count. */
function plot(points: readonly Point[], scratch: string): void {
  if (spawnSync('sh', ['-c', 'command -v gnuplot']).status !== 0) {
    console.log('no PNG: gnuplot is not installed (apt-get install -y gnuplot-nox)');
    return;
  }
  const data = (replicas: 1 | 3): string => {
    const file = join(scratch, `r${replicas}.dat`);
    const rows = points.filter((p) => p.replicas === replicas).map((p) => `${p.size} ${p.msgsPerS} ${p.cpuUsPerMsg ?? 'NaN'}`);
    writeFileSync(file, rows.join('\n') + '\n');
    return file;
  };
  const xs = [...new Set(points.map((p) => p.size))].sort((a, b) => a - b);
  const one = data(1);
  const three = data(3);
  const script = [
    `set terminal pngcairo size 1100,440 font "sans,10"`,
    `set output '${pngFile}'`,
    'set multiplot layout 1,2 title "zaqar-ts, msgpack WebSocket producers (1,000 messages in flight), by body size"',
    'set logscale x 2', 'set xlabel "message body (bytes)"', 'set grid', 'set key top right',
    `set xrange [${(xs[0] ?? 256) / 1.4}:${(xs.at(-1) ?? 256) * 1.4}]`,
    `set xtics (${xs.map((size) => `"${size}" ${size}`).join(', ')})`,
    'set ylabel "messages/s"', 'set yrange [0:*]',
    `plot '${one}' using 1:2 with linespoints lw 2 title "1 replica", '${three}' using 1:2 with linespoints lw 2 title "3 replicas (3 nodes)"`,
    'set ylabel "server CPU µs per message (all nodes)"', 'set key top left',
    `plot '${one}' using 1:3 with linespoints lw 2 title "1 replica", '${three}' using 1:3 with linespoints lw 2 title "3 replicas (3 nodes)"`,
    'unset multiplot',
  ].join('\n');
  const drawn = spawnSync('gnuplot', [], { input: script, stdio: ['pipe', 'inherit', 'inherit'] });
  console.log(drawn.status === 0 ? `plot: ${pngFile}` : `gnuplot failed (exit ${drawn.status}): no PNG`);
}

function measureAll(scratch: string): Point[] {
  if (!argv.includes('--no-build')) {
    const built = spawnSync('npm', ['run', 'build'], { stdio: 'inherit' });
    if (built.status !== 0) throw new Error('build failed');
  }
  const points = sizes.flatMap((size) => measure(size, scratch)).sort((a, b) => a.replicas - b.replicas || a.size - b.size);
  writeFileSync(jsonFile, points.map((p) => JSON.stringify(p)).join('\n') + '\n');
  console.log(`rows: ${jsonFile}`);
  return points;
}

function main(): void {
  const from = option('from');
  const scratch = mkdtempSync(join(tmpdir(), 'cost-curves-'));
  try {
    const points = from === undefined
      ? measureAll(scratch)
      : readFileSync(from, 'utf8').trim().split('\n').map((line) => JSON.parse(line) as Point);
    console.log(`\n${table(points)}\n`);
    plot(points, scratch);
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

main();
