/**
 * Subscription operations (zaqar-api-v2.md §9): list, create, get, update, delete,
 * confirm. Validation follows the reference's `subscription_posting/patching` in its
 * order; state changes go through `Broker.changeSubscriptions` (the queue's shard log),
 * reads through `Broker.listSubscriptions` (unexpired only), sorted by id here.
 *
 * Confirmation requests are sent by the notifier when `require_confirmation` is on
 * (`ApiOptions`-independent: the notifier watches the log); the api only records state.
 */
import { brokerCall } from './broker-call.js';
import { BrokerError, invalidRequest } from './errors.js';
import type { JsonValue, ParsedJson } from './json-body.js';
import { reply, type ApiCall, type ApiReply, type Operation } from './operation.js';
import { validateRetryPolicy } from './queue-metadata.js';
import { queueRef } from './queues.js';
import { nextLinks } from './render.js';
import { deserializeBody, hasContent } from './request-body.js';
import { topicNamespaceSuffix } from './topics.js';
import { isPlainObject, isValidQueueName, queryInt, queryString } from './validation.js';
import type { SubscriptionRecord } from '../cluster/subscription-records.js';

/** Subscriber URI schemes accepted (`zaqar` is this server's queue forwarding, see README). */
export const subscriberTypes = ['http', 'https', 'mailto', 'trust+http', 'trust+https', 'zaqar'] as const;
const subscriptionTtlMinSeconds = 60;
const defaultSubscriptionTtlSeconds = 3600;
const maxSubscriptionsPerPage = 20;
const defaultSubscriptionLimit = 10;
/** Subscriptions one queue may hold: they live in the queue's record. */
export const subscriptionsPerQueueMax = 100;
/** `datetime.max` of the reference: now + ttl must stay below it. */
const latestExpiryMs = Date.UTC(9999, 11, 31, 23, 59, 59, 999);

function subscriptionOperation(policy: string, run: (call: ApiCall) => Promise<ApiReply>): Operation {
  return { policy, hasQueue: true, isScoped: true, run };
}

function notFound(id: string): BrokerError {
  return new BrokerError('not_found', `Subscription ${id} does not exist`);
}

/** The fields of a create or update body, validated (§9.2); absent fields are undefined. */
interface SubscriptionFields {
  readonly subscriber?: string;
  readonly ttlSeconds?: number;
  readonly options?: Record<string, unknown>;
}

function validateFields(call: ApiCall, parsed: ParsedJson): SubscriptionFields {
  const document = parsed.value;
  if (!isPlainObject(document)) throw invalidRequest('Subscriptions must be a dict.');
  const fields: { subscriber?: string; ttlSeconds?: number; options?: Record<string, unknown> } = {};
  const subscriber = document['subscriber'];
  if (isTruthy(subscriber)) {
    const scheme = typeof subscriber === 'string' ? schemeOf(subscriber) : '';
    if (!(subscriberTypes as readonly string[]).includes(scheme)) {
      throw invalidRequest(`The subscriber type of subscription must be supported in the list ${pythonList(subscriberTypes)}.`);
    }
    fields.subscriber = subscriber as string;
    if (scheme === 'zaqar') checkForward(call, fields.subscriber);
  }
  const options = document['options'];
  if (isTruthy(options) && !isPlainObject(options)) throw invalidRequest('Options must be a dict.');
  if (isPlainObject(options)) {
    validateRetryPolicy(options['_retry_policy'], invalidRequest);
    fields.options = options;
  } else if (options !== undefined) {
    fields.options = {};
  }
  const ttl = document['ttl'];
  if (isTruthy(ttl)) {
    if (!(typeof ttl === 'number' && Number.isInteger(ttl) && !parsed.isFloat(document, 'ttl'))) {
      throw invalidRequest('TTL must be an integer.');
    }
    if (ttl < subscriptionTtlMinSeconds) {
      throw invalidRequest(`The TTL for a subscription must be at least ${subscriptionTtlMinSeconds} seconds long.`);
    }
    if (call.api.clock.nowMs() + ttl * 1000 > latestExpiryMs) {
      throw invalidRequest('The TTL seconds for a subscription plus current time must be less than 9999-12-31 23:59:59.999999.');
    }
    fields.ttlSeconds = ttl;
  }
  return fields;
}

/**
 * `zaqar://<queue>` must name a valid queue other than the subscription's own (a queue
 * forwarding to itself would notify forever). Longer cycles are the operator's concern.
 */
function checkForward(call: ApiCall, subscriber: string): void {
  const target = subscriber.replace(/^zaqar:(\/\/)?/i, '');
  if (!isValidQueueName(target)) throw invalidRequest('A zaqar:// subscriber must name a queue: zaqar://<queue_name>.');
  const ref = queueRef(call);
  if (!ref.project.endsWith(topicNamespaceSuffix) && target === ref.queue) {
    throw invalidRequest('A queue cannot forward its notifications to itself.');
  }
}

/** Python truthiness of a JSON value. */
function isTruthy(value: JsonValue | undefined): boolean {
  if (value === undefined || value === null || value === false || value === 0 || value === '') return false;
  if (Array.isArray(value)) return value.length > 0;
  if (typeof value === 'object') return Object.keys(value).length > 0;
  return true;
}

/** `urlparse(uri).scheme`: letters, digits, `+-.` before the first `:`, lower-cased. */
export function schemeOf(uri: string): string {
  const match = /^([A-Za-z][A-Za-z0-9+.-]*):/.exec(uri);
  return match?.[1]?.toLowerCase() ?? '';
}

function pythonList(items: readonly string[]): string {
  return `[${items.map((i) => `'${i}'`).join(', ')}]`;
}

export function renderSubscription(queue: string, s: SubscriptionRecord, nowMs: number): JsonValue {
  return {
    id: s.id,
    source: queue,
    subscriber: s.subscriber,
    ttl: s.ttlSeconds,
    age: Math.max(0, Math.floor((nowMs - s.createdMs) / 1000)),
    options: s.options as { [key: string]: JsonValue },
    confirmed: s.confirmed,
  };
}

async function sortedSubscriptions(call: ApiCall): Promise<SubscriptionRecord[]> {
  const ref = queueRef(call);
  const all = await brokerCall('Subscriptions could not be listed.', () => call.api.broker.listSubscriptions(ref));
  return all.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

/** `GET /v2/queues/{q}/subscriptions`: by id, after `marker`, `limit` of 1..20 (§9.1). */
export const listSubscriptions = subscriptionOperation('subscription:get_all', async (call) => {
  const { query, path } = call.request;
  const limit = queryInt(query, 'limit');
  if (limit !== undefined && !(limit > 0 && limit <= maxSubscriptionsPerPage)) {
    throw invalidRequest(`Limit must be at least 1 and may not be greater than ${maxSubscriptionsPerPage}.`);
  }
  const marker = queryString(query, 'marker');
  const all = await sortedSubscriptions(call);
  const page = all.filter((s) => marker === undefined || s.id > marker).slice(0, limit ?? defaultSubscriptionLimit);
  const nowMs = call.api.clock.nowMs();
  const queue = queueRef(call).queue;
  const last = page.at(-1);
  const links = last === undefined ? [] : nextLinks(path, [['limit', limit ?? defaultSubscriptionLimit], ['marker', last.id]]);
  return reply(200, { subscriptions: page.map((s) => renderSubscription(queue, s, nowMs)), links });
});

/** `POST /v2/queues/{q}/subscriptions`: 201 new or unconfirmed duplicate, 409 confirmed duplicate (§9.2). */
export const createSubscription = subscriptionOperation('subscription:create', async (call) => {
  if (!hasContent(call.request)) throw invalidRequest('Missing parameter subscriber in body.');
  const parsed = deserializeBody(call.request);
  if (isPlainObject(parsed.value) && !('subscriber' in parsed.value)) throw invalidRequest('Missing parameter subscriber in body.');
  if (isPlainObject(parsed.value) && Object.keys(parsed.value).length === 0) throw invalidRequest('No subscription to create.');
  const fields = validateFields(call, parsed);
  if (fields.subscriber === undefined) throw invalidRequest('Missing parameter subscriber in body.');
  if (schemeOf(fields.subscriber).startsWith('trust+')) {
    throw new BrokerError('service_unavailable', 'Subscription could not be created. trust+ subscribers need Keystone trusts.');
  }
  const ref = queueRef(call);
  const collection = call.request.path;
  const result = await brokerCall('Subscription could not be created.', () => call.api.broker.changeSubscriptions(ref, {
    op: 'create',
    subscriber: fields.subscriber ?? '',
    options: fields.options ?? {},
    ttlSeconds: fields.ttlSeconds ?? defaultSubscriptionTtlSeconds,
    subscriptionsMax: subscriptionsPerQueueMax,
  }));
  if (result.outcome === 'conflict') {
    throw new BrokerError('resource_conflict',
      'Such subscription already exists.Subscriptions are unique by project + queue + subscriber URI.',
      { headers: { location: collection } });
  }
  if (result.outcome === 'full') {
    throw invalidRequest(`A queue may not have more than ${subscriptionsPerQueueMax} subscriptions.`);
  }
  return reply(201, { subscription_id: result.id ?? '' }, { location: collection });
});

/** `GET /v2/queues/{q}/subscriptions/{id}` (§9.3). */
export const getSubscription = subscriptionOperation('subscription:get', async (call) => {
  const id = call.request.params['subscription_id'] ?? '';
  const found = (await sortedSubscriptions(call)).find((s) => s.id === id);
  if (found === undefined) throw notFound(id);
  return reply(200, renderSubscription(queueRef(call).queue, found, call.api.clock.nowMs()));
});

/** `PATCH /v2/queues/{q}/subscriptions/{id}`: 204, 404 unknown, 409 subscriber taken (§9.4). */
export const updateSubscription = subscriptionOperation('subscription:update', async (call) => {
  const id = call.request.params['subscription_id'] ?? '';
  if (!hasContent(call.request)) throw invalidRequest('No subscription to create.');
  const parsed = deserializeBody(call.request);
  if (isPlainObject(parsed.value) && Object.keys(parsed.value).length === 0) throw invalidRequest('No subscription to create.');
  const fields = validateFields(call, parsed);
  if (fields.subscriber === undefined && fields.options === undefined && fields.ttlSeconds === undefined) {
    throw new BrokerError('invalid_api_request', `Subscription ${id} could not be updated.`);
  }
  const ref = queueRef(call);
  const result = await brokerCall('Subscription could not be updated.', () => call.api.broker.changeSubscriptions(ref, {
    op: 'update',
    id,
    subscriber: fields.subscriber ?? null,
    options: fields.options ?? null,
    ttlSeconds: fields.ttlSeconds ?? null,
  }));
  if (result.outcome === 'missing') throw notFound(id);
  if (result.outcome === 'conflict') {
    throw new BrokerError('resource_conflict',
      'Such subscription already exists.Subscriptions are unique by project + queue + subscriber URI.');
  }
  return reply(204, undefined, { location: call.request.path });
});

/** `DELETE /v2/queues/{q}/subscriptions/{id}`: always 204 (§9.5). */
export const deleteSubscription = subscriptionOperation('subscription:delete', async (call) => {
  const id = call.request.params['subscription_id'] ?? '';
  const ref = queueRef(call);
  await brokerCall('Subscription could not be deleted.', () => call.api.broker.changeSubscriptions(ref, { op: 'delete', id }));
  return reply(204);
});

/** `PUT /v2/queues/{q}/subscriptions/{id}/confirm`: `{"confirmed": bool}` (§9.6). */
export const confirmSubscription = subscriptionOperation('subscription:confirm', async (call) => {
  const id = call.request.params['subscription_id'] ?? '';
  const document = hasContent(call.request) ? deserializeBody(call.request).value : null;
  const confirmed = isPlainObject(document) ? document['confirmed'] : undefined;
  if (typeof confirmed !== 'boolean') throw invalidRequest("The 'confirmed' should be boolean.");
  const ref = queueRef(call);
  const result = await brokerCall('Unable to confirm subscription', () => call.api.broker.changeSubscriptions(ref, { op: 'confirm', id, confirmed }));
  if (result.outcome === 'missing') throw notFound(id);
  return reply(204, undefined, { location: call.request.path });
});
