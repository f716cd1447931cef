/**
 * RaftHost: the Raft side of one node process. It hosts many groups (shards), routes
 * every incoming message to its group by `shardId`, and drives all their ticks from one
 * timer. The timer is injected (`Ticker`) so tests and the simulator call `tick()`
 * themselves; `intervalTicker` is the production one.
 */
import type { Random } from '../common/random.js';
import { SeededRandom } from '../common/random.js';
import { assert } from '../common/assert.js';
import { raftConfig, type RaftConfig } from './core/config.js';
import type { RaftGroupReport, RaftMetrics } from './metrics.js';
import { RaftNode, type RaftNodeOptions } from './node.js';
import type { NodeId, RaftLogStore, RaftTransport, ShardId, StateMachine } from './types.js';

/** Calls `onTick` periodically until the returned function is called. */
export type Ticker = (onTick: () => void) => () => void;

/** A Ticker on setInterval: the only timer of the Raft layer. */
export function intervalTicker(tickMs: number): Ticker {
  return (onTick) => {
    const handle = setInterval(onTick, tickMs);
    handle.unref();
    return () => clearInterval(handle);
  };
}

export interface RaftHostOptions {
  readonly nodeId: NodeId;
  readonly store: RaftLogStore;
  readonly transport: RaftTransport;
  /** Seeds each group's election jitter. */
  readonly random: Random;
  /** Omitted: the host only ticks when `tick()` is called. */
  readonly ticker?: Ticker;
  /** Raft tuning shared by every group (id, shardId and peers are per group). */
  readonly raft?: Partial<Omit<RaftConfig, 'id' | 'shardId' | 'peers'>>;
  readonly node?: Pick<RaftNodeOptions, 'compactionEntries' | 'inboxMessagesMax' | 'readTimeoutTicks' | 'persistsInFlightMax'>;
  readonly metrics?: RaftMetrics;
  /** A group stopped on a storage error (it stays registered, reporting isFailed). */
  readonly onGroupFailure?: (shardId: ShardId, error: unknown) => void;
}

export interface GroupOptions {
  readonly shardId: ShardId;
  /** Initial voters of a new group; empty when this node joins an existing group. */
  readonly peers: readonly NodeId[];
  readonly fsm: StateMachine;
}

export class RaftHost {
  readonly nodeId: NodeId;
  private readonly groups = new Map<ShardId, RaftNode>();
  private stopTicker: (() => void) | undefined;

  constructor(private readonly options: RaftHostOptions) {
    this.nodeId = options.nodeId;
    options.transport.onMessage((message) => {
      if (message.to === this.nodeId) this.groups.get(message.shardId)?.step(message);
    });
  }

  /** Starts (or restarts from the store) one group on this node. */
  addGroup(group: GroupOptions): RaftNode {
    assert(!this.groups.has(group.shardId), () => `group ${group.shardId} already hosted`);
    const config = raftConfig({ ...this.options.raft, id: this.nodeId, shardId: group.shardId, peers: group.peers });
    const node = new RaftNode({
      ...this.options.node,
      config,
      store: this.options.store,
      fsm: group.fsm,
      send: (messages) => this.options.transport.send(messages),
      random: new SeededRandom(this.options.random.int(0x7fffffff)),
      onFailure: (error) => this.options.onGroupFailure?.(group.shardId, error),
      ...(this.options.metrics === undefined ? {} : { metrics: this.options.metrics }),
    });
    this.groups.set(group.shardId, node);
    return node;
  }

  group(shardId: ShardId): RaftNode | undefined {
    return this.groups.get(shardId);
  }

  shardIds(): ShardId[] {
    return [...this.groups.keys()];
  }

  /** Every hosted group's position, for the metrics scrape. */
  reports(): RaftGroupReport[] {
    return [...this.groups.values()].map((node) => node.report());
  }

  /** Stops and forgets one group (its stored log stays). */
  removeGroup(shardId: ShardId): void {
    this.groups.get(shardId)?.stop();
    this.groups.delete(shardId);
  }

  /** One logical tick for every group. */
  tick(): void {
    for (const node of this.groups.values()) node.tick();
  }

  start(): void {
    if (this.stopTicker !== undefined || this.options.ticker === undefined) return;
    this.stopTicker = this.options.ticker(() => this.tick());
  }

  /** Stops the timer and every group, then closes the transport. */
  async stop(): Promise<void> {
    this.stopTicker?.();
    this.stopTicker = undefined;
    for (const node of this.groups.values()) node.stop();
    await this.options.transport.close();
  }
}
