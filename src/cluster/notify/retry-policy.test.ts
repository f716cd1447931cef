/**
 * The retry schedule of notifications: the four backoff functions give the spec's
 * default lists, the phases come in order, and the override rule picks the right policy.
 */
import { describe, expect, test } from 'vitest';
import { backoffSeconds, retryDelaysSeconds, selectRetryPolicy } from './retry-policy.js';

describe('retry policy', () => {
  test('backoff functions give the documented default lists', () => {
    const policy = selectRetryPolicy({}, {});
    expect(backoffSeconds(policy)).toEqual([5, 10, 15, 20, 25]);
    expect(backoffSeconds({ ...policy, backoff: 'arithmetic' })).toEqual([5, 7, 12, 20, 30]);
    expect(backoffSeconds({ ...policy, backoff: 'geometric' })).toEqual([5, 7, 12, 19, 30]);
    const exponential = backoffSeconds({ ...policy, backoff: 'exponential' });
    expect(exponential.slice(0, 4)).toEqual([5, 7, 12, 19]);
    expect([29, 30]).toContain(exponential[4]);
  });

  test('retryDelaysSeconds runs the four phases in order', () => {
    const policy = selectRetryPolicy({ retries_with_no_delay: 2, minimum_delay_retries: 1, maximum_delay_retries: 2 }, {});
    expect(retryDelaysSeconds(policy)).toEqual([0, 0, 5, 5, 10, 15, 20, 25, 30, 30]);
  });

  test('the subscription policy wins unless either side ignores the override', () => {
    const s = { retries_with_no_delay: 1 };
    const q = { retries_with_no_delay: 7 };
    expect(selectRetryPolicy(s, q).retriesWithNoDelay).toBe(1);
    expect(selectRetryPolicy({}, q).retriesWithNoDelay).toBe(7);
    expect(selectRetryPolicy(s, { ...q, ignore_subscription_override: true }).retriesWithNoDelay).toBe(7);
    expect(selectRetryPolicy({ ...s, ignore_subscription_override: true }, undefined).retriesWithNoDelay).toBe(3);
  });
});
