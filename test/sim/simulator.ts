/**
 * A deterministic simulation of Raft groups: real RaftCores and RaftNode loops inside
 * RaftHosts, over a MemoryNetwork and MemoryLogStores that only flush when told. One
 * seed drives every choice (which message arrives, which store flushes, who ticks, who
 * crashes), so a failing seed replays exactly.
 *
 * Time is a SimClock advanced 5 ms per step; each host's injected ticker fires every
 * 100 ms of it at its own phase. Each step is one event: deliver a random in-flight
 * message, flush a store, stall a node's timer, propose or read, or a fault: partitions (symmetric and one-way), drop/duplicate rates,
 * crashes that lose unflushed writes, restarts, bit flips and truncation of one down
 * replica's stored entries or snapshot, membership changes on shard 1. Invariants are
 * checked after every step (see invariants.ts).
 *
 * Every start of a node picks its storage mode: synchronous Readys (one persist at a
 * time), or asynchronous storage writes with 1–4 persists in flight (a quarter and three
 * quarters of starts). Stores flush only when the seed says so, so asynchronous persists
 * pile up and complete late, and a crash loses all of them that were not flushed; a
 * restart may switch a node's mode.
 */
import { SimClock } from '../../src/common/clock.js';
import { SeededRandom } from '../../src/common/random.js';
import { MemoryLogStore } from '../../src/log/memory/memory-log-store.js';
import { RecentEntriesLogStore } from '../../src/log/recent-entries.js';
import { MemoryNetwork } from '../../src/raft/memory/memory-network.js';
import type { RaftNode } from '../../src/raft/node.js';
import { RaftHost } from '../../src/raft/raft-host.js';
import type { LogIndex, NodeId, ShardId } from '../../src/raft/types.js';
import { checkLogMatching, ShardHistory, SimViolation, violation } from './invariants.js';
import { encodeValue, ListFsm } from './list-fsm.js';

export interface SimOptions {
  readonly seed: number;
  readonly shardCount?: number;
}

interface SimNode {
  readonly id: NodeId;
  readonly store: MemoryLogStore;
  host: RaftHost | undefined;
  /** Groups this node hosts (shrinks when it is removed from one). */
  readonly shards: Set<ShardId>;
  readonly fsms: Map<ShardId, ListFsm>;
  /** Initial voters per shard for a node that bootstraps it; empty for a joiner. */
  readonly peers: ReadonlyMap<ShardId, readonly NodeId[]>;
  isDamaged: boolean;
  /** The host's ticker callback (set while started) and when it fires next, on the sim clock. */
  onTick: (() => void) | undefined;
  nextTickMs: number;
}

const membershipShard = 1 as ShardId;
const initialVoters = [1, 2, 3] as NodeId[];
const nodesMax = 8;
/** Sim time per step and per Raft tick: every node ticks every 20 steps, at its own phase. */
const stepMs = 5;
const tickMs = 100;

export class Simulator {
  readonly seed: number;
  private readonly random: SeededRandom;
  private readonly network: MemoryNetwork;
  private readonly nodes = new Map<NodeId, SimNode>();
  private readonly histories = new Map<ShardId, ShardHistory>();
  private readonly problems: string[] = [];
  /** Nodes whose removal from shard 1 was applied by the leader that proposed it. */
  private readonly removed = new Set<NodeId>();
  private readonly trace: string[] = [];
  private nextNodeId = initialVoters.length + 1;
  private readonly clock = new SimClock(0);
  private valueCounter = 0;
  stepCount = 0;

  constructor(options: SimOptions) {
    this.seed = options.seed;
    this.random = new SeededRandom(options.seed);
    this.network = new MemoryNetwork({ random: new SeededRandom(this.random.int(0x7fffffff)) });
    const shardIds = Array.from({ length: options.shardCount ?? 2 }, (_, i) => (i + 1) as ShardId);
    for (const shardId of shardIds) this.histories.set(shardId, new ShardHistory(shardId));
    for (const id of initialVoters) {
      this.addNode(id, new Map(shardIds.map((shardId) => [shardId, initialVoters])));
    }
  }

  async step(): Promise<void> {
    this.stepCount++;
    const roll = this.random.int(1000);
    if (roll < 300) this.network.deliverOne();
    else if (roll < 500) this.flushOne();
    else if (roll < 650) this.pauseOne();
    else if (roll < 850) this.proposeOne();
    else if (roll < 880) this.readOne();
    else this.fault(roll);
    this.clock.advance(stepMs);
    this.fireTimers();
    await settle();
    this.check();
  }

  /** Each host's ticker fires whenever the sim clock passed its next tick time. */
  private fireTimers(): void {
    const now = this.clock.monotonicMs();
    for (const node of this.upNodes()) {
      while (node.onTick !== undefined && node.nextTickMs <= now) {
        node.nextTickMs += tickMs;
        node.onTick();
      }
    }
  }

  /** Heals every fault, restarts every node and runs until all groups agree. */
  async runUntilQuiet(roundsMax: number): Promise<void> {
    this.network.heal();
    this.network.dropRate = 0;
    this.network.duplicateRate = 0;
    for (const node of this.nodes.values()) if (node.host === undefined && node.shards.size > 0) this.restart(node);
    for (let round = 0; round < roundsMax; round++) {
      this.network.deliverAll(this.network.inFlightCount());
      for (const node of this.upNodes()) node.store.flush();
      await settle();
      this.clock.advance(tickMs);
      this.fireTimers();
      await settle();
      this.check();
      if (this.isConverged()) {
        this.checkFinal();
        return;
      }
    }
    this.fail(`no convergence within ${roundsMax} quiet rounds\n${this.describe()}`);
  }

  /** One line of what the run did, for replays. */
  summary(): string {
    const shards = [...this.histories.values()].map((h) => `shard ${h.shardId}: ${h.acked.length} acknowledged, ${h.maxApplied()} applied`);
    return `${this.stepCount} steps, ${this.network.delivered} delivered, ${this.network.dropped} dropped; ${shards.join('; ')}`;
  }

  /** Every hosted group's state, for failure reports. */
  describe(): string {
    const lines: string[] = [];
    for (const node of this.nodes.values()) {
      for (const shardId of node.shards) {
        const s = node.host?.group(shardId)?.status();
        if (s === undefined) {
          lines.push(`  node ${node.id} shard ${shardId}: down`);
          continue;
        }
        const followers = [...s.followers].map(([id, p]) => `${id}:${p.match}/${p.next}/${p.state}`).join(' ');
        lines.push(`  node ${node.id} shard ${shardId}: ${s.role} term=${s.term} leader=${s.leader} commit=${s.commit} applied=${s.applied} first=${s.firstIndex} last=${s.lastIndex} voters=(${s.conf.voters.join(',')}) learners=(${s.conf.learners.join(',')})${s.isDamaged ? ' damaged' : ''}${s.isFailed ? ' failed' : ''} ${followers}`);
      }
    }
    return lines.join('\n');
  }

  // ---- events -----------------------------------------------------------------------

  /** One disk finishes its writes, or (half the time) all of them do. */
  private flushOne(): void {
    if (this.random.int(2) === 0) for (const node of this.upNodes()) node.store.flush();
    else this.pick(this.upNodes())?.store.flush();
  }

  /** A stall (GC pause, starved timer): one node's clock-driven ticks come late, rarely by a lot. */
  private pauseOne(): void {
    const node = this.pick(this.upNodes());
    if (node === undefined || this.random.int(10) !== 0) return;
    const pauseMs = this.random.int(this.random.int(4) === 0 ? 2000 : 300);
    this.note(`pause ${node.id} ${pauseMs}ms`, () => (node.nextTickMs += pauseMs));
  }

  private proposeOne(): void {
    const shardId = (1 + this.random.int(this.histories.size)) as ShardId;
    const target = this.random.int(10) < 7 ? this.leaderOf(shardId) : this.pick(this.hostsOf(shardId));
    const group = target?.host?.group(shardId);
    if (target === undefined || group === undefined) return;
    const value = `${shardId}:${++this.valueCounter}`;
    const history = this.history(shardId);
    group.propose(encodeValue(value)).then(
      () => history.acked.push(value),
      () => undefined,
    );
  }

  /** A linearizable read must see every value acknowledged before it was asked. */
  private readOne(): void {
    const shardId = (1 + this.random.int(this.histories.size)) as ShardId;
    const node = this.pick(this.hostsOf(shardId));
    const group = node?.host?.group(shardId);
    const fsm = node?.fsms.get(shardId);
    if (node === undefined || group === undefined || fsm === undefined) return;
    const history = this.history(shardId);
    const ackedCount = history.acked.length;
    group.readIndex().then(
      () => {
        const missing = history.ackedBefore(ackedCount).find((value) => !fsm.valueSet.has(value));
        if (missing !== undefined) this.problems.push(`read on node ${node.id} misses acknowledged ${missing}`);
      },
      () => undefined,
    );
  }

  private fault(roll: number): void {
    if (roll < 900) this.setRates();
    else if (roll < 940) return;
    else if (roll < 950) this.partition();
    else if (roll < 962) this.note('heal', () => this.network.heal());
    else if (roll < 965) this.crashOne();
    else if (roll < 984) this.restartOne();
    else if (roll < 989) this.damageOne();
    else if (roll < 992) this.transferOne();
    else this.changeMembership();
  }

  private setRates(): void {
    const drop = [0, 0, 0.02, 0.1, 0.3][this.random.int(5)] ?? 0;
    const duplicate = [0, 0, 0.05][this.random.int(3)] ?? 0;
    this.note(`rates drop=${drop} dup=${duplicate}`, () => {
      this.network.dropRate = drop;
      this.network.duplicateRate = duplicate;
    });
  }

  private partition(): void {
    const ids = [...this.nodes.keys()];
    const from = this.pick(ids);
    const to = this.pick(ids);
    if (from === undefined || to === undefined || from === to) return;
    if (this.random.int(2) === 0) {
      this.note(`cut ${from}->${to}`, () => this.network.cutOneWay(from, to));
      return;
    }
    const side = ids.filter(() => this.random.int(2) === 0);
    const rest = ids.filter((id) => !side.includes(id));
    this.note(`partition (${side.join(',')}) | (${rest.join(',')})`, () => this.network.partition(side, rest));
  }

  private crashOne(): void {
    const up = this.upNodes();
    if (up.length <= 1) return;
    const node = this.pick(up);
    if (node === undefined) return;
    this.note(`crash ${node.id}`, () => {
      this.network.disconnect(node.id);
      node.store.crash();
      const host = node.host;
      node.host = undefined;
      void host?.stop();
    });
  }

  private restartOne(): void {
    const down = [...this.nodes.values()].filter((node) => node.host === undefined && node.shards.size > 0);
    const node = this.pick(down);
    if (node !== undefined) this.restart(node);
  }

  /**
   * Rots or cuts one down replica's stored log, only while no other replica is damaged
   * (two damaged replicas of three may hold the only copies of committed entries: waiting
   * for them forever is then the correct, safe outcome).
   */
  private damageOne(): void {
    if ([...this.nodes.values()].some((node) => node.isDamaged)) return;
    const node = this.pick([...this.nodes.values()].filter((n) => n.host === undefined && n.shards.size > 0));
    const shardId = node === undefined ? undefined : this.pick([...node.shards]);
    if (node === undefined || shardId === undefined) return;
    const { firstIndex, lastIndex } = node.store.bounds(shardId);
    const index = (firstIndex + this.random.int(Math.max(1, lastIndex - firstIndex + 1))) as LogIndex;
    const kind = this.random.int(3);
    const isDone = kind === 0 ? node.store.corruptEntry(shardId, index) : kind === 1 ? node.store.truncateEntries(shardId, index) : node.store.corruptSnapshot(shardId);
    if (isDone) {
      node.isDamaged = true;
      this.note(`damage ${node.id} shard ${shardId} ${['flip', 'truncate', 'snapshot'][kind]} at ${index}`, () => undefined);
    }
  }

  private transferOne(): void {
    const shardId = (1 + this.random.int(this.histories.size)) as ShardId;
    const group = this.leaderOf(shardId)?.host?.group(shardId);
    const target = this.pick(group?.status().conf.voters ?? []);
    if (group === undefined || target === undefined) return;
    this.note(`transfer shard ${shardId} to ${target}`, () => group.transferLeadership(target).catch(() => undefined));
  }

  private changeMembership(): void {
    const leader = this.leaderOf(membershipShard);
    const group = leader?.host?.group(membershipShard);
    if (group === undefined) return;
    const { conf } = group.status();
    const learner = conf.learners[0];
    if (learner !== undefined) {
      this.note(`promote ${learner}`, () => group.promote(learner).catch(() => undefined));
    } else if (conf.voters.length < 5 && this.nextNodeId <= nodesMax && this.random.int(2) === 0) {
      const id = this.nextNodeId++ as NodeId;
      this.addNode(id, new Map([[membershipShard, []]]));
      this.note(`add learner ${id}`, () => group.addLearner(id).catch(() => undefined));
    } else if (conf.voters.length > 3) {
      const victim = this.pick(conf.voters.filter((id) => id !== leader?.id));
      if (victim === undefined) return;
      this.note(`remove ${victim}`, () =>
        group.removeNode(victim).then(
          () => this.removed.add(victim),
          () => undefined,
        ),
      );
    }
  }

  // ---- nodes ------------------------------------------------------------------------

  private addNode(id: NodeId, peers: ReadonlyMap<ShardId, readonly NodeId[]>): void {
    const node: SimNode = { id, store: new MemoryLogStore({ isAutoFlush: false }), host: undefined, shards: new Set(peers.keys()), fsms: new Map(), peers, isDamaged: false, onTick: undefined, nextTickMs: 0 };
    this.nodes.set(id, node);
    this.start(node);
  }

  private restart(node: SimNode): void {
    this.note(`restart ${node.id}`, () => this.start(node));
  }

  private start(node: SimNode): void {
    const isAsync = this.random.int(4) !== 0;
    const persistsInFlightMax = 1 + this.random.int(4);
    if (process.env.SIM_TRACE === '1') console.log(`#${this.stepCount} start ${node.id} ${isAsync ? `async ${persistsInFlightMax}` : 'sync'}`);
    const host = new RaftHost({
      nodeId: node.id,
      // Odd nodes read through RecentEntriesLogStore, holding a few entries (chosen without drawing from the seed's random).
      store: node.id % 2 === 1 ? new RecentEntriesLogStore(node.store, 256) : node.store,
      transport: this.network.transport(node.id),
      random: new SeededRandom(this.random.int(0x7fffffff)),
      raft: { electionTicks: 6, heartbeatTicks: 1, proposalsPendingMax: 64, inflightMessagesMax: 8, appendBytesMax: 256, snapshotChunkBytes: 64, learnerCatchUpEntriesMax: 5, isAsyncStorageWrites: isAsync },
      node: { compactionEntries: 30, persistsInFlightMax },
      ticker: (onTick) => {
        node.onTick = onTick;
        node.nextTickMs = this.clock.monotonicMs() + this.random.int(tickMs);
        return () => {
          if (node.onTick === onTick) node.onTick = undefined;
        };
      },
      onGroupFailure: (shardId, error) => this.problems.push(`node ${node.id} shard ${shardId} failed: ${String(error)}`),
    });
    node.host = host;
    for (const shardId of node.shards) {
      const history = this.history(shardId);
      const fsm = new ListFsm(
        (entry) => history.recordApply(node.id, entry),
        (index, values) => history.recordRestore(node.id, index, values),
      );
      node.fsms.set(shardId, fsm);
      host.addGroup({ shardId, peers: node.peers.get(shardId) ?? [], fsm });
    }
    host.start();
  }

  /**
   * A removed node stops hosting shard 1 only once every other replica applied its
   * removal: until then a replica that has not may still need its vote (configurations
   * take effect when applied, as in etcd), and the node must stay to give it.
   */
  private retireRemoved(): void {
    for (const id of this.removed) {
      const others = [...this.nodes.values()].filter((node) => node.id !== id && node.shards.has(membershipShard));
      const haveApplied = others.every((node) => {
        const status = node.host?.group(membershipShard)?.status();
        return status !== undefined && !status.conf.voters.includes(id) && !status.conf.learners.includes(id);
      });
      if (!haveApplied) continue;
      this.removed.delete(id);
      this.retire(id);
    }
  }

  private retire(id: NodeId): void {
    const node = this.nodes.get(id);
    if (node === undefined || !node.shards.has(membershipShard)) return;
    this.note(`retire ${id} from shard ${membershipShard}`, () => {
      node.shards.delete(membershipShard);
      node.host?.removeGroup(membershipShard);
      if (node.shards.size === 0 && node.host !== undefined) {
        this.network.disconnect(node.id);
        void node.host.stop();
        node.host = undefined;
      }
    });
  }

  // ---- checks -----------------------------------------------------------------------

  private check(): void {
    const problem = this.problems[0];
    if (problem !== undefined) this.fail(problem);
    try {
      for (const node of this.upNodes()) {
        // Repaired once the repair is durable, not just in memory.
        if (node.isDamaged && !node.store.hasPendingWrites() && this.groupsOf(node).every((group) => !group.status().isDamaged)) {
          this.note(`node ${node.id} repaired`, () => (node.isDamaged = false));
        }
        for (const shardId of node.shards) {
          const group = node.host?.group(shardId);
          if (group !== undefined && group.status().role === 'leader') this.history(shardId).observeLeader(node.id, group);
        }
      }
      if (this.stepCount % 25 === 0) this.checkLogs();
    } catch (error) {
      if (error instanceof SimViolation) this.fail(error.message);
      throw error;
    }
    this.retireRemoved();
  }

  private checkLogs(): void {
    for (const shardId of this.histories.keys()) {
      checkLogMatching(shardId, this.hostsOf(shardId).map((node) => ({ nodeId: node.id, store: node.store })));
    }
  }

  private isConverged(): boolean {
    for (const shardId of this.histories.keys()) {
      const leader = this.leaderOf(shardId)?.host?.group(shardId);
      if (leader === undefined) return false;
      const status = leader.status();
      if (status.applied !== status.lastIndex) return false;
      for (const id of [...status.conf.voters, ...status.conf.learners]) {
        const member = this.nodes.get(id)?.host?.group(shardId)?.status();
        if (member === undefined || member.applied !== status.lastIndex) return false;
      }
    }
    return true;
  }

  private checkFinal(): void {
    this.checkLogs();
    for (const [shardId, history] of this.histories) {
      const leaderGroup = this.leaderOf(shardId)?.host?.group(shardId);
      const conf = leaderGroup?.status().conf;
      if (conf === undefined) this.fail(`shard ${shardId} has no leader at the end`);
      const lists = [...conf.voters, ...conf.learners].map((id) => ({ id, values: this.nodes.get(id)?.fsms.get(shardId)?.values ?? [] }));
      const reference = lists[0];
      if (reference === undefined) continue;
      for (const { id, values } of lists) {
        if (values.join('|') !== reference.values.join('|')) this.fail(`shard ${shardId}: node ${id} holds a different list than node ${reference.id}`);
      }
      const held = new Set(reference.values);
      if (held.size !== reference.values.length) this.fail(`shard ${shardId}: a value was applied twice`);
      const lost = history.acked.find((value) => !held.has(value));
      if (lost !== undefined) this.fail(`shard ${shardId}: acknowledged ${lost} was lost`);
    }
  }

  // ---- helpers ----------------------------------------------------------------------

  private leaderOf(shardId: ShardId): SimNode | undefined {
    let best: { node: SimNode; term: number } | undefined;
    for (const node of this.hostsOf(shardId)) {
      const status = node.host?.group(shardId)?.status();
      if (status?.role === 'leader' && (best === undefined || status.term > best.term)) best = { node, term: status.term };
    }
    return best?.node;
  }

  private upNodes(): SimNode[] {
    return [...this.nodes.values()].filter((node) => node.host !== undefined);
  }

  private hostsOf(shardId: ShardId): SimNode[] {
    return this.upNodes().filter((node) => node.shards.has(shardId));
  }

  private groupsOf(node: SimNode): RaftNode[] {
    return [...node.shards].flatMap((shardId) => node.host?.group(shardId) ?? []);
  }

  private history(shardId: ShardId): ShardHistory {
    const history = this.histories.get(shardId);
    if (history === undefined) return violation(`no shard ${shardId}`);
    return history;
  }

  private pick<T>(items: readonly T[]): T | undefined {
    return items.length === 0 ? undefined : items[this.random.int(items.length)];
  }

  private note(event: string, act: () => unknown): void {
    this.trace.push(`#${this.stepCount} ${event}`);
    if (process.env.SIM_TRACE === '1') console.log(`#${this.stepCount} ${event}`);
    if (this.trace.length > 40) this.trace.shift();
    act();
  }

  private fail(message: string): never {
    throw new SimViolation(`seed ${this.seed} step ${this.stepCount}: ${message}\nrecent events:\n  ${this.trace.join('\n  ')}`);
  }
}

/** Lets every pending promise callback run (nothing here waits on real time). */
function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Runs one seed: `steps` random events, then heals and checks that everything converges. */
export async function runSeed(seed: number, steps: number): Promise<Simulator> {
  const sim = new Simulator({ seed });
  for (let i = 0; i < steps; i++) await sim.step();
  await sim.runUntilQuiet(3000);
  return sim;
}
