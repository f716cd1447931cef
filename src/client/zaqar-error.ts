/**
 * Errors the client reports. A ZaqarError is the server's answer (a status ≥ 400) with
 * its description, whichever transport carried it: HTTP bodies are `{title,
 * description}`, WebSocket bodies `{error}` or `{exception, error}`. Connection-level
 * failures are separate classes so callers can tell "the server said no" (do not retry
 * blindly) from "the answer never came" (retrying a post may duplicate it).
 */
import type { Json } from './client-types.js';

export class ZaqarError extends Error {
  readonly status: number;
  /** The body as the server sent it. */
  readonly body: Json | undefined;

  constructor(message: string, reply: { readonly status: number; readonly body: Json | undefined }) {
    super(message);
    this.name = 'ZaqarError';
    this.status = reply.status;
    this.body = reply.body;
  }
}

/** The connection closed (or could not open) before the answer arrived. */
export class ZaqarConnectionError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'ZaqarConnectionError';
  }
}

/** No answer within `requestTimeoutMs`. */
export class ZaqarTimeoutError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ZaqarTimeoutError';
  }
}

/** A local bound was reached (in-flight requests, batch bytes): nothing was sent. */
export class ZaqarLimitError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ZaqarLimitError';
  }
}

/** Builds the error for a failed reply, reading whichever error shape the body has. */
export function errorFromReply(context: string, reply: { readonly status: number; readonly body: Json | undefined }): ZaqarError {
  return new ZaqarError(`${context}: ${reply.status} ${describeBody(reply.body)}`.trim(), reply);
}

function describeBody(body: Json | undefined): string {
  if (typeof body === 'string') return body;
  if (body === null || body === undefined || typeof body !== 'object' || Array.isArray(body)) return '';
  const record = body as { readonly [key: string]: Json };
  const parts = [record['title'], record['description'], record['error'], record['exception']]
    .filter((part): part is string => typeof part === 'string' && part !== '');
  return parts.join(' — ');
}
