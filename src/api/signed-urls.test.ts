/**
 * Pre-signed URL signing reproduces the reference's test vectors (zaqar-semantics.md
 * §10.1), expiry parsing follows its zone rules, and verification rejects every
 * tampered field.
 */
import { describe, expect, test } from 'vitest';
import { formatExpires, isValidSignedRequest, parseExpires, signUrl } from './signed-urls.js';

const base = { project: 'my-project', expiresText: '2100-01-01T00:00:00' };

describe('signUrl', () => {
  test('matches the single-path reference vector', () => {
    expect(signUrl('test', { ...base, paths: ['/v2/queues/shared/messages'], methods: ['GET'] }))
      .toBe('340fe730fc55ad345179c8cfbe7a2a689615795eb8ea8b8ec5fafdcce9c46de4');
  });
  test('sorts paths and methods before signing (second reference vector)', () => {
    expect(signUrl('test', {
      ...base,
      paths: ['/v2/queues/shared/messages', '/v2/queues/shared/claims'],
      methods: ['POST', 'GET'],
    })).toBe('631d8d1576fd4f81ed464153838f738684c4ea49d6be1c35468dabe1abdc00c8');
  });
});

describe('parseExpires', () => {
  test('treats zone-less times as UTC and converts zones', () => {
    expect(formatExpires(parseExpires('2100-05-31T19:00:17+02') ?? 0)).toBe('2100-05-31T17:00:17');
    expect(formatExpires(parseExpires('2100-05-31T19:00:17-01:30') ?? 0)).toBe('2100-05-31T20:30:17');
    expect(formatExpires(parseExpires('2026-07-01T12:00:00.123456') ?? 0)).toBe('2026-07-01T12:00:00');
    expect(formatExpires(parseExpires('2100-01-01T00:00:00Z') ?? 0)).toBe('2100-01-01T00:00:00');
  });
  test('rejects text that is not a date-time', () => {
    expect(parseExpires('tomorrow')).toBeUndefined();
    expect(parseExpires('2100-02-30T00:00:00')).toBeUndefined();
    expect(parseExpires('2100-13-01')).toBeUndefined();
  });
});

describe('isValidSignedRequest', () => {
  const paths = ['/v2/queues/shared/messages'];
  const signature = signUrl('test', { ...base, paths, methods: ['GET'] });
  const request = {
    method: 'GET',
    path: '/v2/queues/shared/messages',
    signature,
    methodsHeader: 'GET',
    pathsHeader: paths.join(','),
    expiresHeader: base.expiresText,
    project: 'my-project',
  };
  const now = Date.UTC(2026, 0, 1);

  test('accepts the signed request and sub-resources of a signed path', () => {
    expect(isValidSignedRequest('test', request, now)).toBe(true);
    expect(isValidSignedRequest('test', { ...request, path: '/v2/queues/shared/messages/abc' }, now)).toBe(true);
  });
  test('rejects any tampered field, an unsigned method, expiry and a missing key', () => {
    expect(isValidSignedRequest('test', { ...request, project: 'other' }, now)).toBe(false);
    expect(isValidSignedRequest('test', { ...request, method: 'POST' }, now)).toBe(false);
    expect(isValidSignedRequest('test', { ...request, path: '/v2/queues/other/messages' }, now)).toBe(false);
    expect(isValidSignedRequest('test', { ...request, signature: signature.replace(/^./, '0') }, now)).toBe(false);
    expect(isValidSignedRequest('test', { ...request, expiresHeader: '2100-01-01T00:00:01' }, now)).toBe(false);
    expect(isValidSignedRequest('test', { ...request, expiresHeader: '4102444800' }, now)).toBe(false);
    expect(isValidSignedRequest('test', request, Date.UTC(2100, 0, 2))).toBe(false);
    expect(isValidSignedRequest(undefined, request, now)).toBe(false);
  });
});
