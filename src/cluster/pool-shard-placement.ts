/**
 * The broker's side of pools' shards (README "Pools and flavors"): opening a pool's
 * shard here when first needed (so the shard map grows at run time), creating a pool's
 * shards, binding a flavored queue's name to one on its hash shard, and a membership
 * change that re-homes their replicas. Their reservations are placed-shards.ts.
 */
import { assert } from '../common/assert.js';
import type { ShardId } from '../common/ids.js';
import type { BrokerShard } from './broker-shard.js';
import { openShard } from './broker-shard.js';
import type { BrokerStores } from './broker-stores.js';
import { ShardUnavailableError } from './errors.js';
import type { MembershipChange } from './membership.js';
import { placedShardReservations, recordVoters, reservePlacedShards, type PoolShardRequest, type ReservationRecords } from './placed-shards.js';
import { refOf, type QueueRef } from './records.js';
import { isPlacedShard, placedShardBase } from './shard-map.js';
import type { ShardLogSource } from './shard-log-source.js';
import type { QueuePlacement } from './shard/queue-placement.js';

/** The broker as these functions use it: its reservation records and its opening of pool shards. */
export interface PlacedShardHost extends ReservationRecords {
  openPlacedShard(placement: QueuePlacement): BrokerShard;
}

/** The shard a pool owns, opened here on first use (a routing hint for its replicas, or its replica when hosted). */
export function openPlacedShard(
  shards: Map<ShardId, BrokerShard>,
  on: { stores: BrokerStores; localLog: ShardLogSource },
  placement: QueuePlacement,
): BrokerShard {
  const known = shards.get(placement.shardId);
  if (known !== undefined) return known;
  assert(isPlacedShard(placement.shardId), () => `shard ${placement.shardId} is neither a hash shard nor a pool's`);
  const shard = openShard(placement.shardId, on, placement.replicas);
  shards.set(placement.shardId, shard);
  return shard;
}

/** New shards for a pool, one per voter set: their ids reserved (placed-shards.ts), each group started on its voters. */
export async function createPlacedShards(host: PlacedShardHost, source: ShardLogSource, request: PoolShardRequest): Promise<QueuePlacement[]> {
  const bootstrap = source.bootstrapShard?.bind(source);
  if (bootstrap === undefined) throw new ShardUnavailableError(placedShardBase, 'this node is not clustered');
  const placements = await reservePlacedShards(host, request);
  for (const placement of placements) {
    host.openPlacedShard(placement);
    await bootstrap(placement);
  }
  return placements;
}

/**
 * Binds `ref` to `placement` on its hash shard; resolves with the name's placement (a name
 * bound before keeps its first one), or null when the queue already exists on its hash shard.
 */
export async function placeQueue(hashShard: BrokerShard, ref: QueueRef, placement: QueuePlacement, nowMs: number): Promise<QueuePlacement | null> {
  const { placed } = await hashShard.log.propose({ type: 'place', nowMs, ...refOf(ref), ...placement, replicas: [...placement.replicas] });
  return placed;
}

/**
 * Adds or removes a cluster node; the source rebalances the shards' replicas over the
 * new node set, pool shards within their pools, and the pool shards' new voters are
 * recorded in their reservations.
 */
export async function changePoolMembership(host: PlacedShardHost, source: ShardLogSource, change: MembershipChange): Promise<void> {
  if (source.changeMembership === undefined) throw new ShardUnavailableError(0, 'this node is not clustered');
  const poolShards = await placedShardReservations(host);
  for (const shard of poolShards) host.openPlacedShard(shard);
  const settled = await source.changeMembership(change, poolShards);
  for (const shard of poolShards) {
    const voters = settled.find((s) => s.shardId === shard.shardId)?.replicas;
    if (voters !== undefined && voters.join() !== shard.replicas.join()) await recordVoters(host, shard, voters);
  }
}
