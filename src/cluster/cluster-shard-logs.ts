/**
 * ClusterShardLogs: the ShardLogSource of a clustered node. Every shard is one Raft
 * group (RaftShardHost) whose state machine is the shard's QueueFsm, and the broker
 * talks to it through a RoutedShardLog, so any node serves any shard.
 *
 * Placement: each shard's group has min(replicas, initial members) voters, placed by
 * initialPlacement over `initialMembers` (placement.ts). A node opens a group for a shard
 * when its store already holds the shard's Raft state (a restart: the stored
 * configuration is the truth), or, on a brand-new node (neither Raft nor queue state for
 * any shard), when it is in the shard's initial replica set. Deciding on the whole store,
 * not per shard, keeps a node that once left a shard (its queue state keeps the shard's
 * reset meta) from bootstrapping it again from the placement. While running, a node
 * gains and loses replicas as leaders add and remove it (ReplicaLifecycle), and
 * `changeMembership` rebalances the replicas over the new node set (membership-router.ts).
 * `members` is the address book of every node that may take part.
 *
 * Shards of pools (ids from placedShardBase, README "Pools and flavors") are outside
 * that placement: each is started on its pool's nodes when the pool is created
 * (`bootstrapShard`: every voter starts the group with the same voters, as a new
 * cluster's nodes do), reopened at restart from what the store holds, opened on other
 * nodes when a request needs them (the broker), and moved by membership changes within
 * their pool's nodes only (membership-router.ts, step 5).
 *
 * Every node serves every shard: a shard without a local replica is written through its
 * leader (RoutedShardLog) and read from a replica (RoutedShardReads), both found through
 * the shard's ShardReplicaView.
 *
 * Leaders are spread: every `balanceIntervalMs`, a leader that is not its shard's
 * preferred voter hands leadership to it when that voter is up and caught up, so leaders
 * follow membership. After a start the first elections pick leaders at random; with
 * `settlePassMs` the balancer looks that often until every hosted shard is led by its
 * preferred voter (or `settleWindowMs` passed), so leaders move right after the cluster
 * forms and not under load seconds later. The preferred voter (placement.ts preferredLeader: the first voter
 * at or after position `shardId` in the cyclic order of the address book) depends only on
 * the shard, its voters and the book, so nodes whose books agree compute the same one (no
 * hand-back and forth), and for the initial placement it is each shard's first replica:
 * leaders start evenly spread.
 *
 * With `followTraffic`, leadership also follows the traffic (traffic-leadership.ts): a
 * shard whose commands come mostly through one other voter moves to it, and the balancer
 * leaves a shard where its leader's own node takes most of its commands.
 */
import { assert } from '../common/assert.js';
import type { Clock } from '../common/clock.js';
import type { NodeId, ShardId } from '../common/ids.js';
import { silentLogger, type Logger } from '../common/logger.js';
import type { Random } from '../common/random.js';
import type { Delays, Timers } from '../common/timers.js';
import type { RaftTransport } from '../raft/types.js';
import type { ClusterHealthReport, PeerHealth, ShardHealth } from './cluster-health.js';
import { serveForward, type ForwardReply, type ForwardRequest, type Forwarder } from './forward-protocol.js';
import { ShardUnavailableError } from './errors.js';
import { initialPlacement, preferredLeader, type Placement, type ShardPlacement } from './placement.js';
import type { PlacedShard } from './placed-shards.js';
import { isPlacedShard, placedShardBase } from './shard-map.js';
import type { QueuePlacement } from './shard/queue-placement.js';
import { raftReportOf } from './metrics.js';
import type { RaftGroupReport, RaftMetrics } from '../raft/metrics.js';
import type { MembershipChange, MembershipDeps } from './membership.js';
import { changeClusterMembership } from './membership-router.js';
import { RaftShardHost } from './raft-shard-host.js';
import { ReplicaLifecycle } from './replica-lifecycle.js';
import type { CompactionPolicy } from './shard-compactor.js';
import { RoutedShardLog, type RouteDeps } from './routed-shard-log.js';
import { RoutedShardReads } from './routed-shard-reads.js';
import { TrafficLeadership, type TrafficFollowing } from './traffic-leadership.js';
import { ShardReplicaView } from './shard-replica-view.js';
import type { BrokerStores } from './broker-stores.js';
import type { ShardLogSource } from './shard-log-source.js';
import type { ShardGroup } from './shard-group.js';
import type { QueueFsm } from './shard/queue-fsm.js';
import type { ShardLog } from './shard/shard-log.js';
import type { ShardReads } from './shard/shard-query.js';

export interface ClusterShardLogsOptions {
  readonly nodeId: NodeId;
  /** Every node of the address book, this node included. */
  readonly members: readonly NodeId[];
  /** Voters of brand-new groups; default `members`. A node outside them joins later. */
  readonly initialMembers?: readonly NodeId[];
  /** Voters per shard group (capped at the initial member count); default: every initial member. */
  readonly replicas?: number;
  readonly shardCount: number;
  readonly tickMs: number;
  readonly electionTicks: number;
  /** How long a request may wait for a shard's leader before failing as unavailable. */
  readonly routeWaitMs: number;
  readonly balanceIntervalMs: number;
  /** How often the balancer looks while leaders have not settled after the start; absent: every `balanceIntervalMs`. */
  readonly settlePassMs?: number;
  /** When shards snapshot and compact their Raft logs (defaults: defaultCompactionPolicy). */
  readonly compaction?: Partial<CompactionPolicy>;
  /**
   * Persist rounds a node keeps in flight (asynchronous storage writes when above 1;
   * 1: each round's persist is awaited before the next round). Default: see
   * defaultPersistRoundsInFlightMax.
   */
  readonly persistRoundsInFlightMax?: number;
  /** Leadership moves to the voter that takes a shard's traffic (traffic-leadership.ts); absent: leaders stay with the balancer's choice. */
  readonly followTraffic?: TrafficFollowing;
}

/**
 * Rounds in flight by default on a node with peers: there a round waits for a follower's
 * persist and answer besides its own flush, and the next rounds overlap that wait (every
 * 3-node row of bench:e2e measured better). A node alone waits only for its own flush:
 * rounds in flight would split its batches (single-node producers measured −8%), so it
 * awaits each round (README, Benchmarks: "What changed").
 */
export function defaultPersistRoundsInFlightMax(members: readonly NodeId[]): number {
  return members.length > 1 ? 4 : 1;
}

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
  /** Rebalancing progress and replicas gained or dropped; silent when absent. */
  readonly logger?: Logger;
}

const routeRetryMs = 50;
/** How long adding or removing a node may take per shard (a learner catching up a long log). */
const membershipTimeoutMs = 60_000;
const transferLagEntriesMax = 64;
/** Shutdown hand-off: how often to look whether this node still leads a shard, and for how long. */
const handOffPollMs = 50;
const handOffPollsMax = 200;
/** How often hosted groups are checked for a configuration without this node. */
const sweepIntervalMs = 500;
/** The longest the balancer keeps its quick passes (a preferred voter that stays down never settles). */
const settleWindowMs = 30_000;

export class ClusterShardLogs implements ShardLogSource {
  private readonly host: RaftShardHost;
  private stopBalancer: () => void;
  private readonly stopSweeper: () => void;
  private readonly traffic: TrafficLeadership | undefined;
  /** Set when leadership is handed away for a shutdown: proposals from here stop naming this node as their origin. */
  private isHandingOff = false;
  private readonly stopTrafficWindows: () => void;
  private readonly lifecycle: ReplicaLifecycle;
  /** Replica sets of brand-new groups (and the first routing hints for shards hosted elsewhere). */
  private readonly placement: Placement;
  /** Where each shard's replicas are, for reaching shards without a local replica. */
  private readonly views = new Map<ShardId, ShardReplicaView>();
  /** Whether this node's stores held neither Raft nor queue state for any shard when it opened. */
  private readonly isBrandNew: boolean;
  /** Opens a pool's shard in the broker (its state machine), for a peer that names one not opened here. */
  private openPlaced: ((placement: QueuePlacement) => void) | undefined;

  constructor(
    private readonly stores: BrokerStores,
    private readonly options: ClusterShardLogsOptions,
    private readonly deps: ClusterShardLogsDeps,
  ) {
    assert(options.members.includes(options.nodeId), () => `node ${options.nodeId} is not a member`);
    const persistRoundsInFlightMax = options.persistRoundsInFlightMax ?? defaultPersistRoundsInFlightMax(options.members);
    const initial = options.initialMembers ?? options.members;
    this.placement = initialPlacement({ nodes: initial, shardCount: options.shardCount, replicas: options.replicas ?? initial.length });
    this.isBrandNew = Array.from({ length: options.shardCount }, (_, shardId) => shardId as ShardId)
      .every((shardId) => !stores.logStore.hasGroup(shardId) && stores.queueStore.getShardMeta(shardId) === undefined);
    this.host = new RaftShardHost({
      nodeId: options.nodeId,
      logStore: stores.logStore,
      transport: deps.transport,
      random: deps.random,
      timers: deps.timers,
      delays: deps.delays,
      tickMs: options.tickMs,
      clock: deps.clock,
      raft: { electionTicks: options.electionTicks, isAsyncStorageWrites: persistRoundsInFlightMax > 1 },
      persistRoundsInFlightMax,
      limits: { waitMs: Math.max(options.routeWaitMs / 2, options.tickMs * options.electionTicks) },
      ...(deps.metrics === undefined ? {} : { metrics: deps.metrics }),
      ...(options.compaction === undefined ? {} : { compaction: options.compaction }),
      onUnknownShard: (message) => this.lifecycle.adopt(message),
    });
    this.lifecycle = new ReplicaLifecycle({
      nodeId: options.nodeId,
      host: this.host,
      clock: deps.clock,
      viewOf: (shardId) => this.viewOf(shardId),
      // A few election timeouts: longer than the removed replica's old leader keeps sending.
      quarantineMs: 3 * options.tickMs * options.electionTicks,
      // A few election timeouts without a leader: longer than any election.
      probeAfterSweeps: Math.ceil((3 * options.tickMs * options.electionTicks) / sweepIntervalMs),
      describeElsewhere: (shardId) => this.describeElsewhere(shardId),
      openUnknown: (shardId) => {
        if (isPlacedShard(shardId)) this.openPlaced?.({ shardId, replicas: [] });
      },
      logger: deps.logger ?? silentLogger,
    });
    this.stopBalancer = options.settlePassMs === undefined
      ? deps.timers.every(options.balanceIntervalMs, () => this.spreadLeaders())
      : this.settleLeaders(options.settlePassMs);
    this.stopSweeper = deps.timers.every(sweepIntervalMs, () => this.lifecycle.sweep());
    const { followTraffic } = options;
    this.traffic = followTraffic === undefined ? undefined : new TrafficLeadership(options.nodeId, followTraffic);
    this.stopTrafficWindows = followTraffic === undefined ? () => {} : deps.timers.every(followTraffic.windowMs, () => this.followTraffic());
  }

  /** `flushes`: rounds that wrote to the log; `proposals`: group Readys written in them (more than rounds when shards share a flush). */
  get stats(): { readonly flushes: number; readonly proposals: number } {
    return { flushes: this.host.stats.rounds, proposals: this.host.stats.readys };
  }

  openShard(fsm: QueueFsm, hint: readonly NodeId[] = []): ShardLog {
    const shardId = fsm.shardId;
    const isPool = isPlacedShard(shardId);
    const replicas = isPool ? hint : this.placement.find((shard) => shard.shardId === shardId)?.replicas ?? [];
    const isPlacedHere = !isPool && replicas.includes(this.options.nodeId);
    // A brand-new node outside the initial members hosts nothing until leaders add it;
    // a pool's shard starts only through bootstrapShard.
    const isHosted = this.isBrandNew && !isPool ? isPlacedHere : this.stores.logStore.hasGroup(shardId);
    // A restarted group's stored configuration wins over these initial voters (RaftCore).
    if (isHosted) this.host.addGroup(fsm, isPlacedHere ? replicas : []);
    this.lifecycle.register(fsm);
    this.views.set(shardId, new ShardReplicaView(replicas, this.options.members));
    return new RoutedShardLog(shardId, () => this.host.group(shardId), this.viewOf(shardId), this.routeDeps());
  }

  openReads(fsm: QueueFsm, local: ShardReads): ShardReads {
    const shardId = fsm.shardId;
    return new RoutedShardReads(shardId, () => this.host.group(shardId), local, this.viewOf(shardId), this.routeDeps());
  }

  attach(openPlaced: (placement: QueuePlacement) => void): void {
    this.openPlaced = openPlaced;
  }

  storedPlacedShards(): readonly ShardId[] {
    return this.stores.logStore.storedGroups(placedShardBase as ShardId);
  }

  /** Starts a pool's new shard group on each of its voters (all of them, or it fails as unavailable; repeating it is harmless). */
  async bootstrapShard(placement: QueuePlacement): Promise<void> {
    const { shardId, replicas } = placement;
    await Promise.all(replicas.map(async (nodeId) => {
      const request: ForwardRequest = { kind: 'bootstrap', shardId, voters: replicas };
      const reply = nodeId === this.options.nodeId
        ? await this.serve(request)
        : await this.deps.forwarder.forward(nodeId, request, { deadlineMs: this.options.routeWaitMs });
      if (reply.kind !== 'changed') throw new ShardUnavailableError(shardId, `shard ${shardId}: node ${nodeId} answered a bootstrap with ${reply.kind}`);
    }));
  }

  /** A pool's new group on this node, with the voters every voter starts it with; an existing replica is left as it is. */
  private bootstrapHere(shardId: ShardId, voters: readonly NodeId[]): ForwardReply {
    if (!isPlacedShard(shardId)) return { kind: 'unavailable', message: `shard ${shardId} is not a pool's` };
    this.openPlaced?.({ shardId, replicas: voters });
    const fsm = this.lifecycle.fsmOf(shardId);
    if (fsm === undefined) return { kind: 'unavailable', message: `shard ${shardId} is not open on node ${this.options.nodeId}` };
    if (this.host.group(shardId) === undefined && !this.stores.logStore.hasGroup(shardId)) this.host.addGroup(fsm, voters);
    this.viewOf(shardId).noteReplicas(voters);
    return { kind: 'changed' };
  }

  /** Whether this node holds a replica of the shard now. */
  isHosted(shardId: ShardId): boolean {
    return this.host.group(shardId) !== undefined;
  }

  /** One `describe` of the shard to the next node its view names (the leader answers with its configuration). */
  private async describeElsewhere(shardId: ShardId): Promise<ForwardReply | undefined> {
    const view = this.viewOf(shardId);
    const target = view.next(this.options.nodeId);
    if (target === undefined) return undefined;
    const reply = await this.deps.forwarder.forward(target, { kind: 'describe', shardId }, { deadlineMs: this.options.routeWaitMs });
    if (reply.kind === 'not_leader') view.noteNotLeader(target, reply);
    return reply;
  }

  private viewOf(shardId: ShardId): ShardReplicaView {
    let view = this.views.get(shardId);
    if (view === undefined) {
      view = new ShardReplicaView([], this.options.members);
      this.views.set(shardId, view);
    }
    return view;
  }

  private routeDeps(): RouteDeps {
    return {
      nodeId: this.options.nodeId,
      forwarder: this.deps.forwarder,
      clock: this.deps.clock,
      delays: this.deps.delays,
      routeWaitMs: this.options.routeWaitMs,
      retryMs: routeRetryMs,
      // About one election: long enough to notice a healed partition's new leader.
      unreachableWaitMs: this.options.tickMs * this.options.electionTicks,
      origin: () => (this.isHandingOff ? undefined : this.options.nodeId),
    };
  }

  /** Snapshots this node's replica of a shard has stored (log compactions). */
  compactions(shardId: ShardId): number {
    return this.host.compactions(shardId);
  }

  /** This node's replica of a shard (the forwarding service proposes on it). */
  group(shardId: ShardId): ShardGroup | undefined {
    return this.host.group(shardId);
  }

  ledShards(): ShardId[] {
    const led: ShardId[] = [];
    for (const group of this.host.allGroups()) if (group.isLeader()) led.push(group.shardId);
    return led;
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

  /** Serves a forwarded request on this node's replica (the gRPC forwarding service calls it). */
  async serve(request: ForwardRequest): Promise<ForwardReply> {
    switch (request.kind) {
      case 'bootstrap':
        return this.bootstrapHere(request.shardId, request.voters);
      case 'release': {
        const isReleased = await this.lifecycle.release(request.shardId, 'the shard leader removed this node');
        return isReleased ? { kind: 'changed' } : { kind: 'unavailable', message: `node ${this.options.nodeId} still leads shard ${request.shardId}` };
      }
      default:
        return serveForward(this.host.group(request.shardId), request, {
          membership: this.membershipDeps(),
          knownReplicas: this.viewOf(request.shardId).known,
        });
    }
  }

  /**
   * Adds a node to or removes it from the cluster: replicas are rebalanced over the new
   * node set, one move at a time, pool shards within their pools; resolves with the
   * voters each pool shard ended with.
   */
  changeMembership(change: MembershipChange, poolShards: readonly PlacedShard[] = []): Promise<ShardPlacement[]> {
    const initialCount = (this.options.initialMembers ?? this.options.members).length;
    return changeClusterMembership(change, {
      nodeId: this.options.nodeId,
      shardIds: Array.from({ length: this.options.shardCount }, (_, shardId) => shardId as ShardId),
      poolShards,
      replicas: this.options.replicas ?? Math.max(initialCount, this.options.members.length),
      members: this.options.members,
      forwarder: this.deps.forwarder,
      serveHere: (request) => this.serve(request),
      leaderHere: (shardId) => this.host.group(shardId)?.leader(),
      viewOf: (shardId) => this.viewOf(shardId),
      clock: this.deps.clock,
      delays: this.deps.delays,
      timeoutMs: membershipTimeoutMs,
      logger: this.deps.logger ?? silentLogger,
    });
  }

  private membershipDeps(): MembershipDeps {
    return { clock: this.deps.clock, delays: this.deps.delays, timeoutMs: membershipTimeoutMs, catchUpEntriesMax: transferLagEntriesMax };
  }

  /** Quick balancer passes until the hosted shards' leaders are their preferred voters, then the usual cadence. */
  private settleLeaders(passMs: number): () => void {
    const untilMs = this.deps.clock.monotonicMs() + settleWindowMs;
    return this.deps.timers.every(passMs, () => {
      this.spreadLeaders();
      const isSettled = this.host.allGroups().every((group) => group.leader() !== undefined
        && (group.leader() === this.preferredOf(group) || (group.isLeader() && this.traffic?.holds(group.shardId) === true)));
      if (!isSettled && this.deps.clock.monotonicMs() < untilMs) return;
      this.stopBalancer();
      this.stopBalancer = this.deps.timers.every(this.options.balanceIntervalMs, () => this.spreadLeaders());
    });
  }

  private preferredOf(group: ShardGroup): NodeId | undefined {
    return preferredLeader(group.shardId, { voters: group.status().conf.voters, members: this.options.members });
  }

  /** Hands leadership of each shard this node leads to its preferred replica, if that is another node and the shard's traffic does not hold it here. */
  private spreadLeaders(): void {
    for (const group of this.host.allGroups()) {
      if (!group.isLeader() || this.traffic?.holds(group.shardId) === true) continue;
      const preferred = this.preferredOf(group);
      if (preferred !== undefined && preferred !== this.options.nodeId && isQuickTransfer(group, preferred)) group.requestTransfer(preferred);
    }
  }

  /** Closes a traffic window on every hosted shard; moves those whose commands came mostly through another voter. */
  private followTraffic(): void {
    const { traffic } = this;
    if (traffic === undefined) return;
    for (const group of this.host.allGroups()) {
      const counts = group.takeTraffic();
      const target = traffic.closeWindow(group.shardId, counts, group.status().conf.voters, group.isLeader());
      if (target === undefined || !isQuickTransfer(group, target)) continue;
      const commands = [...counts.values()].reduce((sum, count) => sum + count, 0);
      this.deps.logger?.info({ shardId: group.shardId, to: target, commands, fromTarget: counts.get(target), windowMs: traffic.policy.windowMs }, 'moving leadership to the node that takes the shard\'s traffic');
      group.requestTransfer(target);
    }
  }

  /**
   * Shutdown (ShardedBroker.transferLeadershipAway): every shard led here hands its
   * leadership to its most caught-up replica that answered recently; resolves once this
   * node leads no shard, and rejects naming the shards still led here after about ten
   * seconds (the drain bounds the wait anyway). The balancer stops first so it cannot
   * hand leadership back, and this node's requests stop naming it as their origin, so
   * the traffic its open sockets still bring does not draw leadership back either.
   */
  async transferLeadershipAway(): Promise<void> {
    this.isHandingOff = true;
    this.stopBalancer();
    this.stopSweeper();
    this.stopTrafficWindows();
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
    this.stopSweeper();
    this.stopTrafficWindows();
    await this.host.close();
    await this.deps.onDrained?.();
  }
}

/** Whether leadership can move to `to` quickly: it answered recently and is nearly caught up. */
function isQuickTransfer(group: ShardGroup, to: NodeId): boolean {
  const progress = group.core.progress.get(to);
  return progress !== undefined && progress.recentActive && group.core.log.lastIndex() - progress.match <= transferLagEntriesMax;
}
