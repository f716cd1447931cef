/**
 * The one catalogue of expected API outcomes. Every failure the api reports is a
 * BrokerError whose stable `code` picks the status and title here; the error's
 * message is the description the client sees. Titles and statuses follow the Zaqar v2
 * reference (zaqar-api-v2.md §1.7); where Zaqar answers one condition differently per
 * operation, that is two codes. Transports turn these into replies in exactly one place
 * (`src/transport/error-reply.ts`); no handler maps errors itself.
 */

interface CatalogueEntry {
  readonly status: number;
  /** null: the title is the error message itself and there is no description. */
  readonly title: string | null;
  /** True when the reply carries no description even if the error has a message. */
  readonly bare?: boolean;
}

export const errorCatalogue = {
  invalid_api_request: { status: 400, title: 'Invalid API request' },
  invalid_request_body: { status: 400, title: 'Invalid request body' },
  invalid_parameter: { status: 400, title: 'Invalid parameter' },
  invalid_content_type: { status: 400, title: 'Invalid Content-Type' },
  invalid_queue_name: { status: 400, title: 'Invalid queue identification' },
  missing_client_id: { status: 400, title: 'Missing header value' },
  malformed_client_id: { status: 400, title: 'Wrong UUID value' },
  client_id_length: { status: 400, title: null },
  missing_project: { status: 400, title: 'Project-Id Missing' },
  empty_project: { status: 400, title: 'Empty project header not allowed' },
  invalid_project: { status: 400, title: 'Invalid queue identification' },
  claim_id_malformed: { status: 400, title: 'Unable to delete' },
  message_not_claimed: { status: 400, title: 'Unable to delete' },
  message_claimed: { status: 403, title: 'Unable to delete' },
  not_authorized: { status: 403, title: 'Not authorized' },
  pool_in_use: { status: 403, title: 'Unable to delete' },
  pool_capabilities_mismatch: { status: 400, title: 'Unable to create pool' },
  flavor_not_created: { status: 400, title: 'Unable to create' },
  flavor_not_updated: { status: 400, title: 'updatefail' },
  quota_exceeded: { status: 403, title: 'Quota exceeded' },
  not_found: { status: 404, title: 'Not found' },
  route_not_found: { status: 404, title: '404 Not Found', bare: true },
  signature_rejected: { status: 404, title: '404 Not Found', bare: true },
  method_not_allowed: { status: 405, title: '405 Method Not Allowed', bare: true },
  not_acceptable: { status: 406, title: '406 Not Acceptable' },
  request_timeout: { status: 408, title: 'Request Timeout' },
  resource_conflict: { status: 409, title: 'Resource conflict' },
  unsupported_media_type: { status: 415, title: '415 Unsupported Media Type' },
  service_unavailable: { status: 503, title: 'Service temporarily unavailable' },
  shard_unavailable: { status: 503, title: 'Service temporarily unavailable' },
  overloaded: { status: 503, title: 'Service temporarily unavailable' },
} as const satisfies Record<string, CatalogueEntry>;

export type ErrorCode = keyof typeof errorCatalogue;

export interface BrokerErrorOptions extends ErrorOptions {
  /** Seconds a client should wait before retrying (503s): becomes `Retry-After`. */
  readonly retryAfterSeconds?: number;
  /** Extra reply headers, e.g. `Allow` on a 405. */
  readonly headers?: Readonly<Record<string, string>>;
}

/** An expected outcome the client is told about; never a broken invariant. */
export class BrokerError extends Error {
  readonly code: ErrorCode;
  readonly retryAfterSeconds: number | undefined;
  readonly headers: Readonly<Record<string, string>>;

  constructor(code: ErrorCode, message = '', options: BrokerErrorOptions = {}) {
    super(message, options);
    this.name = 'BrokerError';
    this.code = code;
    this.retryAfterSeconds = options.retryAfterSeconds;
    this.headers = options.headers ?? {};
  }

  get status(): number {
    return errorCatalogue[this.code].status;
  }

  /** The Zaqar error document: `{title, description?}`. */
  toDocument(): { title: string; description?: string } {
    const entry: CatalogueEntry = errorCatalogue[this.code];
    if (entry.title === null) return { title: this.message };
    if (entry.bare === true || this.message === '') return { title: entry.title };
    return { title: entry.title, description: this.message };
  }
}

/** Shorthand for the most common failure: a body field or value the reference rejects. */
export function invalidBody(description: string): BrokerError {
  return new BrokerError('invalid_request_body', description);
}

export function invalidRequest(description: string): BrokerError {
  return new BrokerError('invalid_api_request', description);
}
