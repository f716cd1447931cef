/**
 * The wire readers accept both Zaqar representations (HTTP hrefs, WebSocket ids) and
 * produce the same normalised values.
 */
import { describe, expect, test } from 'vitest';
import { markerFromLinks, readMessage, readStats } from './wire-shapes.js';

describe('wire shapes', () => {
  test('readMessage takes id and claim id from an HTTP href', () => {
    const message = readMessage({ href: '/v2/queues/q/messages/abc?claim_id=c1', ttl: 60, age: 2, body: { a: 1 } });
    expect(message).toEqual({ id: 'abc', ttl: 60, age: 2, body: { a: 1 }, claimId: 'c1' });
  });

  test('readMessage takes id and claim_id from a WebSocket message', () => {
    const message = readMessage({ id: 'abc', claim_id: null, ttl: 60, age: 2, body: 'x' });
    expect(message).toEqual({ id: 'abc', ttl: 60, age: 2, body: 'x', claimId: null });
  });

  test('readStats reads oldest/newest ids from hrefs or ids', () => {
    const stats = readStats({ messages: { claimed: 1, free: 2, total: 3,
      oldest: { href: '/v2/queues/q/messages/m1', age: 5, created: 't1' }, newest: { id: 'm2', age: 1, created: 't2' } } });
    expect(stats.oldest?.id).toBe('m1');
    expect(stats.newest?.id).toBe('m2');
    expect(stats.total).toBe(3);
  });

  test('markerFromLinks reads the next marker', () => {
    expect(markerFromLinks([{ rel: 'next', href: '/v2/queues?limit=2&marker=q2' }])).toBe('q2');
    expect(markerFromLinks([])).toBeUndefined();
  });
});
