/**
 * Pool operations (zaqar-api-v2.md §11): list, create/overwrite, get, update, delete.
 * A pool is kept in the replicated catalogue (catalog.ts). With `options.nodes` it is a
 * placement group: it owns shard groups on those nodes, where its flavor's queues live
 * (pool-placement.ts); without, a label whose flavor's queues are placed by hash. Its
 * `uri` is a label with a scheme, never connected to (zaqar-ts stores messages in its
 * own shard logs), so the reference's "cannot connect" check becomes "must be a URI with
 * a scheme". The scheme decides the capabilities a flavor derives from its first pool.
 */
import { Catalog, type PoolRecord } from './catalog.js';
import { catalogLinks, catalogListing, catalogName, catalogOperation } from './catalog-params.js';
import { BrokerError, invalidBody } from './errors.js';
import type { JsonValue, ParsedJson } from './json-body.js';
import { reply, type ApiCall } from './operation.js';
import { poolLayoutOf, replicaSetsOf } from './pool-placement.js';
import { brokerCall } from './broker-call.js';
import type { NodeId } from '../common/ids.js';
import { objectBody } from './request-body.js';
import { isPlainObject, queryBool } from './validation.js';

const poolFields = ['uri', 'weight', 'flavor', 'options'] as const;
const weightMax = 2 ** 32 - 1;
const textLengthMax = 255;
/** A URI with a scheme and an authority, e.g. `redis://127.0.0.1:6391`. */
const uriPattern = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/\S*$/;

const allCapabilities = ['FIFO', 'CLAIMS', 'DURABILITY', 'AOD', 'HIGH_THROUGHPUT'] as const;

/**
 * Capabilities of a pool by its URI's scheme, as the reference derives them from the
 * storage driver: redis lacks DURABILITY; mongodb and every other label (zaqar-ts's own
 * replicated log) offer all five.
 */
export function capabilitiesOfUri(uri: string): string[] {
  const scheme = uri.slice(0, Math.max(0, uri.indexOf(':'))).toLowerCase();
  if (scheme === 'redis') return allCapabilities.filter((c) => c !== 'DURABILITY');
  return [...allCapabilities];
}

export function poolPath(name: string): string {
  return `/v2/pools/${name}`;
}

function notFound(name: string): BrokerError {
  return new BrokerError('not_found', `Pool ${name} does not exist`);
}

function renderPool(pool: PoolRecord, detailed: boolean): { [key: string]: JsonValue } {
  const rendered: { [key: string]: JsonValue } = {
    name: pool.name, uri: pool.uri, weight: pool.weight, flavor: pool.flavor, href: poolPath(pool.name),
  };
  if (detailed) rendered['options'] = pool.options;
  return rendered;
}

/**
 * A placed pool's shards (zaqar-ts's field beside the Zaqar ones): each shard's id, its
 * voters as last recorded (at creation, then after each membership change) and whether
 * it has fewer than the pool's `replicas` (a pool node left and no other node of the
 * pool could take its replica).
 */
async function renderShards(call: ApiCall, pool: PoolRecord): Promise<JsonValue> {
  const recorded = (await call.api.broker.placedShards?.()) ?? [];
  return pool.placement.map((placed) => {
    const shard = recorded.find((r) => r.shardId === placed.shardId);
    const replicas = [...(shard?.replicas ?? placed.replicas)];
    const width = shard?.width ?? placed.replicas.length;
    return { id: placed.shardId, replicas, degraded: replicas.length < width };
  });
}

type PoolFields = { -readonly [K in (typeof poolFields)[number]]?: PoolRecord[K] };

/** Validates the present fields as the reference's JSON schema does; absent ones stay absent. */
function validateFields(parsed: ParsedJson, body: { [key: string]: JsonValue }): PoolFields {
  const fields: PoolFields = {};
  const { uri, weight, flavor, options } = body;
  if (uri !== undefined) {
    if (typeof uri !== 'string' || uri.length > textLengthMax) throw invalidBody(`${JSON.stringify(uri)} is not a valid uri`);
    if (!uriPattern.test(uri)) throw invalidBody(`${uri} is not a URI with a scheme, such as redis://127.0.0.1:6379`);
    fields.uri = uri;
  }
  if (weight !== undefined) {
    const isInt = typeof weight === 'number' && Number.isInteger(weight) && !parsed.isFloat(body, 'weight');
    if (!isInt || weight < 0 || weight > weightMax) {
      throw invalidBody(`${JSON.stringify(weight)} is not a valid weight: an integer of 0..${weightMax}`);
    }
    fields.weight = weight;
  }
  if (flavor !== undefined) {
    if (flavor !== null && (typeof flavor !== 'string' || flavor.length > textLengthMax)) {
      throw invalidBody(`${JSON.stringify(flavor)} is not a valid flavor`);
    }
    fields.flavor = flavor === '' ? null : flavor;
  }
  if (options !== undefined) {
    if (!isPlainObject(options)) throw invalidBody(`${JSON.stringify(options)} is not of type 'object'`);
    fields.options = options;
  }
  return fields;
}

/**
 * The pool rules before a write. From the reference: no other pool may hold the URI
 * (409), and a pool joining a flavor must offer the same capabilities as the flavor's
 * first pool (400). zaqar-ts's own: a pool of a flavor keeps its URI (400) — the URI
 * names the placement group the flavor's queues live in, and re-pointing it would strand
 * them (the reference, which connects to the URI, refuses an unreachable one instead).
 */
async function checkPlacement(catalog: Catalog, pool: PoolRecord): Promise<void> {
  const pools = await catalog.allPools();
  if (pools.some((p) => p.name !== pool.name && p.uri === pool.uri)) {
    throw new BrokerError('resource_conflict', 'The database URI is in use by another pool.');
  }
  const current = pools.find((p) => p.name === pool.name);
  if (current !== undefined && current.flavor !== null && current.uri !== pool.uri) {
    throw new BrokerError('pool_capabilities_mismatch',
      `The URI of a pool of flavor ${current.flavor} cannot change; remove the pool from the flavor first.`);
  }
  const first = pools.find((p) => pool.flavor !== null && p.flavor === pool.flavor);
  if (first !== undefined && capabilitiesOfUri(first.uri).join() !== capabilitiesOfUri(pool.uri).join()) {
    throw new BrokerError('pool_capabilities_mismatch', 'The pool being added does not support the minimum set of capabilities');
  }
}

/** The cluster's nodes as this node knows them (none when it is not clustered). */
function clusterMembers(call: ApiCall): NodeId[] {
  const health = call.api.broker.clusterHealth?.();
  if (health === undefined) return [];
  return [health.nodeId, ...health.peers.map((p) => p.nodeId)] as NodeId[];
}

/**
 * The pool with its shards (pool-placement.ts): a pool whose options name nodes gets its
 * shard groups the first time they do, and keeps them; its nodes, replicas and shard
 * count cannot change after that (400), since its queues' state lives on those groups.
 */
async function placePool(call: ApiCall, pool: PoolRecord, current: PoolRecord | null): Promise<PoolRecord> {
  const layout = poolLayoutOf(pool.options, clusterMembers(call));
  const placement = current?.placement ?? [];
  if (placement.length > 0) {
    const currentNodes = current?.options['nodes'];
    const currentLayout = poolLayoutOf(current?.options ?? {}, Array.isArray(currentNodes) ? currentNodes as NodeId[] : []);
    if (JSON.stringify(layout) !== JSON.stringify(currentLayout)) {
      throw invalidBody(`Pool ${pool.name} owns shards ${placement.map((s) => s.shardId).join(', ')}: options.nodes, options.replicas and options.shards cannot change.`);
    }
    return { ...pool, placement };
  }
  if (layout === undefined) return { ...pool, placement: [] };
  const broker = call.api.broker;
  const created = await brokerCall('Pool shards could not be created.', async () => {
    if (broker.createPlacedShards === undefined) throw invalidBody('This node is not clustered: a pool cannot name nodes.');
    return broker.createPlacedShards({ pool: pool.name, nodes: layout.nodes, replicaSets: replicaSetsOf(layout) });
  });
  return { ...pool, placement: created };
}

/** `GET /v2/pools` (§11.1). */
export const listPools = catalogOperation('pools:get_all', async (call) => {
  const listing = catalogListing(call);
  const pools = await new Catalog(call.api.broker).listPools(listing);
  const body = {
    pools: pools.map((p) => renderPool(p, listing.detailed)),
    links: catalogLinks(call.request.path, listing, pools.at(-1)?.name),
  };
  return reply(200, body, { 'content-location': call.request.path });
});

/** `PUT /v2/pools/{p}`: create or overwrite (§11.2). */
export const createPool = catalogOperation('pools:create', async (call) => {
  const name = catalogName(call, 'pool_name');
  const { parsed, object } = objectBody(call.request);
  const extra = Object.keys(object).find((k) => !(poolFields as readonly string[]).includes(k));
  if (extra !== undefined) throw invalidBody(`Additional properties are not allowed ('${extra}' was unexpected)`);
  for (const required of ['uri', 'weight']) {
    if (!Object.hasOwn(object, required)) throw invalidBody(`'${required}' is a required property`);
  }
  const fields = validateFields(parsed, object);
  const given: PoolRecord = {
    name, uri: fields.uri ?? '', weight: fields.weight ?? 0, flavor: fields.flavor ?? null, options: fields.options ?? {}, placement: [],
  };
  const catalog = new Catalog(call.api.broker);
  await checkPlacement(catalog, given);
  const pool = await placePool(call, given, await catalog.getPool(name));
  await catalog.putPool(pool);
  return reply(201, undefined, { location: poolPath(name) });
});

/** `GET /v2/pools/{p}` (§11.3). */
export const getPool = catalogOperation('pools:get', async (call) => {
  const name = catalogName(call, 'pool_name');
  const detailed = queryBool(call.request.query, 'detailed', false);
  const pool = await new Catalog(call.api.broker).getPool(name);
  if (pool === null) throw notFound(name);
  const rendered = renderPool(pool, detailed);
  if (detailed && pool.placement.length > 0) rendered['shards'] = await renderShards(call, pool);
  return reply(200, rendered);
});

/** `PATCH /v2/pools/{p}`: changes the given fields; others are ignored (§11.4). */
export const updatePool = catalogOperation('pools:update', async (call) => {
  const name = catalogName(call, 'pool_name');
  const { parsed, object } = objectBody(call.request);
  if (!poolFields.some((f) => Object.hasOwn(object, f))) {
    throw invalidBody('One of `uri`, `weight`, `flavor`, or `options` needs to be specified');
  }
  const fields = validateFields(parsed, object);
  const catalog = new Catalog(call.api.broker);
  const current = await catalog.getPool(name);
  if (current === null) throw notFound(name);
  await checkPlacement(catalog, { ...current, ...fields });
  const pool = await placePool(call, { ...current, ...fields }, current);
  await catalog.putPool(pool);
  return reply(200, renderPool(pool, false));
});

/** `DELETE /v2/pools/{p}`: 204 also when missing; 403 for the last pool of a flavor (§11.5). */
export const deletePool = catalogOperation('pools:delete', async (call) => {
  const name = catalogName(call, 'pool_name');
  const catalog = new Catalog(call.api.broker);
  const pool = await catalog.getPool(name);
  if (pool === null) return reply(204);
  if (pool.flavor !== null && await catalog.hasFlavor(call.caller.project, pool.flavor)) {
    const others = (await catalog.poolsOfFlavor(pool.flavor)).filter((p) => p.name !== name);
    if (others.length === 0) {
      throw new BrokerError('pool_in_use', `This pool is used by flavors ${pool.flavor}; It cannot be deleted.`);
    }
  }
  await catalog.deletePool(name);
  return reply(204);
});
