/**
 * Prometheus side of the cluster, raft and log metrics. Counters are bumped by the
 * layers' named events; positions (queue depth, role, term, indexes, follower lag,
 * store size) are read from report functions when Prometheus scrapes, so nothing is
 * updated on the hot path and a removed shard disappears from the next scrape (the
 * sampled gauges are reset before each read). Label `shard` is a shard id, `follower`
 * a node id: both bounded by the cluster's layout.
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { ClusterMetrics, ShardReport } from '../cluster/metrics.js';
import type { ShardId } from '../common/ids.js';
import type { LogMetrics } from '../log/metrics.js';
import type { RaftGroupReport, RaftMetrics, RaftRole } from '../raft/metrics.js';

const roles: readonly RaftRole[] = ['follower', 'pre_candidate', 'candidate', 'leader'];

/** Persist (flush) latency buckets: 100 µs (page cache) to 2.5 s (a stalled disk). */
const flushBuckets = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

/** Where the sampled gauges read from; each may be replaced as the node's parts start. */
export interface ShardSources {
  shards(): readonly ShardReport[];
  raftGroups(): readonly RaftGroupReport[];
  /** Bytes the node's log store occupies on disk; undefined when unknown. */
  storeBytes(): number | undefined;
}

export class PromClusterMetrics implements ClusterMetrics {
  private readonly expired: Counter<'shard'>;
  private readonly deadLettered: Counter<'shard'>;

  constructor(registry: Registry, sources: Pick<ShardSources, 'shards'>) {
    const registers = [registry];
    this.expired = new Counter({
      name: 'zaqar_cluster_messages_expired_total',
      help: 'Messages removed by garbage collection because their ttl ran out, by shard.',
      labelNames: ['shard'],
      registers,
    });
    this.deadLettered = new Counter({
      name: 'zaqar_cluster_messages_dead_lettered_total',
      help: 'Messages moved to a dead-letter queue after too many claims, by source shard.',
      labelNames: ['shard'],
      registers,
    });
    sampledGauge(registry, {
      name: 'zaqar_cluster_shard_messages',
      help: 'Messages stored in each shard replica on this node (free, claimed, delayed, not yet collected).',
      labelNames: ['shard'],
      sample: (set) => sources.shards().forEach((s) => set({ shard: String(s.shardId) }, s.messages)),
    });
    sampledGauge(registry, {
      name: 'zaqar_cluster_shard_claimed_messages',
      help: 'Messages under a claim in each shard replica on this node.',
      labelNames: ['shard'],
      sample: (set) => sources.shards().forEach((s) => set({ shard: String(s.shardId) }, s.claimedMessages)),
    });
  }

  messagesExpired(shardId: ShardId, count: number): void {
    this.expired.inc({ shard: String(shardId) }, count);
  }

  messagesDeadLettered(shardId: ShardId, count: number): void {
    this.deadLettered.inc({ shard: String(shardId) }, count);
  }

}

export class PromRaftMetrics implements RaftMetrics {
  private readonly leaderChanges: Counter<'shard'>;
  private readonly rejected: Counter<'shard' | 'reason'>;

  constructor(registry: Registry, sources: Pick<ShardSources, 'raftGroups'>) {
    const registers = [registry];
    this.leaderChanges = new Counter({
      name: 'zaqar_raft_leader_changes_total',
      help: 'Times the known leader of a shard changed, as seen by this node.',
      labelNames: ['shard'],
      registers,
    });
    this.rejected = new Counter({
      name: 'zaqar_raft_proposals_rejected_total',
      help: 'Proposals and reads this replica refused, by shard and reason (not_leader, overloaded, stopped, ...).',
      labelNames: ['shard', 'reason'],
      registers,
    });
    const groups = (): readonly RaftGroupReport[] => sources.raftGroups();
    sampledGauge(registry, {
      name: 'zaqar_raft_role',
      help: 'Role of this node in each shard group: 1 for the current role, 0 for the others.',
      labelNames: ['shard', 'role'],
      sample: (set) => groups().forEach((g) => roles.forEach((role) => set({ shard: String(g.shardId), role }, g.role === role ? 1 : 0))),
    });
    const perGroup = (name: string, help: string, value: (g: RaftGroupReport) => number): void =>
      sampledGauge(registry, {
        name,
        help,
        labelNames: ['shard'],
        sample: (set) => groups().forEach((g) => set({ shard: String(g.shardId) }, value(g))),
      });
    perGroup('zaqar_raft_has_leader', 'Whether this node knows a leader for the shard (1) or not (0).', (g) => (g.hasLeader ? 1 : 0));
    perGroup('zaqar_raft_term', 'Current Raft term of the shard on this node.', (g) => g.term);
    perGroup('zaqar_raft_commit_index', 'Highest log index known committed for the shard.', (g) => g.commitIndex);
    perGroup('zaqar_raft_applied_index', 'Highest log index applied to the shard state machine on this node.', (g) => g.appliedIndex);
    sampledGauge(registry, {
      name: 'zaqar_raft_follower_lag_entries',
      help: "Entries a follower lacks, reported by the shard's leader (leader's last index minus the follower's match).",
      labelNames: ['shard', 'follower'],
      sample: (set) => groups().forEach((g) => {
        for (const [follower, lag] of g.followerLag) set({ shard: String(g.shardId), follower: String(follower) }, lag);
      }),
    });
  }

  leaderChanged(shardId: ShardId): void {
    this.leaderChanges.inc({ shard: String(shardId) });
  }

  proposalRejected(shardId: ShardId, reason: string): void {
    this.rejected.inc({ shard: String(shardId), reason });
  }
}

export class PromLogMetrics implements LogMetrics {
  private readonly flushSeconds: Histogram;
  private readonly bytesWritten: Counter;
  private readonly failures: Counter;

  constructor(registry: Registry, sources: Pick<ShardSources, 'storeBytes'>) {
    const registers = [registry];
    this.flushSeconds = new Histogram({
      name: 'zaqar_log_flush_duration_seconds',
      help: 'Time for one log persist (entries and hard state) to become durable on disk.',
      buckets: flushBuckets,
      registers,
    });
    this.bytesWritten = new Counter({ name: 'zaqar_log_persisted_bytes_total', help: 'Entry payload bytes persisted to the log.', registers });
    this.failures = new Counter({ name: 'zaqar_log_persist_failures_total', help: 'Log persists that failed (the shard stops).', registers });
    new Gauge({
      name: 'zaqar_log_store_bytes',
      help: "Size on disk of the node's LMDB environment (Raft log and queue state of every shard).",
      registers,
      collect() {
        const bytes = sources.storeBytes();
        if (bytes !== undefined) this.set(bytes);
      },
    });
  }

  persisted(outcome: { seconds: number; bytes: number }): void {
    this.flushSeconds.observe(outcome.seconds);
    this.bytesWritten.inc(outcome.bytes);
  }

  persistFailed(): void {
    this.failures.inc();
  }
}

type SetSample = (labels: Record<string, string>, value: number) => void;

/** A gauge whose series are rebuilt from `sample` on every scrape. */
function sampledGauge(registry: Registry, spec: { name: string; help: string; labelNames: readonly string[]; sample: (set: SetSample) => void }): void {
  new Gauge({
    name: spec.name,
    help: spec.help,
    labelNames: spec.labelNames,
    registers: [registry],
    collect() {
      this.reset();
      spec.sample((labels, value) => this.set(labels, value));
    },
  });
}
