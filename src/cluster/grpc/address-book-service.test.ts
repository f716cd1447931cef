/**
 * The address book exchange over real sockets: a call carries the caller's book and
 * returns the callee's, a malformed request (a bad address, too many entries, no sender)
 * is refused before it reaches the handler, and a peer nobody listens for fails the call
 * within its deadline.
 */
import * as grpc from '@grpc/grpc-js';
import { Packr } from 'msgpackr';
import { afterEach, describe, expect, test } from 'vitest';
import { SystemClock } from '../../common/clock.js';
import { addressBookEntriesMax } from '../address-book.js';
import type { AddressExchange } from '../address-book-sync.js';
import { addressBookServiceDefinition, addressBookServiceImplementation, GrpcAddressExchanger } from './address-book-service.js';

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

async function serve(handler: (request: AddressExchange) => Promise<AddressExchange>): Promise<{ server: grpc.Server; address: string }> {
  const server = new grpc.Server();
  server.addService(addressBookServiceDefinition, addressBookServiceImplementation(handler));
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, bound) => (error === null ? resolve(bound) : reject(error)));
  });
  cleanups.push(() => server.forceShutdown());
  return { server, address: `127.0.0.1:${port}` };
}

function exchanger(): GrpcAddressExchanger {
  const made = new GrpcAddressExchanger({ clock: new SystemClock() });
  cleanups.push(() => made.close());
  return made;
}

/** Sends raw msgpack, bypassing the exchanger's typing; resolves with the status code. */
function rawCall(address: string, value: unknown): Promise<grpc.status> {
  const packr = new Packr({ useRecords: false, moreTypes: false });
  const client = new grpc.Client(address, grpc.credentials.createInsecure());
  cleanups.push(() => client.close());
  return new Promise((resolve) => {
    client.makeUnaryRequest('/zaqar.cluster.AddressBook/Exchange', (v: unknown) => packr.pack(v), (b: Buffer) => b, value, { deadline: Date.now() + 5_000 }, (error) => resolve(error?.code ?? grpc.status.OK));
  });
}

describe('address book exchange over gRPC', () => {
  test('carries the caller\'s book and answers with the callee\'s', async () => {
    const received: AddressExchange[] = [];
    const { address } = await serve(async (request) => {
      received.push(request);
      return { from: 2, entries: [{ nodeId: 2, address: '127.0.0.1:7002', counter: 3, writer: 2 }] };
    });
    const sent: AddressExchange = { from: 1, entries: [{ nodeId: 1, address: '127.0.0.1:7001', counter: 1, writer: 1 }, { nodeId: 4, address: null, counter: 2, writer: 1 }] };
    await expect(exchanger().exchange(address, sent, { deadlineMs: 5_000 })).resolves.toEqual({ from: 2, entries: [{ nodeId: 2, address: '127.0.0.1:7002', counter: 3, writer: 2 }] });
    expect(received).toEqual([sent]);
  });

  test('refuses malformed requests before the handler', async () => {
    let calls = 0;
    const { address } = await serve(async () => {
      calls += 1;
      return { from: 2, entries: [] };
    });
    const entry = { nodeId: 1, address: '127.0.0.1:7001', counter: 1, writer: 1 };
    expect(await rawCall(address, { from: 1, entries: [{ ...entry, address: 'no port' }] })).toBe(grpc.status.INVALID_ARGUMENT);
    expect(await rawCall(address, { entries: [entry] })).toBe(grpc.status.INVALID_ARGUMENT);
    expect(await rawCall(address, { from: 1, entries: Array.from({ length: addressBookEntriesMax + 1 }, (_, i) => ({ ...entry, nodeId: i + 1 })) })).toBe(grpc.status.INVALID_ARGUMENT);
    expect(await rawCall(address, 'garbage')).toBe(grpc.status.INVALID_ARGUMENT);
    expect(calls).toBe(0);
  });

  test('a peer nobody listens for fails the exchange', async () => {
    const { server, address } = await serve(async () => ({ from: 2, entries: [] }));
    server.forceShutdown();
    await expect(exchanger().exchange(address, { from: 1, entries: [] }, { deadlineMs: 2_000 })).rejects.toThrow(/exchange with/);
  });
});
