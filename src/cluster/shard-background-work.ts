/**
 * The broker's periodic work on the shards held here (shards held elsewhere are their
 * replicas' business): a gc command for each shard holding expired messages, checked
 * locally first so idle shards append nothing, then retries of dead-letter outbox lines
 * that stopped on an error.
 */
import type { ShardId } from '../common/ids.js';
import type { BrokerShard } from './broker-shard.js';
import type { ClusterMetrics } from './metrics.js';
import type { DeadLetterCourier } from './shard/dead-letter-courier.js';

export async function runShardBackgroundWork(
  hosted: readonly [ShardId, BrokerShard][],
  deps: { readonly nowMs: number; readonly gcRemovalsMax: number; readonly metrics: ClusterMetrics; readonly courier: DeadLetterCourier },
): Promise<void> {
  const { nowMs } = deps;
  await Promise.all(
    hosted.map(async ([shardId, shard]) => {
      if (shard.fsm.index.expiredFree(nowMs, 1).length > 0) {
        const result = await shard.log.propose({ type: 'gc', nowMs, removalsMax: deps.gcRemovalsMax });
        deps.metrics.messagesExpired(shardId, result.removed);
      }
      await deps.courier.retry(shardId);
    }),
  );
}
