/** The stores a broker runs on: the node's one LMDB environment, or given stores (memory ones in simulations). */
import type { Clock } from '../common/clock.js';
import type { LogStore } from '../log/log-store.js';
import { MeasuredLogStore, noLogMetrics, type LogMetrics } from '../log/metrics.js';
import { RecentEntriesLogStore } from '../log/recent-entries.js';
import { openLmdbEnv } from '../log/lmdb/lmdb-env.js';
import { LmdbLogStore } from '../log/lmdb/lmdb-log-store.js';
import { LmdbQueueStore } from '../log/lmdb/lmdb-queue-store.js';
import type { QueueStore } from '../log/queue-store.js';

/** The stores a broker runs on, and how to release them. */
export interface BrokerStores {
  readonly logStore: LogStore;
  readonly queueStore: QueueStore;
  close(): Promise<void>;
}

/** The node's one LMDB environment holding the Raft log and the queue state of every shard. */
export function openLmdbStores(dataDir: string, mapInChunks: boolean, measure: { clock: Clock; metrics: LogMetrics }): BrokerStores {
  const env = openLmdbEnv(dataDir, { mapInChunks });
  const logStore = new RecentEntriesLogStore(new LmdbLogStore(env));
  return {
    logStore: measure.metrics === noLogMetrics ? logStore : new MeasuredLogStore(logStore, measure),
    queueStore: new LmdbQueueStore(env),
    close: () => env.close(),
  };
}
