/**
 * GrpcForwarder over real sockets: how a failed forward is reported decides whether the
 * router may propose the command again. Only a request that never left (no connection
 * to the peer) is a PeerUnreachableError; a call the peer received and never answered
 * (it died mid-call) is not, because the peer may have proposed it. Forwards issued in
 * one turn travel as one batch whose items are answered and fail one by one, and a peer
 * that does not know the batch method still gets them, one call each. Once a peer's
 * forwarding stream is open the items go on it, with the same outcomes; a peer that does
 * not serve the stream (the default here: the methods of the version before it) gets batches.
 */
import * as grpc from '@grpc/grpc-js';
import { afterEach, describe, expect, test } from 'vitest';
import { SystemClock } from '../../common/clock.js';
import type { NodeId, ShardId } from '../../common/ids.js';
import type { ForwardReply, ForwardRequest } from '../forward-protocol.js';
import { PeerUnreachableError } from '../routing-errors.js';
import { forwardServiceDefinition, forwardServiceImplementation, GrpcForwarder } from './forward-service.js';

const peer = 2 as NodeId;
const request: ForwardRequest = { kind: 'command', shardId: 0 as ShardId, command: new Uint8Array([1, 2, 3]) };
const cleanups: (() => void)[] = [];

afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

/** `methods`: the methods served (an older version serves `propose` only). */
async function serve(
  handler: (request: ForwardRequest) => Promise<ForwardReply>,
  methods: readonly ('propose' | 'proposeBatch' | 'proposeStream')[] = ['propose', 'proposeBatch'],
): Promise<{ server: grpc.Server; address: string; calls: Record<string, number[]> }> {
  const server = new grpc.Server();
  const implementation = forwardServiceImplementation(handler);
  // Each method's calls (for the stream: each frame of items), as the number of items each carried.
  const calls: Record<string, number[]> = { propose: [], proposeBatch: [], proposeStream: [] };
  const definition: Record<string, unknown> = {};
  const counted: grpc.UntypedServiceImplementation = {};
  for (const method of methods) {
    definition[method] = forwardServiceDefinition[method];
    if (method === 'proposeStream') {
      counted[method] = ((call: grpc.ServerDuplexStream<unknown, unknown>) => {
        call.on('data', (frame: { items?: unknown[] }) => calls['proposeStream']?.push(frame.items?.length ?? 0));
        (implementation[method] as grpc.handleBidiStreamingCall<unknown, unknown>)(call);
      }) as grpc.UntypedHandleCall;
      continue;
    }
    counted[method] = ((call: grpc.ServerUnaryCall<unknown, unknown>, callback: grpc.sendUnaryData<unknown>) => {
      const { requests } = call.request as { requests?: unknown[] };
      calls[method]?.push(requests?.length ?? 1);
      (implementation[method] as grpc.handleUnaryCall<unknown, unknown>)(call, callback);
    }) as grpc.UntypedHandleCall;
  }
  server.addService(definition as grpc.ServiceDefinition, counted);
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, bound) => (error === null ? resolve(bound) : reject(error)));
  });
  cleanups.push(() => server.forceShutdown());
  return { server, address: `127.0.0.1:${port}`, calls };
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

/** The request whose command is the single byte `tag`. */
const tagged = (tag: number): ForwardRequest => ({ kind: 'command', shardId: 0 as ShardId, command: new Uint8Array([tag]) });

/** The tag of a request `tagged` built. */
const tagOf = (request: ForwardRequest): number | undefined => (request.kind === 'command' ? request.command[0] : undefined);

/** How a forward settled: its reply's kind, or whether its failure leaves the outcome unknown. */
function outcomeOf(forward: Promise<ForwardReply>): Promise<string> {
  return forward.then(
    (reply) => reply.kind,
    (error: unknown) => (error instanceof PeerUnreachableError ? 'unreachable' : 'unknown'),
  );
}

describe('GrpcForwarder batches', () => {
  test('forwards issued in one turn travel in one call, each with its own outcome', async () => {
    const { address, calls } = await serve(async (request) => {
      if (tagOf(request) === 1) return { kind: 'applied', result: { kind: 'posted' } as never };
      if (tagOf(request) === 2) return { kind: 'not_leader', leaderHint: 3 as NodeId };
      throw new Error('serving failed');
    });
    const forwarder = forwarderTo(address);
    const outcomes = await Promise.all([1, 2, 3].map((tag) => outcomeOf(forwarder.forward(peer, tagged(tag), { deadlineMs: 5_000 }))));
    expect(outcomes).toEqual(['applied', 'not_leader', 'unknown']);
    expect(calls).toEqual({ propose: [], proposeBatch: [3], proposeStream: [] });
  });

  test('a peer that does not know the batch method gets each item on the single method', async () => {
    const { address, calls } = await serve(async (request) => ({ kind: 'not_leader', leaderHint: tagOf(request) as NodeId }), ['propose']);
    const forwarder = forwarderTo(address);
    const replies = await Promise.all([1, 2, 3].map((tag) => forwarder.forward(peer, tagged(tag), { deadlineMs: 5_000 })));
    expect(replies.map((reply) => (reply.kind === 'not_leader' ? reply.leaderHint : undefined))).toEqual([1, 2, 3]);
    expect(calls.propose).toEqual([1, 1, 1]);
    // Later forwards go straight to the single method.
    await forwarder.forward(peer, tagged(4), { deadlineMs: 5_000 });
    expect(calls.propose).toHaveLength(4);
  });

  test('a batch the peer received and died before answering leaves every item outcome-unknown', async () => {
    let served = 0;
    let allReceived: () => void = () => {};
    const isReceived = new Promise<void>((resolve) => (allReceived = resolve));
    const { server, address, calls } = await serve(() => {
      if (++served === 3) allReceived();
      return new Promise<ForwardReply>(() => {}); // dies before it answers
    });
    const forwarder = forwarderTo(address);
    const outcomes = Promise.all([1, 2, 3].map((tag) => outcomeOf(forwarder.forward(peer, tagged(tag), { deadlineMs: 5_000 }))));
    await isReceived;
    server.forceShutdown();
    expect(await outcomes).toEqual(['unknown', 'unknown', 'unknown']);
    expect(calls.proposeBatch).toEqual([3]);
  });

  test('a batch to a peer nobody listens for is unreachable, every item of it', async () => {
    const { server, address } = await serve(async () => ({ kind: 'dropped' }));
    server.forceShutdown();
    const forwarder = forwarderTo(address);
    const outcomes = await Promise.all([1, 2].map((tag) => outcomeOf(forwarder.forward(peer, tagged(tag), { deadlineMs: 5_000 }))));
    expect(outcomes).toEqual(['unreachable', 'unreachable']);
  });
});

const allMethods = ['propose', 'proposeBatch', 'proposeStream'] as const;

/** Forwards one at a time until one went on the peer's stream (it opens after its first round trip). */
async function awaitStreamOpen(forwarder: GrpcForwarder, calls: Record<string, number[]>): Promise<void> {
  for (let attempt = 0; attempt < 100 && calls['proposeStream']?.length === 0; attempt++) {
    await forwarder.forward(peer, tagged(0), { deadlineMs: 5_000 });
  }
  expect(calls['proposeStream']).toEqual([1]);
}

describe('GrpcForwarder stream', () => {
  test('once the stream is open, forwards of one turn go on it as one frame, each with its own outcome', async () => {
    const { address, calls } = await serve(async (request) => {
      if (tagOf(request) === 1) return { kind: 'applied', result: { kind: 'posted' } as never };
      if (tagOf(request) === 2) return { kind: 'not_leader', leaderHint: 3 as NodeId };
      if (tagOf(request) === 3) throw new Error('serving failed');
      return { kind: 'dropped' };
    }, allMethods);
    const forwarder = forwarderTo(address);
    await awaitStreamOpen(forwarder, calls);
    const batchesBefore = calls['proposeBatch']?.length;
    const outcomes = await Promise.all([1, 2, 3].map((tag) => outcomeOf(forwarder.forward(peer, tagged(tag), { deadlineMs: 5_000 }))));
    expect(outcomes).toEqual(['applied', 'not_leader', 'unknown']);
    expect(calls['proposeStream']).toEqual([1, 3]);
    expect(calls['proposeBatch']?.length).toBe(batchesBefore);
  });

  test('items on a stream whose peer received them and died before answering are outcome-unknown, not unreachable', async () => {
    let isHanging = false;
    let received = 0;
    let allReceived: () => void = () => {};
    const isReceived = new Promise<void>((resolve) => (allReceived = resolve));
    const { server, address, calls } = await serve(() => {
      if (!isHanging) return Promise.resolve({ kind: 'dropped' });
      if (++received === 2) allReceived();
      return new Promise<ForwardReply>(() => {}); // dies before it answers
    }, allMethods);
    const forwarder = forwarderTo(address);
    await awaitStreamOpen(forwarder, calls);
    isHanging = true;
    const outcomes = Promise.all([1, 2].map((tag) => outcomeOf(forwarder.forward(peer, tagged(tag), { deadlineMs: 5_000 }))));
    await isReceived;
    server.forceShutdown();
    expect(await outcomes).toEqual(['unknown', 'unknown']);
    expect(calls['proposeStream']).toEqual([1, 2]);
  });

  test('an item whose deadline passes on an open stream fails on its own, outcome unknown', async () => {
    let isHanging = false;
    const { address, calls } = await serve(() => (isHanging ? new Promise<ForwardReply>(() => {}) : Promise.resolve({ kind: 'dropped' })), allMethods);
    const forwarder = forwarderTo(address);
    await awaitStreamOpen(forwarder, calls);
    isHanging = true;
    expect(await outcomeOf(forwarder.forward(peer, tagged(1), { deadlineMs: 50 }))).toBe('unknown');
    isHanging = false;
    // The stream still serves later items.
    expect(await outcomeOf(forwarder.forward(peer, tagged(2), { deadlineMs: 5_000 }))).toBe('dropped');
    expect(calls['proposeStream']).toEqual([1, 1, 1]);
  });
});
