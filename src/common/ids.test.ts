import { describe, expect, it } from 'vitest';
import { derivedMessageId, derivedSeqLimit, isWellFormedId, newIdTail, newIdTails, newObjectId, seqInMessageId } from './ids.js';

describe('newObjectId', () => {
  it('is 24 hex digits led by the creation second, and unique across pool refills', () => {
    const nowMs = 1_700_000_123_456;
    const ids = Array.from({ length: 2000 }, () => newObjectId(nowMs));
    for (const id of ids) {
      expect(isWellFormedId(id)).toBe(true);
      expect(id.slice(0, 8)).toBe(Math.floor(nowMs / 1000).toString(16).padStart(8, '0'));
    }
    expect(new Set(ids).size).toBe(ids.length);
    expect(new Set(ids.map((id) => id.slice(8))).size).toBe(ids.length);
  });
});

describe('derivedMessageId', () => {
  it('is 24 lowercase hex digits from which the seq reads back, and keeps its tail', () => {
    for (const seq of [1, 255, 2 ** 32 + 7, derivedSeqLimit - 1]) {
      const tail = newIdTail();
      const id = derivedMessageId(seq, tail);
      expect(isWellFormedId(id)).toBe(true);
      expect(id.slice(12)).toBe(tail);
      expect(seqInMessageId(id)).toBe(seq);
    }
    // A seq past the 48 bits wraps: the id no longer reads back to it.
    expect(seqInMessageId(derivedMessageId(derivedSeqLimit + 5, 'abcdefabcdef'))).toBe(5);
    expect(seqInMessageId('not an id')).toBeUndefined();
    expect(seqInMessageId('ABCDEF0123456789ABCDEF01')).toBeUndefined();
  });
});

describe('newIdTails', () => {
  it('mints as many 12-hex-digit tails as asked, distinct across batches and pool refills', () => {
    for (const count of [0, 1, 10, 64, 65, 1000]) {
      const tails = newIdTails(count);
      expect(tails).toHaveLength(count);
      for (const tail of tails) expect(tail).toMatch(/^[0-9a-f]{12}$/);
      expect(new Set(tails).size).toBe(count);
    }
  });
});
