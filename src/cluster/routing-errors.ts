/**
 * Errors the Raft-backed shard logs raise below the router and that never reach the
 * api: the router (RoutedShardLog) follows a NotLeaderError's hint and retries a
 * ProposalDroppedError, and turns whatever is left after its deadline into the
 * ShardUnavailableError of errors.ts (503 + Retry-After).
 */

/** This replica does not lead the shard; `leaderHint` is the leader it knows of, if any. */
export class NotLeaderError extends Error {
  constructor(
    readonly shardId: number,
    readonly leaderHint: number | undefined,
  ) {
    super(`shard ${shardId}: not the leader${leaderHint === undefined ? ' (no leader known)' : `, try node ${leaderHint}`}`);
    this.name = 'NotLeaderError';
  }
}

/** The proposal's entry was overwritten by another leader's: it was never committed, so a retry is safe. */
export class ProposalDroppedError extends Error {
  constructor(readonly shardId: number) {
    super(`shard ${shardId}: proposal dropped by a leader change`);
    this.name = 'ProposalDroppedError';
  }
}

/**
 * A forward that provably never reached the peer (no connection to it could be used),
 * so the peer cannot have proposed it and a retry is safe. Any other forward failure
 * (connection lost mid-call, deadline, peer error) has an unknown outcome: the leader
 * may have proposed the command and it may commit, so it must not be proposed again.
 */
export class PeerUnreachableError extends Error {
  constructor(
    readonly nodeId: number,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'PeerUnreachableError';
  }
}
