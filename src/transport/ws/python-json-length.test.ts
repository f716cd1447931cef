/**
 * pythonJsonLength matches the lengths Python's json.dumps produces (values computed
 * with CPython 3.11 and checked in here).
 */
import { describe, expect, test } from 'vitest';
import { pythonJsonLength } from './python-json-length.js';

describe('pythonJsonLength', () => {
  test('pythonJsonLength counts the default separators', () => {
    // json.dumps([{"body": "some body", "ttl": 100}, {"a": [1, 2]}]) has 50 characters
    expect(pythonJsonLength([{ body: 'some body', ttl: 100 }, { a: [1, 2] }])).toBe(50);
  });

  test('pythonJsonLength escapes non-ASCII as \\uXXXX', () => {
    // json.dumps("nœme") == '"n\\u0153me"' (11 characters)
    expect(pythonJsonLength('nœme')).toBe(11);
  });

  test('pythonJsonLength of scalars', () => {
    expect(pythonJsonLength(null)).toBe(4);
    expect(pythonJsonLength(false)).toBe(5);
    expect(pythonJsonLength({})).toBe(2);
  });
});
