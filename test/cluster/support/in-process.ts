/**
 * Clustered ShardedBrokers in one process, on real LMDB in temp dirs: nodes exchange
 * Raft messages through a loopback network (delivered on a later microtask, droppable
 * per node to model a crash or a cut) and forward proposals by calling the serving
 * side of the forwarding protocol directly. Real timers with a short tick, so elections
 * take tens of milliseconds; every wait has a deadline.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SystemClock } from '../../../src/common/clock.js';
import type { NodeId } from '../../../src/common/ids.js';
import { SeededRandom } from '../../../src/common/random.js';
import { SystemDelays, SystemTimers } from '../../../src/common/timers.js';
import { ClusterShardLogs, type ClusterShardLogsOptions } from '../../../src/cluster/cluster-shard-logs.js';
import type { Forwarder } from '../../../src/cluster/forward-protocol.js';
import { PeerUnreachableError } from '../../../src/cluster/routing-errors.js';
import { ShardedBroker } from '../../../src/cluster/sharded-broker.js';
import type { RaftMessage, RaftTransport } from '../../../src/raft/types.js';

export class LoopbackNetwork {
  private readonly handlers = new Map<number, (message: RaftMessage) => void>();
  /** Nodes whose messages (both ways) are dropped. */
  readonly isolated = new Set<number>();
  /** Drops the messages it accepts (one-way or per-type faults); none while undefined. */
  dropIf: ((message: RaftMessage) => boolean) | undefined = undefined;

  transport(nodeId: number): RaftTransport {
    return {
      send: (messages) => {
        for (const message of messages) {
          if (this.isolated.has(message.from) || this.isolated.has(message.to) || this.dropIf?.(message) === true) continue;
          queueMicrotask(() => this.handlers.get(message.to)?.(message));
        }
      },
      onMessage: (handler) => {
        this.handlers.set(nodeId, handler);
      },
      close: async () => {
        this.handlers.delete(nodeId);
      },
    };
  }
}

export interface InProcessNode {
  readonly id: number;
  readonly broker: ShardedBroker;
  readonly logs: ClusterShardLogs;
  readonly dataDir: string;
}

export class InProcessCluster {
  readonly nodes = new Map<number, InProcessNode>();
  readonly network = new LoopbackNetwork();
  /**
   * Forwards whose reply is lost after the leader served them (the connection dropped
   * with the request delivered, as when the leader is killed): the next this many
   * forwards fail with an outcome the sender cannot know.
   */
  lostForwardReplies = 0;
  /** Forwards a leader has served (replies lost or not), to see that a retry happened. */
  forwardsServed = 0;
  /** Each node's forwarder over a real transport (gRPC), instead of calls to the serving node's `serve`. */
  forwarderOf: ((id: number) => Forwarder) | undefined = undefined;
  private readonly dirs: string[] = [];

  constructor(
    private readonly members: readonly number[],
    private readonly shardCount: number,
    /** Extra ClusterShardLogs options for every node (e.g. a compaction policy). */
    private readonly extra: Partial<Pick<ClusterShardLogsOptions, 'compaction' | 'initialMembers' | 'routeWaitMs' | 'settlePassMs' | 'balanceIntervalMs' | 'followTraffic'>> = {},
  ) {}

  /** Opens (or reopens on its data dir) node `id`. */
  async open(id: number, dataDir = this.newDir()): Promise<InProcessNode> {
    const forwarder: Forwarder = this.forwarderOf?.(id) ?? {
      forward: async (to, request) => {
        if (this.network.isolated.has(to) || this.network.isolated.has(id)) throw new PeerUnreachableError(to, `node ${to} unreachable`);
        const target = this.nodes.get(to);
        if (target === undefined) throw new PeerUnreachableError(to, `node ${to} is down`);
        const reply = await target.logs.serve(request);
        this.forwardsServed++;
        if (this.lostForwardReplies > 0) {
          this.lostForwardReplies--;
          throw new Error(`connection to node ${to} dropped before its reply`);
        }
        return reply;
      },
      close: () => {},
    };
    let logs: ClusterShardLogs | undefined;
    const broker = await ShardedBroker.open({
      dataDir,
      shardCount: this.shardCount,
      clock: new SystemClock(),
      shardLogs: (stores) => {
        logs = new ClusterShardLogs(
          stores,
          { nodeId: id as NodeId, members: this.members as NodeId[], shardCount: this.shardCount, tickMs: 10, electionTicks: 10, routeWaitMs: 2_000, balanceIntervalMs: 60_000, ...this.extra },
          { transport: this.network.transport(id), forwarder, clock: new SystemClock(), random: new SeededRandom(id), timers: new SystemTimers(), delays: new SystemDelays() },
        );
        return logs;
      },
    });
    if (logs === undefined) throw new Error('shard logs were not opened');
    const node = { id, broker, logs, dataDir };
    this.nodes.set(id, node);
    return node;
  }

  /** Closes node `id` cleanly (its data dir stays for a reopen). */
  async close(id: number): Promise<InProcessNode | undefined> {
    const node = this.nodes.get(id);
    this.nodes.delete(id);
    await node?.broker.close();
    return node;
  }

  /** The node leading `shardId`, as the running nodes report it. */
  leaderOf(shardId: number): InProcessNode | undefined {
    return [...this.nodes.values()].find((node) => node.logs.group(shardId as never)?.isLeader() === true);
  }

  async closeAll(): Promise<void> {
    for (const id of [...this.nodes.keys()]) await this.close(id);
    for (const dir of this.dirs) rmSync(dir, { recursive: true, force: true });
  }

  private newDir(): string {
    const dir = mkdtempSync(join(tmpdir(), 'zaqar-in-process-'));
    this.dirs.push(dir);
    return dir;
  }
}

/** Opens a 3-node cluster of one shard (`keep` sees it first, to close it after the test) and finds its leader and a follower. */
export async function threeNodes(
  keep: (cluster: InProcessCluster) => void,
  options: ConstructorParameters<typeof InProcessCluster>[2] = {},
): Promise<{ c: InProcessCluster; leader: InProcessNode; follower: InProcessNode }> {
  const c = new InProcessCluster([1, 2, 3], 1, options);
  keep(c);
  for (const id of [1, 2, 3]) await c.open(id);
  const leader = await waitFor('a leader', 10_000, () => c.leaderOf(0));
  const follower = [...c.nodes.values()].find((n) => n.id !== leader.id);
  if (follower === undefined) throw new Error('no follower');
  return { c, leader, follower };
}

export async function waitFor<T>(what: string, deadlineMs: number, check: () => T | undefined | Promise<T | undefined>): Promise<T> {
  const end = Date.now() + deadlineMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
