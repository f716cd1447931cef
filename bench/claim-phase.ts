/**
 * Where a consumer's CPU goes, per node, over the claim phase alone: starts zaqar-ts (1 or
 * 3 nodes), fills a queue with the WebSocket producer loader (unmeasured), then runs the
 * WebSocket claim + delete loader (claims of 20, 5 connections as bench:e2e) against one
 * node and prints, over that phase only: messages claimed per claim, each node's CPU per
 * message consumed split into main / other threads and user / system time (/proc), its
 * persist rounds (commands per round) and API requests by action, and the cluster's CPU
 * per command. `--workload post` measures posts of 10 in the consumers' shape instead
 * (as many producers as consumers, one post in flight each), so a command of either kind
 * can be compared at the same concurrency. `--workload e2e` runs the loader's end-to-end
 * workload instead (one-message posts at 1,000/s while the consumers claim and delete
 * them; no fill): its commands are the posts, the deletes and the claims that took
 * messages, and it prints the empty claims (reads) beside them. Optional: `--profile DIR` (node --cpu-prof,
 * each node's profile cut to the phase as DIR/phase-PID.cpuprofile, for
 * bench/cpuprofile-top.ts) and `--strace` (system calls per command on each node, from
 * `strace -c`, which slows the nodes: read its counts, not its CPU figures). Bounded:
 * each loader by its duration, every node stopped at the end.
 *
 *   npx tsx bench/claim-phase.ts [--nodes 3] [--duration 5] [--fill 5] [--consumers 5]
 *        [--via first|leader|follower] [--workload claim|post|e2e] [--cli PATH] [--config-json JSON]
 *        [--warm S] [--settle S] [--node-args "FLAGS"] [--profile DIR] [--strace]
 *
 * `--node-args "FLAGS"`: flags for the nodes' node processes (e.g. V8's `--log-deopt`).
 * `--warm S`: after the fill, run the measured workload for S seconds unmeasured first, so
 * that V8 has compiled its paths (a fill exercises only the posts').
 * `--settle S`: after the fill, wait S seconds without load and print each node's CPU over
 * them (a replica still applying the fill shows there instead of in the measured phase).
 *
 * `--config-json`: settings added to the nodes' config file, e.g. '{"raft.persist_rounds_in_flight":4}'.
 *
 * Prints its configuration; timings are printed, never checked.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { prepareLoaders, sharedBench } from './e2e/loaders.js';
import { entryNode, shardLeader, startZaqar, stopZaqar, threadTicks, ticksPerThread, type Ticks, type ZaqarNode } from './e2e/nodes.js';

const argv = process.argv.slice(2);
const option = (name: string): string | undefined => {
  const at = argv.indexOf(`--${name}`);
  return at >= 0 ? argv[at + 1] : undefined;
};
const nodeCount = option('nodes') === '1' ? 1 : 3;
const durationS = Number(option('duration') ?? 5);
const fillS = Number(option('fill') ?? 5);
const settleS = Number(option('settle') ?? 0);
const warmS = Number(option('warm') ?? 0);
const consumers = option('consumers') ?? '5';
const via = option('via') ?? 'first';
const workload = option('workload') ?? 'claim';
const profileDir = option('profile');
const cli = option('cli');
const withStrace = argv.includes('--strace');
const config = JSON.parse(option('config-json') ?? '{}') as Record<string, unknown>;
const messagesPerPost = 10;

if (!['first', 'leader', 'follower'].includes(via)) throw new Error(`unknown --via ${via}`);
if (!['claim', 'post', 'e2e'].includes(workload)) throw new Error(`unknown --workload ${workload}`);

/** A node's persist rounds, the seconds they took, and its API requests by action, from /metrics. */
async function counters(node: ZaqarNode): Promise<Map<string, number>> {
  const text = await fetch(`${node.url}/metrics`).then((r) => r.text(), () => '');
  const found = new Map<string, number>();
  const add = (key: string, value: number): void => {
    found.set(key, (found.get(key) ?? 0) + value);
  };
  for (const line of text.split('\n')) {
    const request = /^zaqar_transport_(?:ws|http)_requests_total\{action="([^"]+)"[^}]*\} (\S+)$/.exec(line);
    if (request?.[1] !== undefined) add(request[1], Number(request[2]));
    const gc = /^nodejs_gc_duration_seconds_(count|sum)\{kind="([^"]+)"\} (\S+)$/.exec(line);
    if (gc?.[2] !== undefined) add(`gc ${gc[2]} ${gc[1]}`, Number(gc[3]));
    // prom-client resets its event-loop delay histogram at every scrape: these cover the
    // time since the one before (the measured phase, read after it). Its samples are the
    // intervals between timer runs 20 ms apart (src/metrics/node-metrics.ts), printed less those 20 ms.
    const lag = /^nodejs_eventloop_lag_(p99|max)_seconds (\S+)$/.exec(line);
    if (lag?.[1] !== undefined) add(`lag ${lag[1]}`, Number(lag[2]));
    const flush = /^zaqar_log_flush_duration_seconds_(count|sum)(?:\{[^}]*\})? (\S+)$/.exec(line);
    if (flush?.[1] !== undefined) add(flush[1] === 'count' ? 'persists' : 'persistSeconds', Number(flush[2]));
  }
  return found;
}

/** An event-loop delay sample (seconds, interval included) as ms late. */
const lagMs = (seconds: number | undefined): string => (seconds === undefined ? '?' : Math.max(0, 1000 * seconds - 20).toFixed(0));

function runLoader(url: string, phase: 'post' | 'claim' | 'e2e', seconds: number, queue: string, extra: readonly string[]): Promise<string> {
  const args = [join(sharedBench, 'zaqar-ws-load.mjs'), '--url', url, '--workload', phase, '--duration', String(seconds),
    '--producers', '4', '--window', '25', '--consumers', consumers, '--queue', queue, '--keep', ...extra];
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { cwd: sharedBench, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), (seconds + 60) * 1000);
    child.stdout.on('data', (chunk: Buffer) => { out += chunk.toString(); });
    child.on('exit', () => {
      clearTimeout(timer);
      resolve(out);
    });
  });
}

/** `strace -c` on one node until stopped; its summary as "call count" pairs. */
function traceCalls(pid: number): { stop: () => Promise<string> } {
  const calls = 'fdatasync,fsync,pwrite64,writev,write,epoll_pwait,epoll_wait,futex,read,readv,sendmsg,recvmsg';
  const child: ChildProcess = spawn('strace', ['-f', '-c', '-p', String(pid), '-e', `trace=${calls}`], { stdio: ['ignore', 'ignore', 'pipe'] });
  let summary = '';
  child.stderr?.on('data', (chunk: Buffer) => { summary += chunk.toString(); });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    stop: async () => {
      child.kill('SIGINT');
      await exited;
      const rows = summary.split('\n').map((line) => line.trim().split(/\s+/)).filter((f) => f.length >= 5 && /^[0-9.]+$/.test(f[0] ?? ''));
      return rows.map((f) => `${f[f.length - 1]} ${f[3]}`).join(', ');
    },
  };
}

/** Keeps the samples of a --cpu-prof profile taken between two monotonic times (µs). */
function cutProfile(file: string, out: string, fromUs: number, toUs: number): void {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as { startTime: number; endTime: number; samples: number[]; timeDeltas: number[] };
  let at = profile.startTime;
  let last = fromUs;
  const samples: number[] = [];
  const timeDeltas: number[] = [];
  profile.samples.forEach((id, i) => {
    at += profile.timeDeltas[i] ?? 0;
    if (at < fromUs || at > toUs) return;
    samples.push(id);
    timeDeltas.push(at - last);
    last = at;
  });
  writeFileSync(out, JSON.stringify({ ...profile, startTime: fromUs, endTime: toUs, samples, timeDeltas }));
}

async function main(): Promise<void> {
  console.log(`claim-phase: ${nodeCount} node(s), ${workload}, ${consumers} connections, fill ${fillS} s, measure ${durationS} s, via ${via}, ` +
    `cli ${cli ?? 'dist/src/cli.js'}, config ${JSON.stringify(config)}, load ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);
  if (!prepareLoaders()) {
    process.exitCode = 2;
    return;
  }
  const nodeArgs = [...(profileDir === undefined ? [] : ['--cpu-prof', '--cpu-prof-dir', profileDir]), ...(option('node-args')?.split(' ').filter(Boolean) ?? [])];
  const cluster = await startZaqar({ nodes: nodeCount, nodeArgs, config, ...(cli === undefined ? {} : { cli }) });
  let window: { fromUs: number; toUs: number } | undefined;
  try {
    const nodes = cluster.nodes;
    const queue = `claim-phase-${Date.now().toString(36)}`;
    const leaderId = shardLeader(nodes, queue).id;
    const entry = via === 'first' ? nodes[0] : entryNode(nodes, queue, via === 'leader' ? 'leader' : 'follower');
    if (entry === undefined) throw new Error('no entry node');
    // The measured workload: claims drain the fill; posts come in the consumers' shape; e2e
    // posts one message at a time at 1,000/s while the consumers claim them (no fill).
    const phase = (seconds: number): Promise<string> => workload === 'post'
      ? runLoader(entry.wsUrl, 'post', seconds, queue, ['--producers', consumers, '--window', '1'])
      : runLoader(entry.wsUrl, workload === 'e2e' ? 'e2e' : 'claim', seconds, queue, workload === 'e2e' ? ['--rate', '1000'] : []);
    if (workload !== 'e2e') {
      const filled = (await runLoader(entry.wsUrl, 'post', fillS, queue, [])).split('\n').find((line) => line.startsWith('RESULT '));
      console.log(`fill: ${filled === undefined ? 'no result' : `${String((JSON.parse(filled.slice('RESULT '.length)) as Record<string, number>)['msgs_per_s'])} msg/s`}`);
    }
    if (warmS > 0) await phase(warmS);
    if (settleS > 0) {
      const settleBefore = nodes.map((node) => threadTicks(node.pid));
      await new Promise((resolve) => setTimeout(resolve, settleS * 1000));
      const spent = nodes.map((node, i) => {
        const [a, b] = [settleBefore[i], threadTicks(node.pid)];
        if (a === undefined || b === undefined) return `node ${node.id} ?`;
        const ms = (b.mainUser + b.mainSystem + b.otherUser + b.otherSystem - a.mainUser - a.mainSystem - a.otherUser - a.otherSystem) * 10;
        return `node ${node.id} ${ms} ms`;
      });
      console.log(`settle ${settleS} s after the fill: CPU ${spent.join(', ')}`);
    }
    const before = await Promise.all(nodes.map(counters));
    const traces = withStrace ? nodes.map((node) => traceCalls(node.pid)) : [];
    const ticksBefore = nodes.map((node) => threadTicks(node.pid));
    const namesBefore = nodes.map((node) => ticksPerThread(node.pid));
    const startUs = Number(process.hrtime.bigint() / 1000n);
    const out = await phase(durationS);
    const endUs = Number(process.hrtime.bigint() / 1000n);
    window = { fromUs: startUs, toUs: endUs };
    const ticksAfter = nodes.map((node) => threadTicks(node.pid));
    const namesAfter = nodes.map((node) => ticksPerThread(node.pid));
    const straced = await Promise.all(traces.map((trace) => trace.stop()));
    const after = await Promise.all(nodes.map(counters));
    const resultLine = out.split('\n').find((line) => line.startsWith('RESULT '));
    if (resultLine === undefined) throw new Error(`the loader printed no result:\n${out}`);
    const row = JSON.parse(resultLine.slice('RESULT '.length)) as Record<string, number>;
    const messages = workload === 'claim' ? row['consumed'] ?? 0 : Math.round((row['msgs_per_s'] ?? 0) * durationS);
    const entryIndex = nodes.indexOf(entry);
    const requests = (action: string): number => (after[entryIndex]?.get(action) ?? 0) - (before[entryIndex]?.get(action) ?? 0);
    // e2e: every post and delete is a command, and so is every claim that took messages.
    const commands = workload === 'claim' ? 2 * (row['claims'] ?? 0)
      : workload === 'e2e' ? requests('message_post') + 2 * requests('message_delete_many')
      : messages / messagesPerPost;
    const seconds = (endUs - startUs) / 1e6;
    console.log(`${row['msgs_per_s']} msg/s, p50 ${row['p50_ms']} ms, p99 ${row['p99_ms']} ms; ${messages} messages, ${commands} commands` +
      (workload === 'claim' ? `, ${(messages / Math.max(1, row['claims'] ?? 0)).toFixed(1)} messages per claim, ${row['empty_claims']} empty claims` : '') +
      (workload === 'e2e' ? `, ${requests('claim_create') - requests('message_delete_many')} empty claims, posts p50 ${row['post_p50_ms']} ms, p99 ${row['post_p99_ms']} ms` : '') +
      `; entry node ${entry.id}, shard leader ${leaderId}; load ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);
    let clusterUs = 0;
    nodes.forEach((node, i) => {
      const [a, b, c0, c1] = [ticksBefore[i], ticksAfter[i], before[i], after[i]];
      if (a === undefined || b === undefined || c0 === undefined || c1 === undefined) return;
      const us = (key: keyof Ticks): number => ((b[key] - a[key]) * 10_000) / Math.max(1, messages);
      const all = us('mainUser') + us('mainSystem') + us('otherUser') + us('otherSystem');
      clusterUs += all;
      const delta = (key: string): number => (c1.get(key) ?? 0) - (c0.get(key) ?? 0);
      const persists = delta('persists');
      const gcs = ['minor', 'major', 'incremental', 'weakcb'].map((kind) => `${kind} ${delta(`gc ${kind} count`)} (${(1000 * delta(`gc ${kind} sum`)).toFixed(0)} ms)`);
      const actions = [...c1.keys()].filter((key) => key !== 'persists' && key !== 'persistSeconds' && !key.startsWith('gc ') && !key.startsWith('lag ') && delta(key) > 0).map((key) => `${key} ${delta(key)}`);
      const role = `${node.id === leaderId ? ' (leader)' : ''}${node === entry ? ' (entry)' : ''}`;
      console.log(`node ${node.id}${role}: ${all.toFixed(0)} µs/msg = main ${us('mainUser').toFixed(0)} user + ${us('mainSystem').toFixed(0)} sys, ` +
        `other threads ${us('otherUser').toFixed(0)} + ${us('otherSystem').toFixed(0)}; ${((all * messages) / seconds / 1e4).toFixed(0)}% of a core; ` +
        `${persists} persists (${(commands / Math.max(1, persists)).toFixed(1)} commands each, mean ${((1000 * delta('persistSeconds')) / Math.max(1, persists)).toFixed(1)} ms)` +
        `${actions.length > 0 ? `; requests: ${actions.join(', ')}` : ''}`);
      const [n0, n1] = [namesBefore[i], namesAfter[i]];
      if (n0 !== undefined && n1 !== undefined) {
        const spent = [...n1].map(([name, ticks]) => [name, ((ticks - (n0.get(name) ?? 0)) * 10_000) / Math.max(1, messages)] as const)
          .filter(([, us]) => us >= 0.5).sort((a, b) => b[1] - a[1]);
        console.log(`  by thread: ${spent.map(([name, us]) => `${name} ${us.toFixed(0)}`).join(', ')} µs/msg; GC on the main thread: ${gcs.join(', ')}; ` +
          `event-loop delay p99 ${lagMs(c1.get('lag p99'))} ms, max ${lagMs(c1.get('lag max'))} ms`);
      }
      const calls = straced[i];
      if (calls !== undefined) console.log(`  system calls (strace -c, ${commands} commands): ${calls}`);
    });
    console.log(`cluster: ${clusterUs.toFixed(0)} µs/msg, ${((clusterUs * messages) / Math.max(1, commands)).toFixed(0)} µs per command`);
  } finally {
    await stopZaqar(cluster);
  }
  if (profileDir !== undefined && window !== undefined) {
    // Profiles are written as the nodes exit; each keeps only the measured phase.
    for (const node of cluster.nodes) {
      const file = readdirSync(profileDir).find((name) => name.endsWith('.cpuprofile') && name.includes(`.${node.pid}.`));
      if (file !== undefined) cutProfile(join(profileDir, file), join(profileDir, `phase-${node.pid}.cpuprofile`), window.fromUs, window.toUs);
    }
    console.log(`profiles of the phase: ${profileDir}/phase-PID.cpuprofile (npx tsx bench/cpuprofile-top.ts FILE)`);
  }
}

await main();
