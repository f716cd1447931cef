/**
 * Every metric of one node, on one prom-client Registry that the composition root
 * creates (tests make a fresh one each): the layers' implementations, the sampled
 * shard/raft/log gauges, and Node's process metrics (event-loop lag, heap, GC, CPU,
 * file descriptors) from `collectDefaultMetrics`. The only other module that imports
 * prom-client is request-metrics.ts/shard-metrics.ts beside it (CI enforces this).
 */
import { collectDefaultMetrics, type Registry } from 'prom-client';
import type { ShardReport } from '../cluster/metrics.js';
import type { RaftGroupReport } from '../raft/metrics.js';
import { PromApiMetrics, PromNotificationMetrics, PromTransportMetrics } from './request-metrics.js';
import { PromClusterMetrics, PromLogMetrics, PromRaftMetrics, type ShardSources } from './shard-metrics.js';

export class NodeMetrics {
  readonly transport: PromTransportMetrics;
  readonly api: PromApiMetrics;
  readonly notifications: PromNotificationMetrics;
  readonly cluster: PromClusterMetrics;
  readonly raft: PromRaftMetrics;
  readonly log: PromLogMetrics;
  private sources: ShardSources = { shards: () => [], raftGroups: () => [], storeBytes: () => undefined };

  constructor(private readonly registry: Registry, options: { readonly processMetrics?: boolean } = {}) {
    const sources: ShardSources = {
      shards: () => this.sources.shards(),
      raftGroups: () => this.sources.raftGroups(),
      storeBytes: () => this.sources.storeBytes(),
    };
    this.transport = new PromTransportMetrics(registry);
    this.api = new PromApiMetrics(registry);
    this.notifications = new PromNotificationMetrics(registry);
    this.cluster = new PromClusterMetrics(registry, sources);
    this.raft = new PromRaftMetrics(registry, sources);
    this.log = new PromLogMetrics(registry, sources);
    if (options.processMetrics ?? true) collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: 20 });
  }

  /** Where the sampled gauges read from, once the broker is open. */
  observe(sources: Partial<{
    shards: () => readonly ShardReport[];
    raftGroups: () => readonly RaftGroupReport[];
    storeBytes: () => number | undefined;
  }>): void {
    this.sources = { ...this.sources, ...sources };
  }

  /** The text exposition format and its content type, for `GET /metrics`. */
  async exposition(): Promise<{ contentType: string; text: string }> {
    return { contentType: this.registry.contentType, text: await this.registry.metrics() };
  }
}
