/**
 * PipelinedRounds: RaftShardHost's rounds with asynchronous storage writes (etcd's
 * AsyncStorageWrites, `RaftConfig.isAsyncStorageWrites` on every group), so a node has
 * up to `depthMax` persist rounds in flight instead of one.
 *
 * Starting a round (the host took one Ready per busy group): every group's `messages`
 * go out and its `committed` entries are applied and answered at once — the core put
 * there only what depends on state already durable here (a steady leader's appends,
 * entries persisted in earlier rounds) — then every group's entries + hard state are
 * handed to the log store in the same event-loop turn (one LMDB transaction and one
 * flush for the round: group commit across shards, as before). The host then takes the
 * next round without waiting.
 *
 * Completing a round (its persists and every earlier round's have resolved; LMDB
 * commits them in issue order and PersistPipeline reports them in that order): each
 * group's core hears `persisted(ready)` (a leader's own log now counts towards commit, a
 * candidate's vote towards its election), then the round's `messagesAfterPersist`
 * (append and vote answers) are sent. A failed persist fails its group, as before.
 *
 * A Ready with a leader's snapshot is only taken when the group has nothing in flight
 * (the core holds it back until then); the group is neither fed nor compacted until the
 * round that installs it completes, and then its messages, reads and leader change are
 * handled.
 */
import { type Ready, requiredWrite } from '../raft/core/ready.js';
import { PersistPipeline } from '../raft/persist-pipeline.js';
import type { Entry, RaftLogStore, RaftTransport, Snapshot } from '../raft/types.js';
import type { ShardGroup } from './shard-group.js';

export type Round = readonly { readonly group: ShardGroup; readonly ready: Ready }[];

export interface PipelinedRoundsDeps {
  readonly logStore: RaftLogStore;
  readonly transport: RaftTransport | undefined;
  /** Persist rounds in flight at most. */
  readonly depthMax: number;
  /** Stores and restores a leader's snapshot (the host's installSnapshot). */
  readonly installSnapshot: (group: ShardGroup, snapshot: Snapshot) => Promise<void>;
  /** Counts applied entries toward the group's next compaction. */
  readonly noteApplied: (group: ShardGroup, committed: readonly Entry[]) => void;
  /** A round completed or failed: these groups' cores may have more to do. */
  readonly wake: (groups: readonly ShardGroup[]) => void;
}

export class PipelinedRounds {
  private readonly pipeline: PersistPipeline<Round, PromiseSettledResult<void>[]>;

  constructor(private readonly deps: PipelinedRoundsDeps) {
    this.pipeline = new PersistPipeline({
      depthMax: deps.depthMax,
      onDurable: (round, outcomes) => this.complete(round, outcomes),
      onFailure: (round, error) => {
        for (const { group } of round) group.fail(error);
        deps.wake([]);
      },
    });
  }

  isFull(): boolean {
    return this.pipeline.isFull();
  }

  oldestSettled(): Promise<void> {
    return this.pipeline.oldestSettled();
  }

  drained(): Promise<void> {
    return this.pipeline.drained();
  }

  /** Sends and applies what needs no wait, then issues every group's persist in this turn. */
  start(round: Round): void {
    for (const { group, ready } of round) {
      if (ready.snapshot !== undefined) continue;
      if (ready.messages.length > 0) this.deps.transport?.send(ready.messages);
      this.apply(group, ready);
    }
    const writes = round.map(({ group, ready }) => this.persist(group, ready));
    this.pipeline.push(round, Promise.allSettled(writes));
  }

  private async persist(group: ShardGroup, ready: Ready): Promise<void> {
    if (ready.snapshot !== undefined) await this.deps.installSnapshot(group, ready.snapshot);
    const write = requiredWrite(ready);
    if (write !== undefined) await this.deps.logStore.persist(group.shardId, write);
  }

  private apply(group: ShardGroup, ready: Ready): void {
    try {
      this.deps.noteApplied(group, ready.committed);
      group.applyReady(ready);
    } catch (error) {
      group.fail(error);
      throw error; // a broken invariant in the FSM: let the process stop
    }
    group.core.applied(ready);
  }

  private complete(round: Round, outcomes: readonly PromiseSettledResult<void>[]): void {
    round.forEach(({ group, ready }, i) => {
      const outcome = outcomes[i];
      if (outcome?.status !== 'fulfilled') {
        group.fail(outcome?.reason);
        return;
      }
      if (group.failure !== undefined) return;
      group.core.persisted(ready);
      const isInstall = ready.snapshot !== undefined;
      const late = isInstall ? [...ready.messages, ...ready.messagesAfterPersist] : ready.messagesAfterPersist;
      if (late.length > 0) this.deps.transport?.send(late);
      if (isInstall) this.apply(group, ready);
    });
    this.deps.wake(round.map(({ group }) => group));
  }
}
