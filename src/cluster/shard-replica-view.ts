/**
 * ShardReplicaView: where this node believes one shard's replicas are, so it can reach
 * a shard it does not host. Seeded from the placement (placement.ts), then corrected by
 * what the cluster says: a replica's leader hint, the replica list a node that left the
 * shard (or never had it) answers with, and the shard's configuration while a local
 * replica exists. It is only a routing hint: a wrong view costs a retry, never safety
 * (a node that does not lead a shard never proposes, it answers not-leader).
 *
 * Bounded: at most one entry per cluster node (the replica list replaces, never grows).
 */
import type { NodeId } from '../common/ids.js';

export class ShardReplicaView {
  private replicas: NodeId[];
  private leader: NodeId | undefined;
  private turn = 0;

  /** `members`: every node of the address book, asked after the replicas when none answers. */
  constructor(
    replicas: readonly NodeId[],
    private readonly members: readonly NodeId[],
  ) {
    this.replicas = [...new Set(replicas)];
  }

  /** The replicas as last learnt. */
  get known(): readonly NodeId[] {
    return this.replicas;
  }

  /**
   * The node to ask next, never `self`: the known leader, else each replica in turn and
   * then the other members (a stale view still reaches a node that knows better).
   */
  next(self: NodeId): NodeId | undefined {
    if (this.leader !== undefined && this.leader !== self) return this.leader;
    const order = [...new Set([...this.replicas, ...this.members])].filter((nodeId) => nodeId !== self);
    if (order.length === 0) return undefined;
    return order[this.turn++ % order.length];
  }

  /** A node named as (or found to be) the shard's leader. */
  noteLeader(leader: NodeId | undefined): void {
    if (leader === undefined) return;
    this.leader = leader;
    if (!this.replicas.includes(leader)) this.replicas = [...this.replicas, leader];
  }

  /** The replica set as a node that knows it reported it (its configuration's voters and learners). */
  noteReplicas(replicas: readonly NodeId[]): void {
    if (replicas.length === 0) return;
    const next = [...new Set(replicas)];
    // A new set is asked from its start; the same set keeps its turn (no node asked twice in a row).
    if (next.length !== this.replicas.length || next.some((nodeId, i) => nodeId !== this.replicas[i])) this.turn = 0;
    this.replicas = next;
    if (this.leader !== undefined && !this.replicas.includes(this.leader)) this.leader = undefined;
  }

  /**
   * `from` answered not-leader: it is passed over, and what it knows (its leader hint,
   * and from a node without a replica the replicas it knows of) corrects the view.
   */
  noteNotLeader(from: NodeId, answer: { readonly leaderHint: NodeId | undefined; readonly replicas?: readonly NodeId[] }): void {
    this.noteMiss(from);
    if (answer.replicas !== undefined) this.noteReplicas(answer.replicas);
    this.noteLeader(answer.leaderHint);
  }

  /** `nodeId` did not answer or does not lead: ask the others before it again. */
  noteMiss(nodeId: NodeId): void {
    if (this.leader === nodeId) this.leader = undefined;
  }
}
