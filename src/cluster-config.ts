/**
 * The cluster part of the node configuration: who this node is, who its peers are,
 * where its cluster gRPC server (Raft streams + request forwarding) listens, and the
 * replication settings. config.ts gathers the raw values from flags, environment and
 * file (later sources winning) and hands them here to be checked.
 *
 * A node started without peers is a cluster of one (node id 1, one replica), going
 * through the same Raft path as a real cluster. A node started with `join` (seed
 * addresses) instead learns its peers from a seed's address book and waits to be added.
 */
import { isNodeAddress } from './cluster/address-book.js';

export interface ClusterConfig {
  readonly nodeId: number;
  /** Every other member's cluster address (host:port), by node id. */
  readonly peers: ReadonlyMap<number, string>;
  /** Where this node's cluster gRPC server listens; undefined for a cluster of one. */
  readonly raftListen: string | undefined;
  /** The address the other nodes dial (`advertise`, else this node's own peers entry, else raftListen). */
  readonly advertise: string | undefined;
  /** Seed nodes' cluster addresses (`join`): the address book is pulled from them at start. */
  readonly join: readonly string[];
  /** Voters per shard group (capped at the initial member count); below it, each node hosts only some shards. */
  readonly replicas: number;
  /** Voters of brand-new shard groups; undefined: every member. A node outside them waits to be added. */
  readonly initialMembers: readonly number[] | undefined;
  readonly tickMs: number;
  readonly electionTicks: number;
  /** How long a request waits for a shard's leader before answering 503. */
  readonly routeWaitMs: number;
  /** Raft log compaction (raft.snapshot_* options); absent: the defaults of shard-compactor.ts. */
  readonly compaction?: RaftCompactionOptions;
  /** raft.persist_rounds_in_flight; absent: the default of cluster-shard-logs.ts. */
  readonly persistRoundsInFlightMax?: number;
  /** raft.leaders_follow_traffic (default true): leadership moves to the node that takes a shard's commands (traffic-leadership.ts). */
  readonly leadersFollowTraffic: boolean;
}

/** raft.snapshot_every_entries, raft.snapshot_every_bytes, raft.snapshot_tail_entries, raft.snapshot_node_bytes. */
export interface RaftCompactionOptions {
  readonly snapshotEveryEntries?: number;
  readonly snapshotEveryBytes?: number;
  readonly tailEntriesMax?: number;
  readonly nodeBytesMax?: number;
}

/** Raw values as found (strings from flags and env, JSON values from the file). */
export interface ClusterConfigInput {
  readonly nodeId?: unknown;
  readonly peers?: unknown;
  readonly raftListen?: unknown;
  readonly advertise?: unknown;
  readonly join?: unknown;
  readonly replicas?: unknown;
  readonly initialMembers?: unknown;
  /** Already checked by config.ts. */
  readonly compaction?: RaftCompactionOptions;
  /** Already checked by config.ts. */
  readonly persistRoundsInFlightMax?: number;
  /** Already checked by config.ts. */
  readonly leadersFollowTraffic?: boolean;
}

export const defaultTickMs = 100;
export const defaultElectionTicks = 10;
const defaultReplicas = 3;

export function loadClusterConfig(input: ClusterConfigInput, fail: (message: string) => Error): ClusterConfig {
  const nodeId = input.nodeId === undefined ? 1 : positiveInteger('node_id', input.nodeId, fail);
  const members = input.peers === undefined ? new Map<number, string>() : parsePeers(input.peers, fail);
  const ownAddress = members.get(nodeId);
  members.delete(nodeId);
  const raftListen = input.raftListen === undefined ? ownAddress : address('raft_listen', input.raftListen, fail);
  if (members.size > 0 && raftListen === undefined) {
    throw fail(`option raft_listen is required with peers (or list node ${nodeId} itself in peers)`);
  }
  const join = input.join === undefined ? [] : parseAddresses('join', input.join, fail);
  if (join.length > 0 && raftListen === undefined) throw fail('option raft_listen is required with join');
  const advertise = input.advertise === undefined ? (ownAddress ?? raftListen) : address('advertise', input.advertise, fail);
  if (join.length > 0 && (advertise === undefined || isWildcard(advertise))) {
    throw fail(`option advertise is required with join when raft_listen (${raftListen ?? ''}) is a wildcard address`);
  }
  const initialMembers = input.initialMembers === undefined ? undefined : parseIds('initial_members', input.initialMembers, fail);
  // Each shard's group has this many voters, placed over the initial members (placement.ts).
  const memberCount = initialMembers?.length ?? members.size + 1;
  const replicas = input.replicas === undefined ? defaultReplicas : positiveInteger('replicas', input.replicas, fail);
  return {
    nodeId,
    peers: members,
    raftListen,
    advertise: advertise === undefined || isWildcard(advertise) ? undefined : advertise,
    join,
    replicas: Math.min(replicas, memberCount),
    initialMembers,
    tickMs: defaultTickMs,
    electionTicks: defaultElectionTicks,
    routeWaitMs: 4 * defaultTickMs * defaultElectionTicks,
    ...(input.compaction === undefined ? {} : { compaction: input.compaction }),
    ...(input.persistRoundsInFlightMax === undefined ? {} : { persistRoundsInFlightMax: input.persistRoundsInFlightMax }),
    leadersFollowTraffic: input.leadersFollowTraffic ?? true,
  };
}

/** `1=127.0.0.1:7001,2=127.0.0.1:7002` (a JSON object {"1": "host:port"} in the file). */
function parsePeers(value: unknown, fail: (message: string) => Error): Map<number, string> {
  const peers = new Map<number, string>();
  const pairs: [string, unknown][] =
    typeof value === 'string'
      ? value.split(',').filter((part) => part.trim() !== '').map((part) => {
          const at = part.indexOf('=');
          if (at < 0) throw fail(`option peers must be ID=HOST:PORT,..., got ${JSON.stringify(part)}`);
          return [part.slice(0, at).trim(), part.slice(at + 1).trim()];
        })
      : typeof value === 'object' && value !== null && !Array.isArray(value)
        ? Object.entries(value as Record<string, unknown>)
        : [];
  if (pairs.length === 0) throw fail(`option peers must list ID=HOST:PORT pairs, got ${JSON.stringify(value)}`);
  for (const [id, peerAddress] of pairs) {
    const nodeId = positiveInteger('peers', /^\d+$/.test(id) ? Number(id) : id, fail);
    if (peers.has(nodeId)) throw fail(`option peers lists node ${nodeId} twice`);
    peers.set(nodeId, address('peers', peerAddress, fail));
  }
  return peers;
}

/** `1,2,3` (or a JSON array in the file). */
function parseIds(name: string, value: unknown, fail: (message: string) => Error): number[] {
  const parts = typeof value === 'string' ? value.split(',').map((part) => part.trim()) : Array.isArray(value) ? (value as unknown[]) : [];
  if (parts.length === 0) throw fail(`option ${name} must list node ids, got ${JSON.stringify(value)}`);
  return parts.map((part) => positiveInteger(name, part, fail));
}

function positiveInteger(name: string, value: unknown, fail: (message: string) => Error): number {
  const number = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value;
  if (typeof number !== 'number' || !Number.isSafeInteger(number) || number < 1 || number > 0xffff_ffff) {
    throw fail(`option ${name} must be a positive integer, got ${JSON.stringify(value)}`);
  }
  return number;
}

function address(name: string, value: unknown, fail: (message: string) => Error): string {
  if (!isNodeAddress(value)) throw fail(`option ${name} must be HOST:PORT, got ${JSON.stringify(value)}`);
  return value;
}

/** `HOST:PORT,...` (or a JSON array in the file). */
function parseAddresses(name: string, value: unknown, fail: (message: string) => Error): string[] {
  const parts = typeof value === 'string' ? value.split(',').map((part) => part.trim()).filter((part) => part !== '') : Array.isArray(value) ? (value as unknown[]) : [];
  if (parts.length === 0) throw fail(`option ${name} must list HOST:PORT addresses, got ${JSON.stringify(value)}`);
  return parts.map((part) => address(name, part, fail));
}

/** A listen-everywhere host, which no other node can dial. */
function isWildcard(hostPort: string): boolean {
  const host = hostPort.slice(0, hostPort.lastIndexOf(':'));
  return host === '0.0.0.0' || host === '[::]' || host === '::' || host === '';
}
