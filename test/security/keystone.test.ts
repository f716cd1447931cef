/**
 * `auth_strategy = keystone` end to end: Debian's real Keystone (keystone-fixture.ts)
 * and the real server process. Over HTTP: no or a bad token gets keystonemiddleware's
 * 401; the project and roles come from the token, never from X-Project-ID / X-Roles;
 * the admin role opens the admin-only health endpoint; `GET /` and signed URLs need no
 * token; a revoked token stops working once the validation cache (2 s here) lapses; an
 * expired token is refused. Over WebSocket: frames before `authenticate` get 403, a bad
 * token 401 "Authentication failed.", a frame naming another project 403, and the
 * socket closes with 4003 when its token expires — at the expiry of the latest
 * `authenticate`, which replaced the first one's deadline.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { LaunchedServer } from '../support/server-launcher.js';
import { ZaqarHttp } from '../support/zaqar-http.js';
import { exchange, RawWs } from '../ws/raw-ws.js';
import { KeystoneFixture, type IssuedToken } from './keystone-fixture.js';

const tokenLifetimeSeconds = 40;
let keystone: KeystoneFixture;
let server: LaunchedServer;
let projectA = '';
let projectB = '';

const alice = { user: 'alice', password: 'alice-pw', project: 'project-a' };
const bob = { user: 'bob', password: 'bob-pw', project: 'project-b' };

beforeAll(async () => {
  keystone = await KeystoneFixture.start({ tokenLifetimeSeconds });
  projectA = await keystone.projectWithUser({ ...alice, role: 'member' });
  projectB = await keystone.projectWithUser({ ...bob, role: 'member' });
  const service = keystone.adminCredentials;
  server = await LaunchedServer.start({ config: {
    auth_strategy: 'keystone',
    admin_mode: true,
    signed_url: { secret_key: 'keystone-suite-key' },
    keystone_authtoken: {
      auth_url: keystone.url, username: service.username, password: service.password, project_name: service.project,
      token_cache_time: 2,
    },
  } });
}, 600_000);

afterAll(async () => {
  await server?.stop();
  keystone?.stop();
});

function tokenOf(who: { user: string; password: string; project: string }): Promise<IssuedToken> {
  return keystone.token(who.user, who.password, who.project);
}

/** A client sending a token; its own X-Project-ID header is deliberately wrong. */
function client(token: string | undefined, claimedProject = `claimed-${randomUUID()}`): ZaqarHttp {
  return withToken(new ZaqarHttp(server.url, claimedProject), token);
}

function withToken(http: ZaqarHttp, token: string | undefined): ZaqarHttp {
  const call = http.call.bind(http);
  http.call = (method, path, options = {}) => call(method, path, {
    ...options, headers: { ...(token === undefined ? {} : { 'X-Auth-Token': token }), ...options.headers },
  });
  return http;
}

async function waitUntil(predicate: () => Promise<boolean>, what: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

const unauthorizedBody = { error: { code: 401, title: 'Unauthorized', message: 'The request you have made requires authentication.' } };

describe('Keystone over HTTP', () => {
  test('no token or a bad token gets keystonemiddleware\'s 401; GET / needs none', async () => {
    for (const token of [undefined, 'not-a-token', '']) {
      const reply = await client(token).get('/v2/queues');
      expect(reply.status).toBe(401);
      expect(reply.body).toEqual(unauthorizedBody);
      expect(reply.headers.get('www-authenticate')).toContain('Keystone uri=');
    }
    expect((await fetch(`${server.url}/`)).status).toBe(300);
  });

  test('the project and roles come from the token, not from the headers', async () => {
    const a = await tokenOf(alice);
    const b = await tokenOf(bob);
    const asAlice = client(a.token, projectB);
    const created = await asAlice.put('/v2/queues/alice-q', { headers: { 'X-Roles': 'admin' } });
    expect(created.status).toBe(201);
    const mine = await client(a.token).get('/v2/queues');
    expect((mine.body as { queues: Array<{ name: string }> }).queues.map((q) => q.name)).toEqual(['alice-q']);
    const theirs = await client(b.token, projectA).get('/v2/queues');
    expect(theirs.status).toBe(200);
    expect((theirs.body as { queues: unknown[] }).queues).toEqual([]);
    expect((await asAlice.get('/v2/health', { headers: { 'X-Roles': 'admin' } })).status).toBe(403);
    const admin = await keystone.adminToken();
    expect((await client(admin.token).get('/v2/health')).status).toBe(200);
  });

  test('a signed URL needs no token', async () => {
    const a = await tokenOf(alice);
    await client(a.token).postMessages('alice-q', [{ body: 1, ttl: 300 }]);
    const share = await client(a.token).post('/v2/queues/alice-q/share', { json: { methods: ['GET'] } });
    const signed = share.body as { project: string; paths: string[]; methods: string[]; expires: string; signature: string };
    expect(signed.project).toBe(projectA);
    const reply = await new ZaqarHttp(server.url, signed.project).get('/v2/queues/alice-q/messages?echo=true', { headers: {
      'URL-Signature': signed.signature, 'URL-Expires': signed.expires, 'URL-Methods': signed.methods.join(','),
      'URL-Paths': signed.paths.join(','),
    } });
    expect(reply.status).toBe(200);
    expect((reply.body as { messages: unknown[] }).messages).toHaveLength(1);
  });

  test('a revoked token stops working once the validation cache lapses', async () => {
    const a = await tokenOf(alice);
    expect((await client(a.token).get('/v2/queues')).status).toBe(200);
    await keystone.revoke(a.token);
    await waitUntil(async () => (await client(a.token).get('/v2/queues')).status === 401, 'the revoked token refused');
  });
});

describe('Keystone over WebSocket', () => {
  test('frames need authenticate; a bad token fails; the token\'s project only', async () => {
    const ws = await RawWs.open(`${server.url.replace(/^http/, 'ws')}/`);
    try {
      const headers = { 'Client-ID': randomUUID(), 'X-Project-ID': projectA };
      const before = await exchange(ws, { action: 'queue_list', headers }, 'json');
      expect(before.document).toMatchObject({ headers: { status: 403 }, body: { error: 'Not authentified.' } });
      const bad = await exchange(ws, { action: 'authenticate', headers: { ...headers, 'X-Auth-Token': 'nope' } }, 'msgpack');
      expect(bad.document).toMatchObject({ headers: { status: 401 }, body: { error: 'Authentication failed.' } });
      const a = await tokenOf(alice);
      const good = await exchange(ws, { action: 'authenticate', headers: { ...headers, 'X-Auth-Token': a.token } }, 'json');
      expect(good.document).toMatchObject({ headers: { status: 200 }, body: { message: 'Authentified.' } });
      const list = await exchange(ws, { action: 'queue_list', headers }, 'msgpack');
      expect(list.document).toMatchObject({ headers: { status: 200 } });
      expect(JSON.stringify(list.document)).toContain('alice-q');
      const other = await exchange(ws, { action: 'queue_list', headers: { ...headers, 'X-Project-ID': projectB } }, 'json');
      expect(other.document).toMatchObject({ headers: { status: 403 } });
    } finally {
      await ws.close();
    }
  });

  test('the socket closes with 4003 at the expiry of its latest token; the expired token is refused over HTTP', async () => {
    const ws = await RawWs.open(`${server.url.replace(/^http/, 'ws')}/`);
    const headers = { 'Client-ID': randomUUID(), 'X-Project-ID': projectA };
    const first = await tokenOf(alice);
    expect((await exchange(ws, { action: 'authenticate', headers: { ...headers, 'X-Auth-Token': first.token } }, 'json')).document)
      .toMatchObject({ headers: { status: 200 } });
    // Keystone's expiries have whole seconds: wait until a new token must expire later.
    await waitUntil(async () => Date.now() >= first.expiresAtMs - tokenLifetimeSeconds * 1000 + 2000, 'two seconds');
    const second = await tokenOf(alice);
    expect(second.expiresAtMs).toBeGreaterThan(first.expiresAtMs);
    expect((await exchange(ws, { action: 'authenticate', headers: { ...headers, 'X-Auth-Token': second.token } }, 'json')).document)
      .toMatchObject({ headers: { status: 200 } });
    const closed = await ws.closed;
    const closedAtMs = Date.now();
    expect(closed).toEqual({ code: 4003, reason: 'Authentication expired.' });
    expect(closedAtMs).toBeGreaterThan(first.expiresAtMs);
    expect((await client(first.token).get('/v2/queues')).status).toBe(401);
  }, 120_000);
});
