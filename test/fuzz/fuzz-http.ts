/**
 * The HTTP fuzzer: one random request (method, path from the route grammar with
 * mutations, query string, headers, body) sent with node:http so paths reach the
 * server unnormalised. An answer passes when it is below 500 and, if it has a body,
 * the body is JSON with a string `title` (errors) — the catalogue's shape; a method uWS
 * does not parse may instead close the connection. Requests the client library itself
 * refuses to send are skipped, not counted.
 */
import { request } from 'node:http';
import { anyClientId, deepJson, fuzzJson, fuzzString, type FuzzRandom } from './fuzz-gen.js';

export interface FuzzOutcome {
  readonly ok: boolean;
  readonly what: string;
}

const methods = ['GET', 'PUT', 'POST', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS', 'TRACE', 'FOO', 'get'];
const standardMethods = new Set(['GET', 'PUT', 'POST', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS', 'TRACE']);
const tails = ['', '/stats', '/share', '/purge', '/messages', '/messages/abc', '/claims', '/claims/abc', '/subscriptions',
  '/subscriptions/abc', '/subscriptions/abc/confirm', '/messages/0123456789abcdef01234567'];

function fuzzPath(rng: FuzzRandom): string {
  const roll = rng.int(10);
  if (roll === 0) return rng.pick(['/', '/v2', '/v2/', '/v2/ping', '/v2/health', '/v2/queues', '/v2/topics', '/v1/queues', '//v2/queues']);
  if (roll === 1) return `/v2/${encodeURIComponent(fuzzString(rng))}`;
  const queue = rng.chance(0.7) ? `q${rng.int(4)}` : encodeURIComponent(fuzzString(rng));
  const base = rng.chance(0.85) ? '/v2/queues' : '/v2/topics';
  return `${base}/${queue}${rng.pick(tails)}${rng.chance(0.05) ? '/' : ''}`;
}

function fuzzQuery(rng: FuzzRandom): string {
  if (rng.chance(0.4)) return '';
  const keys = ['limit', 'marker', 'echo', 'include_claimed', 'detailed', 'ids', 'pop', 'claim_id', 'with_count', 'name', fuzzString(rng)];
  const parts = Array.from({ length: 1 + rng.int(3) }, () => `${encodeURIComponent(rng.pick(keys))}=${encodeURIComponent(fuzzString(rng))}`);
  return `?${parts.join('&')}`;
}

function fuzzHeaders(rng: FuzzRandom, project: string): Record<string, string> {
  const headers: Record<string, string> = {};
  if (rng.chance(0.9)) headers['Client-ID'] = anyClientId(rng);
  if (rng.chance(0.9)) headers['X-Project-ID'] = rng.chance(0.9) ? project : rng.pick(['', 'x'.repeat(300), 'fz-other']);
  if (rng.chance(0.2)) headers['Accept'] = rng.pick(['*/*', 'application/json', 'text/html', 'application/*;q=0', 'garbage']);
  if (rng.chance(0.3)) {
    headers['Content-Type'] = rng.pick(['application/json', 'application/x-www-form-urlencoded',
      'application/openstack-messaging-v2.0-json-patch', 'text/plain', '']);
  }
  if (rng.chance(0.05)) headers['URL-Signature'] = rng.pick(['00', 'a'.repeat(64)]);
  if (rng.chance(0.05)) headers['URL-Expires'] = rng.pick(['2100-01-01T00:00:00', 'x', '4102444800']);
  if (rng.chance(0.05)) headers['URL-Methods'] = 'GET';
  if (rng.chance(0.05)) headers['URL-Paths'] = rng.pick(['/v2/queues/q1/messages', '(', '.*']);
  if (rng.chance(0.05)) headers['X-Roles'] = 'admin';
  return headers;
}

function fuzzBody(rng: FuzzRandom): Buffer | undefined {
  switch (rng.int(6)) {
    case 0: return undefined;
    case 1: return Buffer.from(JSON.stringify(fuzzJson(rng)));
    case 2: return Buffer.from(JSON.stringify(fuzzJson(rng)).slice(0, rng.int(20)));
    case 3: return Buffer.from(rng.bytes(rng.int(64)));
    case 4: return Buffer.from(deepJson(1 + rng.int(5000)));
    default: return Buffer.from(JSON.stringify({ messages: [{ body: fuzzJson(rng), ttl: 60 + rng.int(1000) }] }));
  }
}

/** One request on a fresh connection (a reply that closes its connection cannot race a reused socket). */
export function fuzzHttpOnce(rng: FuzzRandom, options: { baseUrl: string; project: string }): Promise<FuzzOutcome | undefined> {
  const method = rng.pick(methods);
  const path = `${fuzzPath(rng)}${fuzzQuery(rng)}`;
  const headers = fuzzHeaders(rng, options.project);
  const body = fuzzBody(rng);
  // Frame the body explicitly: node:http sends an unframed body for GET/DELETE/…, which is a client bug, not a fuzz input.
  if (body !== undefined) headers['Content-Length'] = String(body.length);
  const what = `${method} ${path} ${JSON.stringify(headers)} body=${body === undefined ? 'none' : `${body.length}B`}`;
  const url = new URL(options.baseUrl);
  return new Promise((resolve) => {
    let req;
    try {
      req = request({ host: url.hostname, port: url.port, method, path, headers, agent: false, timeout: 30_000 }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve(judge(res.statusCode ?? 0, Buffer.concat(chunks).toString('utf8'), method, what)));
        res.on('error', () => resolve({ ok: false, what: `${what}: response aborted` }));
      });
    } catch {
      resolve(undefined); // node:http refuses to send it (invalid method or header characters)
      return;
    }
    req.on('timeout', () => req.destroy(new Error('timeout')));
    // uWS closes the connection, without an answer, on a method it does not parse (FOO, lower case): a clean close.
    req.on('error', (error) => resolve({ ok: !standardMethods.has(method) && error.message === 'socket hang up', what: `${what}: ${error.message}` }));
    req.end(body);
  });
}

function judge(status: number, text: string, method: string, what: string): FuzzOutcome {
  if (status < 200 || status >= 500) return { ok: false, what: `${what}: status ${status} ${text.slice(0, 200)}` };
  if (status >= 400 && text !== '' && method !== 'HEAD') {
    try {
      const document = JSON.parse(text) as { title?: unknown };
      if (typeof document.title !== 'string') return { ok: false, what: `${what}: ${status} without a title: ${text.slice(0, 200)}` };
    } catch {
      return { ok: false, what: `${what}: ${status} body is not JSON: ${text.slice(0, 200)}` };
    }
  }
  return { ok: true, what };
}
