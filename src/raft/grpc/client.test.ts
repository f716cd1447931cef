/**
 * reconnectDelayMs: exponential back-off with equal jitter stays within [cap/2, cap],
 * doubles per attempt and saturates at maxMs.
 */
import fc from 'fast-check';
import { expect, test } from 'vitest';
import { SeededRandom } from '../../common/random.js';
import { reconnectDelayMs } from './client.js';

const policy = { baseMs: 50, maxMs: 2000 };

test('reconnectDelayMs stays between half and all of the exponential cap', () => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 200 }), fc.integer(), (attempt, seed) => {
      const capMs = Math.min(policy.maxMs, policy.baseMs * 2 ** attempt);
      const delayMs = reconnectDelayMs(attempt, policy, new SeededRandom(seed));
      expect(delayMs).toBeGreaterThanOrEqual(capMs / 2);
      expect(delayMs).toBeLessThanOrEqual(capMs);
    }),
  );
});

test('reconnectDelayMs spreads peers that retry at the same attempt', () => {
  const delays = new Set(Array.from({ length: 20 }, (_, seed) => reconnectDelayMs(3, policy, new SeededRandom(seed))));
  expect(delays.size).toBeGreaterThan(15);
});
