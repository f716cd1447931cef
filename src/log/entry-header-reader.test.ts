import { Packr } from 'msgpackr';
import { expect, test } from 'vitest';
import { derivedMessageId } from '../common/ids.js';
import { readMessageHeader } from './entry-header-reader.js';
import { decodeMessageEntry, encodeMessageEntry, encodePostedEntries } from './message-entry.js';
import type { StoredMessage } from './queue-store.js';

const times = { createdMs: 1_763_800_000_123.5, ttlSeconds: 86_400, expiresMs: 1_763_886_400_123, visibleMs: 1_763_800_000_123 };
const claim = { claimId: '5f1e2d3c4b5a69788796a5b5', claimExpiresMs: 1_763_800_060_000, claimUpdatedMs: 1_763_800_000_000, claimTtlSeconds: 60, claimCount: 3 };
const base: StoredMessage = { id: '5f1e2d3c4b5a69788796a5b4', seq: 7, clientId: '3381af922b9e11e3b19171861300734c', ...times, ...claim, checksum: 'MD5:0123' };

/** The header of `entry` (message-entry.ts layout: format, u16 LE length, header, body). */
function headerOf(entry: Uint8Array): { start: number; end: number } {
  return { start: 3, end: 3 + (entry[1]! | (entry[2]! << 8)) };
}

// First in the file: the reader's module state (its last Client-ID) is still empty here.
test('a first Client-ID of sixteen zero bytes reads as its digits', () => {
  const message = { ...base, clientId: '0'.repeat(32) };
  const entry = encodeMessageEntry(message, new Uint8Array());
  const { start, end } = headerOf(entry);
  expect(readMessageHeader(entry, start, end, message.seq)).toEqual(message);
});

test('every element type the header writers produce reads back as written', () => {
  const variants: StoredMessage[] = [
    base,
    // id derived from the seq: stored as its 6-byte tail
    { ...base, id: derivedMessageId(7, 'abcdef012345') },
    // ids and Client-IDs that are not hex: strings, including multi-byte UTF-8 and the str8/str16 forms
    { ...base, id: 'ÄBC-🙂', clientId: 'not-a-uuid', claimId: 'c'.repeat(40), checksum: 'x'.repeat(300) },
    { ...base, claimId: null, checksum: null, claimCount: 0, claimExpiresMs: 0, claimUpdatedMs: 0, claimTtlSeconds: 0 },
    // integers of every width, negative ones, and non-integers
    { ...base, ttlSeconds: 200, claimTtlSeconds: 40_000, claimCount: 70_000, createdMs: -5, visibleMs: -200, expiresMs: -40_000, claimExpiresMs: 2 ** 40, claimUpdatedMs: -(2 ** 40) },
    { ...base, ttlSeconds: 0.25, createdMs: Number.MAX_SAFE_INTEGER, expiresMs: -70_000 },
  ];
  for (const message of variants) {
    const entry = encodeMessageEntry(message, new Uint8Array([9, 9]));
    const { start, end } = headerOf(entry);
    expect(readMessageHeader(entry, start, end, message.seq)).toEqual(message);
    expect(decodeMessageEntry(entry, message.seq)).toEqual(message);
  }
});

test("a post's entries read back with ids derived from their seqs, whatever Client-ID came before", () => {
  const posted = { ...times, checksum: null };
  const clients = ['3381af922b9e11e3b19171861300734c', '3381af922b9e11e3b19171861300734d', 'not-hex', '00000000000000000000000000000000'];
  // Alternating Client-IDs of the same length: the last one read must not stand in for another.
  for (const clientId of [...clients, ...clients.reverse()]) {
    const [entry] = encodePostedEntries(clientId, [{ id: 'abcdef012345', ...posted }], [new Uint8Array([1])]);
    const { start, end } = headerOf(entry!);
    expect(readMessageHeader(entry!, start, end, 42)).toEqual({
      id: derivedMessageId(42, 'abcdef012345'), seq: 42, clientId, ...posted,
      claimId: null, claimExpiresMs: 0, claimUpdatedMs: 0, claimTtlSeconds: 0, claimCount: 0,
    });
  }
});

test('a header with an element it does not read, or of another shape, is left to msgpack', () => {
  const packr = new Packr({ useRecords: false, moreTypes: false });
  const entryOf = (header: unknown[]): Uint8Array => {
    const packed = packr.pack(header);
    return Buffer.concat([Buffer.from([1, packed.byteLength & 0xff, packed.byteLength >> 8]), packed]);
  };
  const fields = Object.values({ ...base, seq: undefined }).filter((v) => v !== undefined);
  expect(fields).toHaveLength(12);
  const withMap = entryOf([...fields.slice(0, 11), { odd: 1 }]);
  expect(readMessageHeader(withMap, 3, withMap.byteLength, 7)).toBeUndefined();
  expect(decodeMessageEntry(withMap, 7).checksum).toEqual({ odd: 1 });
  const short = entryOf(fields.slice(0, 11));
  expect(readMessageHeader(short, 3, short.byteLength, 7)).toBeUndefined();
  // A header cut short inside an element
  const whole = encodeMessageEntry(base, new Uint8Array());
  for (let end = 4; end < whole.byteLength; end++) expect(readMessageHeader(whole, 3, end, 7)).toBeUndefined();
});
