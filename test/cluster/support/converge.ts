/**
 * Waits until every running replica of every shard reports the same applied index, equal
 * to its commit index: the replicas hold the same log prefix, applied. Only a shard's
 * replicas take part (a node reports only the shards it hosts, so with fewer replicas
 * than nodes each shard is compared over its own replica set).
 */
import { ClusterLauncher } from '../../support/cluster-launcher.js';

export async function allReplicasConverge(cluster: ClusterLauncher, deadlineMs = 30_000): Promise<void> {
  await ClusterLauncher.waitFor('replicas to converge', deadlineMs, async () => {
    const applied = new Map<number, Set<number>>();
    for (const node of cluster.running()) {
      for (const shard of (await cluster.status(node.id)).shards) {
        const seen = applied.get(shard.shardId) ?? new Set<number>();
        seen.add(shard.applied);
        if (shard.applied !== shard.commit) seen.add(-1);
        applied.set(shard.shardId, seen);
      }
    }
    return [...applied.values()].every((seen) => seen.size === 1) ? true : undefined;
  });
}
