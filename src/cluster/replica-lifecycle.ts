/**
 * ReplicaLifecycle: how a running node gains and loses replicas of shards when the
 * cluster rebalances (membership-router.ts).
 *
 *  - Gaining: a leader adds this node as a learner and starts replicating to it. The
 *    first App, Heartbeat or Snap message for a shard not hosted here starts the group
 *    empty (no voters: its configuration arrives with the leader's log or snapshot).
 *    Votes never create a group: only a leader brings a replica to life.
 *  - Losing: once a group this node was a member of has applied all it knows committed
 *    and its configuration no longer has this node, or the node running the rebalance
 *    says the leader removed it (`release`: a removed replica may never learn that its
 *    removal committed, since the leader stops replicating to it), the group stops and
 *    its Raft state and queue state are deleted; the shard becomes remote for this node
 *    (reads and writes go to its replicas).
 *  - A replica that was down when it was removed never hears of it (no leader talks to it
 *    any more): a group without a leader for `probeAfterSweeps` sweeps asks the shard's
 *    other nodes for the leader's configuration (`describe`), and drops its replica when
 *    that configuration does not contain this node.
 *
 * Invariants: a leader never drops its own replica (it hands leadership over first,
 * membership.ts); a group still catching up (empty configuration, or one that does not
 * yet include this node) is never taken for a departure; for `quarantineMs` after
 * leaving a shard, stray messages of its old leader do not recreate the group.
 */
import type { Clock } from '../common/clock.js';
import type { NodeId, ShardId } from '../common/ids.js';
import type { Logger } from '../common/logger.js';
import { MessageType } from '../raft/core/messages.js';
import type { RaftMessage } from '../raft/types.js';
import type { ForwardReply } from './forward-protocol.js';
import type { RaftShardHost } from './raft-shard-host.js';
import type { ShardReplicaView } from './shard-replica-view.js';
import type { QueueFsm } from './shard/queue-fsm.js';

export interface ReplicaLifecycleDeps {
  readonly nodeId: NodeId;
  readonly host: RaftShardHost;
  readonly clock: Clock;
  readonly viewOf: (shardId: ShardId) => ShardReplicaView;
  /** How long after leaving a shard its leader's messages are ignored. */
  readonly quarantineMs: number;
  /** Sweeps a hosted group may go without a leader before this node asks whether it is still a member. */
  readonly probeAfterSweeps: number;
  /** Sends a `describe` of the shard to one other node (a leader answers with its configuration). */
  readonly describeElsewhere: (shardId: ShardId) => Promise<ForwardReply | undefined>;
  /** Opens a shard not opened here yet (a pool's, which the broker opens on first use); it registers its FSM. */
  readonly openUnknown?: (shardId: ShardId) => void;
  readonly logger: Logger;
}

export class ReplicaLifecycle {
  private readonly fsms = new Map<ShardId, QueueFsm>();
  /** Hosted groups whose configuration has counted this node (so leaving it is a departure). */
  private readonly memberOf = new Set<ShardId>();
  private readonly departedAtMs = new Map<ShardId, number>();
  private readonly leaving = new Set<ShardId>();
  /** Consecutive sweeps each hosted group has gone without a leader. */
  private readonly leaderlessSweeps = new Map<ShardId, number>();
  private readonly probing = new Set<ShardId>();

  constructor(private readonly deps: ReplicaLifecycleDeps) {}

  /** The shard's state machine, for a group started later (one per shard, from the broker). */
  register(fsm: QueueFsm): void {
    this.fsms.set(fsm.shardId, fsm);
  }

  fsmOf(shardId: ShardId): QueueFsm | undefined {
    return this.fsms.get(shardId);
  }

  /** A peer message for a shard not hosted here (RaftShardHost.onUnknownShard). */
  adopt(message: RaftMessage): void {
    const { shardId } = message;
    const isFromLeader = message.type === MessageType.App || message.type === MessageType.Heartbeat || message.type === MessageType.Snap;
    if (isFromLeader && !this.fsms.has(shardId)) this.deps.openUnknown?.(shardId);
    const fsm = this.fsms.get(shardId);
    if (!isFromLeader || fsm === undefined || this.leaving.has(shardId)) return;
    const departedAtMs = this.departedAtMs.get(shardId);
    if (departedAtMs !== undefined && this.deps.clock.monotonicMs() - departedAtMs < this.deps.quarantineMs) return;
    this.deps.host.addGroup(fsm, []);
    this.deps.logger.info({ shardId, leader: message.from }, 'replica started: the shard leader replicates to this node');
  }

  /** Drops every hosted group whose applied configuration no longer contains this node. */
  sweep(): void {
    const self = this.deps.nodeId;
    for (const group of this.deps.host.allGroups()) {
      const { conf, applied, commit, leader } = group.status();
      this.noteLeader(group.shardId, leader);
      if (conf.voters.includes(self) || conf.learners.includes(self)) {
        this.memberOf.add(group.shardId);
      } else if (this.memberOf.has(group.shardId) && conf.voters.length > 0 && applied >= commit) {
        // Only a fully applied configuration counts: a restarted replica replaying its log
        // passes through older ones (e.g. before it was added back) on its way to the latest.
        void this.release(group.shardId, 'its configuration no longer contains this node').catch((error: unknown) => {
          this.deps.logger.error({ err: error, shardId: group.shardId }, 'dropping a replica failed');
        });
      }
    }
  }

  /** Counts leaderless sweeps; past the bound, asks elsewhere whether this node is still a member. */
  private noteLeader(shardId: ShardId, leader: NodeId | 0): void {
    if (leader !== 0) {
      this.leaderlessSweeps.delete(shardId);
      return;
    }
    const sweeps = (this.leaderlessSweeps.get(shardId) ?? 0) + 1;
    this.leaderlessSweeps.set(shardId, sweeps);
    if (sweeps < this.deps.probeAfterSweeps || this.probing.has(shardId)) return;
    this.probing.add(shardId);
    void this.probe(shardId).finally(() => this.probing.delete(shardId));
  }

  private async probe(shardId: ShardId): Promise<void> {
    const reply = await this.deps.describeElsewhere(shardId).catch(() => undefined);
    if (reply?.kind !== 'described') return;
    const self = this.deps.nodeId;
    // Only a leader at least as recent as this replica knows: a deposed one may describe a configuration from before this node was added.
    const term = this.deps.host.group(shardId)?.status().term ?? Infinity;
    if (reply.term < term || reply.voters.includes(self) || reply.learners.includes(self)) return;
    await this.release(shardId, `the shard leader's configuration (voters ${reply.voters.join(',')}) no longer contains this node`).catch((error: unknown) => {
      this.deps.logger.error({ err: error, shardId }, 'dropping a replica failed');
    });
  }

  /** Stops the local replica of a shard and deletes its state; a leader keeps its replica. */
  async release(shardId: ShardId, reason: string): Promise<boolean> {
    const group = this.deps.host.group(shardId);
    if (group === undefined || group.isLeader() || this.leaving.has(shardId)) return group === undefined;
    this.leaving.add(shardId);
    try {
      const voters = group.status().conf.voters.filter((nodeId) => nodeId !== this.deps.nodeId);
      this.deps.viewOf(shardId).noteReplicas(voters);
      await this.deps.host.removeGroup(shardId);
      // The failed group applies nothing more; what it applied must be committed before it is deleted.
      const fsm = group.fsm.fsm;
      while (!fsm.isCommitted) await fsm.awaitCommitted();
      fsm.forget();
      await fsm.store.committed();
      this.memberOf.delete(shardId);
      this.leaderlessSweeps.delete(shardId);
      this.departedAtMs.set(shardId, this.deps.clock.monotonicMs());
      this.deps.logger.info({ shardId, replicas: voters }, `replica dropped: ${reason}`);
      return true;
    } finally {
      this.leaving.delete(shardId);
    }
  }
}
