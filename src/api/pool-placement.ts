/**
 * A pool's placement (README "Pools and flavors"): a pool whose `options` name `nodes`
 * owns `shards` shard groups of `replicas` voters each, spread round robin over those
 * nodes (placement.ts initialPlacement); a queue created with a flavor goes to one of
 * the flavor's placed pools, chosen by weight, and to one of that pool's shards.
 *
 * Both choices are deterministic, by hash of the queue's project and name (shard-map.ts
 * queueHash), so they need no randomness and any node makes the same one: the pool is
 * the one whose share of the total weight the hash falls in (a weight-0 pool is never
 * chosen; over many names each pool gets its weight's share), the shard is the hash of
 * the name with a suffix, modulo the pool's shard count.
 */
import { initialPlacement } from '../cluster/placement.js';
import { queueHash } from '../cluster/shard-map.js';
import type { QueueRef } from '../cluster/records.js';
import type { QueuePlacement } from '../cluster/shard/queue-placement.js';
import type { NodeId } from '../common/ids.js';
import { invalidBody } from './errors.js';
import type { JsonValue } from './json-body.js';

export const defaultPoolShards = 2;
export const poolShardsMax = 64;
const defaultReplicasMax = 3;

/** What a pool's `options` ask for: its nodes, voters per shard, shard count. */
export interface PoolLayout {
  readonly nodes: readonly NodeId[];
  readonly replicas: number;
  readonly shards: number;
}

function positiveInt(value: JsonValue | undefined, name: string, max: number): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > max) {
    throw invalidBody(`options.${name} must be an integer of 1..${max}, got ${JSON.stringify(value)}`);
  }
  return value;
}

/**
 * The layout `options` ask for, or undefined when they name no nodes (the pool is a
 * label: its flavor's queues are placed by hash like any other). `members`: the cluster's
 * nodes; every named node must be one (400 otherwise).
 */
export function poolLayoutOf(options: { readonly [key: string]: JsonValue }, members: readonly NodeId[]): PoolLayout | undefined {
  const nodes = options['nodes'];
  if (nodes === undefined) {
    if (options['replicas'] !== undefined || options['shards'] !== undefined) throw invalidBody('options.replicas and options.shards need options.nodes');
    return undefined;
  }
  if (!Array.isArray(nodes) || nodes.length === 0 || !nodes.every((n) => typeof n === 'number' && Number.isSafeInteger(n))) {
    throw invalidBody(`options.nodes must be a non-empty array of node ids, got ${JSON.stringify(nodes)}`);
  }
  const ids = [...new Set(nodes as number[])].sort((a, b) => a - b) as NodeId[];
  const unknown = ids.find((n) => !members.includes(n));
  if (unknown !== undefined) throw invalidBody(`options.nodes: node ${unknown} is not a cluster member (members: ${members.join(', ') || 'none, this node is not clustered'})`);
  const replicas = positiveInt(options['replicas'], 'replicas', ids.length) ?? Math.min(defaultReplicasMax, ids.length);
  const shards = positiveInt(options['shards'], 'shards', poolShardsMax) ?? defaultPoolShards;
  return { nodes: ids, replicas, shards };
}

/** The voters of each of the pool's shards, in shard order. */
export function replicaSetsOf(layout: PoolLayout): NodeId[][] {
  return initialPlacement({ nodes: layout.nodes, shardCount: layout.shards, replicas: layout.replicas }).map((s) => [...s.replicas]);
}

/** The pool a new queue of a flavor goes to: by weight, weight 0 never; undefined when every weight is 0. */
export function choosePool<P extends { readonly weight: number }>(pools: readonly P[], ref: QueueRef): P | undefined {
  const total = pools.reduce((sum, p) => sum + p.weight, 0);
  if (total === 0) return undefined;
  let point = queueHash(ref.project, ref.queue) % total;
  for (const pool of pools) {
    if (point < pool.weight) return pool;
    point -= pool.weight;
  }
  return undefined;
}

/** The shard of the chosen pool the queue goes to. */
export function chooseShard(placement: readonly QueuePlacement[], ref: QueueRef): QueuePlacement | undefined {
  if (placement.length === 0) return undefined;
  return placement[queueHash(`${ref.project}\n#shard`, ref.queue) % placement.length];
}
