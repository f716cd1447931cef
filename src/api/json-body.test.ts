/**
 * The body scanner agrees with JSON.parse on values while keeping what JSON.parse
 * loses: float-vs-int literals and the int64 bound; and it rejects what Python's json
 * module rejects (invalid UTF-8, BOM, trailing data, top-level scalars).
 */
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { BrokerError } from './errors.js';
import { parseJsonBody } from './json-body.js';

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);

function descriptionOf(run: () => unknown): string | undefined {
  try {
    run();
  } catch (error) {
    if (error instanceof BrokerError) return error.toDocument().description;
    throw error;
  }
  return undefined;
}

describe('parseJsonBody', () => {
  test('parses documents exactly like JSON.parse', () => {
    // Integer literals beyond int64 (JSON.stringify writes 2**63 as 19+ digits) are
    // rejected on purpose; the other test covers them.
    const withinInt64 = (value: unknown): boolean => !/(^|[^\d.eE+-])-?\d{19,}(?![\d.eE])/.test(JSON.stringify(value));
    fc.assert(fc.property(fc.jsonValue({ maxDepth: 4 }).filter(withinInt64), (value) => {
      const text = JSON.stringify({ v: value });
      expect(parseJsonBody(bytes(text)).value).toStrictEqual(JSON.parse(text));
    }), { numRuns: 300 });
  });
  test('remembers which numbers were written as floats', () => {
    const parsed = parseJsonBody(bytes('{"a": 60, "b": 60.0, "c": 6e1, "d": [1, 1.5]}'));
    const value = parsed.value as { d: number[] };
    expect(parsed.isFloat(parsed.value as object, 'a')).toBe(false);
    expect(parsed.isFloat(parsed.value as object, 'b')).toBe(true);
    expect(parsed.isFloat(parsed.value as object, 'c')).toBe(true);
    expect(parsed.isFloat(value.d, 0)).toBe(false);
    expect(parsed.isFloat(value.d, 1)).toBe(true);
  });
  test('rejects integers outside signed 64 bits', () => {
    expect(descriptionOf(() => parseJsonBody(bytes('{"a": 9223372036854775808}')))).toBe('JSON contains integer that is too large.');
    expect(descriptionOf(() => parseJsonBody(bytes('[-9223372036854775809]')))).toBe('JSON contains integer that is too large.');
    expect(descriptionOf(() => parseJsonBody(bytes('[9223372036854775807]')))).toBeUndefined();
  });
  test('rejects what the reference cannot parse', () => {
    const bad = ['', '   ', '{', '{"a":1} x', '"text"', '42', 'null', '[NaN]', '{"a":01}', "{'a':1}", '\uFEFF{}', '[1,]'];
    for (const text of bad) expect(descriptionOf(() => parseJsonBody(bytes(text)))).toBe('Request body could not be parsed.');
    expect(descriptionOf(() => parseJsonBody(Uint8Array.from([0x5b, 0x22, 0xff, 0x22, 0x5d])))).toBe('Request body could not be parsed.');
  });
  test('keeps a "__proto__" key as data', () => {
    const parsed = parseJsonBody(bytes('{"__proto__": {"x": 1}}')).value as Record<string, unknown>;
    expect(Object.keys(parsed)).toEqual(['__proto__']);
    expect(Object.getPrototypeOf(parsed)).toBe(Object.prototype);
  });
  test('bounds nesting depth', () => {
    expect(descriptionOf(() => parseJsonBody(bytes('['.repeat(10_000) + ']'.repeat(10_000))))).toBe('Request body could not be parsed.');
  });
});
