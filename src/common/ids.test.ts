import { describe, expect, it } from 'vitest';
import { isWellFormedId, newObjectId } from './ids.js';

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
