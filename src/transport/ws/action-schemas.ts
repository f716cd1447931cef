/**
 * The request schemas of the Zaqar WebSocket actions (zaqar-websocket.md §3, §5 step 4,
 * §6), transcribed from the reference's JSON schemas (zaqar/api/v1, v1_1, v2
 * `request.py`): which top-level keys, headers and body properties each action requires
 * and the JSON-schema type of each known body property. Extra keys are allowed
 * everywhere (the schemas do not forbid additional properties).
 */

export type SchemaType = 'string' | 'integer' | 'boolean' | 'array' | 'object';

export interface ActionSchema {
  /** Whether the envelope must carry a `body` (the schema lists it as required). */
  readonly isBodyRequired: boolean;
  /** Whether a present `body` must be an object (false for the schemas without a body). */
  readonly isBodyTyped: boolean;
  readonly headersRequired: readonly string[];
  readonly bodyProperties: Readonly<Record<string, SchemaType>>;
  readonly bodyRequired: readonly string[];
}

/** Header properties the schemas type (all strings when present). */
export const typedHeaders: readonly string[] = ['User-Agent', 'Date', 'Accept', 'Client-ID', 'X-Project-ID', 'X-Auth-Token'];

const scoped = ['Client-ID', 'X-Project-ID'];

function action(bodyProperties: Record<string, SchemaType>, bodyRequired: readonly string[],
  options: { isBodyRequired?: boolean; isBodyTyped?: boolean; headersRequired?: readonly string[] } = {}): ActionSchema {
  return {
    isBodyRequired: options.isBodyRequired ?? true,
    isBodyTyped: options.isBodyTyped ?? true,
    headersRequired: options.headersRequired ?? scoped,
    bodyProperties,
    bodyRequired,
  };
}

const queue = { queue_name: 'string' } as const;
const queueOnly = action(queue, ['queue_name']);
const stub = action({}, [], { isBodyRequired: false, isBodyTyped: false, headersRequired: [] });

export const actionSchemas: Readonly<Record<string, ActionSchema>> = {
  authenticate: action({}, [], { isBodyRequired: false, isBodyTyped: false, headersRequired: ['X-Project-ID', 'X-Auth-Token'] }),
  get_home_doc: stub,
  check_node_health: stub,
  ping_node: stub,

  queue_list: action({ marker: 'string', limit: 'integer', detailed: 'boolean' }, [], { isBodyRequired: false }),
  queue_create: queueOnly,
  queue_delete: queueOnly,
  queue_get: queueOnly,
  queue_get_stats: queueOnly,
  queue_purge: action({ ...queue, resource_types: 'array' }, ['queue_name']),

  message_list: action({ ...queue, marker: 'string', limit: 'integer', echo: 'boolean', include_claimed: 'boolean' },
    ['queue_name']),
  message_get: action({ ...queue, message_id: 'string' }, ['queue_name', 'message_id']),
  message_get_many: action({ ...queue, message_ids: 'array' }, ['queue_name', 'message_ids']),
  message_post: action({ ...queue, messages: 'array' }, ['queue_name', 'messages']),
  message_delete: action({ ...queue, message_id: 'string', claim_id: 'string' }, ['queue_name', 'message_id']),
  message_delete_many: action({ ...queue, message_ids: 'array', claim_ids: 'array', pop: 'integer' }, ['queue_name']),

  claim_create: action({ ...queue, limit: 'integer', ttl: 'integer', grace: 'integer' }, ['queue_name']),
  claim_get: action({ ...queue, claim_id: 'string' }, ['queue_name', 'claim_id']),
  claim_update: action({ ...queue, claim_id: 'string', ttl: 'integer' }, ['queue_name', 'claim_id']),
  claim_delete: action({ ...queue, claim_id: 'string' }, ['queue_name', 'claim_id']),

  subscription_create: action({ ...queue, subscriber: 'string', ttl: 'integer', options: 'object' }, ['queue_name']),
  subscription_list: queueOnly,
  subscription_get: action({ ...queue, subscription_id: 'string' }, ['queue_name', 'subscription_id']),
  subscription_delete: action({ ...queue, subscription_id: 'string' }, ['queue_name', 'subscription_id']),

  pool_list: action({ pool_name: 'string', limit: 'integer', marker: 'string' }, ['pool_name']),
  pool_create: action({ pool_name: 'string', weight: 'integer', uri: 'string', options: 'object' }, ['pool_name']),
  pool_update: action({ pool_name: 'string', weight: 'integer', uri: 'string', options: 'object' }, ['pool_name']),
  pool_get: action({ pool_name: 'string', detailed: 'boolean' }, ['pool_name']),
  pool_delete: action({ pool_name: 'string' }, ['pool_name']),

  flavor_list: action({ flavor_name: 'string', limit: 'integer', marker: 'string' }, ['flavor_name']),
  flavor_create: action({ flavor_name: 'string', pool_name: 'string', capabilities: 'object' }, ['flavor_name', 'pool_name']),
  flavor_update: action({ flavor_name: 'string', pool_name: 'string', capabilities: 'object' }, ['flavor_name']),
  flavor_get: action({ flavor_name: 'string', detailed: 'boolean' }, ['flavor_name']),
  flavor_delete: action({ flavor_name: 'string' }, ['flavor_name']),
};

export function hasType(value: unknown, type: SchemaType): boolean {
  switch (type) {
    case 'string': return typeof value === 'string';
    case 'integer': return typeof value === 'number' && Number.isInteger(value);
    case 'boolean': return typeof value === 'boolean';
    case 'array': return Array.isArray(value);
    case 'object': return typeof value === 'object' && value !== null && !Array.isArray(value);
  }
}
