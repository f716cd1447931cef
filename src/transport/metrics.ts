/**
 * What the transports report about requests, as named events; the composition root
 * passes an implementation (src/metrics/ records them in Prometheus) and tests pass
 * `noTransportMetrics`. Labels stay bounded: `route` is the route template
 * (`/v2/queues/{queue_name}/messages`), never the path; unknown methods and paths
 * are folded into `other` and `unmatched` by the caller.
 */
export interface HttpRequestOutcome {
  /** Route template, or `unmatched` for a 404 path. */
  readonly route: string;
  /** Upper-case HTTP method, or `other`. */
  readonly method: string;
  readonly status: number;
  readonly seconds: number;
}

export interface WsRequestOutcome {
  /** A known Zaqar action name, or `other`. */
  readonly action: string;
  readonly status: number;
  readonly seconds: number;
}

export interface TransportMetrics {
  httpRequest(outcome: HttpRequestOutcome): void;
  wsRequest(outcome: WsRequestOutcome): void;
  wsSessionOpened(): void;
  wsSessionClosed(): void;
}

export const noTransportMetrics: TransportMetrics = {
  httpRequest: () => undefined,
  wsRequest: () => undefined,
  wsSessionOpened: () => undefined,
  wsSessionClosed: () => undefined,
};

const knownMethods = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

/** The method as a bounded label value. */
export function methodLabel(method: string): string {
  return knownMethods.has(method) ? method : 'other';
}
