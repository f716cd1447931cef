import { describe, expect, test } from 'vitest';
import { CompactionBudget } from './compaction-budget.js';

describe('CompactionBudget', () => {
  test('under the bound no shard is due, whatever it holds', () => {
    const budget = new CompactionBudget(1000);
    budget.set(0, 600);
    budget.set(0, 300);
    expect(budget.heldBytes).toBe(900);
    expect(budget.isDue(600)).toBe(false);
  });

  test('over the bound the shards holding their even share are due, the others not', () => {
    const budget = new CompactionBudget(1000);
    for (const bytes of [500, 300, 200, 100]) budget.set(0, bytes);
    // 1100 over 4 shards: an even share is 275.
    expect(budget.isDue(500)).toBe(true);
    expect(budget.isDue(300)).toBe(true);
    expect(budget.isDue(200)).toBe(false);
    expect(budget.isDue(0)).toBe(false);
  });

  test('a shard back at its compaction point leaves the sum and the count of holders', () => {
    const budget = new CompactionBudget(1000);
    budget.set(0, 900);
    budget.set(0, 150);
    budget.set(0, 150);
    expect(budget.isDue(150)).toBe(false); // 1200 over 3: the share is 400
    budget.set(900, 0);
    budget.set(150, 950);
    // 1100 over 2 holders: the share is 550.
    expect(budget.heldBytes).toBe(1100);
    expect(budget.isDue(150)).toBe(false);
    expect(budget.isDue(950)).toBe(true);
  });
});
