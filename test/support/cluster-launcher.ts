/**
 * Starts N compiled `zaqar-ts serve` processes on 127.0.0.1 as one static cluster, each
 * with its own temp data dir, HTTP port and cluster (Raft + forwarding gRPC) port, all
 * chosen free up front so a node restarts on the same addresses. With `isProxied`, node
 * i reaches node j through its own TcpProxy, so `partition` can cut links. Nodes can be
 * crashed (`kill -9`), restarted and stopped one by one.
 *
 * `status(id)` reads a node's `GET /v2/cluster` report (admin mode is on), which names
 * each shard's leader and indexes. Every wait has a deadline.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TcpProxy } from './tcp-proxy.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const startDeadlineMs = 30_000;
const stopDeadlineMs = 10_000;
export const adminHeaders = { 'Client-ID': '3fa85f64-5717-4562-b3fc-2c963f66afa6', 'X-Project-ID': 'admin', 'X-Roles': 'admin' };

export interface ClusterOptions {
  readonly nodes: number;
  readonly shards?: number;
  /** Zaqar options for every node's JSON config file (admin mode is added). */
  readonly config?: Record<string, unknown>;
  /** Routes node `from`'s traffic to node `to` through a TcpProxy per ordered pair (see `partition`). */
  readonly isProxied?: boolean;
  /** Voters of the new shard groups (`--initial-members`); the others wait to be added. */
  readonly initialMembers?: readonly number[];
  /** Voters per shard group (`--replicas`); default: the server's (3, capped at the member count). */
  readonly replicas?: number;
  /** Nodes started by `start` (default all); the others are started by the test. */
  readonly startNodes?: readonly number[];
  /**
   * Nodes that are in no one's `--peers` and start with `--join` of the first other node
   * instead (they learn the cluster from its address book and wait to be added).
   */
  readonly joinNodes?: readonly number[];
}

export interface ShardReport {
  readonly shardId: number;
  readonly role: string;
  readonly leader: number;
  readonly term: number;
  readonly commit: number;
  readonly applied: number;
  readonly lastIndex: number;
  readonly isFailed: boolean;
  readonly voters: readonly number[];
}

export interface ClusterReport {
  readonly nodeId: number;
  readonly shards: readonly ShardReport[];
  readonly peers: readonly { nodeId: number; address: string; isConnected: boolean }[];
}

/** A free TCP port on 127.0.0.1 (closed again at once; good enough on a test machine). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export class ClusterNode {
  private child: ChildProcess | undefined;
  private output = '';

  constructor(
    readonly id: number,
    readonly httpPort: number,
    readonly clusterPort: number,
    /** The node's `--data-dir` (read it only while the node is stopped). */
    readonly dataDir: string,
    private readonly args: readonly string[],
  ) {}

  get url(): string {
    return `http://127.0.0.1:${this.httpPort}`;
  }

  /** The cluster gRPC address the node listens on. */
  get clusterAddress(): string {
    return `127.0.0.1:${this.clusterPort}`;
  }

  get isRunning(): boolean {
    return this.child !== undefined;
  }

  /** Everything the current process printed (for failure messages). */
  get log(): string {
    return this.output;
  }

  async start(): Promise<void> {
    const child = spawn(process.execPath, [join(root, 'dist/src/cli.js'), ...this.args], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    this.output = '';
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`node ${this.id} did not start in time:\n${this.output}`)), startDeadlineMs);
      child.stdout?.on('data', (chunk: Buffer) => {
        this.output += chunk.toString();
        if (/listening on http:/.test(this.output)) {
          clearTimeout(timer);
          resolve();
        }
      });
      child.stderr?.on('data', (chunk: Buffer) => {
        this.output += chunk.toString();
      });
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        if (this.child === child) this.child = undefined;
        reject(new Error(`node ${this.id} exited (${code ?? signal}) before listening:\n${this.output}`));
      });
    });
  }

  /** `kill -9`: no shutdown code runs. */
  crash(): Promise<void> {
    return this.waitExit('SIGKILL');
  }

  stop(): Promise<void> {
    return this.waitExit('SIGTERM');
  }

  private async waitExit(signal: NodeJS.Signals): Promise<void> {
    const child = this.child;
    if (child === undefined) return;
    this.child = undefined;
    if (child.exitCode !== null || child.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => child.kill('SIGKILL'), stopDeadlineMs);
      child.once('exit', () => {
        clearTimeout(timer);
        resolve();
      });
      child.kill(signal);
    });
  }
}

export class ClusterLauncher {
  private constructor(
    readonly nodes: readonly ClusterNode[],
    private readonly dir: string,
    private readonly proxies: ReadonlyMap<string, TcpProxy>,
  ) {}

  /** Cuts every link between `side` and the other nodes (both directions); needs `isProxied`. */
  partition(side: readonly number[]): void {
    if (this.proxies.size === 0) throw new Error('partition needs a cluster started with isProxied');
    for (const [pair, proxy] of this.proxies) {
      const [from, to] = pair.split('->').map(Number);
      if (side.includes(from ?? 0) !== side.includes(to ?? 0)) proxy.cut();
    }
  }

  heal(): void {
    for (const proxy of this.proxies.values()) proxy.heal();
  }

  static async start(options: ClusterOptions): Promise<ClusterLauncher> {
    const dir = await mkdtemp(join(tmpdir(), 'zaqar-ts-cluster-'));
    const configPath = join(dir, 'config.json');
    await writeFile(configPath, JSON.stringify({ admin_mode: true, ...options.config }));
    const ids = Array.from({ length: options.nodes }, (_, i) => i + 1);
    const ports = await Promise.all(ids.map(async () => ({ http: await freePort(), cluster: await freePort() })));
    const portOf = (id: number): { http: number; cluster: number } => ports[id - 1] ?? { http: 0, cluster: 0 };
    const proxies = new Map<string, TcpProxy>();
    const nodes: ClusterNode[] = [];
    const joinNodes = options.joinNodes ?? [];
    const seed = ids.find((id) => !joinNodes.includes(id)) ?? 1;
    for (const id of ids) {
      const peerList: string[] = [];
      for (const other of ids.filter((other) => !joinNodes.includes(other))) {
        let address = `127.0.0.1:${portOf(other).cluster}`;
        if (options.isProxied === true && other !== id) {
          const proxy = await TcpProxy.start({ host: '127.0.0.1', port: portOf(other).cluster });
          proxies.set(`${id}->${other}`, proxy);
          address = proxy.address;
        }
        peerList.push(`${other}=${address}`);
      }
      const peers = peerList.join(',');
      const args = [
        'serve',
        '--listen', `127.0.0.1:${portOf(id).http}`,
        '--data-dir', join(dir, `node${id}`),
        '--config', configPath,
        '--node-id', String(id),
        ...(joinNodes.includes(id) ? ['--join', `127.0.0.1:${portOf(seed).cluster}`] : ['--peers', peers]),
        '--raft-listen', `127.0.0.1:${portOf(id).cluster}`,
        ...(options.shards === undefined ? [] : ['--shards', String(options.shards)]),
        ...(options.initialMembers === undefined ? [] : ['--initial-members', options.initialMembers.join(',')]),
        ...(options.replicas === undefined ? [] : ['--replicas', String(options.replicas)]),
      ];
      nodes.push(new ClusterNode(id, portOf(id).http, portOf(id).cluster, join(dir, `node${id}`), args));
    }
    const cluster = new ClusterLauncher(nodes, dir, proxies);
    try {
      await Promise.all(nodes.filter((node) => options.startNodes?.includes(node.id) ?? true).map((node) => node.start()));
    } catch (error) {
      await cluster.stop();
      throw error;
    }
    return cluster;
  }

  node(id: number): ClusterNode {
    const node = this.nodes[id - 1];
    if (node === undefined) throw new Error(`no node ${id}`);
    return node;
  }

  running(): ClusterNode[] {
    return this.nodes.filter((node) => node.isRunning);
  }

  /** A node's view of the cluster (`GET /v2/cluster`, admin). */
  async status(id: number): Promise<ClusterReport> {
    const response = await fetch(`${this.node(id).url}/v2/cluster`, { headers: adminHeaders });
    if (response.status !== 200) throw new Error(`node ${id}: GET /v2/cluster answered ${response.status}`);
    return (await response.json()) as ClusterReport;
  }

  /** The leader of each shard as the running nodes agree on it (undefined while any is unknown). */
  async leaders(): Promise<Map<number, number> | undefined> {
    const leaders = new Map<number, number>();
    for (const node of this.running()) {
      for (const shard of (await this.status(node.id)).shards) {
        if (shard.role === 'leader') leaders.set(shard.shardId, node.id);
      }
    }
    return leaders;
  }

  /**
   * The node leading `shardId` now, waiting through an election. A leader read once in a
   * `beforeAll` can have stepped down by the time a test acts on it (elections run on a
   * loaded CI machine), so tests that kill or inspect "the leader" ask right before.
   */
  async leaderOf(shardId: number, deadlineMs = 30_000): Promise<number> {
    return ClusterLauncher.waitFor(`a leader of shard ${shardId}`, deadlineMs, async () => (await this.leaders())?.get(shardId));
  }

  /** Polls until `check` returns a value, or throws after `deadlineMs`. */
  static async waitFor<T>(what: string, deadlineMs: number, check: () => Promise<T | undefined>): Promise<T> {
    const end = Date.now() + deadlineMs;
    let lastError: unknown;
    while (Date.now() < end) {
      try {
        const value = await check();
        if (value !== undefined) return value;
      } catch (error) {
        lastError = error;
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error(`timed out waiting for ${what}`, { cause: lastError });
  }

  async stop(): Promise<void> {
    await Promise.all(this.nodes.map((node) => node.stop()));
    await Promise.all([...this.proxies.values()].map((proxy) => proxy.close()));
    await rm(this.dir, { recursive: true, force: true });
  }
}
