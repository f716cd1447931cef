/**
 * TokenCache: a validation is reused for its TTL and never past the token's own expiry,
 * the cache never holds more than its bound (oldest evicted first), and a zero TTL
 * disables it. Time is a SimClock.
 */
import { describe, expect, test } from 'vitest';
import { SimClock } from '../../common/clock.js';
import type { Identity } from './auth-strategy.js';
import { TokenCache } from './token-cache.js';

function identity(clock: SimClock, lifetimeMs: number, project = 'p'): Identity {
  return { project, roles: ['member'], userId: 'u', expiresAtMs: clock.nowMs() + lifetimeMs };
}

describe('TokenCache', () => {
  test('returns a validation until its TTL passes', () => {
    const clock = new SimClock();
    const cache = new TokenCache(clock, { ttlMs: 1000, entriesMax: 10 });
    const who = identity(clock, 60_000);
    cache.set('t', who);
    clock.advance(999);
    expect(cache.get('t')).toBe(who);
    clock.advance(1);
    expect(cache.get('t')).toBeUndefined();
  });

  test('never returns a token past its own expiry, whatever the TTL', () => {
    const clock = new SimClock();
    const cache = new TokenCache(clock, { ttlMs: 3_600_000, entriesMax: 10 });
    cache.set('t', identity(clock, 500));
    clock.advance(500);
    expect(cache.get('t')).toBeUndefined();
  });

  test('evicts the oldest entry at its bound', () => {
    const clock = new SimClock();
    const cache = new TokenCache(clock, { ttlMs: 60_000, entriesMax: 3 });
    for (const token of ['a', 'b', 'c', 'd']) cache.set(token, identity(clock, 60_000, token));
    expect(cache.size).toBe(3);
    expect(cache.get('a')).toBeUndefined();
    expect(cache.get('d')?.project).toBe('d');
  });

  test('a zero TTL caches nothing', () => {
    const clock = new SimClock();
    const cache = new TokenCache(clock, { ttlMs: 0, entriesMax: 10 });
    cache.set('t', identity(clock, 60_000));
    expect(cache.size).toBe(0);
    expect(cache.get('t')).toBeUndefined();
  });
});
