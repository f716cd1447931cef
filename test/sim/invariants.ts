/**
 * What the simulator checks, per shard, as the run goes:
 *
 * - one leader per term (every leader ever observed is recorded by term);
 * - leader completeness: when a node is first seen leading a term, its log holds every
 *   entry any replica has applied (applied implies committed);
 * - every state machine applies the same entry at each index, and a snapshot restores
 *   exactly the values applied up to its index;
 * - log matching: two logs with the same term at an index agree on everything before it
 *   (checked across all pairs every few steps);
 * - at the end: every acknowledged value is in every member's state machine, and all
 *   members hold the same list.
 */
import type { MemoryLogStore } from '../../src/log/memory/memory-log-store.js';
import type { RaftNode } from '../../src/raft/node.js';
import { type Entry, EntryType, type LogIndex, type NodeId, type ShardId } from '../../src/raft/types.js';
import { decodeValue } from './list-fsm.js';

export class SimViolation extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SimViolation';
  }
}

export function violation(message: string): never {
  throw new SimViolation(message);
}

export class ShardHistory {
  /** Per applied index: its term, and its value (null for no-ops and ConfChanges). */
  private readonly appliedTerm: number[] = [];
  private readonly appliedValue: (string | null)[] = [];
  private readonly leaders = new Map<number, NodeId>();
  /** Values whose proposal resolved, in order. */
  readonly acked: string[] = [];

  constructor(readonly shardId: ShardId) {}

  recordApply(nodeId: NodeId, entry: Entry): void {
    const value = entry.type === EntryType.Normal && entry.data.byteLength > 0 ? decodeValue(entry.data) : null;
    const term = this.appliedTerm[entry.index];
    if (term === undefined) {
      this.appliedTerm[entry.index] = entry.term;
      this.appliedValue[entry.index] = value;
      return;
    }
    if (term !== entry.term || this.appliedValue[entry.index] !== value) {
      violation(`shard ${this.shardId}: node ${nodeId} applied ${entry.term}/${entry.index}=${value} but ${term}/${entry.index}=${this.appliedValue[entry.index]} was applied before`);
    }
  }

  recordRestore(nodeId: NodeId, index: LogIndex, values: readonly string[]): void {
    const expected: string[] = [];
    for (let i = 1; i <= index; i++) {
      const value = this.appliedValue[i];
      if (value !== undefined && value !== null) expected.push(value);
    }
    if (expected.length !== values.length || expected.some((value, i) => values[i] !== value)) {
      violation(`shard ${this.shardId}: node ${nodeId} restored a snapshot at ${index} that differs from the applied history`);
    }
  }

  maxApplied(): number {
    return this.appliedTerm.length - 1;
  }

  /** One leader per term, and a new leader holds every applied entry. */
  observeLeader(nodeId: NodeId, node: RaftNode): void {
    const { term, firstIndex } = node.status();
    const known = this.leaders.get(term);
    if (known !== undefined) {
      if (known !== nodeId) violation(`shard ${this.shardId}: nodes ${known} and ${nodeId} both lead term ${term}`);
      return;
    }
    this.leaders.set(term, nodeId);
    for (let i = Math.max(1, firstIndex - 1); i < this.appliedTerm.length; i++) {
      const appliedTerm = this.appliedTerm[i];
      if (appliedTerm === undefined) continue;
      const held = node.logTerm(i as LogIndex);
      if (held !== appliedTerm) violation(`shard ${this.shardId}: leader ${nodeId} of term ${term} holds term ${held} at ${i}, but ${appliedTerm}/${i} was applied`);
    }
  }

  ackedBefore(count: number): readonly string[] {
    return this.acked.slice(0, count);
  }
}

/** Log matching across the replicas' stored logs (the live view: what raft reads). */
export function checkLogMatching(shardId: ShardId, replicas: readonly { nodeId: NodeId; store: MemoryLogStore }[]): void {
  for (let a = 0; a < replicas.length; a++) {
    for (let b = a + 1; b < replicas.length; b++) {
      const ra = replicas[a];
      const rb = replicas[b];
      if (ra === undefined || rb === undefined) continue;
      compareLogs(shardId, ra, rb);
    }
  }
}

function compareLogs(shardId: ShardId, a: { nodeId: NodeId; store: MemoryLogStore }, b: { nodeId: NodeId; store: MemoryLogStore }): void {
  const sa = a.store.bounds(shardId);
  const sb = b.store.bounds(shardId);
  const lo = Math.max(sa.firstIndex, sb.firstIndex);
  let hi = Math.min(sa.lastIndex, sb.lastIndex);
  while (hi >= lo && a.store.term(shardId, hi as LogIndex) !== b.store.term(shardId, hi as LogIndex)) hi--;
  if (hi < lo) return;
  const ea = a.store.entries(shardId, { lo: lo as LogIndex, hi: (hi + 1) as LogIndex });
  const eb = b.store.entries(shardId, { lo: lo as LogIndex, hi: (hi + 1) as LogIndex });
  for (let i = 0; i < ea.length; i++) {
    const x = ea[i];
    const y = eb[i];
    if (x === undefined || y === undefined || x.term !== y.term || x.type !== y.type || decodeValue(x.data) !== decodeValue(y.data)) {
      violation(`shard ${shardId}: logs of ${a.nodeId} and ${b.nodeId} agree at ${hi} but differ at ${lo + i}`);
    }
  }
}
