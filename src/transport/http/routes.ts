/**
 * The HTTP route table: path templates → method → api operation. Matching is exact
 * (trailing slashes matter, only `/v2/` has one); path segments are percent-decoded
 * before they become parameters. A path that matches no template is a 404; a known
 * path with an unsupported method is a 405 listing the allowed methods plus OPTIONS
 * (zaqar-api-v2.md §1.1). Health, pools and flavors are routed only in admin mode.
 */
import { operations } from '../../api/operations.js';
import type { Operation } from '../../api/operation.js';

interface Route {
  /** The template as written, e.g. `/v2/queues/{queue_name}`: a bounded metrics label. */
  readonly template: string;
  readonly segments: readonly string[];
  readonly methods: Readonly<Record<string, Operation>>;
}

export interface RouteMatch {
  readonly template: string;
  readonly params: Record<string, string>;
  readonly methods: Readonly<Record<string, Operation>>;
}

export type RouteTable = readonly Route[];

function route(template: string, methods: Record<string, Operation>): Route {
  return { template, segments: template.split('/'), methods };
}

export function buildRoutes(options: { isAdminMode: boolean }): RouteTable {
  const q = '/v2/queues/{queue_name}';
  const table: Route[] = [
    route('/', { GET: operations.get_versions }),
    route('/v2/', { GET: operations.get_home_doc }),
    route('/v2/ping', { GET: operations.ping_node, HEAD: operations.ping_node_head }),
    route('/v2/queues', { GET: operations.queue_list }),
    route(q, {
      GET: operations.queue_get,
      PUT: operations.queue_create,
      PATCH: operations.queue_update,
      DELETE: operations.queue_delete,
    }),
    route(`${q}/stats`, { GET: operations.queue_get_stats }),
    route(`${q}/share`, { POST: operations.queue_share }),
    route(`${q}/purge`, { POST: operations.queue_purge }),
    route(`${q}/messages`, {
      GET: operations.message_list,
      POST: operations.message_post,
      DELETE: operations.message_delete_many,
    }),
    route(`${q}/messages/{message_id}`, { GET: operations.message_get, DELETE: operations.message_delete }),
    route(`${q}/claims`, { POST: operations.claim_create }),
    route(`${q}/claims/{claim_id}`, {
      GET: operations.claim_get,
      PATCH: operations.claim_update,
      DELETE: operations.claim_delete,
    }),
    route(`${q}/subscriptions`, { GET: operations.subscription_list, POST: operations.subscription_create }),
    route(`${q}/subscriptions/{subscription_id}`, {
      GET: operations.subscription_get,
      PATCH: operations.subscription_update,
      DELETE: operations.subscription_delete,
    }),
    route(`${q}/subscriptions/{subscription_id}/confirm`, { PUT: operations.subscription_confirm }),
    ...topicRoutes(),
  ];
  if (options.isAdminMode) {
    table.push(route('/v2/health', { GET: operations.check_node_health }));
    table.push(route('/v2/cluster', { GET: operations.cluster_status }));
    table.push(route('/v2/cluster/nodes/{node_id}', { PUT: operations.cluster_node_add, DELETE: operations.cluster_node_remove }));
    // zaqar-ts always places queues itself, so pooling is on whenever admin mode is.
    table.push(route('/v2/pools', { GET: operations.pool_list }));
    table.push(route('/v2/pools/{pool_name}', {
      GET: operations.pool_get, PUT: operations.pool_create, PATCH: operations.pool_update, DELETE: operations.pool_delete,
    }));
    table.push(route('/v2/flavors', { GET: operations.flavor_list }));
    table.push(route('/v2/flavors/{flavor_name}', {
      GET: operations.flavor_get, PUT: operations.flavor_create, PATCH: operations.flavor_update, DELETE: operations.flavor_delete,
    }));
  }
  return table;
}

/** `/v2/topics/...` (zaqar-api-v2.md §10); the name parameter is `queue_name` so the queue checks apply. */
function topicRoutes(): Route[] {
  const t = '/v2/topics/{queue_name}';
  return [
    route('/v2/topics', { GET: operations.topic_list }),
    route(t, { GET: operations.topic_get, PUT: operations.topic_create, PATCH: operations.topic_update, DELETE: operations.topic_delete }),
    route(`${t}/stats`, { GET: operations.topic_get_stats }),
    route(`${t}/purge`, { POST: operations.topic_purge }),
    route(`${t}/messages`, {
      GET: operations.topic_message_list,
      POST: operations.topic_message_post,
      DELETE: operations.topic_message_delete_many,
    }),
    route(`${t}/messages/{message_id}`, { GET: operations.topic_message_get, DELETE: operations.topic_message_delete }),
    route(`${t}/subscriptions`, { GET: operations.topic_subscription_list, POST: operations.topic_subscription_create }),
    route(`${t}/subscriptions/{subscription_id}`, {
      GET: operations.topic_subscription_get,
      PATCH: operations.topic_subscription_update,
      DELETE: operations.topic_subscription_delete,
    }),
    route(`${t}/subscriptions/{subscription_id}/confirm`, { PUT: operations.topic_subscription_confirm }),
  ];
}

/** Finds the route for a raw (still percent-encoded) path; undefined for a 404. */
export function matchRoute(table: RouteTable, rawPath: string): RouteMatch | undefined {
  const segments = rawPath.split('/');
  for (const candidate of table) {
    if (candidate.segments.length !== segments.length) continue;
    const params: Record<string, string> = {};
    let isMatch = true;
    for (let i = 0; i < segments.length && isMatch; i++) {
      const want = candidate.segments[i] ?? '';
      const got = segments[i] ?? '';
      if (want.startsWith('{')) {
        const value = decodeSegment(got);
        if (value === undefined || value === '') isMatch = false;
        else params[want.slice(1, -1)] = value;
      } else if (want !== got) {
        isMatch = false;
      }
    }
    if (isMatch) return { template: candidate.template, params, methods: candidate.methods };
  }
  return undefined;
}

function decodeSegment(segment: string): string | undefined {
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined; // malformed percent-encoding: no such path
  }
}

/** The `Allow` header of a route: its methods plus OPTIONS. */
export function allowHeader(match: RouteMatch): string {
  return [...Object.keys(match.methods), 'OPTIONS'].join(', ');
}
