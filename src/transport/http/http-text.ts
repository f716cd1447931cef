/**
 * The small textual pieces of HTTP the transport needs: query-string decoding (repeated
 * keys keep every value, `+` is a space, malformed escapes are kept verbatim rather
 * than failing the request) and status lines.
 */
import type { QueryParams } from '../../api/operation.js';

const queryKeysMax = 256;

export function parseQuery(raw: string): QueryParams {
  const query = new Map<string, string[]>();
  if (raw === '') return query;
  for (const pair of raw.split('&').slice(0, queryKeysMax)) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    const key = decode(eq === -1 ? pair : pair.slice(0, eq));
    const value = eq === -1 ? '' : decode(pair.slice(eq + 1));
    const values = query.get(key);
    if (values === undefined) query.set(key, [value]);
    else values.push(value);
  }
  return query;
}

function decode(text: string): string {
  const spaced = text.replace(/\+/g, ' ');
  try {
    return decodeURIComponent(spaced);
  } catch {
    return spaced;
  }
}

const reasons: Readonly<Record<number, string>> = {
  200: 'OK', 201: 'Created', 204: 'No Content', 300: 'Multiple Choices', 304: 'Not Modified',
  400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 405: 'Method Not Allowed',
  406: 'Not Acceptable', 409: 'Conflict', 413: 'Payload Too Large', 415: 'Unsupported Media Type',
  500: 'Internal Server Error', 503: 'Service Unavailable',
};

export function statusLine(status: number): string {
  return `${status} ${reasons[status] ?? 'Unknown'}`;
}
