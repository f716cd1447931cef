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
import { Packr } from 'msgpackr';
import type { Clock } from '../../common/clock.js';
import { addressBookEntriesMax, isAddressEntry } from '../address-book.js';
import type { AddressExchange, AddressExchanger } from '../address-book-sync.js';

const packr = new Packr({ useRecords: false, moreTypes: false });
const exchangePath = '/zaqar.cluster.AddressBook/Exchange';
/** A full book is a few tens of KiB at most. */
const messageBytesMax = 1024 * 1024;
const clientsMax = 64;

const encode = (value: AddressExchange): Buffer => packr.pack(value);
const decode = (bytes: Buffer): unknown => packr.unpack(bytes);

const exchangeMethod: grpc.MethodDefinition<unknown, AddressExchange> = {
  path: exchangePath,
  requestStream: false,
  responseStream: false,
  requestSerialize: (value) => packr.pack(value),
  requestDeserialize: decode,
  responseSerialize: encode,
  responseDeserialize: (bytes) => decode(bytes) as AddressExchange,
};

export const addressBookServiceDefinition = { exchange: exchangeMethod };

/** The service implementation to register on the cluster gRPC server. */
export function addressBookServiceImplementation(handler: (request: AddressExchange) => Promise<AddressExchange>): grpc.UntypedServiceImplementation {
  return {
    exchange: (call: grpc.ServerUnaryCall<unknown, AddressExchange>, callback: grpc.sendUnaryData<AddressExchange>) => {
      const request = call.request;
      if (!isAddressExchange(request)) {
        callback({ code: grpc.status.INVALID_ARGUMENT, details: 'malformed address book exchange' });
        return;
      }
      handler(request).then(
        (reply) => callback(null, reply),
        (error: unknown) => callback({ code: grpc.status.INTERNAL, details: error instanceof Error ? error.message : String(error) }),
      );
    },
  };
}

/** Whether a received value is an exchange: a node id and at most `addressBookEntriesMax` well-formed entries. */
export function isAddressExchange(value: unknown): value is AddressExchange {
  if (typeof value !== 'object' || value === null) return false;
  const { from, entries } = value as Record<string, unknown>;
  return typeof from === 'number' && Number.isSafeInteger(from) && from >= 1
    && Array.isArray(entries) && entries.length <= addressBookEntriesMax && entries.every(isAddressEntry);
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
    const client = this.client(address);
    return new Promise((resolve, reject) => {
      client.makeUnaryRequest(
        exchangePath,
        encode,
        decode,
        request,
        new grpc.Metadata(),
        { deadline: this.clock.nowMs() + options.deadlineMs },
        (error, reply) => {
          if (error === null && isAddressExchange(reply)) resolve(reply);
          else reject(new Error(`address book exchange with ${address} failed`, { cause: error ?? new Error('malformed reply') }));
        },
      );
    });
  }

  private client(address: string): grpc.Client {
    const existing = this.clients.get(address);
    if (existing !== undefined) return existing;
    const oldest = this.clients.size >= clientsMax ? this.clients.keys().next().value : undefined;
    if (oldest !== undefined) {
      this.clients.get(oldest)?.close();
      this.clients.delete(oldest);
    }
    const client = new grpc.Client(address, this.credentials, {
      'grpc.max_receive_message_length': messageBytesMax,
      'grpc.max_send_message_length': messageBytesMax,
      'grpc.initial_reconnect_backoff_ms': 100,
      'grpc.max_reconnect_backoff_ms': 1000,
    });
    this.clients.set(address, client);
    return client;
  }

  close(): void {
    for (const client of this.clients.values()) client.close();
    this.clients.clear();
  }
}
