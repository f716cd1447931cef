/**
 * Runs the shared Zaqar API loaders (../shared/bench/zaqar-http-load.mjs and
 * zaqar-ws-load.mjs) and the peers' harness (run-peers.sh) as child processes and reads
 * their `RESULT {json}` rows. Every child is bounded by a timeout and killed by pid.
 */
import { spawn, spawnSync } from 'node:child_process';
import { accessSync, constants, cpSync, existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';

export interface ResultRow {
  readonly system: string;
  readonly replication?: string;
  readonly durability?: string;
  readonly workload: string;
  readonly msgs_per_s: number | null;
  readonly p50_ms: number | null;
  readonly p99_ms: number | null;
  readonly peak_rss_mb?: number | null;
  readonly server_cpu_pct?: number | null;
  readonly loader_cpu_pct?: number | null;
  readonly other_cpu_pct?: number | null;
  readonly error?: string;
  /** The queue the loader loaded (one of the loader's own fields). */
  readonly queue?: unknown;
  /** Added here, on 3 nodes: whether the node the load entered by leads the queue's shard or forwards to it. */
  entered_by?: 'leader' | 'follower';
  /** Added here, entered by a follower: seconds into the loader's run (all its workloads) when that node was first seen leading the shard. */
  entry_led_from_s?: number;
  /** Added here: peak RSS per node, MiB. */
  node_rss_mb?: (number | undefined)[];
  /** Added here: CPU time of all nodes over the run ÷ messages acknowledged, µs (single-workload runs only). */
  server_cpu_us_per_msg?: number;
  /** Added here: the same for the nodes' main (JavaScript) threads alone. */
  server_main_cpu_us_per_msg?: number;
}

const sharedOriginal = resolve(join(import.meta.dirname, '../../../shared/bench'));
/** Where a read-only shared folder is copied to: the loaders need their node_modules and the peers' harness writes results beside itself. */
const sharedCopy = resolve(join(import.meta.dirname, '../../.cache/shared-bench'));

function isWritable(dir: string): boolean {
  try {
    accessSync(dir, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

function hasLoaders(dir: string): boolean {
  return existsSync(join(dir, 'node_modules', 'ws')) && existsSync(join(dir, 'zaqar-ws-load.mjs'));
}

export const sharedBench = process.env['ZAQAR_SHARED_BENCH'] !== undefined
  ? resolve(process.env['ZAQAR_SHARED_BENCH'])
  : hasLoaders(sharedOriginal) && isWritable(sharedOriginal) ? sharedOriginal : sharedCopy;

/**
 * Makes the loaders runnable: installs their dependencies in place when the shared folder is
 * writable, otherwise in a copy under .cache/ (refreshed from the shared folder each time).
 * Returns false, having said why, when they still are not.
 */
export function prepareLoaders(): boolean {
  if (sharedBench === sharedCopy && existsSync(sharedOriginal)) {
    cpSync(sharedOriginal, sharedCopy, { recursive: true, filter: (source) => !/[/\\](node_modules|results)$/.test(source) });
  }
  if (!hasLoaders(sharedBench)) {
    console.log(`installing the shared loaders' dependencies in ${sharedBench} (npm install)`);
    const install = spawnSync('npm', ['install', '--no-audit', '--no-fund'], { cwd: sharedBench, stdio: 'inherit' });
    if (install.status !== 0) console.error(`npm install in ${sharedBench} failed (exit ${String(install.status)})`);
  }
  if (hasLoaders(sharedBench)) return true;
  console.error(`the shared loaders need their dependencies: cd ${sharedBench} && npm install`);
  return false;
}

function runChild(command: string, args: readonly string[], timeoutMs: number, cwd: string): Promise<string> {
  return new Promise((resolvePromise) => {
    const child = spawn(command, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => { out += chunk.toString(); });
    child.stderr.on('data', (chunk: Buffer) => { err += chunk.toString(); });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      if (code !== 0) process.stderr.write(`${command} ${args.slice(0, 3).join(' ')} exited ${String(code)}\n${err.slice(-1500)}\n`);
      resolvePromise(out);
    });
  });
}

function parseRows(out: string): ResultRow[] {
  return out.split('\n').filter((line) => line.startsWith('RESULT ') && line.length > 8).map((line) => JSON.parse(line.slice(7)) as ResultRow);
}

export interface LoaderRun {
  readonly loader: 'http' | 'ws';
  readonly url: string;
  readonly workload: 'post' | 'claim' | 'e2e' | 'all';
  readonly durationS: number;
  readonly system: string;
  readonly replication: string;
  readonly durability: string;
  readonly rssPids: readonly number[];
  readonly extra?: readonly string[];
}

export async function runZaqarLoader(run: LoaderRun): Promise<ResultRow[]> {
  const script = run.loader === 'http' ? 'zaqar-http-load.mjs' : 'zaqar-ws-load.mjs';
  const args = [join(sharedBench, script), '--url', run.url, '--workload', run.workload, '--duration', String(run.durationS),
    '--rate', '1000', '--system', run.system, '--replication', run.replication, '--durability', run.durability,
    '--rss-pids', run.rssPids.join(','), ...(run.extra ?? [])];
  const phases = run.workload === 'all' ? 3 : 1;
  return parseRows(await runChild(process.execPath, args, (run.durationS * phases + 60) * 1000, sharedBench));
}

/** Runs run-peers.sh for the given suites; returns the rows of the results dir it made. */
export async function runPeers(suites: string, durationS: number): Promise<ResultRow[]> {
  const resultsDir = join(sharedBench, 'results');
  const before = new Set(existsSync(resultsDir) ? readdirSync(resultsDir) : []);
  // NATS R3 and RabbitMQ 3-node start-ups take up to ~30 s each on top of the loads.
  await runChild('bash', [join(sharedBench, 'run-peers.sh'), '--only', suites, '--duration', String(durationS)], 15 * 60_000, sharedBench);
  const made = (existsSync(resultsDir) ? readdirSync(resultsDir) : []).filter((name) => !before.has(name))
    .map((name) => join(resultsDir, name)).sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs)[0];
  if (made === undefined || !existsSync(join(made, 'results.jsonl'))) return [];
  return parseRows(readFileSync(join(made, 'results.jsonl'), 'utf8').split('\n').map((line) => `RESULT ${line}`).join('\n'))
    .filter((row) => row.workload !== undefined);
}
