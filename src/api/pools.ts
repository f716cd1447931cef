/**
 * Pool operations (zaqar-api-v2.md §11): list, create/overwrite, get, update, delete.
 * A pool here is a named placement label kept in the replicated catalogue (catalog.ts);
 * its `uri` is a label with a scheme, never connected to (zaqar-ts stores messages in its
 * own shard logs), so the reference's "cannot connect" check becomes "must be a URI with
 * a scheme". The scheme decides the capabilities a flavor derives from its first pool.
 */
import { Catalog, type PoolRecord } from './catalog.js';
import { catalogLinks, catalogListing, catalogName, catalogOperation } from './catalog-params.js';
import { BrokerError, invalidBody } from './errors.js';
import type { JsonValue, ParsedJson } from './json-body.js';
import { reply } from './operation.js';
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

function renderPool(pool: PoolRecord, detailed: boolean): JsonValue {
  const rendered: { [key: string]: JsonValue } = {
    name: pool.name, uri: pool.uri, weight: pool.weight, flavor: pool.flavor, href: poolPath(pool.name),
  };
  if (detailed) rendered['options'] = pool.options;
  return rendered;
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
  const pool: PoolRecord = {
    name, uri: fields.uri ?? '', weight: fields.weight ?? 0, flavor: fields.flavor ?? null, options: fields.options ?? {},
  };
  const catalog = new Catalog(call.api.broker);
  await checkPlacement(catalog, pool);
  await catalog.putPool(pool);
  return reply(201, undefined, { location: poolPath(name) });
});

/** `GET /v2/pools/{p}` (§11.3). */
export const getPool = catalogOperation('pools:get', async (call) => {
  const name = catalogName(call, 'pool_name');
  const detailed = queryBool(call.request.query, 'detailed', false);
  const pool = await new Catalog(call.api.broker).getPool(name);
  if (pool === null) throw notFound(name);
  return reply(200, renderPool(pool, detailed));
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
  const pool: PoolRecord = { ...current, ...fields };
  await checkPlacement(catalog, pool);
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
