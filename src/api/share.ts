/**
 * `POST /v2/queues/{q}/share` (zaqar-api-v2.md §5.7): mints a pre-signed URL for paths
 * of one queue, bound to the caller's project. The queue's existence is not checked,
 * as in the reference. Error texts mirror the reference's (Python set reprs included).
 */
import { invalidBody, invalidRequest } from './errors.js';
import type { JsonValue } from './json-body.js';
import { reply, type Operation } from './operation.js';
import { deserializeBody } from './request-body.js';
import { formatExpires, isIntegerLike, parseExpires, signUrl } from './signed-urls.js';

const knownKeys = new Set(['methods', 'expires', 'paths']);
const shareablePaths = new Set(['messages', 'subscriptions', 'claims']);
const defaultLifetimeMs = 24 * 3600 * 1000;

function pythonSet(items: readonly unknown[]): string {
  return `{${items.map((i) => (typeof i === 'string' ? `'${i}'` : JSON.stringify(i))).join(', ')}}`;
}

export const shareQueue: Operation = {
  policy: 'queues:share',
  hasQueue: true,
  isScoped: true,
  async run(call) {
    const document = deserializeBody(call.request).value;
    if (Array.isArray(document)) throw invalidBody('Document type not supported.');
    const doc = document as { [key: string]: JsonValue };
    const unknown = Object.keys(doc).filter((k) => !knownKeys.has(k));
    if (unknown.length > 0) throw invalidRequest(`Unknown keys: ${pythonSet(unknown)}`);
    const queuePath = `/v2/queues/${call.request.params['queue_name'] ?? ''}`;
    const paths = sharePaths(doc['paths'], queuePath);
    const secretKey = call.api.options.signedUrlSecretKey;
    if (secretKey === undefined) throw invalidRequest("The `key` can't be None");
    const methods = isTruthy(doc['methods']) ? doc['methods'] : ['GET'];
    if (!Array.isArray(methods)) throw invalidRequest('`methods` should be a list');
    const nowMs = call.api.clock.nowMs();
    const expiresMs = shareExpiry(doc['expires'], nowMs);
    const project = call.caller.project;
    const expiresText = formatExpires(expiresMs);
    const sortedPaths = [...paths].sort();
    const sortedMethods = methods.map(String).sort();
    const signature = signUrl(secretKey, { paths: sortedPaths, methods: sortedMethods, project, expiresText });
    return reply(200, { project, paths: sortedPaths, methods: sortedMethods, expires: expiresText, signature });
  },
};

function isTruthy(value: JsonValue | undefined): boolean {
  return !(value === undefined || value === null || value === false || value === 0 || value === '' ||
    (Array.isArray(value) && value.length === 0));
}

function sharePaths(given: JsonValue | undefined, queuePath: string): string[] {
  if (!isTruthy(given)) return [`${queuePath}/messages`];
  const items = Array.isArray(given) ? given : typeof given === 'string' ? [...given] : [given];
  const invalid = [...new Set(items)].filter((p) => typeof p !== 'string' || !shareablePaths.has(p));
  if (invalid.length > 0) throw invalidRequest(`Invalid paths: ${pythonSet(invalid)}`);
  return (items as string[]).map((p) => `${queuePath}/${p}`);
}

function shareExpiry(given: JsonValue | undefined, nowMs: number): number {
  if (given === undefined || given === null) return nowMs + defaultLifetimeMs;
  if (typeof given === 'number' && Number.isInteger(given) && given !== 0) {
    throw invalidRequest(`\`expires\` should be date format, for example 2016-01-01T00:00:00, not integer value: ${given}`);
  }
  if (typeof given === 'string' && isIntegerLike(given) && Number(given) !== 0) {
    throw invalidRequest(
      `\`expires\` should be date format, for example 2016-01-01T00:00:00, not integer value: ${Number(given)}`);
  }
  const expiresMs = typeof given === 'string' ? parseExpires(given) : undefined;
  if (expiresMs === undefined) throw invalidRequest(`Unable to parse date string ${JSON.stringify(given)}`);
  if (expiresMs <= nowMs) throw invalidRequest('`expires` is lower than the current time');
  return expiresMs;
}
