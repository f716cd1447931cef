/**
 * Each WebSocket action as the api operation it runs (zaqar-websocket.md §6): how the
 * frame's body becomes the operation's path parameters, query and body, and how the
 * operation's HTTP-shaped reply becomes the WebSocket reply (string bodies, `id`
 * instead of `href`, `message_ids`, `claim_id`, no `links`). Only representation lives
 * here; every rule (validation, limits, defaults, claims) is the api's, shared with HTTP.
 */
import { isJsonObject, type JsonValue } from '../../api/json-body.js';
import type { ApiReply, BodySize, RequestBody } from '../../api/operation.js';
import type { JsonObject, WsRequest } from './protocol.js';
import { pythonJsonLength } from './python-json-length.js';

/** The parts of an ApiRequest an action determines. */
export interface RouteRequest {
  readonly method: string;
  readonly path: string;
  readonly params: Readonly<Record<string, string>>;
  readonly query: ReadonlyMap<string, readonly string[]>;
  readonly body: RequestBody | null;
  /** Presented to the api as Content-Length (the reference's size measure). */
  readonly sizeBytes?: number;
  /** The same measure for a message post, computed only when a limit is below the frame's bound. */
  readonly bodySize?: BodySize;
}

export interface ActionContext {
  /** Stored metadata of a queue, null when it does not exist; only read after the operation succeeded. */
  readonly queueMetadata: (project: string, queue: string) => Promise<JsonObject | null>;
}

export interface WsReply {
  readonly status: number;
  readonly body: JsonValue;
}

export interface ActionRoute {
  /** Name in the api's `operations` table. */
  readonly operation: string;
  toRequest(request: WsRequest): RouteRequest;
  /** Default: the reply's status and body (`{}` when it has none). */
  adapt?(request: WsRequest, reply: ApiReply, context: ActionContext): WsReply | Promise<WsReply>;
  /** A 404 from the operation is this reply instead (get-many never 404s over WebSocket). */
  readonly notFoundReply?: WsReply;
  /** The `error` summary of action-level failures, e.g. `Claim <id> does not exist.` */
  errorSummary?(request: WsRequest, status: number): string | null;
}

const text = (value: JsonValue | undefined): string => (typeof value === 'string' ? value : String(value ?? ''));
const enc = encodeURIComponent;

/** Query parameters from body fields, rendered as HTTP would carry them. */
function query(body: JsonObject, names: Readonly<Record<string, string>>): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const [field, param] of Object.entries(names)) {
    const value = body[field];
    if (value === undefined || value === null) continue;
    out.set(param, Array.isArray(value) ? value.map((v) => text(v)) : [text(value)]);
  }
  return out;
}

function pick(body: JsonObject, names: readonly string[]): JsonObject | undefined {
  const out: JsonObject = {};
  for (const name of names) if (Object.hasOwn(body, name)) out[name] = body[name] ?? null;
  return Object.keys(out).length === 0 ? undefined : out;
}

function jsonBody(value: JsonValue | undefined): RequestBody | null {
  return value === undefined ? null : { json: value };
}

function route(method: string, path: (b: JsonObject) => string, options: {
  params?: readonly string[]; query?: Readonly<Record<string, string>>; body?: (b: JsonObject) => JsonValue | undefined;
  sized?: (b: JsonObject) => JsonValue | undefined;
  /** Like `sized`, measured lazily against the frame's bound (WsRequest.pythonLengthAtMost). */
  boundedSize?: (b: JsonObject) => JsonValue | undefined;
} = {}): (request: WsRequest) => RouteRequest {
  return ({ body, pythonLengthAtMost }) => {
    const params: Record<string, string> = {};
    for (const name of options.params ?? []) params[name] = text(body[name]);
    const content = options.body?.(body);
    const sized = options.sized?.(body);
    const bounded = options.boundedSize?.(body);
    return {
      method, path: path(body), params, query: query(body, options.query ?? {}), body: jsonBody(content),
      ...(sized === undefined ? {} : { sizeBytes: pythonJsonLength(sized) }),
      ...(bounded === undefined ? {} : { bodySize: boundedLength(bounded, pythonLengthAtMost) }),
    };
  };
}

/** The Python JSON length of `value`, measured only if asked (and at once when the frame gave no bound). */
function boundedLength(value: JsonValue, atMost: number | undefined): BodySize {
  if (atMost === undefined) {
    const length = pythonJsonLength(value);
    return { atMostBytes: length, exactBytes: () => length };
  }
  return { atMostBytes: atMost, exactBytes: () => pythonJsonLength(value) };
}

const queuePath = (b: JsonObject): string => `/v2/queues/${enc(text(b['queue_name']))}`;
const replyText = (status: number, message: string): WsReply => ({ status, body: message });

function asObject(value: JsonValue | undefined): JsonObject {
  return isJsonObject(value) ? value : {};
}

function lastSegment(href: string): string {
  const query = href.indexOf('?');
  const end = query < 0 ? href.length : query;
  return href.slice(href.lastIndexOf('/', end - 1) + 1, end);
}

/** HTTP message → WebSocket message: `id`, `claim_id`, no `href`/`checksum`. */
function wsMessage(value: JsonValue, claimId: string | null = null): JsonValue {
  const m = asObject(value);
  const href = text(m['href']);
  const hrefClaim = href.includes('?claim_id=') ? href.slice(href.indexOf('?claim_id=') + 10) : null;
  return { id: m['id'] ?? lastSegment(href), claim_id: claimId ?? hrefClaim, ttl: m['ttl'] ?? null, age: m['age'] ?? null,
    body: m['body'] ?? null };
}

function wsMessages(value: JsonValue | undefined, claimId: string | null = null): JsonValue[] {
  return Array.isArray(value) ? value.map((m) => wsMessage(m, claimId)) : [];
}

/** The marker of an HTTP `next` link (an extra key the WebSocket reference lacks; clients ignore it). */
function nextMarker(links: JsonValue | undefined): string | undefined {
  const href = Array.isArray(links) ? text(asObject(links[0])['href']) : '';
  const marker = new URLSearchParams(href.split('?')[1] ?? '').get('marker');
  return marker === null || marker === '' ? undefined : marker;
}

function statEdge(value: JsonValue | undefined): JsonValue | undefined {
  if (value === undefined) return undefined;
  const edge = asObject(value);
  return { id: lastSegment(text(edge['href'])), age: edge['age'] ?? null, created: edge['created'] ?? null };
}

const messagesPath = (b: JsonObject): string => `${queuePath(b)}/messages`;
const claimPath = (b: JsonObject): string => `${queuePath(b)}/claims/${enc(text(b['claim_id']))}`;
const subscriptionPath = (b: JsonObject): string => `${queuePath(b)}/subscriptions/${enc(text(b['subscription_id']))}`;
const poolPath = (b: JsonObject): string => `/v2/pools/${enc(text(b['pool_name']))}`;
const flavorPath = (b: JsonObject): string => `/v2/flavors/${enc(text(b['flavor_name']))}`;
const withQueue = ['queue_name'];

export const actionRoutes: Readonly<Record<string, ActionRoute>> = {
  get_home_doc: { operation: 'get_home_doc', toRequest: route('GET', () => '/v2/') },
  ping_node: { operation: 'ping_node', toRequest: route('GET', () => '/v2/ping') },
  check_node_health: { operation: 'check_node_health', toRequest: route('GET', () => '/v2/health') },

  queue_list: {
    operation: 'queue_list',
    toRequest: route('GET', () => '/v2/queues', { query: { marker: 'marker', limit: 'limit', detailed: 'detailed' } }),
    adapt: async ({ headers }, reply, context) => {
      const listed = (asObject(reply.body)['queues'] as JsonValue[] | undefined ?? []).map(asObject);
      // Detailed listings show metadata as stored over WebSocket, without the reserved defaults (§6.1).
      const queues = await Promise.all(listed.map(async ({ href: _href, ...queue }) => {
        if (queue['metadata'] === undefined) return queue;
        const stored = await context.queueMetadata(text(headers['X-Project-ID']), text(queue['name']));
        return { ...queue, metadata: stored ?? {} };
      }));
      return { status: reply.status, body: { queues } };
    },
  },
  queue_create: {
    operation: 'queue_create',
    toRequest: route('PUT', queuePath, { params: withQueue, body: (b) => b['metadata'], sized: (b) => b['metadata'] }),
    adapt: ({ body }, reply) => replyText(reply.status, `Queue ${text(body['queue_name'])} created.`),
    errorSummary: ({ body }, status) => (status === 503 ? `Queue ${text(body['queue_name'])} could not be created.` : null),
  },
  queue_get: {
    operation: 'queue_get',
    toRequest: route('GET', queuePath, { params: withQueue }),
    adapt: async ({ headers, body }, reply, context) => ({
      status: reply.status,
      body: (await context.queueMetadata(text(headers['X-Project-ID']), text(body['queue_name']))) ?? {},
    }),
  },
  queue_delete: {
    operation: 'queue_delete',
    toRequest: route('DELETE', queuePath, { params: withQueue }),
    adapt: ({ body }, reply) => replyText(reply.status, `Queue ${text(body['queue_name'])} removed.`),
  },
  queue_get_stats: {
    operation: 'queue_get_stats',
    toRequest: route('GET', (b) => `${queuePath(b)}/stats`, { params: withQueue }),
    adapt: async ({ headers, body }, reply, context) => {
      const stats = asObject(asObject(reply.body)['messages']);
      const messages: JsonObject = { claimed: stats['claimed'] ?? 0, free: stats['free'] ?? 0, total: stats['total'] ?? 0 };
      const oldest = statEdge(stats['oldest']);
      const newest = statEdge(stats['newest']);
      if (oldest !== undefined) messages['oldest'] = oldest;
      if (newest !== undefined) messages['newest'] = newest;
      const isMissing = messages['total'] === 0
        && (await context.queueMetadata(text(headers['X-Project-ID']), text(body['queue_name']))) === null;
      return { status: isMissing ? 404 : reply.status, body: { messages } };
    },
  },
  queue_purge: {
    operation: 'queue_purge',
    toRequest: route('POST', (b) => `${queuePath(b)}/purge`, { params: withQueue, body: (b) => pick(b, ['resource_types']) }),
  },

  message_post: {
    operation: 'message_post',
    // A binary post's message bodies are EncodedJson (protocol.ts readPostFrame): the broker stores their bytes.
    toRequest: route('POST', messagesPath,
      { params: withQueue, body: (b) => ({ messages: b['messages'] ?? null }), boundedSize: (b) => b['messages'] }),
    adapt: (_request, reply) => ({
      status: reply.status,
      body: { message_ids: (asObject(reply.body)['resources'] as JsonValue[] | undefined ?? []).map((h) => lastSegment(text(h))) },
    }),
    errorSummary: (_request, status) => (status === 500 || status === 503 ? 'No messages could be enqueued.' : null),
  },
  message_list: {
    operation: 'message_list',
    toRequest: route('GET', messagesPath, { params: withQueue, query: {
      marker: 'marker', limit: 'limit', echo: 'echo', include_claimed: 'include_claimed', include_delayed: 'include_delayed',
    } }),
    adapt: (_request, reply) => {
      const doc = asObject(reply.body);
      const marker = nextMarker(doc['links']);
      return { status: reply.status, body: { messages: wsMessages(doc['messages']), ...(marker === undefined ? {} : { marker }) } };
    },
  },
  message_get: {
    operation: 'message_get',
    toRequest: route('GET', (b) => `${messagesPath(b)}/${enc(text(b['message_id']))}`, { params: [...withQueue, 'message_id'] }),
    adapt: (_request, reply) => ({ status: reply.status, body: { messages: wsMessage(reply.body ?? {}) } }),
  },
  message_get_many: {
    operation: 'message_list',
    toRequest: route('GET', messagesPath, { params: withQueue, query: { message_ids: 'ids' } }),
    adapt: (_request, reply) => ({ status: reply.status, body: { messages: wsMessages(asObject(reply.body)['messages']) } }),
    notFoundReply: { status: 200, body: { messages: [] } },
  },
  message_delete: {
    operation: 'message_delete',
    toRequest: route('DELETE', (b) => `${messagesPath(b)}/${enc(text(b['message_id']))}`,
      { params: [...withQueue, 'message_id'], query: { claim_id: 'claim_id' } }),
  },
  message_delete_many: {
    operation: 'message_delete_many',
    toRequest: route('DELETE', messagesPath,
      { params: withQueue, query: { message_ids: 'ids', claim_ids: 'claim_ids', pop: 'pop' } }),
  },

  claim_create: {
    operation: 'claim_create',
    toRequest: route('POST', (b) => `${queuePath(b)}/claims`,
      { params: withQueue, query: { limit: 'limit' }, body: (b) => pick(b, ['ttl', 'grace']) }),
    adapt: (_request, reply): WsReply => {
      if (reply.status !== 201) return { status: reply.status, body: { claim_id: null } };
      const claimId = lastSegment(reply.headers['location'] ?? '');
      return { status: 201, body: { claim_id: claimId, messages: wsMessages(asObject(reply.body)['messages'], claimId) } };
    },
  },
  claim_get: {
    operation: 'claim_get',
    toRequest: route('GET', claimPath, { params: [...withQueue, 'claim_id'] }),
    adapt: ({ body }, reply) => {
      const doc = asObject(reply.body);
      const claimId = text(body['claim_id']);
      return { status: reply.status, body: { age: doc['age'] ?? 0, ttl: doc['ttl'] ?? 0, messages: wsMessages(doc['messages'], claimId) } };
    },
    errorSummary: ({ body }, status) => (status === 404 ? `Claim ${text(body['claim_id'])} does not exist.` : null),
  },
  claim_update: {
    operation: 'claim_update',
    toRequest: route('PATCH', claimPath, { params: [...withQueue, 'claim_id'], body: (b) => pick(b, ['ttl', 'grace']) ?? {} }),
    adapt: ({ body }, reply) => replyText(reply.status, `Claim ${text(body['claim_id'])} updated.`),
    errorSummary: ({ body }, status) => (status === 404 ? `Claim ${text(body['claim_id'])} does not exist.` : null),
  },
  claim_delete: {
    operation: 'claim_delete',
    toRequest: route('DELETE', claimPath, { params: [...withQueue, 'claim_id'] }),
    adapt: ({ body }, reply) => replyText(reply.status, `Claim ${text(body['claim_id'])} deleted.`),
  },

  subscription_create: {
    operation: 'subscription_create',
    toRequest: route('POST', (b) => `${queuePath(b)}/subscriptions`,
      { params: withQueue, body: (b) => pick(b, ['subscriber', 'ttl', 'options']) ?? {} }),
    adapt: ({ body }, reply) => ({
      status: reply.status,
      body: { subscription_id: asObject(reply.body)['subscription_id'] ?? null,
        message: `Subscription ${text(body['queue_name'])} created.` },
    }),
    errorSummary: ({ body }, status) =>
      (status === 503 ? `Subscription ${text(body['queue_name'])} could not be created.` : null),
  },
  subscription_list: {
    operation: 'subscription_list',
    toRequest: route('GET', (b) => `${queuePath(b)}/subscriptions`, { params: withQueue, query: { marker: 'marker', limit: 'limit' } }),
    adapt: (_request, reply) => ({ status: reply.status, body: { subscriptions: asObject(reply.body)['subscriptions'] ?? [] } }),
  },
  subscription_get: {
    operation: 'subscription_get',
    toRequest: route('GET', subscriptionPath, { params: [...withQueue, 'subscription_id'] }),
  },
  subscription_delete: {
    operation: 'subscription_delete',
    toRequest: route('DELETE', subscriptionPath, { params: [...withQueue, 'subscription_id'] }),
    adapt: ({ body }, reply) => replyText(reply.status, `Subscription ${text(body['subscription_id'])} removed.`),
  },

  pool_list: { operation: 'pool_list', toRequest: route('GET', () => '/v2/pools', { query: { limit: 'limit', marker: 'marker' } }) },
  pool_create: { operation: 'pool_create',
    toRequest: route('PUT', poolPath, { params: ['pool_name'], body: (b) => pick(b, ['uri', 'weight', 'flavor', 'options']) ?? {} }) },
  pool_update: { operation: 'pool_update',
    toRequest: route('PATCH', poolPath, { params: ['pool_name'], body: (b) => pick(b, ['uri', 'weight', 'flavor', 'options']) ?? {} }) },
  pool_get: { operation: 'pool_get', toRequest: route('GET', poolPath, { params: ['pool_name'], query: { detailed: 'detailed' } }) },
  pool_delete: { operation: 'pool_delete', toRequest: route('DELETE', poolPath, { params: ['pool_name'] }) },
  flavor_list: { operation: 'flavor_list', toRequest: route('GET', () => '/v2/flavors', { query: { limit: 'limit', marker: 'marker' } }) },
  flavor_create: { operation: 'flavor_create', toRequest: route('PUT', flavorPath, { params: ['flavor_name'],
    body: (b) => ({ pool_list: [b['pool_name'] ?? null], ...pick(b, ['capabilities']) }) }) },
  flavor_update: { operation: 'flavor_update', toRequest: route('PATCH', flavorPath, { params: ['flavor_name'],
    body: (b): JsonValue => (b['pool_name'] === undefined ? {} : { pool_list: [b['pool_name'] ?? null] }) }) },
  flavor_get: { operation: 'flavor_get', toRequest: route('GET', flavorPath, { params: ['flavor_name'], query: { detailed: 'detailed' } }) },
  flavor_delete: { operation: 'flavor_delete', toRequest: route('DELETE', flavorPath, { params: ['flavor_name'] }) },
};
