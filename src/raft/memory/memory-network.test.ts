/**
 * MemoryNetwork delivers what it is told to, loses what crosses a cut link (symmetric or
 * one-way) or falls to the drop rate, and can deliver a message twice.
 */
import { describe, expect, test } from 'vitest';
import { SeededRandom } from '../../common/random.js';
import type { NodeId, RaftMessage, ShardId, Term } from '../types.js';
import { MemoryNetwork } from './memory-network.js';

function message(from: number, to: number): RaftMessage {
  return { shardId: 1 as ShardId, from: from as NodeId, to: to as NodeId, term: 1 as Term, type: 1 };
}

function wire(network: MemoryNetwork, ids: readonly number[]): Map<number, RaftMessage[]> {
  const inboxes = new Map<number, RaftMessage[]>();
  for (const id of ids) {
    const inbox: RaftMessage[] = [];
    inboxes.set(id, inbox);
    network.transport(id as NodeId).onMessage((m) => inbox.push(m));
  }
  return inboxes;
}

describe('MemoryNetwork', () => {
  test('delivers only when asked, every message once', () => {
    const network = new MemoryNetwork({ random: new SeededRandom(1) });
    const inboxes = wire(network, [1, 2]);
    network.transport(1 as NodeId).send([message(1, 2), message(1, 2), message(2, 1)]);
    expect(inboxes.get(2)).toHaveLength(0);
    expect(network.deliverAll()).toBe(3);
    expect(inboxes.get(2)).toHaveLength(2);
    expect(inboxes.get(1)).toHaveLength(1);
  });

  test('a one-way cut loses one direction; a partition both; heal restores', () => {
    const network = new MemoryNetwork({ random: new SeededRandom(2) });
    const inboxes = wire(network, [1, 2, 3]);
    const send = network.transport(1 as NodeId);
    network.cutOneWay(1 as NodeId, 2 as NodeId);
    send.send([message(1, 2), message(2, 1)]);
    network.deliverAll();
    expect(inboxes.get(2)).toHaveLength(0);
    expect(inboxes.get(1)).toHaveLength(1);
    network.heal();
    network.partition([3 as NodeId], [1 as NodeId, 2 as NodeId]);
    send.send([message(3, 1), message(1, 3), message(1, 2)]);
    network.deliverAll();
    expect(inboxes.get(3)).toHaveLength(0);
    expect(inboxes.get(1)).toHaveLength(1);
    expect(inboxes.get(2)).toHaveLength(1);
    expect(network.dropped).toBe(3);
  });

  test('drop and duplicate rates apply per delivery', () => {
    const network = new MemoryNetwork({ random: new SeededRandom(3) });
    const inboxes = wire(network, [1, 2]);
    network.duplicateRate = 1;
    network.transport(1 as NodeId).send([message(1, 2)]);
    network.deliverOne();
    network.duplicateRate = 0;
    network.deliverAll();
    expect(inboxes.get(2)).toHaveLength(2);
    network.dropRate = 1;
    network.transport(1 as NodeId).send([message(1, 2)]);
    network.deliverAll();
    expect(inboxes.get(2)).toHaveLength(2);
  });

  test('bounds the messages in flight', () => {
    const network = new MemoryNetwork({ random: new SeededRandom(4), inFlightMax: 2 });
    wire(network, [1, 2]);
    network.transport(1 as NodeId).send([message(1, 2), message(1, 2), message(1, 2)]);
    expect(network.inFlightCount()).toBe(2);
    expect(network.dropped).toBe(1);
  });
});
