/**
 * Black-box: the service endpoints and the request checks every /v2 call passes
 * (zaqar-api-v2.md §1, §3), against a real `zaqar-ts serve` process on LMDB: version
 * and home documents, ping, admin-only health, routing (404/405/OPTIONS), request ids,
 * the check order of §1.4 and pre-signed URLs end to end.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { LaunchedServer } from '../support/server-launcher.js';
import { errorOf, ZaqarHttp } from '../support/zaqar-http.js';

let server: LaunchedServer;
let plainServer: LaunchedServer;
let zaqar: ZaqarHttp;

beforeAll(async () => {
  [server, plainServer] = await Promise.all([
    LaunchedServer.start({ config: { admin_mode: true, signed_url: { secret_key: 'test' } } }),
    LaunchedServer.start(),
  ]);
  zaqar = new ZaqarHttp(server.url);
});
afterAll(async () => {
  await Promise.all([server?.stop(), plainServer?.stop()]);
});

describe('service endpoints', () => {
  test('GET / answers 300 with the v2 version document, no headers needed', async () => {
    const reply = await fetch(`${server.url}/`);
    expect(reply.status).toBe(300);
    const body = (await reply.json()) as { versions: Array<{ id: string; links: unknown }> };
    expect(body.versions.map((v) => v.id)).toEqual(['2']);
    expect(body.versions[0]?.links).toEqual([{ href: '/v2/', rel: 'self' }]);
  });

  test('GET /v2/ serves the json-home document, with admin entries only in admin mode', async () => {
    const reply = await zaqar.get('/v2/');
    expect(reply.status).toBe(200);
    expect(reply.headers.get('content-type')).toBe('application/json-home');
    expect(reply.headers.get('cache-control')).toBe('max-age=86400');
    const resources = (reply.body as { resources: Record<string, unknown> }).resources;
    expect(resources['rel/queues']).toMatchObject({ 'href-template': '/v2/queues{?marker,limit,detailed}' });
    expect(resources['rel/health']).toEqual({ href: '/v2/health', hints: { allow: ['GET'], formats: { 'application/json': {} } } });
    const plain = await new ZaqarHttp(plainServer.url).get('/v2/');
    expect((plain.body as { resources: Record<string, unknown> }).resources['rel/health']).toBeUndefined();
  });

  test('ping answers 204 to GET and HEAD', async () => {
    expect((await zaqar.get('/v2/ping')).status).toBe(204);
    const head = await zaqar.call('HEAD', '/v2/ping');
    expect(head.status).toBe(204);
    expect(head.text).toBe('');
  });

  test('health needs the admin role and reports every exercised operation', async () => {
    const denied = await zaqar.get('/v2/health');
    expect(denied.status).toBe(403);
    expect(denied.body).toEqual({ title: 'Not authorized', description: 'You are not authorized to complete this action.' });
    const reply = await zaqar.get('/v2/health', { headers: { 'X-Roles': 'member,admin' } });
    expect(reply.status).toBe(200);
    const body = reply.body as { storage_reachable: boolean; operation_status: Record<string, { succeeded: boolean }>; message_volume: object };
    expect(body.storage_reachable).toBe(true);
    expect(Object.keys(body.operation_status).sort()).toEqual(['bulk_delete_messages', 'claim_messages', 'create_queue',
      'delete_claim', 'delete_messages', 'delete_queue', 'list_messages', 'post_messages']);
    expect(Object.values(body.operation_status).every((s) => s.succeeded)).toBe(true);
    expect(body.message_volume).toEqual({ free: 90, claimed: 10, total: 100 });
    expect((await new ZaqarHttp(plainServer.url).get('/v2/health', { headers: { 'X-Roles': 'admin' } })).status).toBe(404);
  });

  test('every response carries a fresh x-openstack-request-id', async () => {
    const a = await zaqar.get('/v2/ping');
    const b = await zaqar.get('/v2/nope');
    const pattern = /^req-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
    expect(a.headers.get('x-openstack-request-id')).toMatch(pattern);
    expect(b.headers.get('x-openstack-request-id')).toMatch(pattern);
    expect(a.headers.get('x-openstack-request-id')).not.toBe(b.headers.get('x-openstack-request-id'));
  });
});

describe('routing', () => {
  test('unknown paths are 404 with the bare title; trailing slashes matter', async () => {
    for (const path of ['/v2/nope', '/v2/queues/', '/v2', '/v2/queues/q/messages/a/b']) {
      const reply = await zaqar.get(path);
      expect(reply.status, path).toBe(404);
      expect(reply.body).toEqual({ title: '404 Not Found' });
    }
  });

  test('a known path with another method is 405 with Allow; HEAD on a queue is 405', async () => {
    const reply = await zaqar.call('HEAD', '/v2/queues/q1');
    expect(reply.status).toBe(405);
    expect(reply.headers.get('allow')).toBe('GET, PUT, PATCH, DELETE, OPTIONS');
    const post = await zaqar.post('/v2/queues/q1', { json: {} });
    expect(post.status).toBe(405);
    expect(post.body).toEqual({ title: '405 Method Not Allowed' });
    const options = await zaqar.call('OPTIONS', '/v2/queues/q1/claims');
    expect(options.status).toBe(200);
    expect(options.headers.get('allow')).toBe('POST, OPTIONS');
  });
});

describe('request checks (§1.4)', () => {
  const bareHeaders = { 'Client-ID': '3381af92-2b9e-11e3-b191-71861300734c', 'X-Project-ID': 'p' };

  test('Client-ID must be present and a UUID in any of its spellings', async () => {
    const missing = await fetch(`${server.url}/v2/queues`, { headers: { 'X-Project-ID': 'p' } });
    expect(missing.status).toBe(400);
    expect(await missing.json()).toEqual({ title: 'Missing header value', description: 'The "Client-Id" header is required.' });
    const bad = await zaqar.get('/v2/queues', { headers: { 'Client-ID': 'definitely-not-a-uuid' } });
    expect(bad.body).toEqual({ title: 'Wrong UUID value', description: 'Malformed hexadecimal UUID.' });
    const undashed = await zaqar.get('/v2/queues', { headers: { 'Client-ID': '3381af922b9e11e3b19171861300734c' } });
    expect(undashed.status).toBe(200);
  });

  test('X-Project-ID must be present and non-empty', async () => {
    const missing = await fetch(`${server.url}/v2/queues`, { headers: { 'Client-ID': bareHeaders['Client-ID'] } });
    expect(await missing.json()).toEqual({ title: 'Project-Id Missing', description: 'The header X-PROJECT-ID was missing' });
    const empty = await zaqar.get('/v2/queues', { headers: { 'X-Project-ID': '' } });
    expect(errorOf(empty).title).toBe('Empty project header not allowed');
    const long = await zaqar.get('/v2/queues/q', { headers: { 'X-Project-ID': 'x'.repeat(257) } });
    expect(long.status).toBe(400);
    expect(errorOf(long).title).toBe('Invalid queue identification');
  });

  test('the check order decides which error wins', async () => {
    // url-encoded body (2) beats Accept (3), which beats Client-ID (4) and project (5).
    const urlEncoded = await fetch(`${server.url}/v2/queues/q/messages`, {
      method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'text/html' }, body: 'a=1',
    });
    expect(urlEncoded.status).toBe(400);
    expect(await urlEncoded.text()).toBe(''); // errors carry a body only for clients accepting JSON
    const urlEncodedJson = await zaqar.post('/v2/queues/q/messages', { raw: 'a=1', headers: { 'Content-Type': 'application/x-www-form-urlencoded' } });
    expect(errorOf(urlEncodedJson).title).toBe('Invalid Content-Type');
    const notAcceptable = await fetch(`${server.url}/v2/queues/bad name!`, { headers: { Accept: 'application/xml' } });
    expect(notAcceptable.status).toBe(406);
    expect(await notAcceptable.text()).toBe('');
    const nameAfterProject = await fetch(`${server.url}/v2/queues/bad!`, { headers: { 'Client-ID': bareHeaders['Client-ID'] } });
    expect(((await nameAfterProject.json()) as { title: string }).title).toBe('Project-Id Missing');
    const policyAfterName = await fetch(`${server.url}/v2/queues/bad!`, { headers: bareHeaders });
    expect(((await policyAfterName.json()) as { title: string }).title).toBe('Invalid queue identification');
    expect((await zaqar.get('/v2/queues/q/stats', { headers: { 'EXTRA-SPEC': 'messagecode:1' } })).status).toBe(200);
    const unknownPlugin = await zaqar.get('/v2/queues/q/stats', { headers: { 'EXTRA-SPEC': 'nosuch:1' } });
    expect(unknownPlugin.status).toBe(500);
    expect(errorOf(unknownPlugin).title).toBe('Internal server error');
    const plainRole = await zaqar.get('/v2/health', { headers: { 'EXTRA-SPEC': 'nosuch:1', 'X-Roles': 'member' } });
    expect(plainRole.status).toBe(500); // EXTRA-SPEC (8) is checked before the policy (9)
  });
});

describe('pre-signed URLs', () => {
  test('share signs the queue paths and the signature grants exactly what it names', async () => {
    const owner = new ZaqarHttp(server.url);
    const share = await owner.post('/v2/queues/shared/share', { json: { paths: ['messages', 'claims'], methods: ['POST', 'GET'] } });
    expect(share.status).toBe(200);
    const doc = share.body as { project: string; paths: string[]; methods: string[]; expires: string; signature: string };
    expect(doc.project).toBe(owner.project);
    expect(doc.paths).toEqual(['/v2/queues/shared/claims', '/v2/queues/shared/messages']);
    expect(doc.methods).toEqual(['GET', 'POST']);
    expect(doc.expires).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$/);
    const signed = {
      'URL-Signature': doc.signature, 'URL-Methods': doc.methods.join(','), 'URL-Paths': doc.paths.join(','),
      'URL-Expires': doc.expires, 'X-Project-ID': doc.project,
    };
    const guest = new ZaqarHttp(server.url, doc.project);
    expect((await guest.post('/v2/queues/shared/messages', { json: { messages: [{ body: 1 }] }, headers: signed })).status).toBe(201);
    expect((await guest.get('/v2/queues/shared/messages?echo=true', { headers: signed })).status).toBe(200);
    for (const tampered of [{ 'URL-Signature': '0'.repeat(64) }, { 'URL-Methods': 'DELETE' }, { 'X-Project-ID': 'other' }]) {
      const reply = await guest.get('/v2/queues/shared/messages', { headers: { ...signed, ...tampered } });
      expect(reply.status).toBe(404);
      expect(reply.body).toEqual({ title: '404 Not Found' });
    }
    expect((await guest.get('/v2/queues/other/messages', { headers: signed })).status).toBe(404);
  });

  test('share validates its body and needs a configured key', async () => {
    const cases: Array<[unknown, string]> = [
      [{ project: 'x' }, "Unknown keys: {'project'}"],
      [{ paths: ['queues'] }, "Invalid paths: {'queues'}"],
      [{ methods: 'GET' }, '`methods` should be a list'],
      [{ expires: '1000' }, '`expires` should be date format, for example 2016-01-01T00:00:00, not integer value: 1000'],
      [{ expires: '2001-01-01T00:00:00' }, '`expires` is lower than the current time'],
    ];
    for (const [json, description] of cases) {
      const reply = await zaqar.post('/v2/queues/q/share', { json });
      expect(reply.status).toBe(400);
      expect(reply.body).toEqual({ title: 'Invalid API request', description });
    }
    const noKey = await new ZaqarHttp(plainServer.url).post('/v2/queues/q/share', { json: {} });
    expect(noKey.body).toEqual({ title: 'Invalid API request', description: "The `key` can't be None" });
    const noBody = await zaqar.post('/v2/queues/q/share');
    expect(noBody.status).toBe(400);
  });
});
