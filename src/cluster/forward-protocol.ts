/**
 * What one node asks another when it must hand a shard command to the shard's leader,
 * and the answers. The command travels encoded (the proposer minted its ids and time),
 * so the leader proposes exactly what the follower built; the answer carries the apply
 * result (plain msgpack-safe data, see shard/results.ts) or why it was not applied.
 *
 * A node that holds no replica of a shard also sends its reads (a ShardQuery) here: any
 * replica answers one after its own read barrier (ReadIndex), so the answer is as
 * linearizable as a local read; it fails with the same answers as a proposal.
 *
 * The serving side never forwards again: it answers `not_leader` with its hint (and,
 * when it holds no replica, the replicas it knows of) and the asking side follows it,
 * so a request cannot loop between nodes.
 */
import { unreachable } from '../common/assert.js';
import type { NodeId, ShardId } from '../common/ids.js';
import { OverloadedError, ShardUnavailableError } from './errors.js';
import { changeShardMembership, type MembershipChange, type MembershipDeps } from './membership.js';
import { NotLeaderError, ProposalDroppedError } from './routing-errors.js';
import { withDecodedBodies } from './shard/message-view.js';
import type { AnyCommandResult } from './shard/results.js';
import { answerShardQuery, type ShardQuery } from './shard/shard-query.js';
import type { ShardGroup } from './shard-group.js';

/**
 * What is asked of the serving node, one variant per kind. On the wire every kind keeps
 * the older flat shape (grpc/forward-wire.ts converts), so nodes of different versions
 * understand each other.
 *
 * `storedBodies`: the asking node renders a message body given as its stored bytes, so
 * the answer carries them as they are; without it (nodes of earlier versions, which
 * render a body as they receive it) the serving node decodes them (`withDecodedBodies`).
 * A serving node of an earlier version ignores the field and sends decoded bodies, which
 * the asking node renders too.
 */
export type ForwardRequest =
  /**
   * An encoded ShardCommand, proposed as it is. `origin`: the node that took it from its
   * client (the leader counts its commands by it, traffic-leadership.ts); absent from
   * nodes of earlier versions.
   */
  | { readonly kind: 'command'; readonly shardId: ShardId; readonly command: Uint8Array; readonly storedBodies?: true; readonly origin?: NodeId }
  /** Add or remove a node in the shard's group (membership.ts). */
  | { readonly kind: 'membership'; readonly shardId: ShardId; readonly change: MembershipChange }
  /** A read, answered after the serving replica's read barrier. */
  | { readonly kind: 'query'; readonly shardId: ShardId; readonly query: ShardQuery; readonly storedBodies?: true }
  /** The shard's configuration, as its leader has applied it. */
  | { readonly kind: 'describe'; readonly shardId: ShardId }
  /** The shard's leader no longer counts the serving node, which drops its replica. */
  | { readonly kind: 'release'; readonly shardId: ShardId }
  /** Start a pool's new shard group here with these voters (cluster-shard-logs.ts). */
  | { readonly kind: 'bootstrap'; readonly shardId: ShardId; readonly voters: readonly NodeId[] };

/** The requests a shard's replica answers (a release or bootstrap is about the node's replica itself, cluster-shard-logs.ts). */
export type ReplicaRequest = Exclude<ForwardRequest, { readonly kind: 'release' | 'bootstrap' }>;

export type ForwardReply =
  | { readonly kind: 'applied'; readonly result: AnyCommandResult }
  | { readonly kind: 'changed' }
  /** A query's answer (shard/shard-query.ts AnswerOf the query's kind). */
  | { readonly kind: 'answered'; readonly answer: unknown }
  /** The leader's applied configuration (answer to `describe`). */
  | { readonly kind: 'described'; readonly term: number; readonly voters: readonly NodeId[]; readonly learners: readonly NodeId[] }
  /** `replicas`: from a node without a replica of the shard, the replicas it knows of. */
  | { readonly kind: 'not_leader'; readonly leaderHint: NodeId | undefined; readonly replicas?: readonly NodeId[] }
  | { readonly kind: 'dropped' }
  | { readonly kind: 'overloaded'; readonly message: string }
  | { readonly kind: 'unavailable'; readonly message: string };

/**
 * Sends a request to a peer. Rejects with PeerUnreachableError only when the request
 * was certainly not delivered (safe to retry); any other rejection means it may have
 * been served.
 */
export interface Forwarder {
  forward(to: NodeId, request: ForwardRequest, options: { deadlineMs: number }): Promise<ForwardReply>;
  close(): void;
}

export interface ServeOptions {
  /** Lets the node run membership changes of groups it leads; refused when absent. */
  readonly membership?: MembershipDeps;
  /** The shard's replicas as this node knows them, for askers when it holds none. */
  readonly knownReplicas?: readonly NodeId[];
}

/** The serving side: proposes (or reads) on the local replica, once, and says what happened. */
export async function serveForward(group: ShardGroup | undefined, request: ReplicaRequest, options: ServeOptions = {}): Promise<ForwardReply> {
  if (group === undefined) return { kind: 'not_leader', leaderHint: undefined, ...(options.knownReplicas === undefined ? {} : { replicas: options.knownReplicas }) };
  switch (request.kind) {
    case 'describe': {
      if (!group.isLeader()) return { kind: 'not_leader', leaderHint: group.leader() };
      const { conf, term } = group.status();
      return { kind: 'described', term, voters: [...conf.voters], learners: [...conf.learners] };
    }
    case 'query':
      return replyOf(async () => {
        await group.readBarrier();
        const answer = await answerShardQuery(group.fsm.fsm, request.query);
        return { kind: 'answered', answer: request.storedBodies === true ? answer : withDecodedBodies(answer) };
      });
    case 'membership': {
      const { membership } = options;
      if (membership === undefined) return { kind: 'unavailable', message: 'membership changes are not served here' };
      return replyOf(async () => {
        await changeShardMembership(group, request.change, membership);
        return { kind: 'changed' };
      });
    }
    case 'command':
      return replyOf(async () => {
        const result = await group.propose(request.command, request.origin);
        if (result === undefined) return { kind: 'unavailable', message: 'a command entry produced no result' };
        return { kind: 'applied', result: request.storedBodies === true ? result : withDecodedBodies(result) };
      });
    default:
      return unreachable(request, 'forward request');
  }
}

/** What `serve` answered, or the reply its routing error stands for. */
async function replyOf(serve: () => Promise<ForwardReply>): Promise<ForwardReply> {
  try {
    return await serve();
  } catch (error) {
    return replyForError(error);
  }
}

function replyForError(error: unknown): ForwardReply {
  if (error instanceof NotLeaderError) return { kind: 'not_leader', leaderHint: error.leaderHint as NodeId | undefined };
  if (error instanceof ProposalDroppedError) return { kind: 'dropped' };
  if (error instanceof OverloadedError) return { kind: 'overloaded', message: error.message };
  if (error instanceof ShardUnavailableError) return { kind: 'unavailable', message: error.message };
  throw error;
}
