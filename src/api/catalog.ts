/**
 * The pool and flavor catalogue (zaqar-api-v2.md §11–§12), kept in the cluster's own
 * replicated shard logs: each pool is a queue record of the reserved project
 * `poolCatalogProject`, named after the pool, whose metadata is the pool document; each
 * flavor is a queue record of `<project>` + `flavorNamespaceSuffix` (flavors are per
 * project, pools global). Both reserved projects contain a newline, which no HTTP header
 * can carry, so no client can reach or collide with them through the queue API. Writes
 * are therefore durable, replicated and in every shard snapshot like any queue record,
 * and forwarded to the owning shard's leader by the broker.
 *
 * A pool records its flavor (as Zaqar does); a flavor's pool list is the pools naming it.
 * Multi-record changes (a flavor assigning several pools) are a sequence of single-record
 * writes, not one transaction: a crash mid-way leaves some pools assigned, which a
 * repeated PUT/PATCH repairs.
 */
import type { Broker } from './broker.js';
import { brokerCall } from './broker-call.js';
import type { JsonValue } from './json-body.js';
import type { QueueMetadata } from '../cluster/records.js';
import type { QueuePlacement } from '../cluster/shard/queue-placement.js';
import type { NodeId, ShardId } from '../common/ids.js';

export const poolCatalogProject = '\n#pools';
export const flavorNamespaceSuffix = '\n#flavors';
/** Entries read at once when a rule needs every pool (URI uniqueness, a flavor's pools). */
export const catalogEntriesMax = 1000;

export interface PoolRecord {
  readonly name: string;
  readonly uri: string;
  readonly weight: number;
  readonly flavor: string | null;
  readonly options: { readonly [key: string]: JsonValue };
  /** The shards the pool owns (pool-placement.ts), allocated when `options.nodes` is first set; empty for a label. */
  readonly placement: readonly QueuePlacement[];
}

export interface FlavorRecord {
  readonly name: string;
}

function poolFromMetadata(name: string, metadata: QueueMetadata): PoolRecord {
  const flavor = metadata['flavor'];
  const options = metadata['options'];
  return {
    name,
    uri: typeof metadata['uri'] === 'string' ? metadata['uri'] : '',
    weight: typeof metadata['weight'] === 'number' ? metadata['weight'] : 0,
    flavor: typeof flavor === 'string' && flavor !== '' ? flavor : null,
    options: typeof options === 'object' && options !== null && !Array.isArray(options)
      ? options as { [key: string]: JsonValue } : {},
    placement: placementOf(metadata['placement']),
  };
}

function placementOf(stored: unknown): QueuePlacement[] {
  if (!Array.isArray(stored)) return [];
  return stored.map((s: { shardId?: unknown; replicas?: unknown }) => ({
    shardId: Number(s.shardId) as ShardId,
    replicas: Array.isArray(s.replicas) ? (s.replicas as NodeId[]) : [],
  }));
}

function poolMetadata(pool: PoolRecord): QueueMetadata {
  const placement = pool.placement.map((s) => ({ shardId: s.shardId, replicas: [...s.replicas] }));
  return { uri: pool.uri, weight: pool.weight, flavor: pool.flavor, options: pool.options, placement };
}

function flavorProject(project: string): string {
  return project + flavorNamespaceSuffix;
}

/** Catalogue reads and writes over the Broker; every failure is the api's BrokerError. */
export class Catalog {
  constructor(private readonly broker: Broker) {}

  async listPools(options: { marker?: string; limit: number }): Promise<PoolRecord[]> {
    const { queues } = await brokerCall('Pools could not be listed.', () => this.broker.listQueues(poolCatalogProject, {
      ...(options.marker === undefined ? {} : { marker: options.marker }),
      limit: options.limit, detailed: true, withCount: false,
    }));
    return queues.map((q) => poolFromMetadata(q.name, q.metadata ?? {}));
  }

  async allPools(): Promise<PoolRecord[]> {
    return this.listPools({ limit: catalogEntriesMax });
  }

  async getPool(name: string): Promise<PoolRecord | null> {
    const ref = { project: poolCatalogProject, queue: name };
    const metadata = await brokerCall('Pool could not be read.', () => this.broker.getQueueMetadata(ref));
    return metadata === null ? null : poolFromMetadata(name, metadata);
  }

  /** Creates or overwrites the pool. */
  async putPool(pool: PoolRecord): Promise<void> {
    const ref = { project: poolCatalogProject, queue: pool.name };
    const metadata = poolMetadata(pool);
    await brokerCall('Pool could not be stored.', async () => {
      const found = await this.broker.setQueueMetadata(ref, metadata);
      if (!found) {
        const { created } = await this.broker.createQueue(ref, metadata);
        // Created concurrently between the two writes: this write still wins.
        if (!created) await this.broker.setQueueMetadata(ref, metadata);
      }
    });
  }

  async deletePool(name: string): Promise<void> {
    const ref = { project: poolCatalogProject, queue: name };
    await brokerCall('Pool could not be deleted.', () => this.broker.deleteQueue(ref));
  }

  async listFlavors(project: string, options: { marker?: string; limit: number }): Promise<FlavorRecord[]> {
    const { queues } = await brokerCall('Flavors could not be listed.', () => this.broker.listQueues(flavorProject(project), {
      ...(options.marker === undefined ? {} : { marker: options.marker }),
      limit: options.limit, detailed: false, withCount: false,
    }));
    return queues.map((q) => ({ name: q.name }));
  }

  async hasFlavor(project: string, name: string): Promise<boolean> {
    const ref = { project: flavorProject(project), queue: name };
    const metadata = await brokerCall('Flavor could not be read.', () => this.broker.getQueueMetadata(ref));
    return metadata !== null;
  }

  async putFlavor(project: string, name: string): Promise<void> {
    const ref = { project: flavorProject(project), queue: name };
    await brokerCall('Flavor could not be stored.', () => this.broker.createQueue(ref, {}));
  }

  async deleteFlavor(project: string, name: string): Promise<void> {
    const ref = { project: flavorProject(project), queue: name };
    await brokerCall('Flavor could not be deleted.', () => this.broker.deleteQueue(ref));
  }

  /** The pools naming `flavor`, by name. */
  async poolsOfFlavor(flavor: string): Promise<PoolRecord[]> {
    return (await this.allPools()).filter((p) => p.flavor === flavor);
  }
}
