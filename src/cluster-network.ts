/**
 * Composition of a node's cluster side, used by main.ts: the cluster gRPC server (Raft
 * streams of every group plus the request-forwarding service on one port), the
 * forwarding clients, and the Raft-backed shard logs the ShardedBroker is opened with.
 *
 * A node without peers starts no server: it is a cluster of one whose groups elect
 * themselves at once, so `npm start` keeps working through the same Raft path.
 */
import { randomInt } from 'node:crypto';
import type { Clock } from './common/clock.js';
import type { NodeId, ShardId } from './common/ids.js';
import { SeededRandom, type Random } from './common/random.js';
import { SystemDelays, SystemTimers } from './common/timers.js';
import type { ClusterConfig } from './cluster-config.js';
import type { PeerHealth } from './cluster/cluster-health.js';
import { ClusterShardLogs } from './cluster/cluster-shard-logs.js';
import { forwardServiceDefinition, forwardServiceImplementation, GrpcForwarder } from './cluster/grpc/forward-service.js';
import type { BrokerStores, ShardLogSource } from './cluster/sharded-broker.js';
import type { RaftMetrics } from './raft/metrics.js';
import { GrpcRaftTransport } from './raft/grpc/grpc-raft-transport.js';
import { channelCredentials, type PeerTls } from './raft/grpc/peer-tls.js';

const balanceIntervalMs = 5_000;

export class ClusterNetwork {
  private logs: ClusterShardLogs | undefined;
  private isClosed = false;

  private constructor(
    private readonly config: ClusterConfig,
    private readonly clock: Clock,
    private readonly random: Random,
    private readonly transport: GrpcRaftTransport | undefined,
    private readonly forwarder: GrpcForwarder,
  ) {}

  /** `peerTls`: mutual TLS on the cluster port for Raft streams and forwarding alike; plaintext when absent. */
  static async start(config: ClusterConfig, options: { readonly clock: Clock; readonly peerTls?: PeerTls }): Promise<ClusterNetwork> {
    const { clock, peerTls } = options;
    // Election jitter must differ between nodes; the seed is printed nowhere on purpose
    // (a real cluster is not replayed), simulations seed their own Random.
    const random = new SeededRandom(randomInt(2 ** 31));
    const peers = new Map([...config.peers].map(([id, address]) => [id as NodeId, address]));
    let network: ClusterNetwork | undefined;
    let transport: GrpcRaftTransport | undefined;
    if (peers.size > 0 && config.raftListen !== undefined) {
      transport = await GrpcRaftTransport.listen({
        nodeId: config.nodeId as NodeId,
        listenAddress: config.raftListen,
        random,
        delays: new SystemDelays(),
        ...(peerTls === undefined ? {} : { tls: peerTls }),
        extraServices: [
          {
            definition: forwardServiceDefinition,
            implementation: forwardServiceImplementation((request) => network?.logs?.serve(request) ?? Promise.resolve({ kind: 'not_leader', leaderHint: undefined })),
          },
        ],
      });
      transport.connect(peers);
    }
    network = new ClusterNetwork(config, clock, random, transport, new GrpcForwarder(peers, { clock, credentials: channelCredentials(peerTls) }));
    return network;
  }

  /** The ShardedBroker's log source; its drain stops the groups and then this network. */
  openShardLogs(stores: BrokerStores, shardCount: number, metrics?: RaftMetrics): ShardLogSource {
    const { config } = this;
    const logs = new ClusterShardLogs(
      stores,
      {
        nodeId: config.nodeId as NodeId,
        members: [config.nodeId as NodeId, ...[...config.peers.keys()].map((id) => id as NodeId)],
        ...(config.initialMembers === undefined ? {} : { initialMembers: config.initialMembers.map((id) => id as NodeId) }),
        shardCount,
        tickMs: config.tickMs,
        electionTicks: config.electionTicks,
        routeWaitMs: config.routeWaitMs,
        balanceIntervalMs,
        ...(config.compaction === undefined ? {} : { compaction: config.compaction }),
        ...(config.persistRoundsInFlightMax === undefined ? {} : { persistRoundsInFlightMax: config.persistRoundsInFlightMax }),
      },
      {
        transport: this.transport,
        forwarder: this.forwarder,
        clock: this.clock,
        random: this.random,
        timers: new SystemTimers(),
        delays: new SystemDelays(),
        peerView: () => this.peerView(),
        onDrained: () => this.close(),
        ...(metrics === undefined ? {} : { metrics }),
      },
    );
    this.logs = logs;
    return logs;
  }

  private peerView(): PeerHealth[] {
    return [...this.config.peers].map(([nodeId, address]) => {
      const stats = this.transport?.peerStats(nodeId as NodeId);
      return { nodeId, address, isConnected: stats?.isConnected ?? false, queuedMessages: stats?.queuedMessages ?? 0 };
    });
  }

  async close(): Promise<void> {
    if (this.isClosed) return;
    this.isClosed = true;
    this.forwarder.close();
    await this.transport?.close();
  }
}
