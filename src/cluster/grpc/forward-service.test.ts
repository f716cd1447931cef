/**
 * GrpcForwarder over real sockets: how a failed forward is reported decides whether the
 * router may propose the command again. Only a request that never left (no connection
 * to the peer) is a PeerUnreachableError; a call the peer received and never answered
 * (it died mid-call) is not, because the peer may have proposed it.
 */
import * as grpc from '@grpc/grpc-js';
import { afterEach, describe, expect, test } from 'vitest';
import { SystemClock } from '../../common/clock.js';
import type { NodeId, ShardId } from '../../common/ids.js';
import type { ForwardReply, ForwardRequest } from '../forward-protocol.js';
import { PeerUnreachableError } from '../routing-errors.js';
import { forwardServiceDefinition, forwardServiceImplementation, GrpcForwarder } from './forward-service.js';

const peer = 2 as NodeId;
const request: ForwardRequest = { shardId: 0 as ShardId, command: new Uint8Array([1, 2, 3]) };
const cleanups: (() => void)[] = [];

afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

async function serve(handler: (request: ForwardRequest) => Promise<ForwardReply>): Promise<{ server: grpc.Server; address: string }> {
  const server = new grpc.Server();
  server.addService(forwardServiceDefinition, forwardServiceImplementation(handler));
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, bound) => (error === null ? resolve(bound) : reject(error)));
  });
  cleanups.push(() => server.forceShutdown());
  return { server, address: `127.0.0.1:${port}` };
}

function forwarderTo(address: string): GrpcForwarder {
  const forwarder = new GrpcForwarder(new Map([[peer, address]]), { clock: new SystemClock() });
  cleanups.push(() => forwarder.close());
  return forwarder;
}

describe('GrpcForwarder failures', () => {
  test('a served forward resolves with the reply', async () => {
    const { address } = await serve(async () => ({ kind: 'dropped' }));
    await expect(forwarderTo(address).forward(peer, request, { deadlineMs: 5_000 })).resolves.toEqual({ kind: 'dropped' });
  });

  test('a peer nobody listens for is unreachable (never sent, safe to retry)', async () => {
    const { server, address } = await serve(async () => ({ kind: 'dropped' }));
    server.forceShutdown();
    const forwarder = forwarderTo(address);
    await expect(forwarder.forward(peer, request, { deadlineMs: 5_000 })).rejects.toBeInstanceOf(PeerUnreachableError);
  });

  test('a peer without an address is unreachable', async () => {
    const forwarder = new GrpcForwarder(new Map(), { clock: new SystemClock() });
    await expect(forwarder.forward(peer, request, { deadlineMs: 5_000 })).rejects.toBeInstanceOf(PeerUnreachableError);
  });

  test('a peer that received the request and died before answering is not reported unreachable', async () => {
    let received: () => void = () => {};
    const isReceived = new Promise<void>((resolve) => (received = resolve));
    const { server, address } = await serve(() => {
      received();
      return new Promise<ForwardReply>(() => {}); // dies before it answers
    });
    const forwarder = forwarderTo(address);
    const outcome = forwarder.forward(peer, request, { deadlineMs: 5_000 }).then(
      () => 'resolved',
      (error: unknown) => (error instanceof PeerUnreachableError ? 'unreachable' : 'unknown'),
    );
    await isReceived;
    server.forceShutdown();
    expect(await outcome).toBe('unknown');
  });
});
