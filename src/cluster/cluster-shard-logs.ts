/**
 * ClusterShardLogs: the ShardLogSource of a clustered node. Every shard is one Raft
 * group (RaftShardHost) whose state machine is the shard's QueueFsm, and the broker
 * talks to it through a RoutedShardLog, so any node serves any shard.
 *
 * Placement: every node hosts a replica of every shard (reads are served locally, so a
 * node must hold the shards it serves). A new group's voters are `initialMembers`; a
 * node outside them starts its groups empty and waits to be added (`changeMembership`:
 * learner, catch up, promote, one shard at a time); a removed node is dropped from every
 * group the same way. `members` is the address book of every node that may take part.
 *
 * Leaders are spread: every `balanceIntervalMs`, a leader that is not its shard's
 * preferred voter (the current voters in id order, shard id modulo their count) hands
 * leadership to it when that voter is up and caught up, so leaders follow membership.
 */
import { assert } from '../common/assert.js';
import type { Clock } from '../common/clock.js';
import type { NodeId, ShardId } from '../common/ids.js';
import type { Random } from '../common/random.js';
import type { Delays, Timers } from '../common/timers.js';
import type { RaftTransport } from '../raft/types.js';
import type { ClusterHealthReport, PeerHealth, ShardHealth } from './cluster-health.js';
import { serveForward, type ForwardReply, type ForwardRequest, type Forwarder } from './forward-protocol.js';
import { raftReportOf } from './metrics.js';
import type { RaftGroupReport, RaftMetrics } from '../raft/metrics.js';
import type { MembershipChange, MembershipDeps } from './membership.js';
import { changeClusterMembership } from './membership-router.js';
import { RaftShardHost } from './raft-shard-host.js';
import type { CompactionPolicy } from './shard-compactor.js';
import { RoutedShardLog } from './routed-shard-log.js';
import type { BrokerStores, ShardLogSource } from './sharded-broker.js';
import type { ShardGroup } from './shard-group.js';
import type { QueueFsm } from './shard/queue-fsm.js';
import type { ShardLog } from './shard/shard-log.js';

export interface ClusterShardLogsOptions {
  readonly nodeId: NodeId;
  /** Every node of the address book, this node included. */
  readonly members: readonly NodeId[];
  /** Voters of brand-new groups; default `members`. A node outside them joins later. */
  readonly initialMembers?: readonly NodeId[];
  readonly shardCount: number;
  readonly tickMs: number;
  readonly electionTicks: number;
  /** How long a request may wait for a shard's leader before failing as unavailable. */
  readonly routeWaitMs: number;
  readonly balanceIntervalMs: number;
  /** When shards snapshot and compact their Raft logs (defaults: defaultCompactionPolicy). */
  readonly compaction?: Partial<CompactionPolicy>;
  /**
   * Persist rounds a node keeps in flight (asynchronous storage writes when above 1;
   * 1: each round's persist is awaited before the next round). Default 4.
   */
  readonly persistRoundsInFlightMax?: number;
}

export const defaultPersistRoundsInFlightMax = 4;

export interface ClusterShardLogsDeps {
  readonly transport: RaftTransport | undefined;
  readonly forwarder: Forwarder;
  readonly clock: Clock;
  readonly random: Random;
  readonly timers: Timers;
  readonly delays: Delays;
  /** The node's view of its peers, for health reports. */
  readonly peerView?: () => readonly PeerHealth[];
  /** Runs after the groups stopped (the composition closes the cluster network here). */
  readonly onDrained?: () => Promise<void>;
  /** Leader changes and refused proposals; none when absent. */
  readonly metrics?: RaftMetrics;
}

const routeRetryMs = 50;
/** How long adding or removing a node may take per shard (a learner catching up a long log). */
const membershipTimeoutMs = 60_000;
const transferLagEntriesMax = 64;
/** Shutdown hand-off: how often to look whether this node still leads a shard, and for how long. */
const handOffPollMs = 50;
const handOffPollsMax = 200;

export class ClusterShardLogs implements ShardLogSource {
  private readonly host: RaftShardHost;
  private readonly stopBalancer: () => void;

  constructor(
    stores: BrokerStores,
    private readonly options: ClusterShardLogsOptions,
    private readonly deps: ClusterShardLogsDeps,
  ) {
    assert(options.members.includes(options.nodeId), () => `node ${options.nodeId} is not a member`);
    const persistRoundsInFlightMax = options.persistRoundsInFlightMax ?? defaultPersistRoundsInFlightMax;
    this.host = new RaftShardHost({
      nodeId: options.nodeId,
      logStore: stores.logStore,
      transport: deps.transport,
      random: deps.random,
      timers: deps.timers,
      delays: deps.delays,
      tickMs: options.tickMs,
      raft: { electionTicks: options.electionTicks, isAsyncStorageWrites: persistRoundsInFlightMax > 1 },
      persistRoundsInFlightMax,
      limits: { waitMs: Math.max(options.routeWaitMs / 2, options.tickMs * options.electionTicks) },
      ...(deps.metrics === undefined ? {} : { metrics: deps.metrics }),
      ...(options.compaction === undefined ? {} : { compaction: options.compaction }),
    });
    this.stopBalancer = deps.timers.every(options.balanceIntervalMs, () => this.spreadLeaders());
  }

  /** `flushes`: persist rounds; `proposals`: group Readys persisted in them (more than rounds when shards share a flush). */
  get stats(): { readonly flushes: number; readonly proposals: number } {
    return { flushes: this.host.stats.rounds, proposals: this.host.stats.readys };
  }

  openShard(fsm: QueueFsm): ShardLog {
    const initial = this.options.initialMembers ?? this.options.members;
    const group = this.host.addGroup(fsm, initial.includes(this.options.nodeId) ? initial : []);
    return new RoutedShardLog(group, {
      nodeId: this.options.nodeId,
      forwarder: this.deps.forwarder,
      clock: this.deps.clock,
      delays: this.deps.delays,
      routeWaitMs: this.options.routeWaitMs,
      retryMs: routeRetryMs,
      // About one election: long enough to notice a healed partition's new leader.
      unreachableWaitMs: this.options.tickMs * this.options.electionTicks,
    });
  }

  /** Snapshots this node's replica of a shard has stored (log compactions). */
  compactions(shardId: ShardId): number {
    return this.host.compactions(shardId);
  }

  /** This node's replica of a shard (the forwarding service proposes on it). */
  group(shardId: ShardId): ShardGroup | undefined {
    return this.host.group(shardId);
  }

  /** Raft metrics and readiness (ShardedBroker.raftReports / isCaughtUp). */
  raftReports(): RaftGroupReport[] {
    return this.shardHealth().map(raftReportOf);
  }

  /** This node's replicas and its peers, for the detailed health report. */
  health(): ClusterHealthReport {
    return { nodeId: this.options.nodeId, shards: this.shardHealth(), peers: this.deps.peerView?.() ?? [] };
  }

  shardHealth(): ShardHealth[] {
    return this.host.allGroups().map((group) => {
      const status = group.status();
      const lagEntries: Record<string, number> = {};
      for (const [nodeId, progress] of status.progress) lagEntries[String(nodeId)] = status.lastIndex - progress.match;
      return {
        shardId: group.shardId,
        role: status.role,
        leader: status.leader,
        term: status.term,
        commit: status.commit,
        applied: group.fsm.appliedIndex,
        lastIndex: status.lastIndex,
        voters: status.conf.voters,
        lagEntries,
        isFailed: group.failure !== undefined,
      };
    });
  }

  /** The voter that should lead a shard: leaders spread evenly over the current voters. */
  private preferredLeader(group: ShardGroup): NodeId | undefined {
    const voters = [...group.status().conf.voters].sort((a, b) => a - b);
    return voters[group.shardId % Math.max(voters.length, 1)];
  }

  /** Serves a forwarded request on this node's replica (the gRPC forwarding service calls it). */
  serve(request: ForwardRequest): Promise<ForwardReply> {
    return serveForward(this.host.group(request.shardId), request, this.membershipDeps());
  }

  /** Adds a node to (or removes it from) every shard's group, one shard at a time. */
  changeMembership(change: MembershipChange): Promise<void> {
    return changeClusterMembership(this.host.allGroups(), change, {
      nodeId: this.options.nodeId,
      peers: this.options.members.filter((id) => id !== this.options.nodeId),
      forwarder: this.deps.forwarder,
      membership: this.membershipDeps(),
    });
  }

  private membershipDeps(): MembershipDeps {
    return { clock: this.deps.clock, delays: this.deps.delays, timeoutMs: membershipTimeoutMs, catchUpEntriesMax: transferLagEntriesMax };
  }

  /** Hands leadership of each shard this node leads to its preferred replica, if that is another node. */
  private spreadLeaders(): void {
    for (const group of this.host.allGroups()) {
      if (!group.isLeader()) continue;
      const preferred = this.preferredLeader(group);
      if (preferred === undefined || preferred === this.options.nodeId) continue;
      const progress = group.core.progress.get(preferred);
      // Only to a replica that answered recently and is nearly caught up, so the transfer is quick.
      if (progress === undefined || !progress.recentActive || group.core.log.lastIndex() - progress.match > transferLagEntriesMax) continue;
      group.requestTransfer(preferred);
    }
  }

  /**
   * Shutdown (ShardedBroker.transferLeadershipAway): every shard led here hands its
   * leadership to its most caught-up replica that answered recently; resolves once this
   * node leads no shard, and rejects naming the shards still led here after about ten
   * seconds (the drain bounds the wait anyway). The balancer stops first so it cannot
   * hand leadership back.
   */
  async transferLeadershipAway(): Promise<void> {
    this.stopBalancer();
    // A group with no other voter (a cluster of one) has no one to hand over to.
    const ledHere = (): ShardGroup[] => this.host.allGroups()
      .filter((group) => group.isLeader() && group.status().conf.voters.some((nodeId) => nodeId !== this.options.nodeId));
    for (let poll = 0; poll < handOffPollsMax; poll++) {
      const led = ledHere();
      if (led.length === 0) return;
      for (const group of led) {
        const target = this.handOffTarget(group);
        if (target !== undefined) group.requestTransfer(target);
      }
      await new Promise<void>((resolve) => this.deps.delays.after(handOffPollMs, resolve));
    }
    const stillLed = ledHere().map((group) => group.shardId);
    if (stillLed.length > 0) throw new Error(`node ${this.options.nodeId} still leads shards ${stillLed.join(', ')}`);
  }

  private handOffTarget(group: ShardGroup): NodeId | undefined {
    let target: NodeId | undefined;
    let targetMatch = -1;
    for (const [nodeId, progress] of group.core.progress) {
      if (nodeId === this.options.nodeId || !progress.recentActive || progress.match <= targetMatch) continue;
      target = nodeId;
      targetMatch = progress.match;
    }
    return target;
  }

  /** Stops the groups; called by the broker's close before the stores close. */
  async drain(): Promise<void> {
    this.stopBalancer();
    await this.host.close();
    await this.deps.onDrained?.();
  }
}
