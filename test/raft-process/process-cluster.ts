/**
 * Launches raft-node-process.ts nodes as real child processes on 127.0.0.1 and talks to
 * their control channel (fetch). Used by the crash test; every wait has a deadline.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll } from 'vitest';
import type { NodeProcessConfig } from './raft-node-process.js';

export interface GroupStatus {
  readonly shardId: number;
  readonly role: string;
  readonly term: number;
  readonly leader: number | null;
  readonly commit: number;
  readonly applied: number;
  readonly lastIndex: number;
  readonly isDamaged: boolean;
  readonly isFailed: boolean;
}

export interface RunningNode {
  readonly id: number;
  readonly child: ChildProcess;
  readonly raftPort: number;
  readonly controlUrl: string;
  readonly exited: Promise<void>;
}

const nodeScript = fileURLToPath(new URL('./raft-node-process.ts', import.meta.url));

export async function startNode(config: NodeProcessConfig): Promise<RunningNode> {
  const child = spawn(process.execPath, ['--import', 'tsx', nodeScript, JSON.stringify(config)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const lines = createInterface({ input: child.stdout });
  const first = await Promise.race([
    new Promise<string>((resolve) => lines.once('line', resolve)),
    exited.then(() => undefined),
  ]);
  if (first === undefined) throw new Error(`node ${config.nodeId} exited before it was ready`);
  const { raftPort, controlPort } = JSON.parse(first) as { raftPort: number; controlPort: number };
  return { id: config.nodeId, child, raftPort, controlUrl: `http://127.0.0.1:${controlPort}`, exited };
}

export function nodeConfig(id: number, options: { root: string; voters: number[]; groupCount?: number }): NodeProcessConfig {
  return {
    nodeId: id,
    dataDir: join(options.root, `node-${id}`),
    raftPort: 0,
    voters: options.voters,
    groupCount: options.groupCount ?? 1,
    tickMs: 20,
  };
}

export function peersOf(nodes: readonly RunningNode[]): Record<string, string> {
  return Object.fromEntries(nodes.map((n) => [String(n.id), `127.0.0.1:${n.raftPort}`]));
}

export async function control<T>(node: RunningNode, path: string, body?: string): Promise<{ status: number; body: T }> {
  const response = await fetch(`${node.controlUrl}${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    ...(body === undefined ? {} : { body }),
    signal: AbortSignal.timeout(10_000),
  });
  return { status: response.status, body: (await response.json()) as T };
}

export async function killHard(node: RunningNode): Promise<void> {
  node.child.kill('SIGKILL');
  await node.exited;
}

export async function waitUntil<T>(probe: () => Promise<T | undefined>, what: string, timeoutMs = 60_000): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/**
 * A suite's cluster: a temp root made before the suite and, after it, every node still
 * in `nodes` killed and the root removed.
 */
export function useProcessCluster(prefix: string): { readonly root: () => string; readonly nodes: Map<number, RunningNode> } {
  let root = '';
  const nodes = new Map<number, RunningNode>();
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), prefix));
  });
  afterAll(async () => {
    for (const node of nodes.values()) await killHard(node);
    await rm(root, { recursive: true, force: true });
  });
  return { root: () => root, nodes };
}
