/**
 * ShardReplicaView: the order in which a node without a replica asks a shard's nodes —
 * the known leader first, else the replicas in turn, then the rest of the address book —
 * and how leader hints and reported replica sets correct it.
 */
import { describe, expect, test } from 'vitest';
import type { NodeId } from '../common/ids.js';
import { ShardReplicaView } from './shard-replica-view.js';

const ids = (...values: number[]): NodeId[] => values as NodeId[];
const self = 1 as NodeId;

function asked(view: ShardReplicaView, count: number): (NodeId | undefined)[] {
  return Array.from({ length: count }, () => view.next(self));
}

describe('ShardReplicaView', () => {
  test('asks the replicas in turn, then the other members, never itself', () => {
    const view = new ShardReplicaView(ids(2, 3), ids(1, 2, 3, 4));
    expect(asked(view, 6)).toEqual(ids(2, 3, 4, 2, 3, 4));
  });

  test('asks a noted leader until it misses, then goes back to the rotation', () => {
    const view = new ShardReplicaView(ids(2, 3, 4), ids(1, 2, 3, 4));
    view.noteLeader(3 as NodeId);
    expect(asked(view, 2)).toEqual(ids(3, 3));
    view.noteMiss(3 as NodeId);
    expect(view.next(self)).toBe(2);
  });

  test('a reported replica set replaces the seeded one and forgets a leader outside it', () => {
    const view = new ShardReplicaView(ids(2, 3, 4), ids(1, 2, 3, 4, 5));
    view.noteLeader(4 as NodeId);
    view.noteReplicas(ids(2, 3, 5));
    expect(view.known).toEqual(ids(2, 3, 5));
    expect(asked(view, 3)).toEqual(ids(2, 3, 5));
    view.noteReplicas([]);
    expect(view.known).toEqual(ids(2, 3, 5));
  });

  test('a leader hint outside the known replicas joins them', () => {
    const view = new ShardReplicaView(ids(2), ids(1, 2));
    view.noteLeader(6 as NodeId);
    expect(view.known).toEqual(ids(2, 6));
    expect(view.next(self)).toBe(6);
  });

  test('a not-leader answer passes over its sender and takes its hint and replica list', () => {
    const view = new ShardReplicaView(ids(2, 3), ids(1, 2, 3, 4, 5));
    view.noteLeader(2 as NodeId);
    view.noteNotLeader(2 as NodeId, { leaderHint: undefined, replicas: ids(3, 4, 5) });
    expect(view.known).toEqual(ids(3, 4, 5));
    expect(view.next(self)).toBe(3);
    view.noteNotLeader(3 as NodeId, { leaderHint: 5 as NodeId });
    expect(asked(view, 2)).toEqual(ids(5, 5));
  });

  test('a node alone in the address book has no one to ask', () => {
    expect(new ShardReplicaView(ids(1), ids(1)).next(self)).toBeUndefined();
  });
});
