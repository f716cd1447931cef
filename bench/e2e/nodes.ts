/**
 * Starts and stops zaqar-ts nodes for the end-to-end bench: the compiled CLI
 * (dist/src/cli.js) as child processes on 127.0.0.1 with free ports and temp data dirs,
 * one node (1 replica) or a 3-node cluster (3 replicas). Ready means every shard took a
 * write (queues created on node 1 until all answer) and, in a cluster, every shard is led
 * by its preferred voter (placement.ts preferredLeader, where the balancer moves leaders
 * after the first elections), so loads measure neither elections nor a leader moving.
 * Nodes are stopped by their own pid (SIGTERM, then SIGKILL after a bound); peak RSS is
 * the kernel's VmHWM read just before the stop.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NodeId, ShardId } from '../../src/common/ids.js';
import { preferredLeader } from '../../src/cluster/placement.js';
import { ShardMap } from '../../src/cluster/shard-map.js';
import { freePort } from '../../test/support/cluster-launcher.js';

export interface ZaqarNode {
  readonly id: number;
  readonly pid: number;
  readonly url: string;
  readonly wsUrl: string;
  readonly process: ChildProcess;
}

export interface ZaqarCluster {
  readonly nodes: readonly ZaqarNode[];
  readonly dir: string;
}

export interface StartOptions {
  readonly nodes: 1 | 3;
  /** Extra node arguments, e.g. ['--cpu-prof', '--cpu-prof-dir', dir]. */
  readonly nodeArgs?: readonly string[];
  readonly cli?: string;
  /** Settings added to (or replacing) the bench's config file, e.g. { 'raft.persist_rounds_in_flight': 4 }. */
  readonly config?: Readonly<Record<string, unknown>>;
}

const benchConfig = { message_delete_with_claim_id: true, log_level: 'warn' };

function waitForListening(child: ChildProcess, label: string, deadlineMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`${label} did not listen within ${deadlineMs} ms:\n${out}`)), deadlineMs);
    const onData = (chunk: Buffer): void => {
      out += chunk.toString();
      const match = /^listening on (http:\S+)$/m.exec(out);
      if (match?.[1] !== undefined) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', (chunk: Buffer) => { out += chunk.toString(); });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${label} exited with ${String(code)} before listening:\n${out}`));
    });
  });
}

export async function startZaqar(options: StartOptions): Promise<ZaqarCluster> {
  const dir = mkdtempSync(join(tmpdir(), 'zaqar-e2e-bench-'));
  const configFile = join(dir, 'config.json');
  writeFileSync(configFile, JSON.stringify({ ...benchConfig, ...options.config }));
  const ids = options.nodes === 1 ? [1] : [1, 2, 3];
  const raftPorts = await Promise.all(ids.map(() => freePort()));
  const peers = ids.map((id, i) => `${id}=127.0.0.1:${raftPorts[i] ?? 0}`).join(',');
  const children = ids.map((id) => {
    const args = [...(options.nodeArgs ?? []), options.cli ?? 'dist/src/cli.js', 'serve', '--listen', '127.0.0.1:0',
      '--data-dir', join(dir, `node${id}`), '--config', configFile];
    if (options.nodes === 3) args.push('--node-id', String(id), '--peers', peers, '--replicas', '3');
    return { id, child: spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] }) };
  });
  let nodes: ZaqarNode[];
  try {
    nodes = await Promise.all(children.map(async ({ id, child }) => {
      const url = await waitForListening(child, `node ${id}`, 60_000);
      return { id, pid: child.pid ?? 0, url, wsUrl: url.replace(/^http/, 'ws') + '/', process: child };
    }));
  } catch (error) {
    for (const { child } of children) child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  const cluster = { nodes, dir };
  try {
    await waitWritable(cluster, 90_000);
    if (options.nodes === 3) await waitLeadersSettled(cluster, 30_000);
  } catch (error) {
    await stopZaqar(cluster);
    throw error;
  }
  return cluster;
}

/** Creates queues through node 1 until 48 of them (every shard, with high odds) were accepted. */
async function waitWritable(cluster: ZaqarCluster, deadlineMs: number): Promise<void> {
  const first = cluster.nodes[0];
  if (first === undefined) return;
  const headers = { 'Client-ID': '3381af92-2b9e-11e3-b191-71861300734c', 'X-Project-ID': 'bench-ready' };
  const pending = new Set(Array.from({ length: 48 }, (_, i) => `ready-${i}`));
  const deadline = Date.now() + deadlineMs;
  while (pending.size > 0) {
    if (Date.now() > deadline) throw new Error(`cluster not writable after ${deadlineMs} ms (${pending.size} queues refused)`);
    for (const queue of [...pending]) {
      const response = await fetch(`${first.url}/v2/queues/${queue}`, { method: 'PUT', headers }).catch(() => undefined);
      if (response !== undefined && response.status < 300) pending.delete(queue);
    }
    if (pending.size > 0) await new Promise((resolve) => setTimeout(resolve, 250));
  }
  await Promise.all([...Array(48).keys()].map((i) => fetch(`${first.url}/v2/queues/ready-${i}`, { method: 'DELETE', headers }).catch(() => undefined)));
}

/** Each shard's leaders as the nodes report them (each node's zaqar_raft_role in /metrics): one node each once settled. */
async function leadersByShard(nodes: readonly ZaqarNode[]): Promise<Map<number, number[]>> {
  const leaders = new Map<number, number[]>();
  for (const node of nodes) {
    const text = await fetch(`${node.url}/metrics`).then((r) => r.text(), () => '');
    for (const match of text.matchAll(/^zaqar_raft_role\{shard="(\d+)",role="(\w+)"\} ([01])$/gm)) {
      const shardId = Number(match[1]);
      const led = leaders.get(shardId) ?? [];
      if (match[2] === 'leader' && match[3] === '1') led.push(node.id);
      leaders.set(shardId, led);
    }
  }
  return leaders;
}

/**
 * Waits until every shard's leader (or only those of `shardIds`) is the voter the
 * balancer prefers for it. Bounded: past the deadline it measures anyway, and says so.
 */
async function waitLeadersSettled(cluster: ZaqarCluster, deadlineMs: number, shardIds?: readonly number[]): Promise<void> {
  const members = cluster.nodes.map((node) => node.id as NodeId);
  const deadline = Date.now() + deadlineMs;
  for (;;) {
    const leaders = await leadersByShard(cluster.nodes);
    const unsettled = [...leaders].filter(([shardId, led]) => (shardIds === undefined || shardIds.includes(shardId))
      && (led.length !== 1 || led[0] !== preferredLeader(shardId as ShardId, { voters: members, members })));
    if (leaders.size > 0 && unsettled.length === 0) return;
    if (Date.now() > deadline) {
      console.log(`  leaders not settled after ${deadlineMs} ms (shards ${unsettled.map(([shardId]) => shardId).join(', ')}): measuring anyway`);
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/**
 * Before a load on `queues`: their shards led by their preferred voters again. Leadership
 * follows a shard's traffic (src/cluster/traffic-leadership.ts), so an earlier load through
 * node 1 may have moved a shard to it; it returns some 10–15 s after that load ended.
 */
export async function waitQueuesSettled(cluster: ZaqarCluster, queues: readonly string[]): Promise<void> {
  await waitLeadersSettled(cluster, 30_000, queues.map(shardOfQueue));
}

/**
 * Watches, every half second, whether `entry` leads the shards of `queues`: `stop` gives,
 * per queue, the seconds from the start until `entry` was first seen leading its shard
 * (undefined: not seen).
 */
export function watchLeadership(entry: ZaqarNode, queues: readonly string[]): { stop(): Promise<Map<string, number | undefined>> } {
  const startedMs = performance.now();
  const ledFromS = new Map<string, number | undefined>(queues.map((queue) => [queue, undefined]));
  let isStopped = false;
  const look = async (): Promise<void> => {
    const leaders = await leadersByShard([entry]);
    const nowS = (performance.now() - startedMs) / 1000;
    for (const queue of queues) {
      if (ledFromS.get(queue) === undefined && (leaders.get(shardOfQueue(queue))?.length ?? 0) > 0) ledFromS.set(queue, nowS);
    }
  };
  const polling = (async () => {
    while (!isStopped) {
      await look();
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  })();
  return {
    async stop() {
      isStopped = true;
      await polling;
      return ledFromS;
    },
  };
}

/**
 * A memory figure of a live process from /proc, MiB (undefined once it is gone): VmHWM peak
 * RSS, VmRSS current, split into RssAnon (heap, native) and RssFile (LMDB's mapped pages,
 * which the kernel can drop and re-read).
 */
export function procMemoryMb(pid: number, field: 'VmHWM' | 'VmRSS' | 'RssAnon' | 'RssFile' = 'VmHWM'): number | undefined {
  try {
    const match = new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match?.[1] === undefined ? undefined : Math.round(Number(match[1]) / 1024);
  } catch {
    return undefined;
  }
}

/**
 * CPU time (user + system, every thread) a live process has used so far, seconds; undefined
 * once it is gone. Fields 14 and 15 of /proc/PID/stat, in clock ticks (USER_HZ, 100 on Linux).
 */
export function procCpuSeconds(pid: number, thread?: number): number | undefined {
  try {
    const stat = readFileSync(thread === undefined ? `/proc/${pid}/stat` : `/proc/${pid}/task/${thread}/stat`, 'utf8');
    // The command name (field 2) may hold spaces: count fields after its closing parenthesis.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return undefined;
  }
}

/** CPU seconds of a process's main (JavaScript) thread alone, whose thread id is the pid. */
export function mainThreadCpuSeconds(pid: number): number | undefined {
  return procCpuSeconds(pid, pid);
}

async function stopNode(node: ZaqarNode, boundMs: number): Promise<void> {
  if (node.process.exitCode !== null || node.process.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => node.process.once('exit', () => resolve()));
  node.process.kill('SIGTERM');
  const timer = setTimeout(() => node.process.kill('SIGKILL'), boundMs);
  await exited;
  clearTimeout(timer);
}

export async function stopZaqar(cluster: ZaqarCluster): Promise<void> {
  await Promise.all(cluster.nodes.map((node) => stopNode(node, 20_000)));
  rmSync(cluster.dir, { recursive: true, force: true });
}

/** The loaders' default project (X-Project-ID), with the queue name what places a queue on a shard. */
/** Clock ticks (USER_HZ, 100 on Linux) of the main thread and of all others, user and system. */
export interface Ticks {
  mainUser: number;
  mainSystem: number;
  otherUser: number;
  otherSystem: number;
}

/** Each thread of a process: its id, name (`comm`) and clock ticks so far, from /proc/PID/task. */
function* threadStats(pid: number): Generator<{ tid: string; name: string; user: number; system: number }> {
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    let stat: string;
    try {
      stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
    } catch {
      continue; // the thread ended meanwhile
    }
    // The command name (field 2) may hold spaces: count fields after its closing parenthesis.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    yield { tid, name: stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')), user: Number(fields[11]), system: Number(fields[12]) };
  }
}

export function threadTicks(pid: number): Ticks {
  const ticks = { mainUser: 0, mainSystem: 0, otherUser: 0, otherSystem: 0 };
  for (const { tid, user, system } of threadStats(pid)) {
    if (tid === String(pid)) {
      ticks.mainUser += user;
      ticks.mainSystem += system;
    } else {
      ticks.otherUser += user;
      ticks.otherSystem += system;
    }
  }
  return ticks;
}

/** Clock ticks (user + system) per thread, keyed "main" or "NAME/TID" (Node 20 leaves most threads named "node"). */
export function ticksPerThread(pid: number): Map<string, number> {
  const perThread = new Map<string, number>();
  for (const { tid, name, user, system } of threadStats(pid)) perThread.set(tid === String(pid) ? 'main' : `${name}/${tid}`, user + system);
  return perThread;
}

export const loaderProject = 'perf-anchors';

function shardOfQueue(queue: string): ShardId {
  return new ShardMap().shardOf(loaderProject, queue);
}

/**
 * The node that leads `queue`'s shard. Leaders have settled on their preferred voters
 * (startZaqar waits for it), so it is placement.ts preferredLeader.
 */
export function shardLeader(nodes: readonly ZaqarNode[], queue: string): ZaqarNode {
  const members = nodes.map((node) => node.id as NodeId);
  const leader = preferredLeader(shardOfQueue(queue), { voters: members, members });
  const found = nodes.find((node) => node.id === leader);
  if (found === undefined) throw new Error(`no node leads the shard of queue ${queue}`);
  return found;
}

/** Whether `node` leads `queue`'s shard or follows it (its requests for the queue are forwarded). */
export function roleFor(nodes: readonly ZaqarNode[], node: ZaqarNode, queue: string): 'leader' | 'follower' {
  return shardLeader(nodes, queue).id === node.id ? 'leader' : 'follower';
}

/** The first queue name `prefix-N` (N = 0, 1, ...) that `accept` takes. */
export function firstQueueName(prefix: string, accept: (queue: string) => boolean): string {
  for (let i = 0; ; i++) if (accept(`${prefix}-${i}`)) return `${prefix}-${i}`;
}

/** The node a load enters by: the leader of `queue`'s shard, or the next node after it (a follower, whose requests are forwarded). */
export function entryNode(nodes: readonly ZaqarNode[], queue: string, role: 'leader' | 'follower'): ZaqarNode {
  const leader = shardLeader(nodes, queue);
  return role === 'leader' ? leader : nodes[(nodes.indexOf(leader) + 1) % nodes.length] ?? leader;
}
