/**
 * Flavor operations (zaqar-api-v2.md §12): list, create/overwrite, get, update, delete.
 * A flavor is a per-project name kept in the replicated catalogue (catalog.ts); its pool
 * list is the pools whose `flavor` names it, so writing a flavor assigns the listed pools
 * to it and releases the pools it no longer lists. Capabilities are derived from the
 * first pool (by name); client-supplied ones are ignored, as in the reference.
 */
import { Catalog } from './catalog.js';
import { catalogLinks, catalogListing, catalogName, catalogOperation } from './catalog-params.js';
import { BrokerError, invalidBody } from './errors.js';
import type { JsonValue } from './json-body.js';
import { reply } from './operation.js';
import { capabilitiesOfUri } from './pools.js';
import { objectBody } from './request-body.js';
import { isPlainObject } from './validation.js';

const flavorFields = ['pool_list', 'capabilities'];

function flavorPath(name: string): string {
  return `/v2/flavors/${name}`;
}

function notFound(name: string): BrokerError {
  return new BrokerError('not_found', `Flavor ${name} does not exist`);
}

/** The flavor as GET shows it: its pools by name and the first pool's capabilities. */
async function describeFlavor(catalog: Catalog, name: string, withCapabilities: boolean): Promise<{ [key: string]: JsonValue }> {
  const pools = await catalog.poolsOfFlavor(name);
  const rendered: { [key: string]: JsonValue } = { name, href: flavorPath(name) };
  if (pools.length > 0) rendered['pool_list'] = pools.map((p) => p.name);
  const first = pools[0];
  if (withCapabilities) rendered['capabilities'] = first === undefined ? [] : capabilitiesOfUri(first.uri);
  return rendered;
}

/** `pool_list` of a create or update body: a non-empty array of names. */
function poolList(body: { [key: string]: JsonValue }, onEmpty: () => BrokerError): string[] {
  const list = body['pool_list'];
  if (!Array.isArray(list)) throw invalidBody(`${JSON.stringify(list ?? null)} is not of type 'array'`);
  const bad = list.find((p) => typeof p !== 'string');
  if (bad !== undefined) throw invalidBody(`${JSON.stringify(bad)} is not of type 'string'`);
  if (list.length === 0) throw onEmpty();
  return list as string[];
}

/**
 * Makes `pools` exactly the flavor's pools: each listed pool (all must exist, else
 * `missing(pool)` is thrown before anything changes) gets the flavor, and the flavor's
 * other pools lose it.
 */
async function assignPools(catalog: Catalog, flavor: string, pools: readonly string[], missing: (pool: string) => BrokerError): Promise<void> {
  const all = await catalog.allPools();
  const byName = new Map(all.map((p) => [p.name, p]));
  const unknown = pools.find((p) => !byName.has(p));
  if (unknown !== undefined) throw missing(unknown);
  for (const pool of all) {
    const isListed = pools.includes(pool.name);
    if (isListed && pool.flavor !== flavor) await catalog.putPool({ ...pool, flavor });
    if (!isListed && pool.flavor === flavor) await catalog.putPool({ ...pool, flavor: null });
  }
}

/** `GET /v2/flavors` (§12.1): the caller's project's flavors. */
export const listFlavors = catalogOperation('flavors:get_all', async (call) => {
  const listing = catalogListing(call);
  const catalog = new Catalog(call.api.broker);
  const flavors = await catalog.listFlavors(call.caller.project, listing);
  const rendered: JsonValue[] = [];
  for (const flavor of flavors) rendered.push(await describeFlavor(catalog, flavor.name, listing.detailed));
  return reply(200, { flavors: rendered, links: catalogLinks(call.request.path, listing, flavors.at(-1)?.name) });
});

/** `PUT /v2/flavors/{f}` (§12.2). */
export const createFlavor = catalogOperation('flavors:create', async (call) => {
  const name = catalogName(call, 'flavor_name');
  const { object } = objectBody(call.request);
  const extra = Object.keys(object).find((k) => !flavorFields.includes(k));
  if (extra !== undefined) throw invalidBody(`Additional properties are not allowed ('${extra}' was unexpected)`);
  if (!Object.hasOwn(object, 'pool_list')) throw invalidBody("'pool_list' is a required property");
  const capabilities = object['capabilities'];
  if (capabilities !== undefined && !isPlainObject(capabilities)) {
    throw invalidBody(`${JSON.stringify(capabilities)} is not of type 'object'`);
  }
  const pools = poolList(object, () => new BrokerError('flavor_not_created', 'Bad Request'));
  const catalog = new Catalog(call.api.broker);
  await assignPools(catalog, name, pools, (pool) =>
    new BrokerError('flavor_not_created', `Flavor ${name} could not be created, error:Pool ${pool} does not exist`));
  await catalog.putFlavor(call.caller.project, name);
  return reply(201, undefined, { location: flavorPath(name) });
});

/** `GET /v2/flavors/{f}` (§12.3). */
export const getFlavor = catalogOperation('flavors:get', async (call) => {
  const name = catalogName(call, 'flavor_name');
  const catalog = new Catalog(call.api.broker);
  if (!await catalog.hasFlavor(call.caller.project, name)) throw notFound(name);
  return reply(200, await describeFlavor(catalog, name, true));
});

/** `PATCH /v2/flavors/{f}`: replaces the pool list (§12.4). */
export const updateFlavor = catalogOperation('flavors:update', async (call) => {
  const name = catalogName(call, 'flavor_name');
  const { object } = objectBody(call.request);
  if (!Object.hasOwn(object, 'pool_list')) throw invalidBody('`pool_list` needs to be specified');
  const pools = poolList(object, () => new BrokerError('flavor_not_created', 'Bad Request'));
  const catalog = new Catalog(call.api.broker);
  if (!await catalog.hasFlavor(call.caller.project, name)) throw notFound(name);
  await assignPools(catalog, name, pools, (pool) => new BrokerError('flavor_not_updated', `Pool ${pool} does not exist`));
  const described = await describeFlavor(catalog, name, true);
  return reply(200, { name, capabilities: described['capabilities'] ?? [], pool_list: pools, href: flavorPath(name) });
});

/** `DELETE /v2/flavors/{f}`: releases its pools, then forgets it; 204 also when missing (§12.5). */
export const deleteFlavor = catalogOperation('flavors:delete', async (call) => {
  const name = catalogName(call, 'flavor_name');
  const catalog = new Catalog(call.api.broker);
  if (await catalog.hasFlavor(call.caller.project, name)) {
    for (const pool of await catalog.poolsOfFlavor(name)) await catalog.putPool({ ...pool, flavor: null });
    await catalog.deleteFlavor(call.caller.project, name);
  }
  return reply(204);
});
