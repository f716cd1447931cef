/**
 * Pre-signed URLs against the real server process (zaqar-semantics.md §10,
 * zaqar-websocket.md §7.3): a genuine signature grants exactly the methods and paths it
 * names for its own project, and every way of stepping outside it gets nothing — over
 * HTTP a bare `404 {"title": "404 Not Found"}` (§10.2), over WebSocket the protocol's
 * 403 `{"error": "Not authentified."}` (§10.3). Signatures for expired instants are
 * computed here with the algorithm of §10.1, since the share endpoint refuses to mint
 * them; the test signs with the server's configured secret.
 */
import { createHmac, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { LaunchedServer } from '../support/server-launcher.js';
import { ZaqarHttp } from '../support/zaqar-http.js';
import { exchange, RawWs } from '../ws/raw-ws.js';

const secretKey = 'security-test-key';
let server: LaunchedServer;
let owner: ZaqarHttp;
let messageId: string;

interface Signed {
  readonly project: string;
  readonly paths: string[];
  readonly methods: string[];
  readonly expires: string;
  readonly signature: string;
}

function sign(input: Omit<Signed, 'signature'>): Signed {
  const text = [[...input.paths].sort().join(','), [...input.methods].sort().join(','), input.project, input.expires].join('\\n');
  return { ...input, signature: createHmac('sha256', secretKey).update(text, 'utf8').digest('hex') };
}

function httpHeaders(signed: Signed, overrides: Record<string, string> = {}): Record<string, string> {
  return {
    'X-Project-ID': signed.project,
    'URL-Signature': signed.signature,
    'URL-Expires': signed.expires,
    'URL-Methods': signed.methods.join(','),
    'URL-Paths': signed.paths.join(','),
    ...overrides,
  };
}

/** A client holding only the signed URL: no token, its own Client-ID. */
function stranger(project: string): ZaqarHttp {
  return new ZaqarHttp(server.url, project);
}

beforeAll(async () => {
  server = await LaunchedServer.start({ config: { signed_url: { secret_key: secretKey } } });
  owner = new ZaqarHttp(server.url);
  expect((await owner.put('/v2/queues/shared')).status).toBe(201);
  expect((await owner.put('/v2/queues/private')).status).toBe(201);
  [messageId = ''] = await owner.postMessages('shared', [{ body: { n: 1 }, ttl: 600 }]);
  await owner.postMessages('private', [{ body: { secret: true }, ttl: 600 }]);
}, 60_000);

afterAll(async () => {
  await server?.stop();
});

async function share(methods: string[]): Promise<Signed> {
  const reply = await owner.post('/v2/queues/shared/share', { json: { methods, paths: ['messages'] } });
  expect(reply.status).toBe(200);
  return reply.body as Signed;
}

describe('pre-signed URLs over HTTP', () => {
  test('a genuine signature reads the shared queue, and a message below the signed path', async () => {
    const signed = await share(['GET']);
    const client = stranger(signed.project);
    const list = await client.get('/v2/queues/shared/messages?echo=true', { headers: httpHeaders(signed) });
    expect(list.status).toBe(200);
    const one = await client.get(`/v2/queues/shared/messages/${messageId}`, { headers: httpHeaders(signed) });
    expect(one.status).toBe(200);
  });

  test('every tampering, expiry, method, path or project outside the signature answers a bare 404', async () => {
    const signed = await share(['GET']);
    const expired = sign({ ...signed, expires: '2000-01-01T00:00:00' });
    const cases: Array<{ name: string; method: string; path: string; headers: Record<string, string> }> = [
      { name: 'flipped signature', method: 'GET', path: '/v2/queues/shared/messages',
        headers: httpHeaders(signed, { 'URL-Signature': flipLastHex(signed.signature) }) },
      { name: 'truncated signature', method: 'GET', path: '/v2/queues/shared/messages',
        headers: httpHeaders(signed, { 'URL-Signature': signed.signature.slice(0, 32) }) },
      { name: 'expiry moved later', method: 'GET', path: '/v2/queues/shared/messages',
        headers: httpHeaders(signed, { 'URL-Expires': '2999-01-01T00:00:00' }) },
      { name: 'expired but correctly signed', method: 'GET', path: '/v2/queues/shared/messages', headers: httpHeaders(expired) },
      { name: 'integer expiry', method: 'GET', path: '/v2/queues/shared/messages',
        headers: httpHeaders(signed, { 'URL-Expires': '4102444800' }) },
      { name: 'method not signed', method: 'DELETE', path: `/v2/queues/shared/messages/${messageId}`, headers: httpHeaders(signed) },
      { name: 'method added to the header', method: 'POST', path: '/v2/queues/shared/messages',
        headers: httpHeaders(signed, { 'URL-Methods': 'GET,POST' }) },
      { name: 'path outside the signature', method: 'GET', path: '/v2/queues/private/messages', headers: httpHeaders(signed) },
      { name: 'path swapped in the header', method: 'GET', path: '/v2/queues/private/messages',
        headers: httpHeaders(signed, { 'URL-Paths': '/v2/queues/private/messages' }) },
      { name: 'queue path prefix trick', method: 'GET', path: '/v2/queues/shared-other/messages', headers: httpHeaders(signed) },
      { name: 'another project', method: 'GET', path: '/v2/queues/shared/messages',
        headers: httpHeaders(signed, { 'X-Project-ID': `${signed.project}-x` }) },
      { name: 'no project header', method: 'GET', path: '/v2/queues/shared/messages',
        headers: (({ 'X-Project-ID': _, ...rest }) => rest)(httpHeaders(signed)) },
    ];
    for (const c of cases) {
      const reply = await stranger('unused').call(c.method, c.path, { headers: c.headers });
      expect({ name: c.name, status: reply.status, body: reply.body }).toEqual({ name: c.name, status: 404, body: { title: '404 Not Found' } });
    }
    // Nothing was deleted or posted by the refused requests.
    const after = await owner.get('/v2/queues/shared/messages?echo=true');
    expect((after.body as { messages: unknown[] }).messages).toHaveLength(1);
  });

  test("a signature for one project's queue does not open another project's queue of the same name", async () => {
    const other = owner.as(`p-${randomUUID()}`);
    expect((await other.put('/v2/queues/shared')).status).toBe(201);
    await other.postMessages('shared', [{ body: { theirs: true }, ttl: 600 }]);
    const signed = await share(['GET']);
    const mine = await stranger(signed.project).get('/v2/queues/shared/messages?echo=true', { headers: httpHeaders(signed) });
    expect(JSON.stringify(mine.body)).not.toContain('theirs');
    const theirs = await stranger(other.project).get('/v2/queues/shared/messages?echo=true',
      { headers: httpHeaders(signed, { 'X-Project-ID': other.project }) });
    expect(theirs.status).toBe(404);
  });
});

describe('pre-signed access over WebSocket', () => {
  let ws: RawWs;

  beforeAll(async () => {
    ws = await RawWs.open(`${server.url.replace(/^http/, 'ws')}/`);
  });

  afterAll(async () => {
    await ws?.close();
  });

  function wsHeaders(signed: Signed, overrides: Record<string, unknown> = {}): Record<string, unknown> {
    return {
      'Client-ID': randomUUID(), 'X-Project-ID': signed.project, 'URL-Signature': signed.signature,
      'URL-Expires': signed.expires, 'URL-Methods': signed.methods, 'URL-Paths': signed.paths, ...overrides,
    };
  }

  test('a genuine signature lists the shared queue in both encodings', async () => {
    const signed = await share(['GET']);
    for (const encoding of ['json', 'msgpack'] as const) {
      const frame = await exchange(ws, { action: 'message_list', headers: wsHeaders(signed), body: { queue_name: 'shared', echo: true } }, encoding);
      expect((frame.document as { headers: { status: number } }).headers.status).toBe(200);
    }
  });

  test('tampered, expired, unsigned-method, other-path, other-project and non-message frames get 403 Not authentified', async () => {
    const signed = await share(['GET']);
    const expired = sign({ ...signed, expires: '2000-01-01T00:00:00' });
    const cases: Array<{ name: string; action: string; headers: Record<string, unknown>; body: Record<string, unknown> }> = [
      { name: 'flipped signature', action: 'message_list', headers: wsHeaders(signed, { 'URL-Signature': flipLastHex(signed.signature) }),
        body: { queue_name: 'shared' } },
      { name: 'expired', action: 'message_list', headers: wsHeaders(expired), body: { queue_name: 'shared' } },
      { name: 'method not signed', action: 'message_delete', headers: wsHeaders(signed), body: { queue_name: 'shared', message_id: messageId } },
      { name: 'method added', action: 'message_post', headers: wsHeaders(signed, { 'URL-Methods': ['GET', 'POST'] }),
        body: { queue_name: 'shared', messages: [{ body: 1, ttl: 60 }] } },
      { name: 'queue outside the signed paths', action: 'message_list', headers: wsHeaders(signed), body: { queue_name: 'private' } },
      { name: 'another project', action: 'message_list', headers: wsHeaders(signed, { 'X-Project-ID': 'intruder' }),
        body: { queue_name: 'shared' } },
      { name: 'not a message action', action: 'queue_delete', headers: wsHeaders(signed), body: { queue_name: 'shared' } },
    ];
    for (const c of cases) {
      for (const encoding of ['json', 'msgpack'] as const) {
        const frame = await exchange(ws, { action: c.action, headers: c.headers, body: c.body }, encoding);
        const document = frame.document as { headers: { status: number }; body: unknown };
        expect({ name: c.name, encoding, status: document.headers.status, body: document.body })
          .toEqual({ name: c.name, encoding, status: 403, body: { error: 'Not authentified.' } });
      }
    }
    const after = await owner.get('/v2/queues/shared/messages?echo=true');
    expect((after.body as { messages: unknown[] }).messages).toHaveLength(1);
    expect((await owner.get('/v2/queues/shared')).status).toBe(200);
  });
});

function flipLastHex(signature: string): string {
  const last = signature.at(-1) === '0' ? '1' : '0';
  return `${signature.slice(0, -1)}${last}`;
}
