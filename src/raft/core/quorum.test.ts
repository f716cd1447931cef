/**
 * Quorum arithmetic against a naive model: the committed index is the largest index a
 * majority has reached, and a vote is won, lost or pending exactly when counting says so.
 */
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import type { LogIndex, NodeId } from '../types.js';
import { committedIndex, hasQuorum, quorumSize, voteResult } from './quorum.js';

const votersArb = fc.uniqueArray(fc.integer({ min: 1, max: 50 }), { minLength: 1, maxLength: 7 }).map((ids) => ids as NodeId[]);

describe('quorum', () => {
  test('committedIndex is the largest index a majority of voters has matched', () => {
    fc.assert(
      fc.property(votersArb, fc.array(fc.integer({ min: 0, max: 100 }), { minLength: 7, maxLength: 7 }), (voters, matches) => {
        const matchOf = (id: NodeId): LogIndex => (matches[voters.indexOf(id)] ?? 0) as LogIndex;
        const committed = committedIndex(voters, matchOf);
        const reached = (index: number): number => voters.filter((id) => matchOf(id) >= index).length;
        expect(reached(committed)).toBeGreaterThanOrEqual(quorumSize(voters.length));
        expect(reached(committed + 1)).toBeLessThan(quorumSize(voters.length));
      }),
    );
  });

  test('voteResult agrees with counting granted and rejected votes', () => {
    fc.assert(
      fc.property(votersArb, fc.array(fc.constantFrom(true, false, undefined), { minLength: 7, maxLength: 7 }), (voters, answers) => {
        const votes = new Map<NodeId, boolean>();
        voters.forEach((id, i) => {
          const answer = answers[i];
          if (answer !== undefined) votes.set(id, answer);
        });
        const granted = [...votes.values()].filter((v) => v).length;
        const rejected = [...votes.values()].filter((v) => !v).length;
        const needed = Math.floor(voters.length / 2) + 1;
        const expected = granted >= needed ? 'won' : voters.length - rejected < needed ? 'lost' : 'pending';
        expect(voteResult(voters, votes)).toBe(expected);
      }),
    );
  });

  test('hasQuorum needs a strict majority', () => {
    const voters = [1, 2, 3, 4] as NodeId[];
    expect(hasQuorum(voters, (id) => id <= 2)).toBe(false);
    expect(hasQuorum(voters, (id) => id <= 3)).toBe(true);
    expect(committedIndex([], () => 5 as LogIndex)).toBe(0);
  });
});
