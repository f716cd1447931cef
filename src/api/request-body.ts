/**
 * Reading a request's JSON body with the reference's distinctions (zaqar-api-v2.md §1.7):
 * no body at all (no Content-Length) is "can not be empty", an empty body is "could not
 * be parsed", and only objects/arrays are documents. Operations ask for the document
 * type they expect; a WebSocket frame's already-decoded body skips the byte parsing.
 */
import { invalidBody } from './errors.js';
import { parseJsonBody, trustedJson, type JsonValue, type ParsedJson } from './json-body.js';
import type { ApiRequest } from './operation.js';
import { isPlainObject } from './validation.js';

/** Python's `if req.content_length:` — a body with at least one byte (or a decoded value). */
export function hasContent(request: ApiRequest): boolean {
  const body = request.body;
  if (body === null) return false;
  return 'json' in body ? true : body.bytes.length > 0;
}

/** The reference's `deserialize`: parses whatever body there is, or fails as it does. */
export function deserializeBody(request: ApiRequest): ParsedJson {
  const body = request.body;
  if (body === null) throw invalidBody('Request body can not be empty');
  if ('json' in body) return trustedJson(body.json);
  return parseJsonBody(body.bytes);
}

/** A body that must be a JSON object (`Document type not supported.` otherwise). */
export function objectBody(request: ApiRequest): { parsed: ParsedJson; object: { [key: string]: JsonValue } } {
  const parsed = deserializeBody(request);
  if (!isPlainObject(parsed.value)) throw invalidBody('Document type not supported.');
  return { parsed, object: parsed.value };
}
