/**
 * The transport-independent shape of an API call. A transport (HTTP on uWS, later the
 * WebSocket sessions) turns what it received into an ApiRequest, asks
 * `executeOperation` (request-context.ts) to run one named Operation, and renders the
 * ApiReply — or, when the call throws, hands the error to `transport/error-reply.ts`.
 * Every Zaqar rule lives behind these types, so both transports share one
 * implementation of each.
 */
import type { Broker } from './broker.js';
import type { Clock } from '../common/clock.js';
import type { JsonValue } from './json-body.js';
import type { ApiOptions } from './api-options.js';
import type { AuthStrategy, Identity } from './auth/auth-strategy.js';
import type { ClusterAddressBook } from './cluster-address-book.js';

/** Query parameters in arrival order; a repeated key keeps every value. */
export type QueryParams = ReadonlyMap<string, readonly string[]>;

/**
 * A request body: raw bytes (HTTP) or an already-decoded value (WebSocket frames). A
 * decoded message post may hold a message's `body` as an EncodedJson, the MessagePack
 * bytes it arrived in: the broker keeps bodies as MessagePack, so it stores those
 * instead of encoding the value again.
 */
export type RequestBody = { readonly bytes: Uint8Array } | { readonly json: JsonValue };

export interface ApiRequest {
  /** HTTP method as sent (case-sensitive), or the method a WS action stands for. */
  readonly method: string;
  /** Request path without the query, e.g. `/v2/queues/q1/messages`. */
  readonly path: string;
  /** Path parameters: `queue_name`, `message_id`, `claim_id`. */
  readonly params: Readonly<Record<string, string>>;
  readonly query: QueryParams;
  /** Header names in lower case. */
  readonly headers: Readonly<Record<string, string>>;
  /** null: no body at all (no Content-Length); zero bytes: an empty body. */
  readonly body: RequestBody | null;
  /** `req-<uuid>`, echoed as `x-openstack-request-id`. */
  readonly requestId: string;
  /** Established by the transport (an authenticated WebSocket); HTTP requests carry a token instead. */
  readonly identity?: Identity;
  /** The size a message post's limits apply to, when the transport measures it otherwise than by Content-Length. */
  readonly bodySize?: BodySize;
}

/**
 * A body size that is costly to measure (WebSocket: the length of the Python JSON text
 * of the posted messages) with a cheap upper bound: a limit at or above the bound
 * needs no measurement.
 */
export interface BodySize {
  readonly atMostBytes: number;
  exactBytes(): number;
}

export interface ApiReply {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  /** undefined: no body (e.g. 204). */
  readonly body?: JsonValue;
}

/** Who is calling, established by the common checks before an operation runs. */
export interface CallerContext {
  readonly project: string;
  /** Normalised Client-ID (lower-case dashed UUID in strict mode). */
  readonly clientId: string;
  readonly roles: readonly string[];
}

/** What every operation receives: the request, its caller and the node's services. */
export interface ApiCall {
  readonly request: ApiRequest;
  readonly caller: CallerContext;
  readonly api: ApiDeps;
}

export interface ApiDeps {
  readonly broker: Broker;
  readonly clock: Clock;
  readonly options: ApiOptions;
  /** `auth_strategy = keystone`; absent: no authentication (the client names its project). */
  readonly auth?: AuthStrategy;
  /** The cluster's address book (admin node add/remove); absent: not clustered. */
  readonly addressBook?: ClusterAddressBook;
}

export interface Operation {
  /** Policy rule name, e.g. `queues:get` (zaqar-api-v2.md §1.9). */
  readonly policy: string;
  /** When true the `queue_name` path parameter is validated before the policy check. */
  readonly hasQueue: boolean;
  /** Whether Client-ID / X-Project-ID are required (false only for `GET /`). */
  readonly isScoped: boolean;
  run(call: ApiCall): Promise<ApiReply>;
}

export function reply(status: number, body?: JsonValue, headers: Readonly<Record<string, string>> = {}): ApiReply {
  return body === undefined ? { status, headers } : { status, headers, body };
}
