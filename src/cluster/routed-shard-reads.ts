/**
 * RoutedShardReads: how a clustered node reads one shard. While it holds a replica, the
 * read runs here (the local replica's read barrier, then its applied state); otherwise
 * the query goes to a replica (the leader when known, else each replica in turn, as the
 * ShardReplicaView knows them), which answers after its own read barrier.
 *
 * Queries change nothing, so unlike proposals any failed attempt (unreachable, lost,
 * not-leader, unavailable) may be retried on another replica; the whole read is bounded
 * by `routeWaitMs` and then fails as unavailable (503 + Retry-After), like a proposal.
 */
import type { NodeId, ShardId } from '../common/ids.js';
import { OverloadedError, ShardUnavailableError } from './errors.js';
import type { ForwardReply } from './forward-protocol.js';
import type { RouteDeps } from './routed-shard-log.js';
import type { ShardGroup } from './shard-group.js';
import type { ShardReplicaView } from './shard-replica-view.js';
import type { AnswerOf, ShardQuery, ShardReads } from './shard/shard-query.js';

type Attempt = { readonly answer: unknown } | { readonly hint: NodeId | undefined };

export class RoutedShardReads implements ShardReads {
  constructor(
    readonly shardId: ShardId,
    private readonly groupOf: () => ShardGroup | undefined,
    /** Reads on the local replica (its read barrier, then its state). */
    private readonly local: ShardReads,
    private readonly view: ShardReplicaView,
    private readonly deps: RouteDeps,
  ) {}

  async query<Q extends ShardQuery>(query: Q): Promise<AnswerOf<Q>> {
    const deadlineMs = this.deps.clock.monotonicMs() + this.deps.routeWaitMs;
    let hint: NodeId | undefined;
    for (;;) {
      if (this.groupOf() !== undefined) {
        // A replica removed while reading (its state is being deleted) neither answers
        // nor fails the read: ask one that holds the shard instead.
        try {
          const answer = await this.local.query(query);
          if (this.groupOf() !== undefined) return answer;
        } catch (error) {
          if (this.groupOf() !== undefined) throw error;
        }
        continue;
      }
      const target = hint ?? this.view.next(this.deps.nodeId);
      const attempt = target === undefined ? { hint: undefined } : await this.ask(target, query, deadlineMs);
      if ('answer' in attempt) return attempt.answer as AnswerOf<Q>;
      const remainingMs = deadlineMs - this.deps.clock.monotonicMs();
      if (remainingMs <= 0) throw new ShardUnavailableError(this.shardId, `shard ${this.shardId}: no replica answered a read within ${this.deps.routeWaitMs} ms`);
      hint = attempt.hint !== undefined && attempt.hint !== target && attempt.hint !== this.deps.nodeId ? attempt.hint : undefined;
      if (hint === undefined) await new Promise<void>((resolve) => this.deps.delays.after(Math.min(this.deps.retryMs, remainingMs), resolve));
    }
  }

  private async ask(target: NodeId, query: ShardQuery, deadlineMs: number): Promise<Attempt> {
    let reply: ForwardReply;
    try {
      const remainingMs = Math.max(deadlineMs - this.deps.clock.monotonicMs(), this.deps.retryMs);
      reply = await this.deps.forwarder.forward(target, { kind: 'query', shardId: this.shardId, query, storedBodies: true }, { deadlineMs: remainingMs });
    } catch {
      // Unreachable, or lost after it was sent: a read is safe to repeat elsewhere.
      this.view.noteMiss(target);
      return { hint: undefined };
    }
    switch (reply.kind) {
      case 'answered':
        return { answer: reply.answer };
      case 'not_leader':
        this.view.noteNotLeader(target, reply);
        return { hint: reply.leaderHint };
      case 'overloaded':
        throw new OverloadedError(this.shardId, reply.message);
      case 'unavailable':
      case 'dropped':
        this.view.noteMiss(target);
        return { hint: undefined };
      case 'applied':
      case 'changed':
      case 'described':
        throw new ShardUnavailableError(this.shardId, `a read of shard ${this.shardId} was answered as a write`);
    }
  }
}
