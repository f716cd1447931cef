/**
 * Composition of a node's cluster side, used by main.ts: the cluster gRPC server (Raft
 * streams of every group, request forwarding and the address book exchange on one port),
 * the forwarding clients, the persisted address book, and the Raft-backed shard logs the
 * ShardedBroker is opened with.
 *
 * The address book (cluster/address-book-sync.ts, kept in the node's LMDB environment)
 * is the one source of peer addresses: `--peers` entries are merged into it at start, a
 * `--join` node pulls it from a seed before it serves, and every change (an operator's
 * add or remove, or one learnt from a peer) reaches the transport's and the forwarder's
 * peer maps here (`applyAddresses`), so a node added later is dialled by every node.
 *
 * A node without peers or seeds starts no server: it is a cluster of one whose groups
 * elect themselves at once, so `npm start` keeps working through the same Raft path.
 */
import { randomInt } from 'node:crypto';
import type { Clock } from './common/clock.js';
import type { NodeId } from './common/ids.js';
import { silentLogger, type Logger } from './common/logger.js';
import { SeededRandom, type Random } from './common/random.js';
import { SystemDelays, SystemTimers } from './common/timers.js';
import type { ClusterConfig } from './cluster-config.js';
import type { AddressEntry } from './cluster/address-book.js';
import { AddressBookSync } from './cluster/address-book-sync.js';
import type { PeerHealth } from './cluster/cluster-health.js';
import { ClusterShardLogs } from './cluster/cluster-shard-logs.js';
import { addressBookServiceDefinition, addressBookServiceImplementation, GrpcAddressExchanger } from './cluster/grpc/address-book-service.js';
import { forwardServiceDefinition, forwardServiceImplementation, GrpcForwarder } from './cluster/grpc/forward-service.js';
import type { BrokerStores } from './cluster/broker-stores.js';
import type { ShardLogSource } from './cluster/shard-log-source.js';
import { defaultTrafficFollowing } from './cluster/traffic-leadership.js';
import { LmdbAddressBookStore } from './log/lmdb/lmdb-address-book-store.js';
import type { RaftMetrics } from './raft/metrics.js';
import { GrpcRaftTransport } from './raft/grpc/grpc-raft-transport.js';
import { channelCredentials, type PeerTls } from './raft/grpc/peer-tls.js';

const balanceIntervalMs = 5_000;
/** Address book anti-entropy: every node exchanges its book with every other about this often (±50 %). */
const addressPullIntervalMs = 10_000;
const addressExchangeDeadlineMs = 2_000;

export interface ClusterNetworkOptions {
  readonly clock: Clock;
  /** Where the node's LMDB environment lives (the address book is kept in it). */
  readonly dataDir: string;
  /** How the environment is mapped (lmdb-env.ts); the broker opens it with the same. */
  readonly lmdbMapInChunks?: boolean;
  /** Mutual TLS on the cluster port for Raft streams, forwarding and book exchanges; plaintext when absent. */
  readonly peerTls?: PeerTls;
  readonly logger?: Logger;
}

export class ClusterNetwork {
  private logs: ClusterShardLogs | undefined;
  private isClosed = false;
  /** This node and every peer in the book; the membership router reads it on every change. */
  private readonly members: NodeId[];

  private constructor(
    private readonly config: ClusterConfig,
    private readonly clock: Clock,
    private readonly random: Random,
    private readonly transport: GrpcRaftTransport | undefined,
    /** The forwarder's and the transport's view of the peers' addresses (kept equal to the book's live entries). */
    private readonly addresses: Map<NodeId, string>,
    private readonly forwarder: GrpcForwarder,
    /** The persisted address book; undefined for a cluster of one. */
    readonly addressBook: AddressBookSync | undefined,
    private readonly closeStore: () => Promise<void>,
  ) {
    this.members = [config.nodeId as NodeId];
  }

  static async start(config: ClusterConfig, options: ClusterNetworkOptions): Promise<ClusterNetwork> {
    const { clock, peerTls } = options;
    const logger = options.logger ?? silentLogger;
    // Election jitter must differ between nodes; the seed is printed nowhere on purpose
    // (a real cluster is not replayed), simulations seed their own Random.
    const random = new SeededRandom(randomInt(2 ** 31));
    const credentials = channelCredentials(peerTls);
    const isClustered = config.raftListen !== undefined && (config.peers.size > 0 || config.join.length > 0);
    if (!isClustered || config.raftListen === undefined) {
      const none = new Map<NodeId, string>();
      return new ClusterNetwork(config, clock, random, undefined, none, new GrpcForwarder(none, { clock, credentials }), undefined, async () => undefined);
    }
    let network: ClusterNetwork | undefined;
    const store = LmdbAddressBookStore.open(options.dataDir, { mapInChunks: options.lmdbMapInChunks ?? true });
    try {
      const book = await AddressBookSync.open(
        { nodeId: config.nodeId, ownAddress: config.advertise, peers: config.peers, seeds: config.join, pullIntervalMs: addressPullIntervalMs, exchangeDeadlineMs: addressExchangeDeadlineMs },
        { store, exchanger: new GrpcAddressExchanger({ clock, credentials }), delays: new SystemDelays(), random, logger, onChange: (changed) => network?.applyAddresses(changed) },
      );
      const transport = await GrpcRaftTransport.listen({
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
          { definition: addressBookServiceDefinition, implementation: addressBookServiceImplementation((request) => book.serve(request)) },
        ],
      });
      const addresses = new Map<NodeId, string>();
      network = new ClusterNetwork(config, clock, random, transport, addresses, new GrpcForwarder(addresses, { clock, credentials }), book, () => store.close());
      network.applyAddresses(book.entries());
      if (config.join.length > 0) {
        logger.info({ join: config.join, advertise: config.advertise }, 'pulling the cluster address book from the seeds');
        await book.pullUntilAnswered();
      }
      book.startPulling();
      return network;
    } catch (error) {
      await (network?.close() ?? store.close());
      throw error;
    }
  }

  /** The ShardedBroker's log source; its drain stops the groups and then this network. */
  openShardLogs(stores: BrokerStores, options: { readonly shardCount: number; readonly metrics?: RaftMetrics; readonly logger?: Logger }): ShardLogSource {
    const { shardCount, metrics, logger } = options;
    const { config } = this;
    const self = config.nodeId as NodeId;
    // Voters of brand-new groups come from the flags, never from the book, so every node
    // of a new cluster places its groups alike. A joining node is outside them (it waits
    // to be added); the nodes its seed's book names stand in for them, as routing hints.
    const initialMembers = config.initialMembers?.map((id) => id as NodeId)
      ?? (config.join.length > 0 ? this.members.slice(1) : [self, ...[...config.peers.keys()].map((id) => id as NodeId)]);
    if (initialMembers.length === 0) throw new Error(`node ${self} joined, but its seeds' address book names no other node`);
    const logs = new ClusterShardLogs(
      stores,
      {
        nodeId: self,
        members: this.members,
        initialMembers,
        replicas: config.replicas,
        shardCount,
        tickMs: config.tickMs,
        electionTicks: config.electionTicks,
        routeWaitMs: config.routeWaitMs,
        balanceIntervalMs,
        // A few ticks: leaders move to their preferred voters within moments of the first elections.
        settlePassMs: 2 * config.tickMs,
        ...(config.compaction === undefined ? {} : { compaction: config.compaction }),
        ...(config.persistRoundsInFlightMax === undefined ? {} : { persistRoundsInFlightMax: config.persistRoundsInFlightMax }),
        ...(config.leadersFollowTraffic ? { followTraffic: defaultTrafficFollowing } : {}),
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
        ...(logger === undefined ? {} : { logger }),
      },
    );
    this.logs = logs;
    return logs;
  }

  /** Brings the transport's and the forwarder's peer maps in line with changed book entries. */
  private applyAddresses(changed: readonly AddressEntry[]): void {
    const book = this.addressBook;
    if (this.isClosed || book === undefined) return;
    for (const entry of changed) {
      if (entry.nodeId === this.config.nodeId) continue;
      const nodeId = entry.nodeId as NodeId;
      const address = book.dialAddress(entry);
      const current = this.addresses.get(nodeId);
      if (current === address) continue;
      if (current !== undefined) {
        this.transport?.removePeer(nodeId);
        this.forwarder.forget(nodeId);
        this.addresses.delete(nodeId);
      }
      if (address !== undefined) {
        this.addresses.set(nodeId, address);
        this.transport?.connect(new Map([[nodeId, address]]));
      }
    }
    this.members.splice(1, this.members.length - 1, ...[...this.addresses.keys()].sort((a, b) => a - b));
  }

  /** Every peer in the address book, with its stream's state. */
  private peerView(): PeerHealth[] {
    return [...this.addresses].sort(([a], [b]) => a - b).map(([nodeId, address]) => {
      const stats = this.transport?.peerStats(nodeId);
      return { nodeId, address, isConnected: stats?.isConnected ?? false, queuedMessages: stats?.queuedMessages ?? 0 };
    });
  }

  async close(): Promise<void> {
    if (this.isClosed) return;
    this.isClosed = true;
    this.addressBook?.close();
    this.forwarder.close();
    await this.transport?.close();
    await this.closeStore();
  }
}
