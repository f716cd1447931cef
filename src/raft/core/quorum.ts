/**
 * Majority arithmetic for one configuration of voters (changes are made one server at a
 * time, so a single majority is always enough).
 */
import type { LogIndex, NodeId } from '../types.js';

export type VoteResult = 'won' | 'lost' | 'pending';

/** The largest index a majority of voters has acknowledged. */
export function committedIndex(voters: readonly NodeId[], matchOf: (id: NodeId) => LogIndex): LogIndex {
  if (voters.length === 0) return 0 as LogIndex;
  const matches = voters.map(matchOf).sort((a, b) => b - a);
  const quorumMatch = matches[quorumSize(voters.length) - 1];
  return quorumMatch ?? (0 as LogIndex);
}

export function quorumSize(voterCount: number): number {
  return Math.floor(voterCount / 2) + 1;
}

export function voteResult(voters: readonly NodeId[], votes: ReadonlyMap<NodeId, boolean>): VoteResult {
  let granted = 0;
  let rejected = 0;
  for (const id of voters) {
    const vote = votes.get(id);
    if (vote === true) granted++;
    else if (vote === false) rejected++;
  }
  const needed = quorumSize(voters.length);
  if (granted >= needed) return 'won';
  if (voters.length - rejected < needed) return 'lost';
  return 'pending';
}

export function hasQuorum(voters: readonly NodeId[], isActive: (id: NodeId) => boolean): boolean {
  let active = 0;
  for (const id of voters) if (isActive(id)) active++;
  return active >= quorumSize(voters.length);
}
