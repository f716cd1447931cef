/**
 * The ids of the shards pools own (README "Pools and flavors"). Each is reserved by a
 * record of the reserved project `placedShardsProject` named after the id, whose
 * metadata holds the shard's voters: creating a queue record succeeds once, so two pools
 * reserving at the same time never get the same id, and the records tell every node
 * which pool shards exist (a node lists them before listing a project's queues, since a
 * flavored queue may live on a pool shard it has not opened yet). Records are never
 * removed: a pool's shards outlive the pool.
 *
 * A record also names its pool, the pool's nodes and its voters per shard: a pool asking
 * again for the same layout (a creation that failed half way, then retried) gets the
 * shards it reserved before, and a membership change re-homes the shard's replicas within
 * the pool's nodes and records the voters it left the shard with (`recordVoters`).
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
  setQueueMetadata(ref: QueueRef, metadata: QueueMetadata): Promise<boolean>;
}

/** A pool shard as its reservation records it. */
export interface PlacedShard extends QueuePlacement {
  /** The pool that reserved it ('' for a record older than the field). */
  readonly pool: string;
  /** The nodes its replicas may live on (the pool's `options.nodes`). */
  readonly nodes: readonly NodeId[];
  /** The voters it should have (the pool's `options.replicas`). */
  readonly width: number;
}

/** What a pool asks for: one shard per voter set, on `nodes`. */
export interface PoolShardRequest {
  readonly pool: string;
  readonly nodes: readonly NodeId[];
  readonly replicaSets: readonly (readonly NodeId[])[];
}

function nodeIds(value: unknown): NodeId[] | undefined {
  return Array.isArray(value) ? (value as NodeId[]) : undefined;
}

function reservationOf(shardId: ShardId, metadata: QueueMetadata | undefined): PlacedShard {
  const replicas = nodeIds(metadata?.['replicas']) ?? [];
  const width = metadata?.['width'];
  return {
    shardId,
    replicas,
    pool: typeof metadata?.['pool'] === 'string' ? metadata['pool'] : '',
    nodes: nodeIds(metadata?.['nodes']) ?? replicas,
    width: typeof width === 'number' ? width : replicas.length,
  };
}

function metadataOf(shard: PlacedShard): QueueMetadata {
  return { replicas: [...shard.replicas], pool: shard.pool, nodes: [...shard.nodes], width: shard.width };
}

/** Every shard a pool owns, with its voters. */
export async function placedShardReservations(records: ReservationRecords): Promise<PlacedShard[]> {
  const { queues } = await records.listQueues(placedShardsProject, { limit: reservationsMax, detailed: true, withCount: false });
  return queues.map((q) => reservationOf(Number(q.name) as ShardId, q.metadata));
}

/**
 * The shards of `request`: those the same pool reserved before for the same nodes and
 * shard count (a retried creation), else one new id per voter set, above every id
 * reserved so far (an id taken meanwhile is skipped).
 */
export async function reservePlacedShards(records: ReservationRecords, request: PoolShardRequest): Promise<PlacedShard[]> {
  const reserved = await placedShardReservations(records);
  const width = request.replicaSets[0]?.length ?? 0;
  const before = reserved.filter((p) => p.pool === request.pool && p.width === width && p.nodes.join() === request.nodes.join());
  if (request.pool !== '' && before.length === request.replicaSets.length) return before;
  let next = Math.max(placedShardBase, ...reserved.map((p) => p.shardId + 1));
  const placements: PlacedShard[] = [];
  for (const replicas of request.replicaSets) {
    const shard: PlacedShard = { shardId: next as ShardId, replicas, pool: request.pool, nodes: request.nodes, width };
    while (!(await records.createQueue({ project: placedShardsProject, queue: String(next) }, metadataOf({ ...shard, shardId: next as ShardId }))).created) next++;
    placements.push({ ...shard, shardId: next as ShardId });
    next++;
  }
  return placements;
}

/** Records the voters a membership change left a pool shard with (routing hints, and GET pool's report). */
export async function recordVoters(records: ReservationRecords, shard: PlacedShard, voters: readonly NodeId[]): Promise<void> {
  await records.setQueueMetadata({ project: placedShardsProject, queue: String(shard.shardId) }, metadataOf({ ...shard, replicas: voters }));
}
