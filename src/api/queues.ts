/**
 * Queue operations (zaqar-api-v2.md §5): list, create, get, patch, delete, stats,
 * purge. Each is an Operation the transports run through `executeOperation`, so the
 * request checks of §1.4 have already passed when `run` starts. Sharing lives in
 * share.ts. Queues are created lazily elsewhere (message post); nothing here but PUT
 * creates one.
 */
import { brokerCall } from './broker-call.js';
import { Catalog } from './catalog.js';
import { BrokerError, invalidBody, invalidRequest } from './errors.js';
import type { JsonValue } from './json-body.js';
import { reply, type ApiCall, type ApiReply, type Operation } from './operation.js';
import { applyPatch, displayMetadata, parsePatch, validateReservedMetadata } from './queue-metadata.js';
import { deserializeBody, hasContent, objectBody } from './request-body.js';
import { nextLinks, renderStats } from './render.js';
import { contentLength, queryBool, queryInt, queryString } from './validation.js';
import type { QueueRef } from '../cluster/records.js';
import type { QueuePlacement } from '../cluster/shard/queue-placement.js';
import { choosePool, chooseShard } from './pool-placement.js';

export const patchContentType = 'application/openstack-messaging-v2.0-json-patch';
const queueListParams = new Set(['marker', 'limit', 'detailed', 'name', 'with_count']);
const defaultQueueLimit = 10;

/** The queue a call addresses: the caller's project and the `queue_name` parameter. */
export function queueRef(call: ApiCall): QueueRef {
  return { project: call.caller.project, queue: call.request.params['queue_name'] ?? '' };
}

function queueOperation(policy: string, run: (call: ApiCall) => Promise<ApiReply>): Operation {
  return { policy, hasQueue: true, isScoped: true, run };
}

/** `GET /v2/queues`: limit/marker/detailed/name/with_count plus metadata-equality filters (§5.1). */
export const listQueues: Operation = {
  policy: 'queues:get_all',
  hasQueue: false,
  isScoped: true,
  async run(call) {
    const { query, path } = call.request;
    const { options } = call.api;
    const marker = queryString(query, 'marker');
    const limit = queryInt(query, 'limit');
    const detailed = queryBool(query, 'detailed', false);
    const name = queryString(query, 'name');
    const withCount = queryBool(query, 'with_count', false);
    if (limit !== undefined && !(limit > 0 && limit <= options.maxQueuesPerPage)) {
      throw invalidRequest(`Limit must be at least 1 and no greater than ${options.maxQueuesPerPage}.`);
    }
    const filters: Record<string, string | number> = {};
    for (const key of query.keys()) {
      const value = queryString(query, key);
      if (queueListParams.has(key) || value === undefined) continue;
      filters[key] = /^[-+]?\d+$/.test(value) && Number.isSafeInteger(Number(value)) ? Number(value) : value;
    }
    const result = await brokerCall('Queues could not be listed.', () => call.api.broker.listQueues(call.caller.project, {
      ...(marker === undefined ? {} : { marker }),
      ...(name === undefined ? {} : { name }),
      limit: limit ?? defaultQueueLimit,
      filters,
      detailed,
      withCount,
    }));
    const queues: JsonValue[] = result.queues.map((q) => {
      const item: { [key: string]: JsonValue } = { name: q.name, href: `${path}/${q.name}` };
      if (detailed) item['metadata'] = displayMetadata(q.metadata ?? {}, options);
      return item;
    });
    const last = result.queues.at(-1);
    const params: Array<[string, string | number | boolean]> = [];
    if (marker !== undefined) params.push(['marker', last?.name ?? marker]);
    if (limit !== undefined) params.push(['limit', limit]);
    if (query.has('detailed') && queryString(query, 'detailed') !== undefined) params.push(['detailed', detailed]);
    if (name !== undefined) params.push(['name', name]);
    if (query.has('with_count') && queryString(query, 'with_count') !== undefined) params.push(['with_count', withCount]);
    if (marker === undefined) params.push(['marker', last?.name ?? '']);
    const body: { [key: string]: JsonValue } = { queues, links: last === undefined ? [] : nextLinks(path, params) };
    if (withCount && result.count > 0) body['count'] = result.count;
    return reply(200, body);
  },
};

/** `PUT /v2/queues/{q}`: 201 when created, 204 when it existed (metadata untouched) (§5.2). */
export const createQueue = queueOperation('queues:create', async (call) => {
  const { options } = call.api;
  const length = contentLength(call.request.headers);
  if (length !== undefined && length > options.maxQueueMetadataBytes) {
    throw invalidRequest(`Queue metadata is too large. Max size: ${options.maxQueueMetadataBytes}`);
  }
  let metadata: Record<string, JsonValue> = {};
  if (hasContent(call.request)) {
    const { parsed, object } = objectBody(call.request);
    validateReservedMetadata(object, options, (key) => {
      const v = object[key];
      return typeof v === 'boolean' || (typeof v === 'number' && Number.isInteger(v) && !parsed.isFloat(object, key));
    }, 'invalid_api_request');
    metadata = object;
  }
  const ref = queueRef(call);
  const placement = await flavorPlacement(call, ref, metadata['_flavor']);
  const { created } = await brokerCall('Queue could not be created.', () => call.api.broker.createQueue(ref, metadata, placement));
  return reply(created ? 201 : 204, undefined, { location: call.request.path });
});

/**
 * Where a new queue of a flavor goes. `_flavor` must name a flavor of the caller's
 * project when pooling is on (admin mode here, as for the routes); the queue goes to a
 * shard of one of the flavor's pools that name nodes, chosen by weight (pool-placement.ts).
 * Undefined (placed by hash) without a flavor, or when no such pool has a weight.
 */
async function flavorPlacement(call: ApiCall, ref: QueueRef, flavor: JsonValue | undefined): Promise<QueuePlacement | undefined> {
  if (!call.api.options.adminMode || typeof flavor !== 'string' || flavor === '') return undefined;
  const catalog = new Catalog(call.api.broker);
  if (!await catalog.hasFlavor(call.caller.project, flavor)) throw invalidRequest(`Flavor ${flavor} does not exist`);
  const pool = choosePool((await catalog.poolsOfFlavor(flavor)).filter((p) => p.placement.length > 0), ref);
  return pool === undefined ? undefined : chooseShard(pool.placement, ref);
}

/** `GET /v2/queues/{q}`: stored metadata with the reserved defaults; 200 even when missing (§5.3). */
export const getQueue = queueOperation('queues:get', async (call) => {
  const ref = queueRef(call);
  const stored = await brokerCall('Queue metadata could not be retrieved.', () => call.api.broker.getQueueMetadata(ref));
  return reply(200, displayMetadata(stored, call.api.options));
});

/** `DELETE /v2/queues/{q}`: always 204 (§5.5). */
export const deleteQueue = queueOperation('queues:delete', async (call) => {
  const ref = queueRef(call);
  await brokerCall('Queue could not be deleted.', () => call.api.broker.deleteQueue(ref));
  return reply(204);
});

/** `GET /v2/queues/{q}/stats`: claimed/free/total and oldest/newest (§5.6). */
export const queueStats = queueOperation('queues:stats', async (call) => {
  const ref = queueRef(call);
  const stats = await brokerCall('Queue stats could not be read.', () => call.api.broker.queueStats(ref));
  return reply(200, renderStats(ref.queue, stats, call.api.clock.nowMs()));
});

/** `PATCH /v2/queues/{q}`: the JSON-patch subset, exact content type (§5.4). */
export const updateQueue = queueOperation('queues:update', async (call) => {
  const { options } = call.api;
  const { request } = call;
  const length = contentLength(request.headers);
  if (length !== undefined && length > options.maxQueueMetadataBytes) {
    throw invalidBody(`Queue metadata is too large. Max size: ${options.maxQueueMetadataBytes}`);
  }
  if (request.headers['content-type'] !== patchContentType) {
    throw new BrokerError('unsupported_media_type',
      `Accepted media type for PATCH: {'Accept-Patch': '${patchContentType}'}.`);
  }
  if (!hasContent(request)) throw invalidBody('PATCH body could not be empty for update.');
  const parsed = deserializeBody(request);
  if (!Array.isArray(parsed.value)) throw invalidBody('Request body must be a JSON array of operation objects.');
  const changes = parsePatch(parsed, parsed.value);
  const ref = queueRef(call);
  const stored = await brokerCall('Queue could not be updated.', () => call.api.broker.getQueueMetadata(ref));
  if (stored === null) throw new BrokerError('not_found', `Queue ${ref.queue} does not exist for project ${ref.project}`);
  const next = applyPatch(stored, changes, options);
  const lastChange = new Map(changes.map((c) => [c.key, c]));
  validateReservedMetadata(next, options, (key) => {
    const change = lastChange.get(key);
    if (change !== undefined && change.op !== 'remove') return change.isIntLiteral;
    const v = next[key];
    return typeof v === 'boolean' || (typeof v === 'number' && Number.isInteger(v));
  }, 'invalid_request_body');
  const isSet = await brokerCall('Queue could not be updated.', () => call.api.broker.setQueueMetadata(ref, next));
  if (!isSet) throw new BrokerError('not_found', `Queue ${ref.queue} does not exist for project ${ref.project}`);
  return reply(200, displayMetadata(next, options));
});

const purgeableTypes = new Set(['messages', 'subscriptions']);

/** `POST /v2/queues/{q}/purge`: unclaimed messages and/or subscriptions (§5.8). */
export const purgeQueue = queueOperation('queues:purge', async (call) => {
  let types: readonly unknown[] = ['messages', 'subscriptions'];
  if (hasContent(call.request)) {
    const document = deserializeBody(call.request).value;
    const given = Array.isArray(document) ? undefined : (document as { [key: string]: JsonValue })['resource_types'];
    if (given === undefined) throw invalidRequest('Post body must contain key "resource_types".');
    if (!Array.isArray(given) || !given.every((t) => typeof t === 'string' && purgeableTypes.has(t))) {
      throw invalidRequest("Resource types must be a sub set of {'messages', 'subscriptions'}.");
    }
    types = given;
  }
  const ref = queueRef(call);
  const what = { messages: types.includes('messages'), subscriptions: types.includes('subscriptions') };
  await brokerCall('Queue could not be purged.', () => call.api.broker.purgeQueue(ref, what));
  return reply(204);
});
