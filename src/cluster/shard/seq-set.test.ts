/**
 * SeqSet keeps seqs ordered across chunk splits and removals: compared with a sorted
 * array under random inserts (out of order, like releases) and removals.
 */
import fc from 'fast-check';
import { expect, test } from 'vitest';
import { SeqSet } from './seq-set.js';

test('SeqSet stays ordered like a sorted array under random inserts and removals', () => {
  fc.assert(
    fc.property(fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 1, max: 2000 })), { maxLength: 1500 }), (ops) => {
      const set = new SeqSet();
      const model = new Set<number>();
      for (const [isAdd, seq] of ops) {
        if (isAdd && !model.has(seq)) {
          set.add({ seq, expiresMs: seq * 2, visibleMs: seq * 3 });
          model.add(seq);
        } else if (!isAdd) {
          expect(set.remove(seq)).toBe(model.has(seq));
          model.delete(seq);
        }
      }
      const sorted = [...model].sort((a, b) => a - b);
      expect([...set.entries()].map((e) => e.seq)).toEqual(sorted);
      expect([...set.entriesReversed()].map((e) => e.seq)).toEqual([...sorted].reverse());
      expect(set.size).toBe(sorted.length);
      const middle = sorted[sorted.length >> 1];
      if (middle !== undefined) {
        expect(set.get(middle)).toEqual({ seq: middle, expiresMs: middle * 2, visibleMs: middle * 3 });
        expect([...set.entries(middle)].map((e) => e.seq)).toEqual(sorted.filter((s) => s > middle));
      }
    }),
    { numRuns: 60 },
  );
});

test('SeqSet appends and removes from the front across many chunks', () => {
  const set = new SeqSet();
  for (let seq = 1; seq <= 10_000; seq++) set.add({ seq, expiresMs: 0, visibleMs: 0 });
  for (let seq = 1; seq <= 9_990; seq++) expect(set.remove(seq)).toBe(true);
  expect([...set.entries()].map((e) => e.seq)).toEqual([9991, 9992, 9993, 9994, 9995, 9996, 9997, 9998, 9999, 10000]);
});
