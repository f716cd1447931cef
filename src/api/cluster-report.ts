/**
 * The `cluster` section of the detailed health report: the node's Raft view (the body of
 * `GET /v2/cluster`, cluster-health.ts) plus the pool shards running with fewer voters
 * than their pool's `replicas` (a pool node was removed and no other node of the pool
 * could take its replica), which an operator must act on: such a shard is only topped up
 * when one of the pool's nodes is added back. `GET /v2/cluster` leaves them out because
 * reading them is a cluster read, which would make it wait during a failover, when it is
 * polled.
 */
import type { Broker } from './broker.js';
import type { JsonValue } from './json-body.js';

export async function clusterReport(broker: Broker): Promise<JsonValue | undefined> {
  const report = broker.clusterHealth?.();
  if (report === undefined) return undefined;
  return { ...(JSON.parse(JSON.stringify(report)) as { [key: string]: JsonValue }), degraded_pool_shards: await degradedPoolShards(broker) };
}

/** null when the shard records cannot be read now (no quorum on the catalogue's shard). */
async function degradedPoolShards(broker: Broker): Promise<JsonValue> {
  try {
    const placed = (await broker.placedShards?.()) ?? [];
    return placed
      .filter((shard) => shard.replicas.length < shard.width)
      .map((shard) => ({ id: shard.shardId, pool: shard.pool, replicas: [...shard.replicas], width: shard.width }));
  } catch {
    return null;
  }
}
