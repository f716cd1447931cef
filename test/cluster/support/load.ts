/**
 * A steady produce/claim/delete load against a cluster, over HTTP to random running
 * nodes, recording what the checks of the failover suites need: every id acknowledged
 * with 201, every claim seen (to prove no message is in two live claims), and per shard
 * when posts succeeded (to measure how long writes paused after a fault).
 *
 * Bounded: a fixed number of producer and consumer loops, each one request at a time
 * with a per-request timeout, stopped by `stop()`.
 */
import { randomUUID } from 'node:crypto';
import type { ClusterLauncher } from '../../support/cluster-launcher.js';

/** The cluster's queue → shard hash (FNV-1a over project, NUL, queue), pinned by the server's tests. */
export function shardOf(project: string, queue: string, shardCount: number): number {
  let hash = 0x811c9dc5;
  for (const byte of Buffer.from(`${project}\u0000${queue}`, 'utf8')) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return (hash >>> 0) % shardCount;
}

/** Queue names covering every shard `perShard` times. */
export function queuesCoveringShards(project: string, shardCount: number, perShard: number): { name: string; shard: number }[] {
  const counts = new Array<number>(shardCount).fill(0);
  const queues: { name: string; shard: number }[] = [];
  for (let i = 0; queues.length < shardCount * perShard; i++) {
    const name = `load-${i}`;
    const shard = shardOf(project, name, shardCount);
    if ((counts[shard] ?? 0) >= perShard) continue;
    counts[shard] = (counts[shard] ?? 0) + 1;
    queues.push({ name, shard });
  }
  return queues;
}

const requestTimeoutMs = 15_000;
const claimTtlSeconds = 300;

export interface PostRecord {
  readonly shard: number;
  readonly sentMs: number;
  readonly doneMs: number;
  readonly status: number;
}

export class ClusterLoad {
  readonly project = `load-${randomUUID()}`;
  private readonly clientId = randomUUID();
  readonly acked = new Set<string>();
  /** message id → claim ids that held it. */
  readonly claimsOf = new Map<string, Set<string>>();
  readonly posts: PostRecord[] = [];
  readonly statusCounts = new Map<number, number>();
  private isStopped = false;
  private loops: Promise<void>[] = [];
  private turn = 0;
  queues: { name: string; shard: number }[] = [];

  constructor(
    private readonly cluster: ClusterLauncher,
    private readonly shardCount: number,
  ) {}

  async start(options: { producers: number; consumers: number }): Promise<void> {
    this.queues = queuesCoveringShards(this.project, this.shardCount, 2);
    for (const queue of this.queues) {
      const reply = await this.request('PUT', `/v2/queues/${queue.name}`, undefined);
      if (reply.status !== 201 && reply.status !== 204) throw new Error(`create ${queue.name}: ${reply.status}`);
    }
    for (let i = 0; i < options.producers; i++) this.loops.push(this.produce(i));
    for (let i = 0; i < options.consumers; i++) this.loops.push(this.consume(i));
  }

  async stop(): Promise<void> {
    this.isStopped = true;
    await Promise.all(this.loops);
  }

  /** Milliseconds from `sinceMs` to the first 201 post to `shard` sent after it, if any. */
  resumeMs(shard: number, sinceMs: number): number | undefined {
    const first = this.posts.filter((p) => p.shard === shard && p.sentMs >= sinceMs && p.status === 201).sort((a, b) => a.doneMs - b.doneMs)[0];
    return first === undefined ? undefined : first.doneMs - sinceMs;
  }

  /** Ids held by more than one claim. */
  doublyClaimed(): string[] {
    return [...this.claimsOf].filter(([, claims]) => claims.size > 1).map(([id]) => id);
  }

  /** Every message still stored in the load's queues (claimed ones included). */
  async remaining(): Promise<Set<string>> {
    const ids = new Set<string>();
    for (const queue of this.queues) {
      let path: string | undefined = `/v2/queues/${queue.name}/messages?include_claimed=true&echo=true&limit=20`;
      for (let page = 0; path !== undefined && page < 10_000; page++) {
        const reply = await this.request('GET', path, undefined);
        if (reply.status !== 200) throw new Error(`list ${queue.name}: ${reply.status}`);
        const body = reply.body as { messages: { id: string }[]; links: { rel: string; href: string }[] };
        if (body.messages.length === 0) break;
        for (const m of body.messages) ids.add(m.id);
        path = body.links.find((l) => l.rel === 'next')?.href;
      }
    }
    return ids;
  }

  private async produce(loop: number): Promise<void> {
    for (let i = 0; !this.isStopped; i++) {
      const queue = this.queues[(loop + i) % this.queues.length];
      if (queue === undefined) return;
      const sentMs = Date.now();
      const reply = await this.request('POST', `/v2/queues/${queue.name}/messages`, { messages: [{ body: { loop, i }, ttl: 3600 }, { body: { loop, i, n: 2 }, ttl: 3600 }] });
      this.posts.push({ shard: queue.shard, sentMs, doneMs: Date.now(), status: reply.status });
      if (reply.status === 201) {
        for (const href of (reply.body as { resources: string[] }).resources) this.acked.add(href.split('/').pop() ?? '');
      } else {
        await pause(20); // 503 during an election, or no node reachable: breathe
      }
    }
  }

  private async consume(loop: number): Promise<void> {
    for (let i = 0; !this.isStopped; i++) {
      const queue = this.queues[(loop * 7 + i) % this.queues.length];
      if (queue === undefined) return;
      const reply = await this.request('POST', `/v2/queues/${queue.name}/claims?limit=5`, { ttl: claimTtlSeconds, grace: 60 });
      if (reply.status !== 201) {
        await pause(20);
        continue;
      }
      const href = reply.headers.get('location') ?? '';
      const claimId = href.split('/').pop() ?? '';
      for (const message of (reply.body as { messages: { id: string }[] }).messages) {
        const claims = this.claimsOf.get(message.id) ?? new Set<string>();
        claims.add(claimId);
        this.claimsOf.set(message.id, claims);
        await this.request('DELETE', `/v2/queues/${queue.name}/messages/${message.id}?claim_id=${claimId}`, undefined);
      }
    }
  }

  /** One request to a running node (rotating); status 0 when the node could not be reached. */
  private async request(method: string, path: string, json: unknown): Promise<{ status: number; headers: Headers; body: unknown }> {
    const running = this.cluster.running();
    const node = running[this.turn++ % Math.max(running.length, 1)];
    if (node === undefined) return { status: 0, headers: new Headers(), body: undefined };
    try {
      const response = await fetch(`${node.url}${path}`, {
        method,
        headers: { 'Client-ID': this.clientId, 'X-Project-ID': this.project, 'Content-Type': 'application/json' },
        ...(json === undefined ? {} : { body: JSON.stringify(json) }),
        signal: AbortSignal.timeout(requestTimeoutMs),
      });
      const text = await response.text();
      this.statusCounts.set(response.status, (this.statusCounts.get(response.status) ?? 0) + 1);
      return { status: response.status, headers: response.headers, body: text === '' ? undefined : JSON.parse(text) };
    } catch {
      this.statusCounts.set(0, (this.statusCounts.get(0) ?? 0) + 1);
      return { status: 0, headers: new Headers(), body: undefined };
    }
  }
}

export function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
