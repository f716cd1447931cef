/**
 * Client-ID normalisation follows Python's uuid.UUID parsing (every spelling of one
 * UUID is one client) and Accept negotiation admits exactly the JSON-compatible ranges.
 */
import { describe, expect, test } from 'vitest';
import { defaultApiOptions } from './api-options.js';
import { BrokerError } from './errors.js';
import { acceptsJson, normaliseClientId } from './request-context.js';

const dashed = '3381af92-2b9e-11e3-b191-71861300734c';

describe('normaliseClientId', () => {
  test('maps every accepted UUID spelling to one dashed lower-case form', () => {
    for (const raw of [dashed, dashed.replace(/-/g, ''), `{${dashed.toUpperCase()}}`, `urn:uuid:${dashed}`, '3381-af922b9e11e3b19171861300734c']) {
      expect(normaliseClientId(raw, defaultApiOptions)).toBe(dashed);
    }
  });
  test('rejects non-UUIDs in strict mode and missing headers always', () => {
    for (const raw of ['', 'not-a-uuid', `${dashed}0`, '0xdeadbeef']) {
      expect(() => normaliseClientId(raw, defaultApiOptions)).toThrow(BrokerError);
    }
    expect(() => normaliseClientId(undefined, defaultApiOptions)).toThrow('The "Client-Id" header is required.');
  });
  test('checks only the length in off mode', () => {
    const off = { ...defaultApiOptions, clientIdUuidSafe: 'off' as const };
    expect(normaliseClientId('my-client-01', off)).toBe('my-client-01');
    expect(() => normaliseClientId('short', off)).toThrow('Length of client id must be at least 10 and no greater than 36.');
  });
});

describe('acceptsJson', () => {
  test('admits absent, wildcard and JSON ranges', () => {
    for (const accept of [undefined, '', '*/*', 'application/*', 'application/json', 'text/html, application/json;q=0.5']) {
      expect(acceptsJson(accept)).toBe(true);
    }
  });
  test('refuses ranges that exclude JSON', () => {
    for (const accept of ['application/xml', 'text/html', 'application/json;q=0']) expect(acceptsJson(accept)).toBe(false);
  });
});
