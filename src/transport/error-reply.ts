/**
 * The one place an error becomes a reply. A BrokerError is an expected outcome: its
 * catalogue entry gives the status and the Zaqar `{title, description}` document.
 * Anything else is a bug or an unforeseen failure: 500, logged with the request id,
 * and the client sees the error's message but never a stack. Error bodies are only
 * sent to clients that accept JSON (zaqar-api-v2.md §1.7).
 */
import { BrokerError } from '../api/errors.js';
import type { ApiReply } from '../api/operation.js';

export interface ErrorDocument {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly document: { title: string; description?: string };
}

export type ErrorLogger = (message: string, error: unknown) => void;

/** Transport-neutral form: the status, extra headers and the error document. */
export function describeError(error: unknown, context: { requestId: string; log: ErrorLogger }): ErrorDocument {
  if (error instanceof BrokerError) {
    const headers: Record<string, string> = { ...error.headers };
    if (error.retryAfterSeconds !== undefined) headers['retry-after'] = String(error.retryAfterSeconds);
    if (error.status >= 500) context.log(`${context.requestId} ${error.code}: ${error.message}`, error.cause ?? error);
    return { status: error.status, headers, document: error.toDocument() };
  }
  context.log(`${context.requestId} unexpected error`, error);
  const description = error instanceof Error ? error.message : String(error);
  return { status: 500, headers: {}, document: { title: 'Internal server error', description } };
}

/** HTTP form: the document as the body, only when the client accepts JSON. */
export function errorReply(error: unknown, context: { requestId: string; acceptsJson: boolean; log: ErrorLogger }): ApiReply {
  const described = describeError(error, context);
  if (!context.acceptsJson) return { status: described.status, headers: described.headers };
  return { status: described.status, headers: described.headers, body: described.document };
}
