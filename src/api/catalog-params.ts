/**
 * Request parameters shared by the pool and flavor operations (zaqar-api-v2.md §11–§12):
 * the name in the path, the listing query (`limit` 1..20, default 10; `marker`;
 * `detailed`) and the listing's `next` link, which carries limit, detailed and marker.
 */
import { BrokerError, invalidRequest } from './errors.js';
import type { JsonValue } from './json-body.js';
import type { ApiCall, ApiReply, Operation } from './operation.js';
import { nextLinks } from './render.js';
import { isValidQueueName, queryBool, queryInt, queryString } from './validation.js';

const catalogPageMax = 20;
const catalogPageDefault = 10;

/**
 * Pools and flavors exist only in admin mode (zaqar-api-v2.md §1.1): HTTP does not route
 * them otherwise, and a WebSocket action for them gets the same 404.
 */
export function catalogOperation(policy: string, run: (call: ApiCall) => Promise<ApiReply>): Operation {
  return {
    policy, hasQueue: false, isScoped: true,
    run: async (call) => {
      if (!call.api.options.adminMode) throw new BrokerError('route_not_found');
      return run(call);
    },
  };
}

export interface CatalogListing {
  readonly limit: number;
  readonly marker?: string;
  readonly detailed: boolean;
}

/**
 * A pool or flavor name from the path. Names are stored as queue names of the
 * catalogue's reserved projects, so they follow the queue name rule.
 */
export function catalogName(call: ApiCall, param: 'pool_name' | 'flavor_name'): string {
  const name = call.request.params[param];
  if (name === undefined || !isValidQueueName(name)) {
    throw new BrokerError('invalid_parameter',
      `The ${param === 'pool_name' ? 'pool' : 'flavor'} name may have at most 64 characters: letters, digits, hyphens, underscores and periods.`);
  }
  return name;
}

export function catalogListing(call: ApiCall): CatalogListing {
  const { query } = call.request;
  const limit = queryInt(query, 'limit') ?? catalogPageDefault;
  if (!(limit >= 1 && limit <= catalogPageMax)) {
    throw invalidRequest(`Limit must be at least 1 and no greater than ${catalogPageMax}.`);
  }
  const marker = queryString(query, 'marker');
  const detailed = queryBool(query, 'detailed', false);
  return marker === undefined ? { limit, detailed } : { limit, marker, detailed };
}

/** `[]` for an empty page, else one `next` link after the page's last name (§1.10). */
export function catalogLinks(path: string, listing: CatalogListing, lastName: string | undefined): JsonValue {
  if (lastName === undefined) return [];
  return nextLinks(path, [['limit', listing.limit], ['detailed', listing.detailed], ['marker', lastName]]);
}
