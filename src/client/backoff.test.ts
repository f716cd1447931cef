/**
 * Backoff: delays grow by the multiplier up to the cap, always keep half of the nominal
 * delay (equal jitter), stop after attemptsMax, and start over after reset().
 */
import { describe, expect, test } from 'vitest';
import { SeededRandom } from '../common/random.js';
import { Backoff } from './backoff.js';

describe('Backoff', () => {
  const options = { initialDelayMs: 100, maxDelayMs: 1000, multiplier: 2, attemptsMax: 6 };

  test('Backoff.nextDelayMs grows exponentially within [cap/2, cap] and is capped', () => {
    const backoff = new Backoff(options, new SeededRandom(7));
    const caps = [100, 200, 400, 800, 1000, 1000];
    for (const cap of caps) {
      const delay = backoff.nextDelayMs();
      expect(delay).toBeGreaterThanOrEqual(cap / 2);
      expect(delay).toBeLessThanOrEqual(cap);
    }
    expect(backoff.nextDelayMs()).toBeUndefined();
  });

  test('Backoff.reset starts again from the initial delay', () => {
    const backoff = new Backoff(options, new SeededRandom(1));
    for (let i = 0; i < 4; i++) backoff.nextDelayMs();
    backoff.reset();
    expect(backoff.nextDelayMs()).toBeLessThanOrEqual(100);
  });

  test('Backoff with different seeds spreads clients apart', () => {
    const a = new Backoff(options, new SeededRandom(1)).nextDelayMs();
    const b = new Backoff(options, new SeededRandom(2)).nextDelayMs();
    expect(a).not.toBe(b);
  });
});
