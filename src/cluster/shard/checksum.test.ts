/** Message checksums match the semantics §3.8 vectors and Python's json.dumps text. */
import { expect, test } from 'vitest';
import { EncodedJson } from '../../api/encoded-json.js';
import { encodeBody } from './body-codec.js';
import { messageChecksum, pythonJsonDumps } from './checksum.js';

test('messageChecksum reproduces the spec test vectors', () => {
  expect(messageChecksum({ event: 'BackupStarted' })).toBe('MD5:82eb2714b7c0237d373947c046cac78d');
  expect(messageChecksum('Post It!')).toBe('MD5:ae11e9c700a37988f60e05f2da34fc40');
  expect(messageChecksum(239)).toBe('MD5:555d6702c950ecb729a966504af0a635');
  expect(messageChecksum(null)).toBeNull();
});

test('pythonJsonDumps writes separators, escapes and numbers like Python', () => {
  expect(pythonJsonDumps({ a: [1, 2.5, true, null], b: {} })).toBe('{"a": [1, 2.5, true, null], "b": {}}');
  expect(pythonJsonDumps('é\u0001"\\\n\u007f😀')).toBe('"\\u00e9\\u0001\\"\\\\\\n\\u007f\\ud83d\\ude00"');
  expect([1e-7, 1.5e16 + 0.5, 0.0001, -2.25].map(pythonJsonDumps)).toEqual(['1e-07', '15000000000000000', '0.0001', '-2.25']);
  expect(pythonJsonDumps(1.234e-5)).toBe('1.234e-05');
  expect(pythonJsonDumps([])).toBe('[]');
});

test('a body held as its MessagePack bytes (a binary WebSocket post) has the checksum of the value they encode', () => {
  const body = { event: 'BackupStarted' };
  expect(messageChecksum(new EncodedJson(encodeBody(body)))).toBe('MD5:82eb2714b7c0237d373947c046cac78d');
  expect(pythonJsonDumps([new EncodedJson(encodeBody({ a: [1, 2.5] }))])).toBe('[{"a": [1, 2.5]}]');
});
