/**
 * The ids of the shards pools own (README "Pools and flavors"). Each is reserved by a
 * record of the reserved project `placedShardsProject` named after the id, whose
 * metadata holds the shard's voters: creating a queue record succeeds once, so two pools
 * reserving at the same time never get the same id, and the records tell every node
 * which pool shards exist (a node lists them before listing a project's queues, since a
 * flavored queue may live on a pool shard it has not opened yet). Records are never
 * removed: a pool's shards outlive the pool.
 */
import type { NodeId, ShardId } from '../common/ids.js';
import type { QueueMetadata, QueueRecord, QueueRef } from './records.js';
import { placedShardBase } from './shard-map.js';
import type { QueuePlacement } from './shard/queue-placement.js';
import type { QueueListing } from './shard/shard-reads.js';

/** The reserved project of the reservations (a newline: no client can name it). */
export const placedShardsProject = '\n#placed-shards';
/** Reservations read at once: pools are few and own a few shards each. */
const reservationsMax = 1000;

/** The broker's queue-record writes and listing, which the reservations are made of. */
export interface ReservationRecords {
  createQueue(ref: QueueRef, metadata: QueueMetadata): Promise<{ created: boolean }>;
  listQueues(project: string, options: QueueListing & { withCount: boolean }): Promise<{ queues: QueueRecord[] }>;
}

/** Every shard a pool owns, with its voters. */
export async function placedShardReservations(records: ReservationRecords): Promise<QueuePlacement[]> {
  const { queues } = await records.listQueues(placedShardsProject, { limit: reservationsMax, detailed: true, withCount: false });
  return queues.map((q) => ({
    shardId: Number(q.name) as ShardId,
    replicas: Array.isArray(q.metadata?.['replicas']) ? (q.metadata['replicas'] as NodeId[]) : [],
  }));
}

/** Reserves one new shard id per voter set, above every id reserved so far (an id taken meanwhile is skipped). */
export async function reservePlacedShards(records: ReservationRecords, replicaSets: readonly (readonly NodeId[])[]): Promise<QueuePlacement[]> {
  const reserved = await placedShardReservations(records);
  let next = Math.max(placedShardBase, ...reserved.map((p) => p.shardId + 1));
  const placements: QueuePlacement[] = [];
  for (const replicas of replicaSets) {
    while (!(await records.createQueue({ project: placedShardsProject, queue: String(next) }, { replicas: [...replicas] })).created) next++;
    placements.push({ shardId: next as ShardId, replicas });
    next++;
  }
  return placements;
}
