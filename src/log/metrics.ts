/**
 * What the log store reports: how long a persist (entries + hard state, awaited until
 * durable) takes, which is the node's flush latency, and how many entry bytes it wrote.
 * `MeasuredLogStore` adds the measurement to any RaftLogStore without the store knowing.
 */
import type { Clock } from '../common/clock.js';
import type { Entry, HardState, LogIndex, RaftGroupState, ShardId, Snapshot, Term } from '../raft/types.js';
import type { LogStore } from './log-store.js';

export interface LogMetrics {
  /** One persist that became durable, with its wall time and entry payload bytes. */
  persisted(outcome: { seconds: number; bytes: number }): void;
  persistFailed(): void;
}

export const noLogMetrics: LogMetrics = {
  persisted: () => undefined,
  persistFailed: () => undefined,
};

/** Times `persist`; every other method passes straight through. */
export class MeasuredLogStore implements LogStore {
  constructor(
    private readonly store: LogStore,
    private readonly deps: { readonly clock: Clock; readonly metrics: LogMetrics },
  ) {}

  load(shardId: ShardId): RaftGroupState {
    return this.store.load(shardId);
  }

  hasGroup(shardId: ShardId): boolean {
    return this.store.hasGroup(shardId);
  }

  storedGroups(from: ShardId): ShardId[] {
    return this.store.storedGroups(from);
  }

  entries(shardId: ShardId, range: { lo: LogIndex; hi: LogIndex; bytesMax?: number }): Entry[] {
    return this.store.entries(shardId, range);
  }

  term(shardId: ShardId, index: LogIndex): Term | undefined {
    return this.store.term(shardId, index);
  }

  async persist(shardId: ShardId, batch: { entries: readonly Entry[]; hardState?: HardState }): Promise<void> {
    const startMs = this.deps.clock.monotonicMs();
    const bytes = batch.entries.reduce((sum, entry) => sum + entry.data.byteLength, 0);
    try {
      await this.store.persist(shardId, batch);
    } catch (error) {
      this.deps.metrics.persistFailed();
      throw error;
    }
    this.deps.metrics.persisted({ seconds: (this.deps.clock.monotonicMs() - startMs) / 1000, bytes });
  }

  persistSnapshot(shardId: ShardId, snapshot: Snapshot): Promise<void> {
    return this.store.persistSnapshot(shardId, snapshot);
  }

  compact(shardId: ShardId, index: LogIndex): Promise<void> {
    return this.store.compact(shardId, index);
  }

  removeGroup(shardId: ShardId): Promise<void> {
    return this.store.removeGroup(shardId);
  }

  snapshot(shardId: ShardId): Snapshot | undefined {
    return this.store.snapshot(shardId);
  }
}
