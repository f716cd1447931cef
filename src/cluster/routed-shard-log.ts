/**
 * RoutedShardLog: the ShardLog a clustered ShardedBroker uses for one shard. Any node
 * can call it; clients never see "not leader".
 *
 *  - propose: on the local replica when it leads, else forwarded to the leader it names
 *    (Forwarder, gRPC). A not-leader answer's hint is followed; a dropped proposal (its
 *    entry lost to a new leader, never committed) is retried; while no leader is known
 *    it waits (until the local replica sees a new leader, or `retryMs`) and retries.
 *    After `routeWaitMs` it gives up with ShardUnavailableError (the api answers 503
 *    with Retry-After), so a shard without a majority fails within a bounded time
 *    instead of hanging.
 *  - readBarrier: ReadIndex on the local replica (a follower asks the leader for the
 *    commit index and waits to apply it), so reads are linearizable on every node.
 *    A node without a replica reads through RoutedShardReads instead.
 *
 * A node that holds no replica of the shard (replicas below the node count) has no
 * local leader to ask: it forwards to the shard's replicas as its ShardReplicaView knows
 * them, the leader first, the others in turn, and learns from their answers. Forwarding
 * to a non-leader is harmless (it answers not-leader and proposes nothing).
 *
 * At most once: the command is encoded once, with a dedup key minted once for it
 * (command-ids.ts), and every attempt proposes those same bytes; the shard FSM applies
 * the first of them to commit and answers any later one with that first result
 * (AppliedWindow). So an attempt whose outcome is unknown (a forward that failed after
 * it was sent: connection dropped, deadline; a leader or local replica that gave up
 * waiting for the commit) is retried too, on whichever leader is current, until the
 * route deadline. Only when that passes with an attempt's outcome still unknown does
 * the request fail as unavailable "outcome unknown" (the command may yet apply, once).
 * A repeat is recognised while its first apply is in the FSM's window (a minute of
 * commands, far beyond `routeWaitMs`, unless a shard applies more than the window's
 * count bound in that time).
 */
import type { Clock } from '../common/clock.js';
import type { NodeId, ShardId } from '../common/ids.js';
import type { Delays } from '../common/timers.js';
import { OverloadedError, ShardUnavailableError } from './errors.js';
import type { Forwarder, ForwardReply } from './forward-protocol.js';
import { NotLeaderError, PeerUnreachableError, ProposalDroppedError } from './routing-errors.js';
import type { ShardGroup } from './shard-group.js';
import type { ShardReplicaView } from './shard-replica-view.js';
import { withCommandId } from './shard/command-ids.js';
import { type ShardCommand, encodeCommand } from './shard/commands.js';
import type { AnyCommandResult, ResultOf } from './shard/results.js';
import type { ShardLog } from './shard/shard-log.js';

export interface RouteDeps {
  readonly nodeId: NodeId;
  readonly forwarder: Forwarder;
  readonly clock: Clock;
  readonly delays: Delays;
  /** Total time a request may spend finding a leader before it fails as unavailable. */
  readonly routeWaitMs: number;
  /** Pause between attempts while no leader is known. */
  readonly retryMs: number;
  /** The shorter wait once the shard has been unreachable for a whole `routeWaitMs`. */
  readonly unreachableWaitMs: number;
  /**
   * The origin a proposal names (the leader counts its traffic by it, traffic-leadership.ts):
   * this node, or undefined once it hands its leadership away to shut down, so its last
   * requests do not draw leadership back to it. Absent: always this node.
   */
  readonly origin?: () => NodeId | undefined;
}

/** An attempt's answer, or whom to try next and, when it may have been proposed, why its outcome is unknown. */
type Attempt = { readonly done: AnyCommandResult } | { readonly hint: NodeId | undefined; readonly unknown?: Error };

export class RoutedShardLog implements ShardLog {
  /** When requests started failing to reach a leader (undefined while they succeed). */
  private unreachableSinceMs: number | undefined;

  /**
   * `groupOf`: this node's replica of the shard, read on every attempt (a node gains and
   * loses replicas as membership changes); `view`: where the replicas are when it has none.
   */
  constructor(
    readonly shardId: ShardId,
    private readonly groupOf: () => ShardGroup | undefined,
    private readonly view: ShardReplicaView,
    private readonly deps: RouteDeps,
  ) {}

  async propose<C extends ShardCommand>(command: C): Promise<ResultOf<C>> {
    // Encoded once: every attempt proposes the same key, so the FSM applies one of them.
    const data = encodeCommand(withCommandId(command));
    const deadlineMs = this.deadlineMs();
    let hint: NodeId | undefined;
    let previous: NodeId | undefined;
    let unknown: Error | undefined;
    for (;;) {
      const group = this.groupOf();
      // With a local replica its leader is authoritative; without one, the view guesses.
      const target = hint ?? (group === undefined ? this.view.next(this.deps.nodeId) : group.leader());
      const attempt = target === undefined || (target === this.deps.nodeId && group === undefined)
        ? { hint: undefined }
        : target === this.deps.nodeId && group !== undefined ? await this.proposeLocal(group, data) : await this.proposeRemote(target, data, deadlineMs);
      if ('done' in attempt) {
        this.unreachableSinceMs = undefined;
        if (target !== undefined) this.view.noteLeader(target);
        return attempt.done as ResultOf<C>;
      }
      unknown = attempt.unknown ?? unknown;
      const remainingMs = deadlineMs - this.deps.clock.monotonicMs();
      if (remainingMs <= 0) throw unknown === undefined ? this.unavailable() : this.outcomeUnknown(unknown);
      // A fresh hint is tried at once; otherwise wait for an election to settle. A hint back
      // to the node tried before this one is not fresh: during a leadership transfer the
      // leader names the transferee, which names the leader until the transfer's election.
      hint = attempt.hint !== undefined && attempt.hint !== target && attempt.hint !== previous ? attempt.hint : undefined;
      previous = target;
      if (hint === undefined) await this.pause(Math.min(this.deps.retryMs, remainingMs));
    }
  }

  private async proposeLocal(group: ShardGroup, data: Uint8Array): Promise<Attempt> {
    try {
      const result = await group.propose(data, this.origin());
      if (result === undefined) throw new ShardUnavailableError(this.shardId, 'a command entry produced no result');
      return { done: result };
    } catch (error) {
      if (error instanceof NotLeaderError) return { hint: error.leaderHint as NodeId | undefined };
      if (error instanceof ProposalDroppedError) return { hint: undefined };
      // Gave up waiting for the commit (or a snapshot covered the entry): it may still
      // apply, and proposing it again is safe. A failed replica serves nothing: give up.
      if (error instanceof ShardUnavailableError && group.failure === undefined) return { hint: undefined, unknown: error };
      throw error;
    }
  }

  private async proposeRemote(target: NodeId, data: Uint8Array, deadlineMs: number): Promise<Attempt> {
    let reply: ForwardReply;
    try {
      const remainingMs = Math.max(deadlineMs - this.deps.clock.monotonicMs(), this.deps.retryMs);
      reply = await this.deps.forwarder.forward(target, { kind: 'command', shardId: this.shardId, command: data, storedBodies: true, ...this.originField() }, { deadlineMs: remainingMs });
    } catch (error) {
      // Never sent (dead, partitioned, restarting): ask the local replica (or the next one) later.
      if (error instanceof PeerUnreachableError) {
        this.view.noteMiss(target);
        return { hint: undefined };
      }
      // Sent, then lost (connection dropped, deadline): the leader may have proposed the
      // command and it may still commit. Proposing it again is safe (applied at most once).
      return { hint: undefined, unknown: new Error(`forward to node ${target} failed after it was sent`, { cause: error }) };
    }
    switch (reply.kind) {
      case 'applied':
        return { done: reply.result };
      case 'changed':
        throw new ShardUnavailableError(this.shardId, 'a command was answered as a membership change');
      case 'answered':
      case 'described':
        throw new ShardUnavailableError(this.shardId, 'a command was answered as a query');
      case 'not_leader':
        this.view.noteNotLeader(target, reply);
        return { hint: reply.leaderHint };
      case 'dropped':
        return { hint: undefined };
      case 'overloaded':
        throw new OverloadedError(this.shardId, reply.message);
      case 'unavailable':
        // The leader gave up waiting for the commit (or failed): the entry may still commit.
        return { hint: undefined, unknown: new Error(`node ${target}: ${reply.message}`) };
    }
  }

  private origin(): NodeId | undefined {
    return this.deps.origin === undefined ? this.deps.nodeId : this.deps.origin();
  }

  private originField(): { origin?: NodeId } {
    const origin = this.origin();
    return origin === undefined ? {} : { origin };
  }

  async readBarrier(): Promise<void> {
    const deadlineMs = this.deadlineMs();
    for (;;) {
      const group = this.groupOf();
      if (group === undefined) throw new ShardUnavailableError(this.shardId, `shard ${this.shardId} has no replica on node ${this.deps.nodeId}`);
      try {
        await group.readBarrier();
        this.unreachableSinceMs = undefined;
        return;
      } catch (error) {
        const isRetryable = error instanceof NotLeaderError || (error instanceof ShardUnavailableError && group.failure === undefined);
        if (!isRetryable) throw error;
      }
      const remainingMs = deadlineMs - this.deps.clock.monotonicMs();
      if (remainingMs <= 0) throw this.unavailable();
      await this.pause(Math.min(this.deps.retryMs, remainingMs));
    }
  }

  /**
   * A request waits up to `routeWaitMs` for a leader; once the shard has been
   * unreachable that long (a partitioned minority), later requests wait only
   * `unreachableWaitMs`, so clients get their 503 quickly instead of each waiting in full.
   * A local replica that knows a leader again (the partition healed) ends that: the
   * first requests after a heal must not fail on the short wait while the round trips
   * to the leader are still slow.
   */
  private deadlineMs(): number {
    const nowMs = this.deps.clock.monotonicMs();
    if (this.groupOf()?.leader() !== undefined) this.unreachableSinceMs = undefined;
    const since = this.unreachableSinceMs;
    const isLongUnreachable = since !== undefined && nowMs - since >= this.deps.routeWaitMs;
    return nowMs + (isLongUnreachable ? this.deps.unreachableWaitMs : this.deps.routeWaitMs);
  }

  private unavailable(): ShardUnavailableError {
    this.unreachableSinceMs ??= this.deps.clock.monotonicMs() - this.deps.routeWaitMs;
    return new ShardUnavailableError(this.shardId, `shard ${this.shardId} has no reachable leader (waited ${this.deps.routeWaitMs} ms)`);
  }

  private outcomeUnknown(cause: Error): ShardUnavailableError {
    this.unreachableSinceMs ??= this.deps.clock.monotonicMs() - this.deps.routeWaitMs;
    return new ShardUnavailableError(
      this.shardId,
      `shard ${this.shardId}: no answer within ${this.deps.routeWaitMs} ms; the command's outcome is unknown (it may still apply, at most once)`,
      { cause },
    );
  }

  /**
   * Waits `ms`, or less: until the local replica sees its leader change (an election or a
   * leadership transfer ending), when the request can go on at once.
   */
  private pause(ms: number): Promise<void> {
    const group = this.groupOf();
    return new Promise((resolve) => {
      let forget = (): void => {};
      const cancel = this.deps.delays.after(ms, () => {
        forget();
        resolve();
      });
      if (group !== undefined) {
        forget = group.onLeaderChange(() => {
          cancel();
          resolve();
        });
      }
    });
  }
}
