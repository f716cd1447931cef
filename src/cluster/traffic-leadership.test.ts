import { describe, expect, test } from 'vitest';
import type { NodeId, ShardId } from '../common/ids.js';
import { TrafficLeadership, type TrafficFollowing } from './traffic-leadership.js';

const policy: TrafficFollowing = { windowMs: 1_000, commandsMin: 10, moveShare: 0.8, holdShare: 0.5, lapseWindows: 3 };
const shard = 4 as ShardId;
const voters = [1, 2, 3] as NodeId[];
const none = new Map<NodeId, number>();

function counts(...pairs: [number, number][]): Map<NodeId, number> {
  return new Map(pairs.map(([node, count]) => [node as NodeId, count]));
}

/** Node 1's tracker, leading `shard` for a whole window already (its first close only starts the count). */
function ledByOne(): TrafficLeadership {
  const traffic = new TrafficLeadership(1 as NodeId, policy);
  expect(traffic.closeWindow(shard, none, voters, true)).toBeUndefined();
  return traffic;
}

describe('leadership that follows the traffic', () => {
  test('a window led for only part of its length is not judged, and the balancer leaves the shard meanwhile', () => {
    const traffic = new TrafficLeadership(1 as NodeId, policy);
    // Led here before any window closed: held too.
    expect(traffic.holds(shard)).toBe(true);
    expect(traffic.closeWindow(shard, counts([2, 100]), voters, true)).toBeUndefined();
    expect(traffic.holds(shard)).toBe(true);
    expect(traffic.closeWindow(shard, counts([2, 100]), voters, true)).toBe(2);
  });

  test('moves to the voter that took at least the move share of a window holding enough commands', () => {
    expect(ledByOne().closeWindow(shard, counts([2, 8], [1, 2]), voters, true)).toBe(2);
    expect(ledByOne().closeWindow(shard, counts([3, 9]), voters, true)).toBeUndefined();
    expect(ledByOne().closeWindow(shard, counts([2, 7], [1, 2], [3, 1]), voters, true)).toBeUndefined();
    // A node without a replica of the shard cannot lead it.
    expect(ledByOne().closeWindow(shard, counts([5, 100]), voters, true)).toBeUndefined();
    // Nothing is moved while the counting node does not lead the shard.
    expect(ledByOne().closeWindow(shard, counts([2, 100]), voters, false)).toBeUndefined();
  });

  test('its own node\'s traffic holds a shard here, and for the lapse windows after it stops', () => {
    const traffic = ledByOne();
    expect(traffic.closeWindow(shard, counts([1, 2], [2, 5]), voters, true)).toBeUndefined();
    expect(traffic.holds(shard)).toBe(false);
    expect(traffic.closeWindow(shard, counts([1, 5], [2, 5]), voters, true)).toBeUndefined();
    expect(traffic.holds(shard)).toBe(true);
    for (let window = 0; window < policy.lapseWindows; window++) {
      expect(traffic.closeWindow(shard, counts([1, 1]), voters, true)).toBeUndefined();
      expect(traffic.holds(shard)).toBe(true);
    }
    expect(traffic.closeWindow(shard, none, voters, true)).toBeUndefined();
    expect(traffic.holds(shard)).toBe(false);
  });

  test('traffic held here moves on when another voter takes over, without waiting for the lapse', () => {
    const traffic = ledByOne();
    traffic.closeWindow(shard, counts([1, 50]), voters, true);
    expect(traffic.closeWindow(shard, counts([1, 2], [3, 48]), voters, true)).toBe(3);
  });

  test('two entry nodes sharing a shard\'s traffic move nothing', () => {
    const traffic = ledByOne();
    for (let window = 0; window < 5; window++) expect(traffic.closeWindow(shard, counts([2, 50], [3, 50]), voters, true)).toBeUndefined();
    expect(traffic.holds(shard)).toBe(false);
  });

  test('a shard no longer led here is forgotten: led again, it is first counted for a whole window', () => {
    const traffic = ledByOne();
    traffic.closeWindow(shard, counts([1, 50]), voters, true);
    traffic.closeWindow(shard, none, voters, false);
    expect(traffic.closeWindow(shard, counts([2, 100]), voters, true)).toBeUndefined();
    expect(traffic.holds(shard)).toBe(true);
  });
});
