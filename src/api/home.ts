/**
 * Version discovery (`GET /`, 300) and the JSON home document (`GET /v2/`), both
 * constant documents (zaqar-api-v2.md §3.1, §3.2). The admin entries appear only in
 * admin mode, as in the reference.
 */
import type { JsonValue } from './json-body.js';
import { reply, type Operation } from './operation.js';

function version(id: string, status: string, updated: string, mediaType: string, href: string): JsonValue {
  return {
    id,
    status,
    updated,
    'media-types': [{ base: 'application/json', type: `application/vnd.openstack.messaging-${mediaType}+json` }],
    links: [{ href, rel: 'self' }],
  };
}

const deprecatedVersions: Readonly<Record<string, JsonValue>> = {
  '1': version('1', 'DEPRECATED', '2014-9-11T17:47:05Z', 'v1', '/v1/'),
  '1.1': version('1.1', 'DEPRECATED', '2016-7-29T02:22:47Z', 'v1_1', '/v1.1/'),
};

/** `GET /`: v2, preceded by the legacy versions the operator chose to advertise. */
export function versionDocument(deprecated: readonly string[]): JsonValue {
  const legacy = ['1', '1.1'].filter((v) => deprecated.includes(v)).map((v) => deprecatedVersions[v] ?? null);
  return { versions: [...legacy, version('2', 'CURRENT', '2014-9-24T04:06:47Z', 'v2', '/v2/')] };
}

export const getVersions: Operation = {
  policy: '',
  hasQueue: false,
  isScoped: false,
  run: async (call) => reply(300, versionDocument(call.api.options.deprecatedApiVersions)),
};

interface HomeEntry {
  readonly template: string;
  readonly vars?: Readonly<Record<string, string>>;
  readonly allow: readonly string[];
  readonly acceptsPost?: boolean;
}

const queueVar = { queue_name: 'param/queue_name' };
const claimVars = { ...queueVar, claim_id: 'param/claim_id' };
const subscriptionVars = { ...queueVar, subscriptions_id: 'param/subscriptions_id' };

const publicEntries: Readonly<Record<string, HomeEntry>> = {
  'rel/queues': { template: '/v2/queues{?marker,limit,detailed}', vars: { marker: 'param/marker', limit: 'param/queue_limit', detailed: 'param/detailed' }, allow: ['GET'] },
  'rel/queue': { template: '/v2/queues/{queue_name}', vars: queueVar, allow: ['GET', 'PUT', 'DELETE', 'PATCH'] },
  'rel/queue_stats': { template: '/v2/queues/{queue_name}/stats', vars: queueVar, allow: ['GET'] },
  'rel/queue_share': { template: '/v2/queues/{queue_name}/share', vars: queueVar, allow: ['POST'], acceptsPost: true },
  'rel/queue_purge': { template: '/v2/queues/{queue_name}/purge', vars: queueVar, allow: ['POST'], acceptsPost: true },
  'rel/messages': {
    template: '/v2/queues/{queue_name}/messages{?marker,limit,echo,include_claimed}',
    vars: { ...queueVar, marker: 'param/marker', limit: 'param/messages_limit', echo: 'param/echo', include_claimed: 'param/include_claimed' },
    allow: ['GET'],
  },
  'rel/post_messages': { template: '/v2/queues/{queue_name}/messages', vars: queueVar, allow: ['POST'], acceptsPost: true },
  'rel/messages_delete': { template: '/v2/queues/{queue_name}/messages{?ids,pop}', vars: { ...queueVar, ids: 'param/ids', pop: 'param/pop' }, allow: ['DELETE'] },
  'rel/message_delete': {
    template: '/v2/queues/{queue_name}/messages/{message_id}{?claim}',
    vars: { ...queueVar, message_id: 'param/message_id', claim: 'param/claim_id' },
    allow: ['DELETE'],
  },
  'rel/message_get': { template: '/v2/queues/{queue_name}/messages/{message_id}', vars: { ...queueVar, message_id: 'param/message_id' }, allow: ['GET'] },
  'rel/claim': { template: '/v2/queues/{queue_name}/claims/{claim_id}', vars: claimVars, allow: ['GET'] },
  'rel/post_claim': { template: '/v2/queues/{queue_name}/claims{?limit}', vars: { ...queueVar, limit: 'param/claim_limit' }, allow: ['POST'], acceptsPost: true },
  'rel/patch_claim': { template: '/v2/queues/{queue_name}/claims/{claim_id}', vars: claimVars, allow: ['PATCH'], acceptsPost: true },
  'rel/delete_claim': { template: '/v2/queues/{queue_name}/claims/{claim_id}', vars: claimVars, allow: ['DELETE'] },
  'rel/subscriptions_get': {
    template: '/v2/queues/{queue_name}/subscriptions{?marker,limit}',
    vars: { ...queueVar, marker: 'param/marker', limit: 'param/subscription_limit' },
    allow: ['GET'],
  },
  'rel/subscriptions_post': { template: '/v2/queues/{queue_name}/subscriptions', vars: { ...queueVar, limit: 'param/subscription_limit' }, allow: ['POST'], acceptsPost: true },
  'rel/subscription': { template: '/v2/queues/{queue_name}/subscriptions/{subscriptions_id}', vars: subscriptionVars, allow: ['GET', 'DELETE'] },
  'rel/subscription_patch': { template: '/v2/queues/{queue_name}/subscriptions/{subscriptions_id}', vars: subscriptionVars, allow: ['PATCH'], acceptsPost: true },
  'rel/ping': { template: '/v2/ping', allow: ['GET'] },
};

const adminEntries: Readonly<Record<string, HomeEntry>> = {
  'rel/pools': { template: '/v2/pools{?detailed,limit,marker}', vars: { detailed: 'param/detailed', limit: 'param/pool_limit', marker: 'param/marker' }, allow: ['GET'] },
  'rel/pool': { template: '/v2/pools/{pool_name}', vars: { pool_name: 'param/pool_name' }, allow: ['GET', 'PUT', 'PATCH', 'DELETE'] },
  'rel/flavors': { template: '/v2/flavors{?detailed,limit,marker}', vars: { detailed: 'param/detailed', limit: 'param/flavor_limit', marker: 'param/marker' }, allow: ['GET'] },
  'rel/flavor': { template: '/v2/flavors/{flavor_name}', vars: { flavor_name: 'param/flavor_name' }, allow: ['GET', 'PUT', 'PATCH', 'DELETE'] },
};

function renderEntry(entry: HomeEntry): JsonValue {
  const hints: { [key: string]: JsonValue } = { allow: [...entry.allow], formats: { 'application/json': {} } };
  if (entry.acceptsPost === true) hints['accept-post'] = ['application/json'];
  const rendered: { [key: string]: JsonValue } = { 'href-template': entry.template };
  if (entry.vars !== undefined) rendered['href-vars'] = { ...entry.vars };
  rendered['hints'] = hints;
  return rendered;
}

export function homeDocument(isAdminMode: boolean): JsonValue {
  const resources: { [key: string]: JsonValue } = {};
  for (const [rel, entry] of Object.entries(publicEntries)) resources[rel] = renderEntry(entry);
  if (isAdminMode) {
    for (const [rel, entry] of Object.entries(adminEntries)) resources[rel] = renderEntry(entry);
    resources['rel/health'] = { href: '/v2/health', hints: { allow: ['GET'], formats: { 'application/json': {} } } };
  }
  return { resources };
}

export const getHome: Operation = {
  policy: '',
  hasQueue: false,
  isScoped: true,
  run: async (call) => reply(200, homeDocument(call.api.options.adminMode), {
    'content-type': 'application/json-home',
    'cache-control': 'max-age=86400',
  }),
};
