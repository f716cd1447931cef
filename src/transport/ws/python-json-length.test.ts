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

  test('pythonJsonLength escapes quotes, backslashes and control characters as Python does', () => {
    // json.dumps('\x01\n"\\') == '"\\u0001\\n\\"\\\\"' (14 characters); json.dumps('\x7f') has 8
    expect(pythonJsonLength('\u0001\n"\\')).toBe(14);
    expect(pythonJsonLength('\u007f')).toBe(8);
    // json.dumps('\U0001F600') == '"\\ud83d\\ude00"' (14); a lone surrogate json.dumps('\ud800') has 8
    expect(pythonJsonLength('\u{1F600}')).toBe(14);
    expect(pythonJsonLength('\ud800')).toBe(8);
  });

  test('pythonJsonLength of scalars', () => {
    expect(pythonJsonLength(null)).toBe(4);
    expect(pythonJsonLength(false)).toBe(5);
    expect(pythonJsonLength({})).toBe(2);
  });
});
