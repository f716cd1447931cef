/**
 * Black-box subscription and topic API over HTTP against a real `zaqar-ts serve`
 * process: the duplicate rules (201 with the same id while unconfirmed, 409 once
 * confirmed), paging by id, get/patch/delete outcomes, confirm validation, purge of
 * subscriptions, deleting a queue or topic keeps its subscriptions (the queue itself is
 * gone: not listed, counted nor patchable, until a post re-creates it), and the topic
 * namespace (CRUD, listing key, display rule, stats, topic messages and subscriptions,
 * never listed among queues). The validation messages
 * themselves are covered by the Zaqar conformance suite.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { LaunchedServer } from '../support/server-launcher.js';
import { ZaqarHttp } from '../support/zaqar-http.js';

let server: LaunchedServer;
beforeAll(async () => {
  server = await LaunchedServer.start();
});
afterAll(async () => {
  await server?.stop();
});

interface Subscription { id: string; source: string; subscriber: string; ttl: number; age: number; options: unknown; confirmed: boolean }

async function create(zaqar: ZaqarHttp, subscriber: string, extra: Record<string, unknown> = {}): Promise<{ status: number; id: string }> {
  const reply = await zaqar.post('/v2/queues/q/subscriptions', { json: { subscriber, ...extra } });
  return { status: reply.status, id: (reply.body as { subscription_id?: string } | undefined)?.subscription_id ?? '' };
}

describe('subscriptions API', () => {
  test('a repeated create answers 201 with the same id until confirmed, then 409', async () => {
    const zaqar = new ZaqarHttp(server.url);
    const first = await create(zaqar, 'http://a.example/hook', { ttl: 600, options: { k: 1 } });
    expect(first.status).toBe(201);
    expect(await create(zaqar, 'http://a.example/hook')).toEqual(first);
    const confirm = await zaqar.put(`/v2/queues/q/subscriptions/${first.id}/confirm`, { json: { confirmed: true } });
    expect(confirm.status).toBe(204);
    expect((await create(zaqar, 'http://a.example/hook')).status).toBe(409);
    const got = (await zaqar.get(`/v2/queues/q/subscriptions/${first.id}`)).body as Subscription;
    expect(got).toMatchObject({ id: first.id, source: 'q', subscriber: 'http://a.example/hook', ttl: 600, options: { k: 1 }, confirmed: true });
    // The queue was created by the subscription (lazy queues).
    expect(((await zaqar.get('/v2/queues')).body as { queues: { name: string }[] }).queues.map((q) => q.name)).toEqual(['q']);
  });

  test('listing pages by id with limit and marker', async () => {
    const zaqar = new ZaqarHttp(server.url);
    for (let i = 0; i < 5; i++) expect((await create(zaqar, `http://host${i}.example/`)).status).toBe(201);
    const page1 = (await zaqar.get('/v2/queues/q/subscriptions?limit=3')).body as { subscriptions: Subscription[]; links: { href: string }[] };
    expect(page1.subscriptions).toHaveLength(3);
    const next = page1.links[0]?.href ?? '';
    const page2 = (await zaqar.get(next)).body as { subscriptions: Subscription[] };
    const ids = [...page1.subscriptions, ...page2.subscriptions].map((s) => s.id);
    expect(ids).toHaveLength(5);
    expect(ids).toEqual([...ids].sort());
    expect((await zaqar.get('/v2/queues/q/subscriptions?limit=21')).status).toBe(400);
  });

  test('patch answers 204, 404 for an unknown id, 409 when the subscriber is taken; delete is always 204', async () => {
    const zaqar = new ZaqarHttp(server.url);
    const a = await create(zaqar, 'http://a.example/');
    await create(zaqar, 'http://b.example/');
    expect((await zaqar.patch(`/v2/queues/q/subscriptions/${a.id}`, { json: { ttl: 300, options: { x: 2 } } })).status).toBe(204);
    expect((await zaqar.get(`/v2/queues/q/subscriptions/${a.id}`)).body).toMatchObject({ ttl: 300, options: { x: 2 } });
    expect((await zaqar.patch('/v2/queues/q/subscriptions/nope', { json: { ttl: 300 } })).status).toBe(404);
    expect((await zaqar.patch(`/v2/queues/q/subscriptions/${a.id}`, { json: { subscriber: 'http://b.example/' } })).status).toBe(409);
    expect((await zaqar.patch(`/v2/queues/q/subscriptions/${a.id}`, { json: { ttl: 30 } })).status).toBe(400);
    expect((await zaqar.delete(`/v2/queues/q/subscriptions/${a.id}`)).status).toBe(204);
    expect((await zaqar.delete(`/v2/queues/q/subscriptions/${a.id}`)).status).toBe(204);
    expect((await zaqar.get(`/v2/queues/q/subscriptions/${a.id}`)).status).toBe(404);
  });

  test('confirm needs a boolean and an existing subscription; purge removes subscriptions only when asked', async () => {
    const zaqar = new ZaqarHttp(server.url);
    const a = await create(zaqar, 'mailto:ops@example.com');
    expect((await zaqar.put(`/v2/queues/q/subscriptions/${a.id}/confirm`, { json: { confirmed: 1 } })).status).toBe(400);
    expect((await zaqar.put('/v2/queues/q/subscriptions/0123456789abcdef01234567/confirm', { json: { confirmed: true } })).status).toBe(404);
    await zaqar.postMessages('q', [{ body: 1 }]);
    expect((await zaqar.post('/v2/queues/q/purge', { json: { resource_types: ['messages'] } })).status).toBe(204);
    expect(((await zaqar.get('/v2/queues/q/subscriptions')).body as { subscriptions: unknown[] }).subscriptions).toHaveLength(1);
    expect((await zaqar.post('/v2/queues/q/purge', { json: { resource_types: ['subscriptions'] } })).status).toBe(204);
    expect(((await zaqar.get('/v2/queues/q/subscriptions')).body as { subscriptions: unknown[] }).subscriptions).toEqual([]);
  });

  test('a zaqar:// subscriber must name another valid queue', async () => {
    const zaqar = new ZaqarHttp(server.url);
    expect((await create(zaqar, 'zaqar://q')).status).toBe(400);
    expect((await create(zaqar, 'zaqar://not a queue')).status).toBe(400);
    expect((await create(zaqar, 'zaqar://elsewhere')).status).toBe(201);
    // A topic may forward into the project's queue of the same name.
    expect((await zaqar.post('/v2/topics/q/subscriptions', { json: { subscriber: 'zaqar://q' } })).status).toBe(201);
  });

  test('subscriptions of other projects and queues are invisible', async () => {
    const zaqar = new ZaqarHttp(server.url);
    const a = await create(zaqar, 'http://a.example/');
    expect((await zaqar.as(`${zaqar.project}-other`).get(`/v2/queues/q/subscriptions/${a.id}`)).status).toBe(404);
    expect((await zaqar.get(`/v2/queues/other/subscriptions/${a.id}`)).status).toBe(404);
  });
  test('deleting a queue keeps its subscriptions; the queue is gone until posted to again', async () => {
    const zaqar = new ZaqarHttp(server.url);
    await zaqar.postMessages('other', [{ body: 0 }]);
    expect((await zaqar.put('/v2/queues/kept', { json: { color: 'red' } })).status).toBe(201);
    const reply = await zaqar.post('/v2/queues/kept/subscriptions', { json: { subscriber: 'http://kept.example/', ttl: 600 } });
    const id = (reply.body as { subscription_id: string }).subscription_id;
    await zaqar.postMessages('kept', [{ body: 1 }]);
    expect((await zaqar.delete('/v2/queues/kept')).status).toBe(204);

    const listing = (await zaqar.get('/v2/queues?with_count=true')).body as { queues: { name: string }[]; count: number };
    expect({ names: listing.queues.map((q) => q.name), count: listing.count }).toEqual({ names: ['other'], count: 1 });
    expect((await zaqar.get('/v2/queues/kept')).body).not.toHaveProperty('color');
    expect((await zaqar.get('/v2/queues/kept/stats')).body).toEqual({ messages: { claimed: 0, free: 0, total: 0 } });
    expect((await zaqar.patch('/v2/queues/kept', {
      json: [{ op: 'add', path: '/metadata/color', value: 'blue' }], headers: { 'Content-Type': 'application/openstack-messaging-v2.0-json-patch' },
    })).status).toBe(404);
    const listed = (await zaqar.get('/v2/queues/kept/subscriptions')).body as { subscriptions: Subscription[] };
    expect(listed.subscriptions.map((s) => s.id)).toEqual([id]);
    expect((await zaqar.get(`/v2/queues/kept/subscriptions/${id}`)).body).toMatchObject({ id, subscriber: 'http://kept.example/', ttl: 600 });

    await zaqar.postMessages('kept', [{ body: 2 }]);
    expect(((await zaqar.get('/v2/queues')).body as { queues: { name: string }[] }).queues.map((q) => q.name)).toEqual(['kept', 'other']);
    expect((await zaqar.get('/v2/queues/kept/stats')).body).toMatchObject({ messages: { total: 1 } });
    expect((await zaqar.delete('/v2/queues/kept')).status).toBe(204);
    expect((await zaqar.delete(`/v2/queues/kept/subscriptions/${id}`)).status).toBe(204);
    expect((await zaqar.get(`/v2/queues/kept/subscriptions/${id}`)).status).toBe(404);
    expect(((await zaqar.get('/v2/queues/kept/subscriptions')).body as { subscriptions: unknown[] }).subscriptions).toEqual([]);
  });

  test('deleting a topic keeps its subscriptions too', async () => {
    const zaqar = new ZaqarHttp(server.url);
    expect((await zaqar.put('/v2/topics/moon')).status).toBe(201);
    expect((await zaqar.post('/v2/topics/moon/subscriptions', { json: { subscriber: 'http://moon.example/' } })).status).toBe(201);
    expect((await zaqar.delete('/v2/topics/moon')).status).toBe(204);
    expect(((await zaqar.get('/v2/topics')).body as { topics: unknown[] }).topics).toEqual([]);
    const listed = (await zaqar.get('/v2/topics/moon/subscriptions')).body as { subscriptions: Subscription[] };
    expect(listed.subscriptions.map((s) => s.subscriber)).toEqual(['http://moon.example/']);
  });

});

describe('topics API', () => {
  test('topics are a separate namespace with their own listing, display rule and stats', async () => {
    const zaqar = new ZaqarHttp(server.url);
    expect((await zaqar.put('/v2/topics/mars', { json: { messages: { ttl: 600 } } })).status).toBe(201);
    expect((await zaqar.put('/v2/topics/mars')).status).toBe(204);
    expect((await zaqar.get('/v2/topics/mars')).body).toEqual({
      messages: { ttl: 600 }, _default_message_ttl: 3600, _max_messages_post_size: 262144, _default_message_delay: 0,
    });
    const listing = (await zaqar.get('/v2/topics?detailed=true')).body as { topics: { name: string; metadata: Record<string, unknown> }[] };
    expect(listing.topics.map((t) => t.name)).toEqual(['mars']);
    expect(listing.topics[0]?.metadata).not.toHaveProperty('_max_claim_count');
    expect(((await zaqar.get('/v2/queues')).body as { queues: unknown[] }).queues).toEqual([]);
    expect((await zaqar.get('/v2/topics/venus/stats')).body).toEqual({ messages: { claimed: 0, free: 0, total: 0 } });
    const posted = await zaqar.post('/v2/topics/mars/messages', { json: { messages: [{ body: 'hello' }] } });
    expect(posted.status).toBe(201);
    const stats = (await zaqar.get('/v2/topics/mars/stats')).body as { messages: Record<string, unknown> };
    expect(stats.messages['total']).toBe(1);
    expect(stats.messages).not.toHaveProperty('claimed');
    expect(String((stats.messages['newest'] as { href: string }).href)).toMatch(/^\/v2\/topics\/mars\/messages\//);
    const sub = await zaqar.post('/v2/topics/mars/subscriptions', { json: { subscriber: 'http://a.example/' } });
    expect(sub.status).toBe(201);
    expect(((await zaqar.get('/v2/topics/mars/subscriptions')).body as { subscriptions: { source: string }[] }).subscriptions[0]?.source).toBe('mars');
    expect((await zaqar.post('/v2/topics/mars/purge', { json: { resource_types: ['messages'] } })).status).toBe(204);
    expect((await zaqar.delete('/v2/topics/mars')).status).toBe(204);
    expect(((await zaqar.get('/v2/topics')).body as { topics: unknown[] }).topics).toEqual([]);
  });
});
