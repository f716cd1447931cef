/**
 * drainNode's order and bounds, on a fake node and a SimClock: readiness goes off before
 * the listeners close; the broker closes only after requests in flight finished or the
 * deadline passed (then they are reported abandoned); a leadership transfer that fails or
 * never ends does not stop the drain. Delays fire on the next turn of the event loop
 * after moving the SimClock by their length, so no test sleeps.
 */
import { describe, expect, test } from 'vitest';
import { SimClock } from './common/clock.js';
import { silentLogger } from './common/logger.js';
import type { Delays } from './common/timers.js';
import { drainNode, type DrainableNode } from './shutdown.js';

class SteppingDelays implements Delays {
  constructor(private readonly clock: SimClock) {}
  after(delayMs: number, task: () => void): () => void {
    let isCancelled = false;
    setImmediate(() => {
      if (isCancelled) return;
      this.clock.advance(delayMs);
      task();
    });
    return () => {
      isCancelled = true;
    };
  }
}

function fakeNode(options: { inFlight: () => number; transfer?: () => Promise<void> }): DrainableNode & { steps: string[] } {
  const steps: string[] = [];
  return {
    steps,
    beginDrain: () => steps.push('readiness off'),
    stopAccepting: () => steps.push('stop accepting'),
    transferLeadershipAway: async () => {
      steps.push('transfer');
      await options.transfer?.();
    },
    requestsInFlight: options.inFlight,
    closeAll: async () => {
      steps.push(`close with ${options.inFlight()} in flight`);
    },
  };
}

describe('drainNode', () => {
  test('turns readiness off, stops accepting, hands off leadership, waits for requests, then closes', async () => {
    const clock = new SimClock();
    // Three requests in flight; one finishes each time the drain looks.
    let reads = 0;
    const node = fakeNode({ inFlight: () => Math.max(0, 3 - reads++) });
    const report = await drainNode(node, { deadlineMs: 30_000, clock, delays: new SteppingDelays(clock), logger: silentLogger });
    expect(node.steps).toEqual(['readiness off', 'stop accepting', 'transfer', 'close with 0 in flight']);
    expect(report).toMatchObject({ abandonedRequests: 0, isLeadershipTransferred: true });
  });

  test('abandons requests still in flight at the deadline and closes anyway', async () => {
    const clock = new SimClock();
    const node = fakeNode({ inFlight: () => 2 });
    const report = await drainNode(node, { deadlineMs: 1_000, clock, delays: new SteppingDelays(clock), logger: silentLogger });
    expect(node.steps.at(-1)).toBe('close with 2 in flight');
    expect(report.abandonedRequests).toBe(2);
    expect(report.elapsedMs).toBeGreaterThanOrEqual(1_000);
  });

  test('a failed or endless leadership transfer does not stop the drain', async () => {
    for (const transfer of [() => Promise.reject(new Error('no peer')), () => new Promise<void>(() => undefined)]) {
      const clock = new SimClock();
      const node = fakeNode({ inFlight: () => 0, transfer });
      const report = await drainNode(node, { deadlineMs: 5_000, clock, delays: new SteppingDelays(clock), logger: silentLogger });
      expect(report.isLeadershipTransferred).toBe(false);
      expect(node.steps.at(-1)).toBe('close with 0 in flight');
    }
  });
});
