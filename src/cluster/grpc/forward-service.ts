/**
 * The forwarding service over gRPC: one unary method carrying a ForwardRequest to the
 * node that leads the shard and its ForwardReply back, msgpack-encoded (no codegen,
 * commands and results are already msgpack-safe records).
 *
 * GrpcForwarder keeps one client (one HTTP/2 channel) per peer, created on first use;
 * every call has a deadline so a partitioned or dead peer costs a bounded wait. A failed
 * call rejects with PeerUnreachableError only when the request was certainly never sent
 * (the router retries those); any other failure leaves the outcome unknown.
 */
import * as grpc from '@grpc/grpc-js';
import type { Clock } from '../../common/clock.js';
import type { NodeId } from '../../common/ids.js';
import type { ForwardReply, ForwardRequest, Forwarder } from '../forward-protocol.js';
import { PeerUnreachableError } from '../routing-errors.js';
import { shardQueryKinds } from '../shard/shard-query.js';
import { callUnary, msgpackUnaryMethod, serveUnary, unaryClient } from './msgpack-unary.js';

const forwardPath = '/zaqar.cluster.Forward/Propose';
const messageBytesMax = 64 * 1024 * 1024;

export const forwardServiceDefinition = { propose: msgpackUnaryMethod<ForwardReply>(forwardPath) };

export type ForwardHandler = (request: ForwardRequest) => Promise<ForwardReply>;

/** The service implementation to register on a gRPC server. */
export function forwardServiceImplementation(handler: ForwardHandler): grpc.UntypedServiceImplementation {
  return { propose: serveUnary({ isRequest: isForwardRequest, what: 'forward request' }, handler) };
}

function isForwardRequest(value: unknown): value is ForwardRequest {
  if (typeof value !== 'object' || value === null) return false;
  const { shardId, command, membership, query, describe, release, bootstrap } = value as Record<string, unknown>;
  return typeof shardId === 'number' && Number.isSafeInteger(shardId) && shardId >= 0 && command instanceof Uint8Array
    && (membership === undefined || isMembershipChange(membership)) && (query === undefined || isShardQuery(query))
    && (describe === undefined || describe === true) && (release === undefined || release === true)
    && (bootstrap === undefined || (Array.isArray(bootstrap) && bootstrap.every((n) => typeof n === 'number')));
}

/** Only the kind is checked: peers are trusted cluster members (mutual TLS), this guards against version skew. */
function isShardQuery(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return false;
  const { kind } = value as Record<string, unknown>;
  return shardQueryKinds.some((known) => known === kind);
}

function isMembershipChange(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return false;
  const { kind, nodeId } = value as Record<string, unknown>;
  return (kind === 'add' || kind === 'remove') && typeof nodeId === 'number' && Number.isSafeInteger(nodeId) && nodeId > 0;
}

export class GrpcForwarder implements Forwarder {
  private readonly clients = new Map<NodeId, grpc.Client>();

  private readonly clock: Clock;
  private readonly credentials: grpc.ChannelCredentials;

  /**
   * `addresses`: each peer's forwarding address (host:port); read on every call, so it may change.
   * `credentials`: the cluster's mutual TLS (raft/grpc/peer-tls.ts); plaintext when absent.
   */
  constructor(
    private readonly addresses: ReadonlyMap<NodeId, string>,
    options: { readonly clock: Clock; readonly credentials?: grpc.ChannelCredentials },
  ) {
    this.clock = options.clock;
    this.credentials = options.credentials ?? grpc.credentials.createInsecure();
  }

  forward(to: NodeId, request: ForwardRequest, options: { deadlineMs: number }): Promise<ForwardReply> {
    const client = this.client(to);
    if (client === undefined) return Promise.reject(new PeerUnreachableError(to, `no address for node ${to}`));
    return callUnary(client, forwardPath, request, { deadlineAtMs: this.clock.nowMs() + options.deadlineMs }).then(
      (reply) => {
        if (reply === undefined) throw new Error(`forward to node ${to} failed`, { cause: new Error('empty reply') });
        return reply as ForwardReply;
      },
      (error: unknown) => {
        if (isNeverSent(error)) throw new PeerUnreachableError(to, `node ${to} unreachable`, { cause: error });
        throw new Error(`forward to node ${to} failed`, { cause: error });
      },
    );
  }

  private client(to: NodeId): grpc.Client | undefined {
    const existing = this.clients.get(to);
    if (existing !== undefined) return existing;
    const address = this.addresses.get(to);
    if (address === undefined) return undefined;
    const client = unaryClient(address, { credentials: this.credentials, messageBytesMax });
    this.clients.set(to, client);
    return client;
  }

  /** Drops the client of a peer whose address changed or that was removed; the next call dials anew. */
  forget(to: NodeId): void {
    this.clients.get(to)?.close();
    this.clients.delete(to);
  }

  close(): void {
    for (const client of this.clients.values()) client.close();
    this.clients.clear();
  }
}

/**
 * Whether a failed call certainly never reached the peer: grpc-js fails a call that found
 * no connection to use (the channel's pick failed: refused, unresolvable, backing off)
 * with UNAVAILABLE "No connection established…" before writing anything. Any other
 * failure (a connection dropped mid-call, a deadline, a peer error) may come after the
 * peer received the request, so the caller must treat its outcome as unknown.
 */
function isNeverSent(error: unknown): boolean {
  const { code, details } = error as Partial<grpc.ServiceError>;
  return code === grpc.status.UNAVAILABLE && typeof details === 'string' && details.startsWith('No connection established');
}
