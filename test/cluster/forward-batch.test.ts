/**
 * Forwards from a follower travel to the shard leader in batches over real gRPC. When
 * the connection drops after the leader served a batch and before its reply left, every
 * item's outcome is unknown: the router proposes each again, the shard FSM answers the
 * retries with the first applies' results, and every message is stored once. The same
 * holds for consumers' commands that went as one batch entry (command-coalescer.ts): each
 * claim and delete is answered once, as if the reply had not been lost.
 */
import * as grpc from '@grpc/grpc-js';
import { afterEach, describe, expect, test } from 'vitest';
import { SystemClock } from '../../src/common/clock.js';
import type { NodeId } from '../../src/common/ids.js';
import type { ForwardReply, ForwardRequest } from '../../src/cluster/forward-protocol.js';
import { forwardServiceDefinition, forwardServiceImplementation, GrpcForwarder } from '../../src/cluster/grpc/forward-service.js';
import { InProcessCluster, waitFor } from './support/in-process.js';
import { bodyOf } from '../engine/support/broker-steps.js';

const listOptions = { clientId: 'c', limit: 20, echo: true, includeClaimed: true, includeDelayed: true };
const cleanups: (() => Promise<void> | void)[] = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function listen(port: number, handler: (request: ForwardRequest) => Promise<ForwardReply>): Promise<{ server: grpc.Server; port: number }> {
  const server = new grpc.Server();
  server.addService(forwardServiceDefinition, forwardServiceImplementation(handler));
  const bound = await new Promise<number>((resolve, reject) => {
    server.bindAsync(`127.0.0.1:${port}`, grpc.ServerCredentials.createInsecure(), (error, at) => (error === null ? resolve(at) : reject(error)));
  });
  cleanups.push(() => server.forceShutdown());
  return { server, port: bound };
}

async function threeNodes() {
  const cluster = new InProcessCluster([1, 2, 3], 1);
  cleanups.push(() => cluster.closeAll());
  const addresses = new Map<NodeId, string>();
  cluster.forwarderOf = () => {
    const forwarder = new GrpcForwarder(addresses, { clock: new SystemClock() });
    cleanups.push(() => forwarder.close());
    return forwarder;
  };
  // Each node serves forwards on its own port; `cut` (when set) runs after each request served there.
  let cut: (() => void) | undefined;
  let served = 0;
  const serve = async (id: number, request: ForwardRequest): Promise<ForwardReply> => {
    const node = cluster.nodes.get(id);
    if (node === undefined) return { kind: 'not_leader', leaderHint: undefined };
    const reply = await node.logs.serve(request);
    served++;
    cut?.();
    return reply;
  };
  const servers = new Map<number, grpc.Server>();
  for (const id of [1, 2, 3]) {
    const { server, port } = await listen(0, (request) => serve(id, request));
    servers.set(id, server);
    addresses.set(id as NodeId, `127.0.0.1:${port}`);
  }
  for (const id of [1, 2, 3]) await cluster.open(id);
  const leader = await waitFor('a leader', 10_000, () => cluster.leaderOf(0));
  const follower = [...cluster.nodes.values()].find((node) => node.id !== leader.id);
  if (follower === undefined) throw new Error('no follower');
  /** Drops the leader's connections once `count` forwards were served there since the call; it listens again a moment later. */
  const cutAfter = (count: number): void => {
    const leaderPort = Number(addresses.get(leader.id as NodeId)?.split(':')[1]);
    served = 0;
    cut = () => {
      if (served !== count) return;
      cut = undefined;
      servers.get(leader.id)?.forceShutdown();
      setTimeout(() => void listen(leaderPort, (request) => serve(leader.id, request)).then(({ server }) => servers.set(leader.id, server)), 200);
    };
  };
  return { leader, follower, cutAfter, served: () => served };
}

describe('a forwarded batch whose reply is lost', () => {
  test('has every item proposed again, each answered once and stored once', async () => {
    const { leader, follower, cutAfter, served } = await threeNodes();
    const ref = { project: 'p', queue: 'q' };
    await leader.broker.createQueue(ref, {});

    // Once the leader has served all five posts of the batch, its connections drop before
    // the batch's reply is written; it listens again a moment later.
    const posts = 5;
    cutAfter(posts);
    // Five clients, so five commands (one client's posts of one turn would go as one: post-coalescer.ts).
    const posted = await Promise.all(Array.from({ length: posts }, (_, i) =>
      follower.broker.postMessages(ref, { clientId: `c${i}`, messages: [{ body: `m${i}`, ttlSeconds: 600, delaySeconds: 0 }] })));
    // Served in the lost batch, then each once more after the reconnect.
    expect(served()).toBe(2 * posts);

    const listed = await leader.broker.listMessages(ref, listOptions);
    expect(listed.map((m) => m.id)).toEqual(posted.flatMap((p) => p.ids));
    expect(listed.map(bodyOf)).toEqual(['m0', 'm1', 'm2', 'm3', 'm4']);
  });

  test("has a batch entry of claims and one of deletes proposed again, each command answered once", async () => {
    const { leader, follower, cutAfter, served } = await threeNodes();
    const ref = { project: 'p', queue: 'q' };
    const bodies = ['m0', 'm1', 'm2', 'm3', 'm4', 'm5'];
    await leader.broker.postMessages(ref, { clientId: 'c', messages: bodies.map((body) => ({ body, ttlSeconds: 600, delaySeconds: 0 })) });

    // Three claims in one turn: one forward item (a batch entry), served, its reply lost, served again.
    cutAfter(1);
    const claims = await Promise.all([0, 1, 2].map(() => follower.broker.createClaim(ref, { limit: 2, ttlSeconds: 60, graceSeconds: 60 })));
    expect(served()).toBe(2);
    const held = claims.map((claim) => (claim?.messages ?? []).map(bodyOf));
    expect(held.map((messages) => messages.length)).toEqual([2, 2, 2]);
    expect(held.flat().sort()).toEqual(bodies);

    cutAfter(1);
    const deleted = await Promise.all(claims.map((claim) => follower.broker.deleteMessages(ref, { ids: claim!.messages.map((m) => m.id), claimIds: [claim!.id] })));
    expect(served()).toBe(2);
    expect(deleted).toEqual([true, true, true]);
    expect(await leader.broker.listMessages(ref, listOptions)).toEqual([]);
  });
});
