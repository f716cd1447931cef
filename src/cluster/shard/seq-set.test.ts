/**
 * SeqSet keeps seqs ordered across chunk splits and removals: compared with a sorted
 * array under random inserts (out of order, like releases) and removals.
 */
import fc from 'fast-check';
import { expect, test } from 'vitest';
import { type SeqEntry, SeqSet } from './seq-set.js';

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

test('SeqSet keeps each message its times when messages share them in runs, under random inserts and removals', () => {
  // Times shared by blocks of 4 seqs (a post's messages), so runs form, split and merge.
  const times = (seq: number): SeqEntry => ({ seq, expiresMs: Math.floor(seq / 4) * 10, visibleMs: Math.floor(seq / 4) % 3 });
  fc.assert(
    fc.property(fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 1, max: 600 })), { maxLength: 2000 }), (ops) => {
      const set = new SeqSet();
      const model = new Set<number>();
      for (const [isAdd, seq] of ops) {
        if (isAdd && !model.has(seq)) {
          set.add(times(seq));
          model.add(seq);
        } else if (!isAdd) {
          expect(set.remove(seq)).toBe(model.has(seq));
          model.delete(seq);
        }
      }
      const sorted = [...model].sort((a, b) => a - b);
      expect([...set.entries()]).toEqual(sorted.map(times));
      expect([...set.entriesReversed()]).toEqual([...sorted].reverse().map(times));
      expect(set.size).toBe(sorted.length);
      for (let seq = 0; seq <= 601; seq++) expect(set.get(seq)).toEqual(model.has(seq) ? times(seq) : undefined);
      const middle = sorted[sorted.length >> 1];
      if (middle !== undefined) expect([...set.entries(middle)]).toEqual(sorted.filter((s) => s > middle).map(times));
    }),
    { numRuns: 60 },
  );
});

test('SeqSet holds the messages of a post as one run, split by a removal and merged again by its release', () => {
  const set = new SeqSet();
  for (let post = 0; post < 100; post++) {
    for (let seq = post * 100 + 1; seq <= post * 100 + 100; seq++) set.add({ seq, expiresMs: 1000 + post, visibleMs: 500 + post });
  }
  expect([set.size, set.runCount]).toEqual([10_000, 100]);
  expect(set.remove(150)).toBe(true);
  expect([set.size, set.runCount]).toEqual([9_999, 101]);
  set.add({ seq: 150, expiresMs: 1001, visibleMs: 501 });
  expect([set.size, set.runCount]).toEqual([10_000, 100]);
});
