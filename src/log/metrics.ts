/**
 * What the log store reports: how long a persist (entries + hard state, awaited until
 * durable) takes, which is the node's flush latency, and how many entry bytes it wrote.
 * `MeasuredLogStore` adds the measurement to any RaftLogStore without the store knowing.
 */
import type { Clock } from '../common/clock.js';
import type { Entry, HardState, ShardId } from '../raft/types.js';
import type { LogStore } from './log-store.js';
import { LogStoreDecorator } from './log-store-decorator.js';

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
export class MeasuredLogStore extends LogStoreDecorator {
  constructor(
    inner: LogStore,
    private readonly deps: { readonly clock: Clock; readonly metrics: LogMetrics },
  ) {
    super(inner);
  }

  override async persist(shardId: ShardId, batch: { entries: readonly Entry[]; hardState?: HardState }): Promise<void> {
    const startMs = this.deps.clock.monotonicMs();
    const bytes = batch.entries.reduce((sum, entry) => sum + entry.data.byteLength, 0);
    try {
      await this.inner.persist(shardId, batch);
    } catch (error) {
      this.deps.metrics.persistFailed();
      throw error;
    }
    this.deps.metrics.persisted({ seconds: (this.deps.clock.monotonicMs() - startMs) / 1000, bytes });
  }
}
