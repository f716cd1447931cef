/**
 * The address book exchange over gRPC, on the cluster port beside request forwarding:
 * one unary method `/zaqar.cluster.AddressBook/Exchange` whose request carries the
 * caller's id and book and whose reply carries the callee's book after merging it, both
 * msgpack-encoded (no codegen, like forward-service.ts). One exchange is a push and a
 * pull at once; TLS is the cluster's mutual TLS, so only members exchange books.
 *
 * GrpcAddressExchanger dials by address rather than node id: a joining node knows its
 * seeds only by address. It keeps one client per address, at most `clientsMax` (the
 * oldest is closed beyond), and every call has a deadline.
 */
import * as grpc from '@grpc/grpc-js';
import type { Clock } from '../../common/clock.js';
import { addressBookEntriesMax, isAddressEntry } from '../address-book.js';
import type { AddressExchange, AddressExchanger } from '../address-book-sync.js';
import { isCapabilityList } from '../peer-capabilities.js';
import { callUnary, msgpackUnaryMethod, serveUnary, unaryClient } from './msgpack-unary.js';

const exchangePath = '/zaqar.cluster.AddressBook/Exchange';
/** A full book is a few tens of KiB at most. */
const messageBytesMax = 1024 * 1024;
const clientsMax = 64;

export const addressBookServiceDefinition = { exchange: msgpackUnaryMethod<AddressExchange>(exchangePath) };

/** The service implementation to register on the cluster gRPC server. */
export function addressBookServiceImplementation(handler: (request: AddressExchange) => Promise<AddressExchange>): grpc.UntypedServiceImplementation {
  return { exchange: serveUnary({ isRequest: isAddressExchange, what: 'address book exchange' }, handler) };
}

/** Whether a received value is an exchange: a node id, at most `addressBookEntriesMax` well-formed entries, and capabilities if any. */
export function isAddressExchange(value: unknown): value is AddressExchange {
  if (typeof value !== 'object' || value === null) return false;
  const { from, entries, capabilities } = value as Record<string, unknown>;
  return typeof from === 'number' && Number.isSafeInteger(from) && from >= 1
    && Array.isArray(entries) && entries.length <= addressBookEntriesMax && entries.every(isAddressEntry)
    && (capabilities === undefined || isCapabilityList(capabilities));
}

export class GrpcAddressExchanger implements AddressExchanger {
  private readonly clients = new Map<string, grpc.Client>();
  private readonly clock: Clock;
  private readonly credentials: grpc.ChannelCredentials;

  /** `credentials`: the cluster's mutual TLS (raft/grpc/peer-tls.ts); plaintext when absent. */
  constructor(options: { readonly clock: Clock; readonly credentials?: grpc.ChannelCredentials }) {
    this.clock = options.clock;
    this.credentials = options.credentials ?? grpc.credentials.createInsecure();
  }

  exchange(address: string, request: AddressExchange, options: { readonly deadlineMs: number }): Promise<AddressExchange> {
    const failed = (cause: unknown): Error => new Error(`address book exchange with ${address} failed`, { cause });
    return callUnary(this.client(address), exchangePath, request, { deadlineAtMs: this.clock.nowMs() + options.deadlineMs }).then(
      (reply) => {
        if (!isAddressExchange(reply)) throw failed(new Error('malformed reply'));
        return reply;
      },
      (error: unknown) => {
        throw failed(error);
      },
    );
  }

  private client(address: string): grpc.Client {
    const existing = this.clients.get(address);
    if (existing !== undefined) return existing;
    const oldest = this.clients.size >= clientsMax ? this.clients.keys().next().value : undefined;
    if (oldest !== undefined) {
      this.clients.get(oldest)?.close();
      this.clients.delete(oldest);
    }
    const client = unaryClient(address, { credentials: this.credentials, messageBytesMax });
    this.clients.set(address, client);
    return client;
  }

  close(): void {
    for (const client of this.clients.values()) client.close();
    this.clients.clear();
  }
}
