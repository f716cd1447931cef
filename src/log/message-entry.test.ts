import { expect, test } from 'vitest';
import type { StoredMessage } from './queue-store.js';
import { derivedMessageId } from '../common/ids.js';
import { decodeMessageEntry, encodeMessageEntry, encodePostedEntries, encodePostedEntry, entryBody, entryHoldsIdTail, withPostTimes, withUpdatedFields } from './message-entry.js';

const message: StoredMessage = {
  id: '5f1e2d3c4b5a69788796a5b4',
  seq: 7,
  clientId: '3381af922b9e11e3b19171861300734c',
  createdMs: 1_763_800_000_123,
  ttlSeconds: 86_400,
  expiresMs: 1_763_886_400_123,
  visibleMs: 1_763_800_000_123,
  claimId: '5f1e2d3c4b5a69788796a5b5',
  claimExpiresMs: 1_763_800_060_000,
  claimUpdatedMs: 1_763_800_000_000,
  claimTtlSeconds: 60,
  claimCount: 3,
  checksum: 'MD5:0123456789abcdef0123456789abcdef',
};

test('a message entry returns the record (seq from the key) and the body it was written with', () => {
  const body = new Uint8Array([1, 2, 3, 250]);
  const entry = encodeMessageEntry(message, body);
  expect(decodeMessageEntry(entry, 7)).toEqual(message);
  expect([...entryBody(entry)]).toEqual([1, 2, 3, 250]);
  // Minted ids and normalised Client-IDs are stored as bytes: 12 + 16 + 12 instead of
  // 24 + 32 + 24 characters (msgpack headers: 2 bytes per bin, 1 or 2 per string).
  const spelledOut = { ...message, id: message.id.toUpperCase(), clientId: message.clientId.toUpperCase(), claimId: message.claimId?.toUpperCase() ?? null };
  expect(encodeMessageEntry(spelledOut, body).byteLength - entry.byteLength).toBe(11 + 16 + 11);
});

test('ids and Client-IDs in any other form, no claim and no checksum round-trip as given', () => {
  const other: StoredMessage = { ...message, id: 'ABCDEF0123456789ABCDEF01', clientId: 'not-a-uuid', claimId: null, checksum: null, claimCount: 0 };
  expect(decodeMessageEntry(encodeMessageEntry(other, new Uint8Array()), 7)).toEqual(other);
  expect(entryBody(encodeMessageEntry(other, new Uint8Array())).byteLength).toBe(0);
});

test('an entry of an unknown format is refused', () => {
  const entry = encodeMessageEntry(message, new Uint8Array([1]));
  entry[0] = 9;
  expect(() => decodeMessageEntry(entry, 7)).toThrow(/unknown queue entry format/);
});

const posted = { id: message.id, clientId: message.clientId, createdMs: 1_763_800_000_123, ttlSeconds: 300, expiresMs: 1_763_800_300_123, visibleMs: 1_763_800_010_123, checksum: null };
const unclaimed = { claimId: null, claimExpiresMs: 0, claimUpdatedMs: 0, claimTtlSeconds: 0, claimCount: 0 };

test('a posted entry built by hand decodes as the entry encodeMessageEntry writes for the same new message', () => {
  const body = new Uint8Array([9, 8, 7]);
  const longString = 'ü'.repeat(200); // a str16 element
  for (const record of [
    posted,
    { ...posted, checksum: message.checksum },
    { ...posted, id: 'ABCDEF0123456789ABCDEF01', clientId: 'not-a-uuid', checksum: 'x'.repeat(40) },
    { ...posted, clientId: longString, ttlSeconds: 1.5 },
  ]) {
    const stored: StoredMessage = { ...record, seq: 3, ...unclaimed };
    const entry = encodePostedEntry(record, body);
    expect(decodeMessageEntry(entry, 3)).toEqual(stored);
    expect([...entryBody(entry)]).toEqual([9, 8, 7]);
    expect(decodeMessageEntry(encodeMessageEntry(stored, body), 3)).toEqual(decodeMessageEntry(entry, 3));
  }
});

test('withPostTimes rewrites the times of a copy and leaves the entry it was given as it was', () => {
  for (const clientId of [posted.clientId, 'c', 'ü'.repeat(200)]) {
    const entry = encodePostedEntry({ ...posted, clientId }, new Uint8Array([1, 2]));
    const before = Buffer.from(entry);
    const later = withPostTimes(entry, { createdMs: posted.createdMs + 5, expiresMs: posted.expiresMs + 5, visibleMs: posted.visibleMs + 5 });
    expect(decodeMessageEntry(later, 1)).toEqual({
      ...posted, clientId, seq: 1, ...unclaimed, createdMs: posted.createdMs + 5, expiresMs: posted.expiresMs + 5, visibleMs: posted.visibleMs + 5,
    });
    expect([...entryBody(later)]).toEqual([1, 2]);
    expect(Buffer.from(entry).equals(before)).toBe(true);
  }
});

test('withUpdatedFields rewrites a posted entry\'s lifetime and claim count in a copy, and declines what that layout cannot hold', () => {
  for (const clientId of [posted.clientId, 'c', 'ü'.repeat(200)]) {
    const entry = encodePostedEntry({ ...posted, clientId }, new Uint8Array([1, 2]));
    const before = Buffer.from(entry);
    const stored = decodeMessageEntry(entry, 1);
    const extended: StoredMessage = { ...stored, ttlSeconds: stored.ttlSeconds + 90, expiresMs: stored.expiresMs + 90_000, claimCount: 2 };
    const updated = withUpdatedFields(entry, extended);
    expect(updated === undefined ? undefined : decodeMessageEntry(updated, 1)).toEqual(extended);
    expect(updated === undefined ? undefined : [...entryBody(updated)]).toEqual([1, 2]);
    expect(Buffer.from(entry).equals(before)).toBe(true);
    expect(withUpdatedFields(entry, { ...extended, claimCount: 200 })).toBeUndefined();
    expect(withUpdatedFields(entry, { ...extended, claimId: message.claimId })).toBeUndefined();
    expect(withUpdatedFields(encodeMessageEntry(stored, new Uint8Array([1, 2])), extended)).toBeUndefined();
  }
});

test('an id derived from the seq is stored as its tail alone and read back with the seq of the key', () => {
  const tail = 'a1b2c3d4e5f6';
  const derived: StoredMessage = { ...message, id: derivedMessageId(7, tail) };
  const entry = encodeMessageEntry(derived, new Uint8Array([1]));
  expect(entry.byteLength).toBe(encodeMessageEntry(message, new Uint8Array([1])).byteLength - 6);
  expect(decodeMessageEntry(entry, 7)).toEqual(derived);
  expect(entryHoldsIdTail(entry, derived.id)).toBe(true);
  expect(entryHoldsIdTail(entry, derivedMessageId(7, 'a1b2c3d4e5f7'))).toBe(false);
  // The same id at another seq is not derived from it: stored whole.
  expect(decodeMessageEntry(encodeMessageEntry({ ...derived, seq: 8 }, new Uint8Array()), 8).id).toBe(derived.id);
  expect(entryHoldsIdTail(encodeMessageEntry({ ...derived, seq: 8 }, new Uint8Array()), derived.id)).toBe(false);
  // A post's entry carries only the tail: the seq it gets at apply completes the id.
  const posted = encodePostedEntry({ id: tail, clientId: 'c', createdMs: 1, ttlSeconds: 2, expiresMs: 3, visibleMs: 4, checksum: null }, new Uint8Array());
  expect(decodeMessageEntry(posted, 42).id).toBe(derivedMessageId(42, tail));
  expect(entryHoldsIdTail(posted, derivedMessageId(42, tail))).toBe(true);
});

test('the entries of a post are written apart, each as encodePostedEntry writes it alone', () => {
  const tail = 'a1b2c3d4e5f6';
  const records = [
    { ...posted, id: tail },
    { ...posted, checksum: message.checksum, ttlSeconds: 60 },
    { ...posted, id: 'not-an-id', visibleMs: posted.createdMs },
  ];
  const bodies = [new Uint8Array([1]), new Uint8Array(300).fill(7), new Uint8Array()];
  for (const clientId of [posted.clientId, 'not-a-uuid']) {
    const entries = encodePostedEntries(clientId, records, bodies);
    expect(entries.map((entry) => [...entry])).toEqual(records.map((record, i) => [...encodePostedEntry({ ...record, clientId }, bodies[i]!)]));
    entries[0]!.fill(0);
    expect([...entryBody(entries[1]!)]).toEqual([...bodies[1]!]);
    expect(decodeMessageEntry(entries[2]!, 5)).toEqual({ ...records[2], clientId, seq: 5, ...unclaimed });
  }
});
