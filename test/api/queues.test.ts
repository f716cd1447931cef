/**
 * Black-box: queue routes (zaqar-api-v2.md §4, §5) on a real server process on LMDB —
 * create/get with the reserved-metadata display rule, PATCH's JSON-patch subset with
 * its 415/409/400 rules, listing with paging, filters and counts, stats, purge, delete,
 * name rules and project isolation.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { LaunchedServer } from '../support/server-launcher.js';
import { errorOf, ZaqarHttp } from '../support/zaqar-http.js';

let server: LaunchedServer;
beforeAll(async () => {
  server = await LaunchedServer.start();
});
afterAll(async () => {
  await server?.stop();
});

const defaults = {
  _max_messages_post_size: 262144, _default_message_ttl: 3600, _default_message_delay: 0, _dead_letter_queue: null,
  _dead_letter_queue_messages_ttl: null, _max_claim_count: null, _enable_encrypt_messages: false,
};
const patchType = { 'Content-Type': 'application/openstack-messaging-v2.0-json-patch' };

describe('create and get', () => {
  test('PUT creates (201 + Location), a second PUT is 204 and does not change metadata', async () => {
    const zaqar = new ZaqarHttp(server.url);
    const first = await zaqar.put('/v2/queues/billing', { json: { description: 'billing', _default_message_ttl: 120 } });
    expect(first.status).toBe(201);
    expect(first.headers.get('location')).toBe('/v2/queues/billing');
    const second = await zaqar.put('/v2/queues/billing', { json: { description: 'changed' } });
    expect(second.status).toBe(204);
    const got = await zaqar.get('/v2/queues/billing');
    expect(got.body).toEqual({ ...defaults, description: 'billing', _default_message_ttl: 120 });
  });

  test('GET of a missing queue is 200 with the defaults; falsy reserved values show defaults', async () => {
    const zaqar = new ZaqarHttp(server.url);
    expect((await zaqar.get('/v2/queues/nowhere')).body).toEqual(defaults);
    await zaqar.put('/v2/queues/falsy', { json: { _max_claim_count: 0, _dead_letter_queue: '' } });
    expect((await zaqar.get('/v2/queues/falsy')).body).toEqual(defaults);
  });

  test('reserved metadata is validated on PUT with the reference messages', async () => {
    const zaqar = new ZaqarHttp(server.url);
    const cases: Array<[unknown, string]> = [
      [{ _default_message_ttl: 'x' }, '_default_message_ttl must be integer.'],
      [{ _default_message_ttl: 59 }, '_default_message_ttl can not exceed 1209600 seconds, and must be at least 60 seconds long.'],
      [{ _max_messages_post_size: 262145 }, '_max_messages_post_size can not exceed 262144,  and must be at least greater than 0.'],
      [{ _default_message_delay: 901 }, 'The TTL can not exceed 900 seconds, and must be at least 0 seconds long.'],
      [{ _dead_letter_queue_messages_ttl: 30 }, 'The TTL for a message may not exceed 1209600 seconds, and must be at least 60 seconds long.'],
      [{ _enable_encrypt_messages: 'yes' }, '_enable_encrypt_messages must be boolean.'],
      [{ _retry_policy: { minimum_delay: 20, maximum_delay: 10 } }, 'minimum_delay must less than maximum_delay.'],
    ];
    for (const [json, description] of cases) {
      const reply = await zaqar.put('/v2/queues/strict', { json });
      expect(reply.status, JSON.stringify(json)).toBe(400);
      expect(reply.body).toEqual({ title: 'Invalid API request', description });
    }
    const float = await zaqar.put('/v2/queues/strict', { raw: '{"_default_message_ttl": 60.0}' });
    expect(float.body).toEqual({ title: 'Invalid API request', description: '_default_message_ttl must be integer.' });
    const tooBig = await zaqar.put('/v2/queues/strict', { json: { blob: 'x'.repeat(65536) } });
    expect(tooBig.body).toEqual({ title: 'Invalid API request', description: 'Queue metadata is too large. Max size: 65536' });
    const array = await zaqar.put('/v2/queues/strict', { json: [1] });
    expect(array.body).toEqual({ title: 'Invalid request body', description: 'Document type not supported.' });
    expect((await zaqar.get('/v2/queues?name=strict')).body).toEqual({ queues: [], links: [] });
  });

  test('queue names follow the regex and length rules on every route', async () => {
    const zaqar = new ZaqarHttp(server.url);
    for (const name of ['a'.repeat(65), 'spaced%20name', 'caf%C3%A9', 'semi%3Bcolon']) {
      for (const path of [`/v2/queues/${name}`, `/v2/queues/${name}/stats`, `/v2/queues/${name}/messages`]) {
        const reply = await zaqar.get(path);
        expect(reply.status, path).toBe(400);
        expect(reply.body).toEqual({ title: 'Invalid queue identification', description: 'The format of the submitted queue name or project id is not valid.' });
      }
    }
    expect((await zaqar.put(`/v2/queues/${'a'.repeat(64)}`)).status).toBe(201);
    expect((await zaqar.put('/v2/queues/Ok_name-1.2')).status).toBe(201);
  });
});

describe('PATCH', () => {
  test('applies add/replace/remove to the stored metadata and answers with the displayed result', async () => {
    const zaqar = new ZaqarHttp(server.url);
    await zaqar.put('/v2/queues/pq', { json: { a: 1, b: 2 } });
    const reply = await zaqar.patch('/v2/queues/pq', {
      json: [
        { op: 'add', path: '/metadata/c', value: 3 },
        { op: 'replace', path: '/metadata/a', value: 10 },
        { op: 'remove', path: '/metadata/b' },
        { op: 'replace', path: '/metadata/_default_message_ttl', value: 300 },
        { op: 'remove', path: '/metadata/_max_claim_count' },
      ],
      headers: patchType,
    });
    expect(reply.status).toBe(200);
    expect(reply.body).toEqual({ ...defaults, a: 10, c: 3, _default_message_ttl: 300 });
    expect((await zaqar.get('/v2/queues/pq')).body).toEqual(reply.body);
  });

  test('content type, body and operation errors follow the reference order', async () => {
    const zaqar = new ZaqarHttp(server.url);
    await zaqar.put('/v2/queues/pq2');
    const wrongType = await zaqar.patch('/v2/queues/pq2', { json: [], headers: { 'Content-Type': 'application/json' } });
    expect(wrongType.status).toBe(415);
    expect(errorOf(wrongType).description).toBe(
      "Accepted media type for PATCH: {'Accept-Patch': 'application/openstack-messaging-v2.0-json-patch'}.");
    const charset = await zaqar.patch('/v2/queues/pq2', { json: [], headers: { 'Content-Type': `${patchType['Content-Type']}; charset=utf-8` } });
    expect(charset.status).toBe(415);
    const empty = await zaqar.patch('/v2/queues/pq2', { raw: '', headers: patchType });
    expect(empty.body).toEqual({ title: 'Invalid request body', description: 'PATCH body could not be empty for update.' });
    const cases: Array<[unknown, number, string]> = [
      [['x'], 400, 'Operations must be JSON objects.'],
      [[{ path: '/metadata/a' }], 400, 'Unable to find `op` in JSON Schema change. It must be one of the following: add, remove, replace.'],
      [[{ op: 'move', path: '/metadata/a' }], 400, 'Invalid operation: `move`. It must be one of the following: add, remove, replace.'],
      [[{ op: 'add' }], 400, "Unable to find 'path' in JSON Schema change"],
      [[{ op: 'add', path: '/metadata/a/b', value: 1 }], 400, "Invalid JSON pointer for this resource: '/metadata/a/b, e.g /metadata/key'"],
      [[{ op: 'add', path: '/other/a', value: 1 }], 400, 'The root of path must be metadata, e.g /metadata/key.'],
      [[{ op: 'add', path: '/metadata/a' }], 400, 'Operation "add" requires a member named "value".'],
      [[{ op: 'replace', path: '/metadata/ghost', value: 1 }], 409, "Can't replace non-existent object ghost."],
      [[{ op: 'remove', path: '/metadata/ghost' }], 409, "Can't remove non-existent object ghost."],
      [[{ op: 'add', path: '/metadata/_default_message_ttl', value: 'x' }], 400, '_default_message_ttl must be integer.'],
    ];
    for (const [json, status, description] of cases) {
      const reply = await zaqar.patch('/v2/queues/pq2', { json, headers: patchType });
      expect(reply.status, JSON.stringify(json)).toBe(status);
      expect(errorOf(reply).description).toBe(description);
    }
    const missing = await zaqar.patch('/v2/queues/ghost-queue', { json: [{ op: 'add', path: '/metadata/a', value: 1 }], headers: patchType });
    expect(missing.status).toBe(404);
    expect(missing.body).toEqual({ title: 'Not found', description: `Queue ghost-queue does not exist for project ${zaqar.project}` });
  });
});

describe('list', () => {
  test('pages by name with next links carrying the paging parameters, even on the last page', async () => {
    const zaqar = new ZaqarHttp(server.url);
    for (const name of ['q3', 'q1', 'q5', 'q2', 'q4']) await zaqar.put(`/v2/queues/${name}`, { json: { n: Number(name[1]) } });
    const page1 = await zaqar.get('/v2/queues?limit=2&detailed=true&with_count=true');
    const body1 = page1.body as { queues: Array<{ name: string; href: string; metadata: object }>; links: Array<{ href: string }>; count: number };
    expect(body1.queues.map((q) => q.name)).toEqual(['q1', 'q2']);
    expect(body1.queues[0]).toEqual({ name: 'q1', href: '/v2/queues/q1', metadata: { ...defaults, n: 1 } });
    expect(body1.count).toBe(5);
    expect(body1.links).toEqual([{ rel: 'next', href: '/v2/queues?limit=2&detailed=true&with_count=true&marker=q2' }]);
    const names: string[] = body1.queues.map((q) => q.name);
    let next = body1.links[0]?.href;
    for (let i = 0; i < 5 && next !== undefined; i++) {
      const page = (await zaqar.get(next)).body as { queues: Array<{ name: string }>; links: Array<{ href: string }> };
      names.push(...page.queues.map((q) => q.name));
      next = page.queues.length === 0 ? undefined : page.links[0]?.href;
    }
    expect(names).toEqual(['q1', 'q2', 'q3', 'q4', 'q5']);
  });

  test('filters by name substring and metadata equality; count is omitted when zero', async () => {
    const zaqar = new ZaqarHttp(server.url);
    await zaqar.put('/v2/queues/alpha-one', { json: { team: 'red', size: 3 } });
    await zaqar.put('/v2/queues/alpha-two', { json: { team: 'blue', size: 3 } });
    await zaqar.put('/v2/queues/beta', { json: { team: 'red' } });
    const names = async (query: string): Promise<string[]> =>
      ((await zaqar.get(`/v2/queues?${query}`)).body as { queues: Array<{ name: string }> }).queues.map((q) => q.name);
    expect(await names('name=alpha')).toEqual(['alpha-one', 'alpha-two']);
    expect(await names('team=red')).toEqual(['alpha-one', 'beta']);
    expect(await names('size=3&team=blue')).toEqual(['alpha-two']);
    const empty = await new ZaqarHttp(server.url).get('/v2/queues?with_count=true');
    expect(empty.body).toEqual({ queues: [], links: [] });
  });

  test('rejects limits out of range and malformed parameters', async () => {
    const zaqar = new ZaqarHttp(server.url);
    for (const limit of ['0', '-1', '21', '99999999999999999999']) {
      const reply = await zaqar.get(`/v2/queues?limit=${limit}`);
      expect(reply.body).toEqual({ title: 'Invalid API request', description: 'Limit must be at least 1 and no greater than 20.' });
    }
    expect(errorOf(await zaqar.get('/v2/queues?limit=abc')).title).toBe('Invalid parameter');
    const bool = await zaqar.get('/v2/queues?detailed=maybe');
    expect(bool.status).toBe(400);
    expect(errorOf(bool).description).toMatch(/^The "detailed" parameter is invalid\./);
    expect((await zaqar.get('/v2/queues?limit=&marker=')).status).toBe(200);
  });
});

describe('stats, purge, delete and isolation', () => {
  test('stats count free and claimed messages and show oldest/newest', async () => {
    const zaqar = new ZaqarHttp(server.url);
    expect((await zaqar.get('/v2/queues/st/stats')).body).toEqual({ messages: { claimed: 0, free: 0, total: 0 } });
    const ids = await zaqar.postMessages('st', [{ body: 1 }, { body: 2 }, { body: 3 }]);
    await zaqar.post('/v2/queues/st/claims?limit=1', { json: {} });
    const stats = (await zaqar.get('/v2/queues/st/stats')).body as { messages: Record<string, unknown> };
    expect(stats.messages).toMatchObject({ claimed: 1, free: 2, total: 3 });
    expect(stats.messages['oldest']).toMatchObject({ href: `/v2/queues/st/messages/${ids[0]}`, age: expect.any(Number) });
    expect(stats.messages['newest']).toMatchObject({ href: `/v2/queues/st/messages/${ids[2]}` });
    expect((stats.messages['newest'] as { created: string }).created).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  });

  test('purge removes unclaimed messages only and validates its body', async () => {
    const zaqar = new ZaqarHttp(server.url);
    await zaqar.postMessages('pg', [{ body: 1 }, { body: 2 }, { body: 3 }]);
    await zaqar.post('/v2/queues/pg/claims?limit=1', { json: {} });
    expect((await zaqar.post('/v2/queues/pg/purge', { json: { resource_types: ['messages'] } })).status).toBe(204);
    expect((await zaqar.get('/v2/queues/pg/stats')).body).toMatchObject({ messages: { claimed: 1, free: 0, total: 1 } });
    expect((await zaqar.post('/v2/queues/pg/purge')).status).toBe(204);
    expect((await zaqar.post('/v2/queues/pg/purge', { json: { x: 1 } })).body)
      .toEqual({ title: 'Invalid API request', description: 'Post body must contain key "resource_types".' });
    expect(errorOf(await zaqar.post('/v2/queues/pg/purge', { json: { resource_types: ['queues'] } })).description)
      .toMatch(/^Resource types must be a sub set of/);
  });

  test('delete removes the queue with its messages and is idempotent', async () => {
    const zaqar = new ZaqarHttp(server.url);
    await zaqar.postMessages('dq', [{ body: 1 }]);
    expect((await zaqar.delete('/v2/queues/dq')).status).toBe(204);
    expect((await zaqar.delete('/v2/queues/dq')).status).toBe(204);
    expect((await zaqar.get('/v2/queues/dq/stats')).body).toEqual({ messages: { claimed: 0, free: 0, total: 0 } });
    expect((await zaqar.get('/v2/queues?name=dq')).body).toEqual({ queues: [], links: [] });
  });

  test('project A never sees project B', async () => {
    const a = new ZaqarHttp(server.url);
    const b = a.as('project-b-' + a.project);
    await a.put('/v2/queues/shared-name', { json: { owner: 'a' } });
    const [id] = await a.postMessages('shared-name', [{ body: 'secret' }]);
    expect((await b.get('/v2/queues')).body).toEqual({ queues: [], links: [] });
    expect((await b.get('/v2/queues/shared-name')).body).toEqual(defaults);
    expect((await b.get(`/v2/queues/shared-name/messages/${id}`)).status).toBe(404);
    expect((await b.get('/v2/queues/shared-name/messages?echo=true')).body).toEqual({ messages: [], links: [] });
    expect((await b.post('/v2/queues/shared-name/claims', { json: {} })).status).toBe(204);
    expect((await b.delete(`/v2/queues/shared-name/messages/${id}`)).status).toBe(204);
    expect((await b.delete('/v2/queues/shared-name')).status).toBe(204);
    expect((await a.get(`/v2/queues/shared-name/messages/${id}`)).status).toBe(200);
    expect((await a.get('/v2/queues/shared-name')).body).toMatchObject({ owner: 'a' });
  });
});
