/**
 * RoutedShardReads on a node without a replica of the shard: the query goes to the
 * shard's nodes as its ShardReplicaView orders them, failed attempts (unreachable, lost,
 * not-leader, unavailable) move on to the next node, a not-leader answer's replica list
 * and hint are followed, and when no replica answers the read fails as unavailable once
 * the route wait is spent (never hangs). With a local replica, a read the replica could
 * not finish because it was removed meanwhile goes to another replica, while any other
 * local failure fails the read. The forwarder is a scripted stand-in for gRPC.
 */
import { describe, expect, test } from 'vitest';
import { SystemClock } from '../common/clock.js';
import type { NodeId, ShardId } from '../common/ids.js';
import { SystemDelays } from '../common/timers.js';
import { ShardUnavailableError } from './errors.js';
import type { ForwardReply, ForwardRequest, Forwarder } from './forward-protocol.js';
import { RoutedShardReads } from './routed-shard-reads.js';
import { PeerUnreachableError } from './routing-errors.js';
import type { ShardGroup } from './shard-group.js';
import { ShardReplicaView } from './shard-replica-view.js';
import type { ShardReads } from './shard/shard-query.js';

const shardId = 2 as ShardId;
const self = 1 as NodeId;
const ids = (...values: number[]): NodeId[] => values as NodeId[];
const noLocalReads: ShardReads = { query: () => Promise.reject(new Error('no local replica')) };

/** Answers each node's forwards with its scripted reply (or failure), recording who was asked. */
function scriptedForwarder(answer: (to: NodeId, request: ForwardRequest) => ForwardReply | Error): Forwarder & { readonly asked: NodeId[] } {
  const asked: NodeId[] = [];
  return {
    asked,
    forward: async (to, request) => {
      asked.push(to);
      const reply = answer(to, request);
      if (reply instanceof Error) throw reply;
      return reply;
    },
    close: () => undefined,
  };
}

function readsThrough(forwarder: Forwarder, view: ShardReplicaView, routeWaitMs = 2_000): RoutedShardReads {
  return new RoutedShardReads(shardId, () => undefined, noLocalReads, view, {
    nodeId: self, forwarder, clock: new SystemClock(), delays: new SystemDelays(), routeWaitMs, retryMs: 5, unreachableWaitMs: routeWaitMs,
  });
}

describe('RoutedShardReads without a local replica', () => {
  test('moves past an unreachable node and a lost reply, and returns the first answer', async () => {
    const forwarder = scriptedForwarder((to, request) => {
      expect(request).toEqual({ kind: 'query', shardId, query: { kind: 'metadata', ref: { project: 'p', queue: 'q' } }, storedBodies: true });
      if (to === 2) return new PeerUnreachableError(to, 'down');
      if (to === 3) return new Error('connection dropped after sending');
      return { kind: 'answered', answer: { colour: 'blue' } };
    });
    const reads = readsThrough(forwarder, new ShardReplicaView(ids(2, 3, 4), ids(1, 2, 3, 4)));
    expect(await reads.query({ kind: 'metadata', ref: { project: 'p', queue: 'q' } })).toEqual({ colour: 'blue' });
    expect(forwarder.asked).toEqual(ids(2, 3, 4));
  });

  test('follows the replica list of a node without the shard, then the leader hint', async () => {
    const forwarder = scriptedForwarder((to) => {
      if (to === 5) return { kind: 'not_leader', leaderHint: undefined, replicas: ids(6, 7) };
      if (to === 6) return { kind: 'not_leader', leaderHint: 7 as NodeId };
      return to === 7 ? { kind: 'answered', answer: null } : new Error(`node ${to} asked`);
    });
    const view = new ShardReplicaView(ids(5), ids(1, 5, 6, 7));
    expect(await readsThrough(forwarder, view).query({ kind: 'outbox', seq: 3 })).toBeNull();
    expect(forwarder.asked).toEqual(ids(5, 6, 7));
    expect(view.known).toEqual(ids(6, 7));
  });

  test('fails as unavailable once no replica answered within the route wait', async () => {
    const forwarder = scriptedForwarder(() => ({ kind: 'unavailable', message: 'no leader' }));
    const reads = readsThrough(forwarder, new ShardReplicaView(ids(2, 3), ids(1, 2, 3)), 100);
    await expect(reads.query({ kind: 'stats', ref: { project: 'p', queue: 'q' }, nowMs: 0 })).rejects.toBeInstanceOf(ShardUnavailableError);
    expect(new Set(forwarder.asked)).toEqual(new Set(ids(2, 3)));
  });
});

describe('RoutedShardReads with a local replica', () => {
  test('a replica removed while it reads hands the read to one that holds the shard', async () => {
    // Only whether a replica is held here matters to the router, not what it holds.
    let group: ShardGroup | undefined = {} as ShardGroup;
    const removedWhileReading: ShardReads = {
      query: () => {
        group = undefined;
        return Promise.reject(new ShardUnavailableError(shardId, 'left the group'));
      },
    };
    const forwarder = scriptedForwarder(() => ({ kind: 'answered', answer: { colour: 'red' } }));
    const reads = new RoutedShardReads(shardId, () => group, removedWhileReading, new ShardReplicaView(ids(2, 3), ids(1, 2, 3)), {
      nodeId: self, forwarder, clock: new SystemClock(), delays: new SystemDelays(), routeWaitMs: 2_000, retryMs: 5, unreachableWaitMs: 2_000,
    });
    expect(await reads.query({ kind: 'metadata', ref: { project: 'p', queue: 'q' } })).toEqual({ colour: 'red' });
    expect(forwarder.asked).toEqual(ids(2));
  });

  test('a failed local read of a replica still held here fails the read', async () => {
    const group = {} as ShardGroup;
    const failing: ShardReads = { query: () => Promise.reject(new ShardUnavailableError(shardId, 'no leader')) };
    const forwarder = scriptedForwarder(() => new Error('must not be asked'));
    const reads = new RoutedShardReads(shardId, () => group, failing, new ShardReplicaView(ids(2), ids(1, 2)), {
      nodeId: self, forwarder, clock: new SystemClock(), delays: new SystemDelays(), routeWaitMs: 2_000, retryMs: 5, unreachableWaitMs: 2_000,
    });
    await expect(reads.query({ kind: 'stats', ref: { project: 'p', queue: 'q' }, nowMs: 0 })).rejects.toBeInstanceOf(ShardUnavailableError);
    expect(forwarder.asked).toEqual([]);
  });
});
