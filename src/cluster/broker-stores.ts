/** The stores a broker runs on: the node's LMDB environments, or given stores (memory ones in simulations). */
import type { Clock } from '../common/clock.js';
import type { LogStore } from '../log/log-store.js';
import { MeasuredLogStore, noLogMetrics, type LogMetrics } from '../log/metrics.js';
import { RecentEntriesLogStore } from '../log/recent-entries.js';
import { logEnvFile, openLmdbEnv } from '../log/lmdb/lmdb-env.js';
import { moveLogToOwnEnv } from '../log/lmdb/log-env-migration.js';
import { LmdbLogStore } from '../log/lmdb/lmdb-log-store.js';
import { LmdbQueueStore } from '../log/lmdb/lmdb-queue-store.js';
import { defaultQueueCommitDelayMs } from '../log/lmdb/write-hold.js';
import type { QueueStore } from '../log/queue-store.js';

/** The stores a broker runs on, and how to release them. */
export interface BrokerStores {
  readonly logStore: LogStore;
  readonly queueStore: QueueStore;
  close(): Promise<void>;
}

/**
 * The node's two LMDB environments: the queue state of every shard, and the Raft log of
 * every shard in a file of its own (why: lmdb-env.ts). The queue state never runs ahead of
 * what the log made durable (entries are applied once persisted; a leader's snapshot is
 * persisted in the log before it is restored), and the log drops entries only once the
 * queue state covering them is flushed (shard-compactor.ts), so nothing relies on the two
 * sharing a transaction.
 */
export function openLmdbStores(
  dataDir: string,
  mapInChunks: boolean,
  measure: { clock: Clock; metrics: LogMetrics },
  queueCommitDelayMs = defaultQueueCommitDelayMs,
): BrokerStores {
  const env = openLmdbEnv(dataDir, { mapInChunks });
  const logEnv = openLmdbEnv(dataDir, { mapInChunks, file: logEnvFile });
  moveLogToOwnEnv(env, logEnv);
  const logStore = new RecentEntriesLogStore(new LmdbLogStore(logEnv));
  const queueStore = new LmdbQueueStore(env, undefined, { commitDelayMs: queueCommitDelayMs });
  return {
    logStore: measure.metrics === noLogMetrics ? logStore : new MeasuredLogStore(logStore, measure),
    queueStore,
    close: async () => {
      await queueStore.committed().catch(() => undefined);
      await Promise.all([logEnv.close(), env.close()]);
    },
  };
}
