/**
 * The entry codec round-trips every entry and rejects every single-bit flip and every
 * truncation of a stored entry (the two kinds of damage load() must detect), and the
 * group/snapshot records do the same.
 */
import fc from 'fast-check';
import { expect, test } from 'vitest';
import type { Entry, EntryType, LogIndex, NodeId, Term } from '../../raft/types.js';
import { decodeEntry, decodeEntryRun, encodeEntry, encodeEntryRun, entrySpans } from './entry-codec.js';
import { decodeGroupRecord, decodeSnapshot, encodeGroupRecord, encodeSnapshot } from './group-record.js';

const entryArb = fc.record({
  term: fc.integer({ min: 0, max: 2 ** 40 }).map((n) => n as Term),
  index: fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }).map((n) => n as LogIndex),
  type: fc.constantFrom(0, 1).map((n) => n as EntryType),
  data: fc.uint8Array({ maxLength: 300 }),
});

test('encodeEntry then decodeEntry returns the entry', () => {
  fc.assert(
    fc.property(entryArb, (entry: Entry) => {
      expect(decodeEntry(encodeEntry(entry))).toEqual(entry);
    }),
  );
});

test('decodeEntry rejects every single-bit flip and every truncation', () => {
  const bytes = encodeEntry({ term: 3 as Term, index: 9 as LogIndex, type: 0, data: new Uint8Array(40).fill(7) });
  for (let bit = 0; bit < bytes.length * 8; bit++) {
    const flipped = Buffer.from(bytes);
    flipped[bit >> 3] = (flipped[bit >> 3] ?? 0) ^ (1 << (bit & 7));
    expect(decodeEntry(flipped), `bit ${bit}`).toBeUndefined();
  }
  for (let length = 0; length < bytes.length; length++) {
    expect(decodeEntry(bytes.subarray(0, length)), `length ${length}`).toBeUndefined();
  }
});

test('a run decodes to its entries, in any index window, and damage ends it at the entry it hit', () => {
  const run = Array.from({ length: 6 }, (_, i): Entry => ({ term: 2 as Term, index: (10 + i) as LogIndex, type: 0, data: new Uint8Array(1 + i * 7).fill(i) }));
  const bytes = encodeEntryRun(run);
  expect(Buffer.concat(run.map(encodeEntry))).toEqual(bytes); // a run of one is an entry as earlier builds stored it
  expect(decodeEntryRun(bytes)).toEqual(run);
  expect(decodeEntryRun(bytes, 12, 14)).toEqual(run.slice(2, 4));
  const spans = entrySpans(bytes);
  expect(spans.map((span) => span.index)).toEqual(run.map((entry) => entry.index));
  for (const [k, span] of spans.entries()) {
    const flipped = Buffer.from(bytes);
    flipped[span.end - 1] = (flipped[span.end - 1] ?? 0) ^ 1;
    expect(decodeEntryRun(flipped)).toEqual(run.slice(0, k));
    expect(decodeEntryRun(bytes.subarray(0, span.end - 1))).toEqual(run.slice(0, k));
    // Entries before the window are stepped over unverified: damage there does not hide the rest.
    expect(decodeEntryRun(flipped, span.index + 1)).toEqual(run.slice(k + 1));
  }
});

test('group and snapshot records reject a flipped bit and round-trip otherwise', () => {
  const record = {
    hardState: { term: 4 as Term, vote: 2 as NodeId, commit: 10 as LogIndex },
    firstIndex: 5 as LogIndex,
    lastIndex: 12 as LogIndex,
    compactedTerm: 3 as Term,
    lastIndexSeen: 0 as LogIndex,
  };
  const encoded = encodeGroupRecord(record);
  expect(decodeGroupRecord(encoded)).toEqual(record);
  const conf = { voters: [1, 2, 3] as NodeId[], learners: [] as NodeId[], votersOutgoing: [] as NodeId[] };
  const snapshot = { meta: { index: 4 as LogIndex, term: 3 as Term, conf }, data: new Uint8Array([1, 2, 3]) };
  const encodedSnapshot = encodeSnapshot(snapshot);
  expect(decodeSnapshot(encodedSnapshot)).toEqual(snapshot);
  for (const [bytes, decode] of [
    [encoded, decodeGroupRecord],
    [encodedSnapshot, decodeSnapshot],
  ] as const) {
    for (let bit = 0; bit < bytes.length * 8; bit++) {
      const flipped = Buffer.from(bytes);
      flipped[bit >> 3] = (flipped[bit >> 3] ?? 0) ^ (1 << (bit & 7));
      expect(decode(flipped), `bit ${bit}`).toBeUndefined();
    }
  }
});
